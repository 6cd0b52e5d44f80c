"""The feedback rubric of rows 10–14 of docs/roleplay.md (issue 11).

Each rule with its siblings and the harmless wordings it must leave alone: the scenario's
real reason (``reason_topics``), pretexts, conditions and demands that are no reasons,
self-minimising reasons; calm over the whole conversation (apologising again and again,
relitigating old claims, a long turn that holds the decision); late ends after a quarrel;
restated dates between commas; words typed without umlauts; polite fillers that are no
disrespect and jabs that are.
"""

from __future__ import annotations

import pytest

from bot.roleplay.scenarios import default_scenarios, parse_text
from bot.rubric import assess
from bot.rubric.conversation import judge_texts, named
from bot.rubric.engine import get_engine

SCENARIOS = default_scenarios()
END = "Wir beenden die Zusammenarbeit zum 31. März."


def topics(scenario: str) -> tuple[str, ...]:
    return SCENARIOS[scenario].reason_topics


def reasons(texts: list[str], scenario: str):
    return judge_texts(texts, topics=topics(scenario))["reasons"]


# --------------------------------------------------------------------------- real reason


def test_every_scenario_names_its_real_reason():
    for sid, scenario in SCENARIOS.items():
        assert scenario.reason_topics, sid


@pytest.mark.parametrize(
    ("text", "stems", "words"),
    [
        ("Die Zahlungen kamen immer zu spät.", ["zahl", "spät"], ("Zahlungen", "spät")),
        ("Wir kommen da nicht zusammen.", ["^zusammen$"], ("zusammen",)),
        ("Die Zusammenarbeit endet.", ["^zusammen$"], ()),
        ("Ihre Ausfaelle und Abzüge", ["^abzüg", "ausfäll"], ("Ausfaelle", "Abzüge")),
        ("Der Ton am Telefon", ["^ton$"], ("Ton",)),
        ("Die Tonne", ["^ton$"], ()),
    ],
)
def test_stems_match_word_starts_ends_and_umlaut_spellings(text, stems, words):
    assert named(text, stems) == words


def test_a_pretext_that_never_names_the_real_reason_is_called_one():
    said = [END, "Wir sind im Moment leider sehr ausgelastet und haben keine Kapazitäten mehr."]
    judged = reasons(said, "extras")
    assert judged.issue == "pretext" and judged.own_score <= 0.1
    assert "ausgelastet" in judged.words


def test_a_checkable_fact_beside_the_point_is_no_real_reason():
    said = [END, "Die App steht laut Vertrag vom 3. Mai nicht im Festpreis, Seite 4."]
    judged = reasons(said, "false_claims")
    assert judged.issue == "off_topic" and judged.own_score <= 0.4


@pytest.mark.parametrize(
    ("scenario", "text"),
    [
        (
            "extras",
            "Seit einem Jahr kommen jede Woche Zusatzwünsche, zwei Angebote haben Sie abgelehnt.",
        ),
        ("late_payer", "Im letzten Jahr kam jede Zahlung 45 bis 90 Tage zu spät."),
        (
            "false_claims",
            "Wir sehen die Fakten grundsätzlich anders und kommen da nicht mehr zusammen.",
        ),
        (
            "hurt_polite",
            "Der Grund: Wir richten uns ab Januar auf Onlineshops größerer Händler aus.",
        ),
        ("insults_staff", "Sie haben meine Kollegin mehrfach angeschrien, zuletzt am Dienstag."),
        ("price_squeezer", "Sie haben elf Rechnungen eigenmächtig um 10 bis 20 Prozent gekürzt."),
        ("threatens_reviews", "Sie haben uns sechsmal mit Ein-Stern-Bewertungen gedroht."),
    ],
)
def test_the_real_reason_in_the_users_own_words_counts(scenario, text):
    judged = reasons([END, text], scenario)
    assert judged.issue in {"concrete", "general"} and judged.own_score >= 0.55, judged


