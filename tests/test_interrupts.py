"""bot.interrupts: what a message in the middle of a form is, if not the answer."""

from __future__ import annotations

import pytest

from bot import interrupts
from bot.interrupts import Context, Message


def msg(text: str, *ranking: tuple) -> Message:
    ranking = ranking or (("out_of_scope", 0.3),)
    return Message(text=text, intent=ranking[0][0], confidence=ranking[0][1], ranking=ranking)


CASE_FORM = Context(form="our_fault_form", slot="fault_what", case="our_fault", free_text=True)
YESNO = Context(form="extra_requests_form", slot="extra_chronic", case="extra_requests")


def kind(message: Message, context: Context = CASE_FORM):
    found = interrupts.classify(message, context)
    return (found.kind, found.target) if found else None


@pytest.mark.parametrize("text", ["stopp", "Abbrechen", "/stop", "lass uns aufhören"])
def test_cancel(text):
    assert kind(msg(text)) == ("cancel", None)


def test_safety_comes_before_everything_but_cancel():
    found = kind(msg("er hat gesagt er haut mir eine rein", ("correct_case", 0.9)))
    assert found[0] == "safety" and found[1]


@pytest.mark.parametrize("text", ["zurück", "zurueck", "die frage davor", "Vorherige Frage!"])
def test_back(text):
    assert kind(msg(text)) == ("back", None)


def test_correction_with_a_named_case_switches():
    message = msg(
        "nein, wir haben keinen fehler gemacht! der kunde behauptet was, was nicht stimmt",
        ("report_own_fault", 0.5),
        ("report_false_claims", 0.4),
    )
    assert kind(message) == ("switch", "false_claims")


def test_correction_without_a_case_asks():
    assert kind(msg("du hast mich falsch verstanden", ("correct_case", 0.8))) == ("clarify", None)


def test_rejecting_phrases_only_count_for_their_case():
    # "nicht unser fehler" rejects our_fault, but answers a false-claims question
    text = "ja, war nicht unser fehler"
    other = Context(form="false_claims_form", slot="false_checked", case="false_claims")
    assert kind(msg(text, ("affirm", 0.7)), other) is None


def test_clear_description_of_another_case_switches():
    text = "der kunde beleidigt uns seit wochen am telefon und schreit meine kollegen an"
    assert kind(msg(text, ("report_abuse", 0.9))) == ("switch", "abusive")


def test_short_or_unsure_other_case_is_an_answer():
    assert kind(msg("er hat geschrien", ("report_abuse", 0.9))) is None  # too short
    text = "der kunde beleidigt uns seit wochen am telefon und schreit"
    assert kind(msg(text, ("report_abuse", 0.5))) is None  # not sure enough


def test_question_in_a_free_text_slot_needs_a_question_form():
    assert kind(msg("kann ich dem autohaus kuendigen?", ("ask_legal", 0.8))) == (
        "question",
        "ask_legal",
    )
    # a description that the NLU reads as a topic is still the answer to a free-text question
    assert kind(msg("die kuendigungsfrist war falsch berechnet", ("ask_legal", 0.8))) is None


def test_understood_answer_is_never_a_question_or_switch():
    understood = Context(
        form="extra_requests_form", slot="extra_chronic", case="extra_requests", understood=True
    )
    assert kind(msg("ja, ständig", ("report_abuse", 0.95)), understood) is None
    assert kind(msg("ja wie das wetter morgen?", ("out_of_scope", 0.9)), understood) is None


def test_off_topic_question_in_a_choice_slot():
    assert kind(msg("wie wird das wetter morgen", ("out_of_scope", 0.9)), YESNO) == (
        "question",
        "out_of_scope",
    )


def test_role_play_only_listens_for_cancel_and_safety():
    play = Context(form="roleplay_form", slot="rp_utterance", listens=False)
    assert kind(msg("falscher fall", ("correct_case", 0.99)), play) is None
    assert kind(msg("stopp"), play) == ("cancel", None)
    assert kind(msg("er wartet nach feierabend auf mich"), play)[0] == "safety"


def test_correction_names_the_case_by_its_words_when_the_nlu_hears_only_the_correction():
    message = msg(
        "nein, wir haben keinen fehler gemacht! der kunde behauptet was, was nicht stimmt",
        ("correct_case", 0.96),
        ("report_false_claims", 0.04),
    )
    assert kind(message) == ("switch", "false_claims")
    unclear = msg(
        "falscher fall", ("correct_case", 0.99), ("report_abuse", 0.01), ("report_own_fault", 0.01)
    )
    assert kind(unclear) == ("clarify", None)
