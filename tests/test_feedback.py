"""Role-play feedback judged over the whole conversation.

``bot.rubric.conversation`` and ``bot.roleplay.evaluation``: the tester's problems 1–5 and the
properties of every rewrite.
"""

from __future__ import annotations

import re

import pytest

from bot.roleplay import engine
from bot.roleplay import evaluation as fb
from bot.roleplay.scenarios import default_scenarios
from bot.rubric import CRITERIA, assess, suggest
from bot.rubric.conversation import judge_texts

SCENARIOS = default_scenarios()

LATE_DECISION = (
    "Ich habe entschieden, dass wir nach dem laufenden Messeauftrag keine neuen Aufträge "
    "mehr annehmen."
)
LATE_REASON = (
    "Der Grund: Sie zahlen seit einem Jahr immer 45 bis 90 Tage zu spät, gerade sind zwei "
    "Rechnungen über 6.800 Euro offen."
)
LATE_CALM = "Ich verstehe, dass Sie das ärgert. Die Entscheidung steht."
LATE_HANDOVER = "Den Messestand stellen wir fertig und schicken Ihnen danach alle Druckdaten."
REPORTED = (
    "Der Grund ist der Umgang mit meinem Team: Sie haben meine Support-Mitarbeiterin mehrfach "
    "angeschrien und unfähig genannt, zuletzt am vergangenen Dienstag."
)


def state_of(scenario_id: str, level: int, texts: list[str]) -> dict:
    """A role-play state with these user turns (phases as the engine records them)."""
    turns = [
        {"n": i + 1, "text": t, "phase": "opening" if i == 0 else "backlash"}
        for i, t in enumerate(texts)
    ]
    return {"scenario_id": scenario_id, "difficulty": level, "turns": turns, "outcome": None}


def messages(scenario_id: str, texts: list[str], level: int = 1) -> list[str]:
    return fb.feedback(state_of(scenario_id, level, texts), SCENARIOS[scenario_id])


def quoted_under(msgs: list[str], label: str) -> list[str]:
    """The sentences quoted for a criterion label in the feedback."""
    return re.findall(rf"• {re.escape(label)} – dein Satz: „(.+?)“ ", "\n".join(msgs))


# --------------------------------------------------------------------------- problem 1


def test_clear_decision_counts_once_and_is_quoted_for_clarity_only():
    judged = judge_texts([LATE_DECISION, LATE_REASON, LATE_CALM, LATE_HANDOVER])
    assert judged["clarity"].own_score >= 0.8 and judged["clarity"].quote == LATE_DECISION
    assert judged["reasons"].quote == LATE_REASON
    assert judged["transition"].quote == LATE_HANDOVER
    msgs = messages("late_payer", [LATE_DECISION, LATE_REASON, LATE_CALM, LATE_HANDOVER])
    assert "Klarheit: 85 %" in msgs[2] or "Klarheit: 9" in msgs[2] or "Klarheit: 100" in msgs[2]
    assert LATE_REASON not in quoted_under(msgs, "Klarheit")
    assert quoted_under(msgs, "Übergabe") == [LATE_HANDOVER]


def test_the_announcement_itself_is_no_handover_offer():
    assert "transition_offer" not in assess(LATE_DECISION).flags


def test_taking_the_decision_back_costs_the_clarity():
    judged = judge_texts([LATE_DECISION, "Okay, dann machen wir doch weiter."])
    assert judged["clarity"].own_score <= 0.3 and judged["clarity"].issue == "taken_back"
    assert judged["clarity"].quote == "Okay, dann machen wir doch weiter."


# --------------------------------------------------------------------------- problem 2


def test_reported_insult_is_not_the_users_insult():
    a = assess(REPORTED, under_backlash=True)
    assert "insult" not in a.flags and a.scores["respect"] >= 0.9
    assert a.scores["reasons"] >= 0.8
    judged = judge_texts(["Herr Wollny, wir beenden die Zusammenarbeit.", REPORTED])
    assert judged["respect"].own_score >= 0.9 and judged["calm"].quote != REPORTED
    msgs = messages("insults_staff", ["Herr Wollny, wir beenden die Zusammenarbeit.", REPORTED])
    assert REPORTED not in quoted_under(msgs, "Ruhe unter Druck")
    assert REPORTED not in quoted_under(msgs, "Respekt")


def test_quoted_insult_word_is_not_an_insult_but_a_direct_one_is():
    quoted = "Sie haben meine Kollegin als „unfähig“ bezeichnet."
    assert "insult" not in assess(quoted).flags
    assert "insult" in assess("Ihre Kollegin ist unfähig.").flags
    assert "insult" in assess("Sie sind unfähig.").flags


# --------------------------------------------------------------------------- problem 3


@pytest.mark.parametrize("scenario_id", sorted(SCENARIOS))
def test_every_scenario_has_its_own_facts_and_no_rewrite_has_a_placeholder(scenario_id):
    facts = fb.scenario_facts(SCENARIOS[scenario_id])
    assert {"address", "decision", "reason", "handover", "appreciation"} <= set(facts)
    for c in CRITERIA:
        out = fb.rewrite(c, facts)
        assert out and not re.search(r"[\[\]{}]", out), (c, out)