def test_the_real_reason_after_a_pretext_counts_only_half():
    said = [
        END,
        "Wir sind gerade total ausgelastet.",
        "Und ja, die Zahlungen kamen im letzten Jahr 45 bis 90 Tage zu spät.",
    ]
    judged = reasons(said, "late_payer")
    assert judged.issue == "pretext_first" and judged.own_score == 0.5
    assert judged.quote == "Wir sind gerade total ausgelastet." and "ausgelastet" in judged.words


@pytest.mark.parametrize(
    "text",
    [
        "Die offenen Rechnungen über 6.800 Euro überweisen Sie bitte bis Monatsende.",
        "Die Druckdaten bekommen Sie, wenn die Rechnungen bezahlt sind.",
        "Zahlen Sie die 6.800 Euro, dann reden wir weiter.",
        "Entweder die Rechnung ist bis Freitag bezahlt, oder es geht ans Inkasso.",
    ],
)
def test_conditions_demands_and_ultimatums_give_no_reason(text):
    assert reasons([END, text], "late_payer").score < 0.55


def test_jedes_mal_wenn_reports_a_pattern_and_stays_a_reason():
    said = [END, "Jedes Mal, wenn Ihnen etwas nicht passt, drohen Sie mit einer Bewertung."]
    assert reasons(said, "threatens_reviews").score > 0.0


@pytest.mark.parametrize(
    ("scenario", "text"),
    [
        ("price_squeezer", "Es passt irgendwie mit den Preisen nicht mehr so richtig."),
        ("late_payer", "Die Zahlungen kamen öfter mal was später."),
        ("extras", "Das mit den Extras wird uns ein bisschen viel."),
    ],
)
def test_a_reason_that_talks_itself_down_stays_vague(scenario, text):
    assert reasons([END, text], scenario).own_score <= 0.3


def _parsed(old: str, new: str):
    with open(SCENARIOS["extras"].source, encoding="utf-8") as fh:
        text = fh.read()
    assert old in text
    return parse_text("extras.yml", text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("reason_topics: [extra, ", "reason_topics: [X1, extra, ", "Wortstamm"),
        ("reason_topics: [extra, ", "reason_topics: [ex, extra, ", "Wortstamm"),
        ("reason_topics: [extra, ", "reason_topics: [extra, extra, ", "doppelt"),
        ("reason_topics: [extra, ", "reason_topics: 7\nx: [extra, ", ""),
    ],
)
def test_scenario_files_validate_reason_topics(old, new, problem):
    scenario, errors = _parsed(old, new)
    assert scenario is None and errors
    assert any(problem in e.problem for e in errors), errors


# --------------------------------------------------------------------------- calm over the talk


def calm(texts: list[str]):
    return judge_texts(texts)["calm"]


def test_apologising_again_and_again_costs_calm():
    judged = calm(
        [
            "Es tut mir so leid, Frau Vogel. " + END,
            "Entschuldigung, das ist wirklich furchtbar für Sie.",
        ]
    )
    assert judged.issue == "over_apology" and judged.own_score <= 0.4


def test_one_apology_is_acknowledgement():
    assert calm(["Es tut mir leid, dass ich das sagen muss. " + END]).own_score >= 0.9


def test_rebutting_old_claims_point_by_point_costs_calm():
    judged = calm(
        [
            END,
            "Die App war nie im Vertrag. Die dreißig Prozent hat nie jemand zugesagt.",
        ]
    )
    assert judged.issue == "relitigating" and judged.own_score <= 0.5


def test_a_long_turn_that_holds_the_decision_is_no_self_justification():
    said = [
        END,
        "Ich verstehe, dass Sie das ärgert, aber die Entscheidung steht. Bis zum 31. März "
        "betreuen wir Ihre Seite wie gewohnt, danach bekommen Sie alle Zugangsdaten, die "
        "Quelldateien und eine Dokumentation, und wir nennen Ihnen zwei Agenturen, die "
        "übernehmen können, aber wir bleiben bei dem Termin.",
    ]
    assert calm(said).issue != "justification"


