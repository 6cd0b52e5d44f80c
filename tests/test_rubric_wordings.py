"""Clarity, reasons and calm on German as people write it (issue 11, last gap).

Written from general German, not from the labelled transcripts: idiomatic end statements,
the last word on the decision, business reasons in the user's own words, reproaches that are
no reasons, the calm scale (a calm factual conversation is calm) and "Ehrlich gesagt …".
"""

from __future__ import annotations

import pytest

from bot.rubric import assess
from bot.rubric.conversation import judge_texts

END = "Wir beenden die Zusammenarbeit zum 31. März."


@pytest.mark.parametrize(
    "text",
    [
        "Wir ziehen zum Jahresende den Stecker.",
        "Mit Ihnen ist ab Januar Feierabend.",
        "Wir machen da jetzt den Deckel drauf.",
        "Hier trennen sich unsere Wege.",
        "Ab März stehen wir Ihnen nicht mehr zur Verfügung.",
        "Neue Aufträge nehme ich danach nicht mehr an.",
        "Wir lassen den Vertrag zum Jahresende auslaufen.",
        "Ich habe den Vertrag gestern gekündigt.",
        "Der Messestand wird unser letzter gemeinsamer Job.",
        "Ab Januar geht es ohne uns weiter.",
        "Nach dem Projekt fotografieren wir nicht mehr für Ihre Firma.",
        "Nach dem Messestand nehme ich keine Aufträge mehr von Ihnen an.",
    ],
)
def test_idiomatic_end_statements_are_clear(text):
    assert "clear_end" in assess(text).signals, text


@pytest.mark.parametrize(
    "text",
    ["Ich wünsche Ihnen einen schönen Feierabend.", "Sie haben nur noch zwei Tage Zeit."],
)
def test_everyday_sentences_are_no_end_statement(text):
    assert not assess(text).signals.get("clear_end"), text


@pytest.mark.parametrize(
    "text",
    [
        "Na gut, dann machen wir doch weiter.",
        "Wir können es ja nochmal versuchen.",
        "Ich überlege es mir noch.",
        "Es ist noch nichts in Stein gemeißelt.",
        "Wir reden im neuen Jahr noch mal in Ruhe darüber.",
    ],
)
def test_taking_it_back_caps_clarity(text):
    judged = judge_texts([END, text])
    assert judged["clarity"].score <= 0.3 and judged["clarity"].issue == "taken_back"


def test_the_last_word_on_the_decision_counts():
    judged = judge_texts([END, "Na gut, dann machen wir doch weiter.", "Nein – es bleibt dabei."])
    assert judged["clarity"].issue == "clear_after_hedge"
    assert judged["clarity"].score >= 0.6


def test_a_handover_that_lets_someone_else_carry_on_is_no_backing_down():
    text = "Sie bekommen alle Daten, damit jedes andere Büro nahtlos weitermachen kann."
    assert not assess(text).signals.get("backdown")
    judged = judge_texts([END, text])
    assert judged["clarity"].issue == "clear" and judged["calm"].score >= 0.9


def test_an_end_thrown_at_the_client_in_anger_is_only_half_clear():
    judged = judge_texts(["Mit Ihrem Saftladen bin ich durch."])
    assert judged["clarity"].score <= 0.5


@pytest.mark.parametrize(
    "text",
    [
        "Wir machen ab Januar nur noch Onlineshops für größere Händler.",
        "Wir stellen die Agentur ganz auf Onlineshops um.",
        "Das rechnet sich für uns nicht mehr.",
        "Wir haben keine Kapazitäten mehr.",
        "Im Vertrag steht, dass Sie in 14 Tagen zahlen.",
    ],
)
def test_business_reasons_in_own_words_are_reasons(text):
    assert judge_texts([END, text])["reasons"].score >= 0.7, text


def test_a_sweeping_reproach_is_a_weak_reason():
    judged = judge_texts([END, "Das mit dem Zahlen klappt bei Ihnen halt nie so richtig."])
    assert judged["reasons"].score <= 0.4


def test_a_calm_factual_conversation_is_calm():
    judged = judge_texts([END, "Die offenen Rechnungen sind der Grund. Die Daten bekommen Sie."])
    assert judged["calm"].score >= 0.8 and judged["calm"].issue == "no_acknowledgement"
    acknowledged = judge_texts([END, "Ich verstehe, dass Sie das ärgert."])
    assert acknowledged["calm"].score > judged["calm"].score


def test_honestly_said_is_no_reported_speech():
    a = assess("Ehrlich gesagt gehen mir Ihre Bewertungen am Allerwertesten vorbei.")
    assert a.scores["respect"] <= 0.3
    assert assess("Sie haben meine Kollegin unfähig genannt.").scores["respect"] >= 0.9
    assert assess("Ehrlich gesagt: Ihr WLAN ist nicht mehr mein Problem.").scores["respect"] <= 0.3


def test_giving_in_to_a_hurt_client_costs_calm():
    judged = judge_texts(
        [
            "Wir beenden den Pflegevertrag.",
            "Es ist noch nichts in Stein gemeißelt, vielleicht ändert sich gar nicht so viel.",
        ]
    )
    assert judged["calm"].score <= 0.6