def test_rewrites_use_the_scenarios_facts_not_another_ones():
    hurt = " ".join(messages("hurt_polite", ["Vielleicht sollten wir eventuell aufhören."]))
    assert "Frau Vogel" in hurt and "Rechnung" not in hurt and "Onlineshops" in hurt
    late = " ".join(messages("late_payer", ["Vielleicht sollten wir eventuell aufhören."]))
    assert "Frau Krüger" in late and "6.800 Euro" in late


def test_single_utterance_suggestions_have_no_placeholders():
    for sentence in ("Wir sollten vielleicht aufhören.", "Sie sind ein Idiot.", "Danke."):
        for c in CRITERIA:
            assert not re.search(r"[\[\]]", suggest(c, sentence)), (c, sentence)


def test_one_sentence_is_quoted_once_and_what_went_wrong_is_named():
    msgs = messages(
        "hurt_polite",
        ["Vielleicht sollten wir eventuell aufhören.", "Ja, Ihr Problem halt."],
        level=2,
    )
    text = "\n".join(msgs)
    assert text.count("„Ja, Ihr Problem halt.“") == 1
    assert "„Vielleicht“" in text and "„eventuell“" in text  # the hedges, by name
    assert "abfällig" in text and "„Ihr Problem“" in text  # the contempt, by name
    insult = "\n".join(messages("extras", ["Sie sind ein Schmarotzer. Wir kündigen."]))
    assert "Beleidigung" in insult and "„Schmarotzer“" in insult


def test_abort_phrase_is_never_quoted_or_rated():
    abort = "Ich möchte das Rollenspiel abbrechen."
    msgs = messages("extras", ["Wir kündigen die Zusammenarbeit zum Quartalsende.", abort])
    assert "Rollenspiel abbrechen" not in "\n".join(msgs)
    assert judge_texts([abort])["clarity"].quote is None


# --------------------------------------------------------------------------- problem 4


def test_immer_in_a_dated_fact_is_no_generalisation():
    a = assess("Sie zahlen seit einem Jahr immer 45 bis 90 Tage zu spät.")
    assert "generalisation" not in a.flags and a.scores["respect"] >= 0.9
    assert "generalisation" in assess("Sie zahlen immer zu spät.").flags


@pytest.mark.parametrize(
    "question",
    ["Was meinen Sie denn, warum?", "Ist das eine Drohung?", "Warum denn?"],
)
def test_questions_are_no_reasons(question):
    assert assess(question).scores["reasons"] == 0.0


def test_a_date_and_a_negated_threat_are_no_reasons():
    assert assess("Wir beenden die Zusammenarbeit nach dem letzten Termin.").scores["reasons"] == 0
    assert assess("Das ist keine Drohung.").scores["reasons"] == 0
    assert assess("Der Grund sind Ihre wiederholten Drohungen.").scores["reasons"] >= 0.6


def test_the_reason_the_scenario_asks_for_counts():
    judged = judge_texts(
        [
            "Herr Lindner, wir beenden die Zusammenarbeit zum Vertragsende.",
            "Der Grund ist, dass wir bei den Fakten nicht mehr zusammenkommen.",
        ]
    )
    assert judged["reasons"].own_score >= 0.8


@pytest.mark.parametrize(
    "rude", ["Ja, Ihr Problem halt.", "Ich habe keinen Bock mehr auf Ihr Gejammer."]
)
def test_dismissive_phrases_hurt_respect_hard(rude):
    a = assess(rude, under_backlash=True)
    assert a.scores["respect"] <= 0.3 and "dismissive" in a.flags
    judged = judge_texts(["Wir beenden die Zusammenarbeit zum Jahresende.", rude])
    assert judged["respect"].own_score <= 0.3 and judged["calm"].own_score <= 0.3


def test_understanding_the_clients_problem_is_not_dismissive():
    assert "dismissive" not in assess("Ich verstehe Ihr Problem.").flags


# --------------------------------------------------------------------------- problem 5


def test_progress_focus_follows_the_actual_weakest_criterion():
    assert fb.focus({c: 100 for c in CRITERIA}) is None
    clear_run = {"clarity": 95, "reasons": 90, "respect": 100, "transition": 40}
    assert fb.focus(clear_run) == "transition"
    assert fb.focus({"clarity": 50, "calm": 30}) == "calm"


def test_clear_run_leaves_clarity_out_of_the_work_list():
    s = engine.summary(
        state_of("late_payer", 1, [LATE_DECISION, LATE_REASON, LATE_CALM, LATE_HANDOVER])
    )
    assert s["conversation"]["clarity"] >= 0.8
    assert fb.focus({c: round(100 * v) for c, v in s["conversation"].items()}) != "clarity"
    assert "clarity" not in [w["criterion"] for w in s["weakest"]]


# --------------------------------------------------------------------------- the engine


def test_feedback_through_the_engine_with_the_real_rubric():
    state, _ = engine.start("late_payer", 1, 3)
    for line in (LATE_DECISION, LATE_REASON, LATE_HANDOVER):
        state, _, finished = engine.turn(state, line)
        if finished:
            break
    msgs = engine.feedback(state)
    assert msgs[0].startswith("Auswertung")
    assert quoted_under(msgs, "Klarheit") in ([], [LATE_DECISION])
    s = engine.summary(state)
    assert set(s["judgements"]) == set(CRITERIA)
    assert all(w["quote"] in (LATE_DECISION, LATE_REASON, LATE_HANDOVER) for w in s["weakest"])