@pytest.mark.parametrize(
    "text",
    [
        "Schauen wir mal.",
        "Vielleicht können wir bei Ihnen eine Ausnahme machen.",
        "Also gut, den Messestand machen wir noch.",
        "Du bekommst von mir 5 Prozent Nachlass.",
        "Ich mach Ihnen einfach einen Freundschaftspreis.",
    ],
)
def test_open_ended_give_ins_and_deals_cost_calm(text):
    assert calm([END, text]).score <= 0.5, text


@pytest.mark.parametrize(
    "text",
    ["Einen Rabatt bekommen Sie nicht.", "Wir bekommen von Ihnen keinen Rabatt."],
)
def test_a_refused_discount_is_no_deal(text):
    assert not assess(text).signals.get("deal_offer"), text


# --------------------------------------------------------------------------- clarity


@pytest.mark.parametrize(
    "text",
    [
        "Ich habe entschieden, dass wir die Betreuung Ihrer Website zum Quartalsende, also "
        "zum 31. März, beenden.",
        "Wir haben entschieden, die Zusammenarbeit zum Quartalsende, also zum 30. September, "
        "zu beenden.",
        "Deshalb bleibt es beim 30. Juni.",
        "wir kuendigen den vertrag.",
    ],
)
def test_restated_dates_restatements_and_umlaut_spellings_are_clear(text):
    assert assess(text).signals.get("clear_end"), text


def test_quotes_keep_the_users_own_spelling_and_commas():
    text = "Wir kuendigen zum Quartalsende, also zum 31. März, den Vertrag. Danke fuer alles!"
    assert get_engine().sentences(text) == [
        "Wir kuendigen zum Quartalsende, also zum 31. März, den Vertrag.",
        "Danke fuer alles!",
    ]


@pytest.mark.parametrize(
    "text",
    ["Die neue Steuer ist teuer.", "Das Feuer dauert.", "Die Quelle ist aktuell.", "Der Schluss."],
)
def test_real_words_with_ae_oe_ue_ss_stay_as_they_are(text):
    assert get_engine()._prepare(text)[0] == text


def test_a_conditional_stop_is_no_end():
    assert not assess("Solange Sie nicht zahlen, mach ich nichts mehr für Sie.").signals.get(
        "clear_end"
    )


def test_an_end_said_only_late_after_a_quarrel_is_blurred():
    said = [
        "Die App stand nie im Vertrag, das haben wir Ihnen dreimal geschrieben.",
        "Sie können doch lesen, oder? Seite vier.",
        "Wir hören dann zum Vertragsende auf.",
    ]
    quarrel = judge_texts(said)["clarity"].own_score
    assert quarrel <= 0.55
    # late without a quarrel: less than said at once (row 24), more than late in a quarrel
    calm_said = ["Guten Tag.", "Ich verstehe Ihre Frage.", "Wir hören zum Vertragsende auf."]
    late = judge_texts(calm_said)["clarity"].own_score
    at_once = judge_texts(calm_said[-1:])["clarity"].own_score
    assert quarrel < late < at_once and late >= 0.65


@pytest.mark.parametrize(
    "text", ["Ich rufe eigentlich an, weil wir den Vertrag zum 30. Juni nicht verlängern."]
)
def test_eigentlich_as_in_actually_is_no_hedge(text):
    assert not assess(text).signals.get("hedging"), text


# --------------------------------------------------------------------------- respect


