"""Boundaries, escalation ladders and history texts – the domain core without Rasa or a database."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Optional

import pytest

from bot import boundaries as bnd
from bot import clients, escalation
from bot import incidents as inc
from bot.storage.repository import InvalidInput
from bot.texts import lookup

TODAY = date(2026, 3, 11)


@dataclass
class Inc:  # an incident as the repository returns it (only what the core reads)
    behavior: str
    occurred_on: date
    client: str = "Müller GmbH"
    note: Optional[str] = None
    level_hint: Optional[int] = None
    id: int = 0


@dataclass
class B:
    behavior: str
    max_count: Optional[int] = None
    period_days: Optional[int] = None
    note: Optional[str] = None


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def steps(ladder: str) -> list:
    return [s.key for s in escalation.ladders()[ladder].steps]


# --------------------------------------------------------------------------- data
def test_ladders_come_from_data_and_match_the_seeds():
    assert steps("abuse") == [
        "accept_venting",
        "constructive_hint",
        "second_conversation",
        "written_communication",
        "involve_supervisor",
        "end_relationship",
    ]
    assert steps("payment") == ["reminder", "written_terms", "compromise_offer", "end_relationship"]
    every = [b for ladder in escalation.ladders().values() for b in ladder.behaviors]
    assert sorted(every) == sorted(
        [
            "insult",
            "threat",
            "shouting",
            "late_payment",
            "unpaid_extra_work",
            "price_pressure",
            "false_claim",
            "bad_review_threat",
            "disrespect",
            "non_cooperation",
            "contract_changes",
            # the safety ladder (beyond the seeds): danger is not walked up step by step
            "violence",
            "physical_threat",
            "harassment",
            "stalking",
            "property_damage",
        ]
    )
    assert steps("safety") == ["protect_and_report", "end_relationship"]
    assert len(every) == len(set(every)), "a behaviour belongs to exactly one ladder"


def test_every_step_behaviour_and_suggestion_has_its_texts():
    for key, ladder in escalation.ladders().items():
        assert lookup("history", f"ladders.{key}")
        for step in ladder.steps:
            texts = lookup("history", f"steps.{key}.{step.key}")
            assert texts["title"] and texts["advice"]
    for behavior in escalation.behaviors():
        assert bnd.label(behavior)
    for suggestion in escalation.config()["suggestions"]:
        assert lookup("history", f"setup.why.{suggestion['behavior']}")
        bnd.Threshold.from_canonical(suggestion["threshold"])


# --------------------------------------------------------------------------- understanding answers
@pytest.mark.parametrize(
    "answer,expected",
    [
        ("Beleidigung", "insult"),
        ("Der hat mich angeschrien", "shouting"),
        ("zahlt nicht", "late_payment"),
        ("Drohung mit schlechter Bewertung", "bad_review_threat"),
        ("Gratis-Extras", "unpaid_extra_work"),
        ("threat", "threat"),
        ("Respektlosigkeit", "disrespect"),
        ("Kaffee verschüttet", None),
        ("", None),
        (None, None),
    ],
)
def test_behaviour_answers(answer, expected):
    assert bnd.parse_behavior(answer) == expected


@pytest.mark.parametrize(
    "answer,expected",
    [
        ("No-Go", "absolute"),
        ("schon einmal ist zu viel", "absolute"),
        ("3-mal in 30 Tagen", "count:3:30"),
        ("dreimal im Monat", "count:3:30"),
        ("ab dem dritten Mal", "count:3:30"),
        ("2x pro Woche", "count:2:7"),
        ("höchstens zweimal im Quartal", "count:3:90"),
        ("zweimal", "count:2:30"),
        ("keine Ahnung", None),
    ],
)
def test_threshold_answers(answer, expected):
    assert bnd.parse_threshold(answer) == expected


def test_threshold_out_of_range_and_removal():
    with pytest.raises(bnd.ThresholdError):
        bnd.parse_threshold("100 mal in 30 Tagen")
    with pytest.raises(bnd.ThresholdError):
        bnd.parse_threshold("3 mal in 1000 Tagen")
    assert bnd.parse_threshold("Grenze entfernen", allow_remove=True) == "remove"
    assert bnd.parse_threshold("Grenze entfernen") is None
    # in a whole sentence only unmistakable words count
    assert bnd.parse_threshold("Ich lasse mich nicht mehr anschreien", strict=True) is None
    assert (
        bnd.parse_threshold("Beleidigungen sind für mich ein absolutes No-Go", strict=True)
        == "absolute"
    )


def test_descriptions():
    assert (
        bnd.describe("insult", None, None)
        == "Beleidigung: absolutes No-Go – schon einmal ist zu viel"
    )
    assert bnd.describe("shouting", 3, 30, "dann lege ich auf") == (
        "Anschreien: Grenze erreicht ab dem 3. Mal innerhalb von 30 Tagen "
        "(Notiz: dann lege ich auf)"
    )


@pytest.mark.parametrize(
    "answer,expected",
    [
        ("keine Notiz", inc.NO_NOTE),
        ("nein", inc.NO_NOTE),
        ("kein Kommentar.", inc.NO_NOTE),
        ("nee", inc.NO_NOTE),
        ("-", inc.NO_NOTE),
        ("  Er hat\n aufgelegt  ", "Er hat aufgelegt"),
    ],
)
def test_notes(answer, expected):
    assert inc.parse_note(answer) == expected


def test_a_too_long_note_is_refused():
    with pytest.raises(InvalidInput) as err:
        inc.parse_note("x" * 2000)
    assert err.value.code == "note_too_long"
    assert "2000 Zeichen" in inc.invalid_message("note_too_long", length=2000)


@pytest.mark.parametrize(
    "name,code",
    [
        ("", "client_name_missing"),
        ("   ", "client_name_missing"),
        ("<script>alert(1)</script>", "client_name_markup"),
        ("x" * 300, "client_name_too_long"),
    ],
)
def test_bad_client_names(name, code):
    with pytest.raises(InvalidInput) as err:
        inc.parse_client(name)
    assert err.value.code == code
    assert inc.invalid_message(code)


def test_sql_in_a_client_name_is_just_text():
    assert inc.parse_client("Robert'); DROP TABLE clients;--") == "Robert'); DROP TABLE clients;--"


def test_client_resolution():
    known = ["Müller GmbH", "Bäckerei Huber", "Frau Becker"]
    assert inc.resolve_client("müller gmbh", None, known) == "Müller GmbH"
    assert inc.resolve_client("Huber", None, known) == "Bäckerei Huber"
    assert (
        inc.resolve_client(None, "Zeig mir den Verlauf mit der Bäckerei Huber bitte", known)
        == "Bäckerei Huber"
    )
    assert inc.resolve_client(None, "Zeig mir alle Vorfälle", known) is None
    assert inc.resolve_client("Schulz AG", None, known) is None


@pytest.mark.parametrize(
    "mentioned,text_,expected",
    [
        ("herrn brandt", None, "Herr Brandt"),
        ("HERR BRANDT", None, "Herr Brandt"),
        ("Hr. Brandt", None, "Herr Brandt"),
        (None, "zeig mir den verlauf mit herrn brandt", "Herr Brandt"),
        ("der Firma Müller", None, "Müller GmbH"),
        ("bei Müller", None, "Müller GmbH"),
        ("mueller", None, "Müller GmbH"),
        (None, "was ist bei der firma müller passiert", "Müller GmbH"),
        (None, "Verlauf Autohaus Brandt", "Autohaus Brandt"),
        ("frau keller", None, "Frau Keller"),
        ("herrn keller", None, "Herr Keller"),
        ("Keller", None, None),  # two clients Keller: not a guess
        ("Schulz", None, None),
        (None, "zeig mir alle vorfälle", None),
    ],
)
def test_client_resolution_by_the_core_of_the_name(mentioned, text_, expected):
    known = ["Herr Brandt", "Autohaus Brandt", "Müller GmbH", "Frau Keller", "Herr Keller"]
    assert inc.resolve_client(mentioned, text_, known) == expected


def test_match_key_drops_titles_articles_prepositions_and_legal_forms():
    assert clients.match_key("Herrn Brandt") == clients.match_key("herr brandt") == "brandt"
    assert clients.match_key("mit der Firma Müller") == clients.match_key("Müller GmbH")
    assert clients.match_key("Autohaus Brandt") == "autohaus brandt"
    assert clients.match_key("Herr") == "herr" and clients.match_key(None) == ""


# --------------------------------------------------------------------------- ladders
def test_abuse_climbs_one_step_per_incident():
    history = []
    seen = []
    for n in range(7):
        history.append(Inc("shouting", days_ago(10 - n), id=n))
        seen.append(escalation.assess(history, [], TODAY).primary.step.key)
    assert seen == steps("abuse") + ["end_relationship"]  # stays on the last step


def test_first_incident_severity_and_case_hint_raise_the_start():
    assert (
        escalation.assess([Inc("insult", TODAY)], [], TODAY).primary.step.key == "constructive_hint"
    )
    # a pressure threat (lawyer, review, switching) starts with a clarifying talk (seed 000)
    threat = escalation.assess([Inc("threat", TODAY)], [], TODAY)
    assert threat.primary.step.key == "constructive_hint"
    violence = escalation.assess([Inc("physical_threat", TODAY)], [], TODAY)
    assert violence.primary.ladder.key == "safety"
    assert (
        escalation.assess([Inc("shouting", TODAY, level_hint=3)], [], TODAY).primary.step.key
        == "written_communication"
    )


def test_payment_ladder_and_separate_ladders_per_kind():
    history = [
        Inc("late_payment", days_ago(30)),
        Inc("unpaid_extra_work", days_ago(20)),
        Inc("shouting", days_ago(10)),
    ]
    result = escalation.assess(history, [], TODAY)
    by_ladder = {s.ladder.key: s.step.key for s in result.states}
    assert by_ladder == {"payment": "written_terms", "abuse": "accept_venting"}
    assert result.primary.ladder.key == "payment"  # 1/3 of its ladder beats 0/5


def test_old_incidents_fall_out_of_the_window():
    history = [
        Inc("shouting", days_ago(800)),
        Inc("shouting", days_ago(700)),
        Inc("shouting", days_ago(1)),
    ]
    assert escalation.assess(history, [], TODAY).primary.step.key == "accept_venting"


def test_boundaries_crossed_absolute_and_by_count():
    limits = [B("insult"), B("shouting", 2, 30)]
    first = escalation.assess([Inc("shouting", days_ago(20))], limits, TODAY)
    assert first.crossings == ()
    second = escalation.assess(
        [Inc("shouting", days_ago(20)), Inc("shouting", days_ago(5))], limits, TODAY
    )
    assert [(c.boundary.behavior, c.count, c.latest) for c in second.crossings] == [
        ("shouting", 2, True)
    ]
    spread = escalation.assess(
        [Inc("shouting", days_ago(60)), Inc("shouting", days_ago(5))], limits, TODAY
    )
    assert spread.crossings == ()  # 2 times, but not within 30 days
    insult = escalation.assess([Inc("insult", days_ago(1))], limits, TODAY)
    assert insult.crossings[0].boundary.behavior == "insult"


def test_a_crossed_boundary_calls_for_at_least_addressing_it():
    result = escalation.assess([Inc("late_payment", TODAY)], [B("late_payment")], TODAY)
    assert result.primary.step.key == "written_terms"


def test_rank_most_urgent_first():
    assessments = {
        "Alpha": escalation.assess([Inc("late_payment", days_ago(3))], [], TODAY),
        "Beta": escalation.assess([Inc("insult", days_ago(40))] * 3, [], TODAY),
        "Gamma": escalation.assess(
            [Inc("shouting", days_ago(1)), Inc("shouting", days_ago(0))], [], TODAY
        ),
    }
    assert escalation.rank(assessments) == ["Beta", "Gamma", "Alpha"]


# --------------------------------------------------------------------------- texts
def test_after_logging_names_level_next_step_and_crossed_boundary():
    history = [Inc("shouting", days_ago(3), id=1), Inc("shouting", days_ago(1), id=2)]
    msgs = "\n".join(inc.after_logging(history[-1], history, [B("shouting", 2, 30)], TODAY))
    assert "Festgehalten: 10.03.2026 · Müller GmbH · Anschreien" in msgs
    assert "Das ist der 2. Vorfall mit der Müller GmbH." in msgs
    assert (
        "deine Grenze „Anschreien: Grenze erreicht ab dem 2. Mal innerhalb von 30 Tagen“ "
        "überschritten" in msgs
    )
    assert "Stand bei der Müller GmbH (Ausfälligkeiten): Stufe 2 von 6" in msgs
    assert "Sag der Müller GmbH ruhig und konstruktiv" in msgs
    assert "Falls es wieder passiert: Zweites Gespräch nach interner Klärung" in msgs


def test_timeline_and_summary_at_the_supervisor_step():
    history = [
        Inc("shouting", days_ago(9), note="laut am Telefon", id=1),
        Inc("shouting", days_ago(7), id=2),
        Inc("insult", days_ago(5), id=3),
        Inc("insult", days_ago(2), note="„Sie Versager“", id=4),
        Inc("shouting", days_ago(1), id=5),
    ]
    msgs = inc.timeline("Müller GmbH", history, [B("insult")], TODAY)
    joined = "\n".join(msgs)
    assert "Verlauf mit der Müller GmbH – 5 Vorfälle:" in joined
    assert "Mo, 02.03.2026 · Anschreien – „laut am Telefon“" in joined
    assert "Stufe 5 von 6 – Vorgesetzte einbeziehen" in joined
    summary = msgs[-1]
    assert summary.startswith("Betreff: Wiederholte Vorfälle mit der Müller GmbH")
    assert "Zwischen dem 02.03.2026 und dem 10.03.2026 habe ich mit der Müller GmbH" in summary
    assert "meine persönliche Grenze „Beleidigung: absolutes No-Go" in summary
    assert "- 09.03.2026: Beleidigung – „Sie Versager“" in summary


def test_no_summary_below_the_supervisor_step():
    msgs = inc.timeline("Alpha AG", [Inc("shouting", TODAY)], [], TODAY)
    assert not any(m.startswith("Betreff") for m in msgs)


def test_overview():
    by_client = {
        "Alpha AG": [Inc("late_payment", days_ago(3), client="Alpha AG")],
        "Beta KG": [Inc("insult", days_ago(2), client="Beta KG", level_hint=4)],
    }
    first, outro = inc.overview(by_client, [B("insult")], TODAY)
    lines = first.splitlines()
    assert lines[1].startswith("1. Beta KG – Stufe 5/6") and "Grenze überschritten" in lines[1]
    assert lines[2].startswith("2. Alpha AG – Stufe 1/4")
    assert "Beta KG" in outro
    assert inc.overview({}, [], TODAY) == [lookup("history", "history.none")]


def test_case_flows_become_incidents():
    abusive = inc.case_incident(
        "abusive", {"abuse_frequency": "persistent", "abuse_severity": "venting"}
    )
    assert (
        abusive["behavior"] == "shouting"
        and abusive["level_hint"] == 3
        and "immer wieder" in abusive["note"]
    )
    extra = inc.case_incident("extra_requests", {"extra_what": "Ein zweites Logo gratis"})
    assert extra == {
        "case": "extra_requests",
        "behavior": "unpaid_extra_work",
        "note": "Ein zweites Logo gratis",
        "level_hint": None,
    }
    assert (
        inc.case_incident("false_claims", {"false_claim": "Nie geliefert"})["behavior"]
        == "false_claim"
    )
    assert inc.case_incident("our_fault", {"fault_what": "zu spät"}) is None
    assert inc.case_incident("abusive", {}) is None  # severity unknown: nothing to record


def test_warning_sign_prefill():
    history = [
        Inc("late_payment", days_ago(20)),
        Inc("late_payment", days_ago(2)),
        Inc("insult", days_ago(4)),
        Inc("unpaid_extra_work", days_ago(500)),
    ]
    prefill = inc.warning_prefill(history, TODAY)
    assert set(prefill) == {"payment", "respect"}
    assert (
        prefill["payment"]["count"] == 2 and prefill["payment"]["last"] == days_ago(2).isoformat()
    )
    question = inc.prefill_question("Müller GmbH", prefill, ["respect", "payment"], 10)
    assert (
        "Zahlungsausfälle" in question
        and "fehlender Respekt" in question
        and "übrigen 8" in question
    )