@pytest.mark.parametrize(
    "text",
    [
        "Wir haben intern gesprochen, und es ist halt so, dass die Kapazitäten knapp sind.",
        "Ich hoffe, Sie verstehen das nicht falsch.",
        "Wenn Sie vor Ihrem Team sagen, wir hätten gelogen, muss ich das richtigstellen.",
        "Danke auch für zwei Jahre Zusammenarbeit.",
        "Die Ankündigungen rechtlicher Schritte belasten mein Team.",
        "Es ist nichts Persönliches, ich habe die Jahre mit Ihnen gern gemacht.",
        "Du warst immer eine unserer Liebsten.",
    ],
)
def test_polite_fillers_and_reported_threats_keep_respect(text):
    assert assess(text).scores["respect"] >= 0.85, text


@pytest.mark.parametrize(
    "text",
    [
        "Zuhören ist offenbar nicht so Ihre Stärke.",
        "Das ist für Laien schwer nachzuvollziehen.",
        "Ich bin nur gespannt, wie viele Sterne Ihnen Ihre Mieter geben würden.",
        "Sie können doch lesen, oder?",
        "Ich bin doch nicht Ihre Bank.",
        "Bezahlen ist bei Ihnen ja offenbar ein Fremdwort.",
        "Vielen Dank auch.",
        "Das müssten Sie als Geschäftsfrau ja eigentlich kennen.",
        "Das ist halt so.",
        "Sie lügen.",
    ],
)
def test_jabs_condescension_and_sarcasm_cost_respect(text):
    assert assess(text).scores["respect"] <= 0.7, text


# --------------------------------------------------------------------------- appreciation


def test_a_bare_thanks_is_courtesy_but_counts_beside_praise():
    assert judge_texts([END, "Danke, aber nein."])["appreciation"].issue == "courtesy"
    both = judge_texts(
        [END, "Danke, aber nein. Der Küchenplaner war eins meiner Lieblingsprojekte."]
    )["appreciation"]
    assert both.own_score == 1.0


@pytest.mark.parametrize(
    "text",
    [
        "Die Altbauserie gehört zu unseren schönsten Arbeiten.",
        "Ihre Empfehlung hat uns sehr geholfen.",
        "Sie waren eine der angenehmsten Kundinnen.",
        "Die Seite zeige ich bis heute gern als Referenz.",
    ],
)
def test_concrete_praise_is_appreciation(text):
    assert assess(text).signals.get("positive"), text


def test_thanks_for_the_clients_recommendations_is_no_handover():
    assert not assess("Ihre Empfehlung hat uns sehr geholfen, danke.").signals.get(
        "transition_alternative"
    )


# --------------------------------------------------------------------------- row 14


@pytest.mark.parametrize(
    "text",
    [
        "Bis Mitte Dezember übergeben wir Ihnen – oder wem immer Sie wählen – alle Zugänge.",
        "Die Produktpflege durch Ihre Mitarbeiter war immer sauber.",
        "Tja, also …",
    ],
)
def test_indefinite_immer_plain_praise_and_a_hesitant_tja_keep_respect(text):
    assert assess(text).scores["respect"] >= 0.85, text


@pytest.mark.parametrize(
    "text",
    [
        "Lesen Sie ihn doch einfach mal.",
        "Das bilden Sie sich ein.",
        "Dann können Sie jemand anderen anbrüllen.",
    ],
)
def test_more_jabs_cost_respect(text):
    assert assess(text).scores["respect"] <= 0.7, text


@pytest.mark.parametrize(
    "text",
    [
        "Nach dem Messestand nehmen wir von Ihnen nichts mehr an.",
        "Wir fotografieren für Sie nicht mehr.",
        "Hiermit teile ich Ihnen mit, dass unser Studio die Geschäftsbeziehung mit Haas "
        "Immobilien nach dem letzten gebuchten Termin am 8. Mai beendet.",
    ],
)
def test_more_end_forms_are_clear(text):
    assert assess(text).signals.get("clear_end"), text


def test_ausrichten_auf_is_a_business_reason():
    said = [END, "Wir richten die Agentur ab Januar komplett auf Onlineshops größerer Händler aus."]
    assert reasons(said, "hurt_polite").score >= 0.55
