"""Real conversations over REST: how staff actually write, corrections, questions, safety.

Each test replays one of the conversations that went wrong when the coach was tried as a new
user would (typos, no umlauts, background first, corrections, danger). Both servers run
(tests/conftest.py); the assertions are about what a user sees and what the tracker holds.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List

import pytest

pytestmark = pytest.mark.integration

Chat = Callable[[str, str], List[Dict[str, Any]]]


def joined(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def payloads(replies: List[Dict[str, Any]]) -> List[str]:
    return [b["payload"] for r in replies for b in r.get("buttons", [])]


def assert_safety_first(replies: List[Dict[str, Any]]) -> None:
    """The first thing the user reads is what to do for safety, then the offer to record it."""
    assert replies, "no answer"
    first = replies[0].get("text", "")
    assert "110" in first, first
    assert "Führungskraft" in first
    assert "festhalten" in joined(replies)
    assert "/affirm" in payloads(replies)


VEILED_THREAT = (
    "der kunde schreibt mails in grossbuchstaben, nennt uns inkompetente versager und hat "
    "zuletzt geschrieben er wisse wo unser buero ist"
)
PUNCH = (
    "ein kunde stand heute bei uns im laden und hat gesagt wenn seine reparatur morgen nicht "
    "fertig ist, kommt er vorbei und haut mir eine rein. der meinte das glaub ich ernst, er hat "
    "dabei mit der faust auf den tresen geschlagen"
)
TRAINEE = (
    "hallo, ich bin teamleiterin in einer steuerkanzlei. wir haben eine 19-jaehrige azubine, die "
    "seit ein paar wochen einen mandanten betreut. der schreibt ihr abends private nachrichten, "
    "macht anspielungen auf ihr aussehen und letzte woche hat er sie beim rausgehen am arm "
    "gepackt und an sich gezogen. sie traut sich kaum noch ins buero. was mach ich?"
)


def test_veiled_threat_gets_the_safety_reply(chat, tracker, sender):
    replies = chat(sender, VEILED_THREAT)
    assert_safety_first(replies)
    assert "Fehler auf unserer Seite" not in joined(replies)


def test_threat_of_violence_in_a_shop_and_again(chat, sender):
    assert_safety_first(chat(sender, PUNCH))
    again = chat(sender, "er hat gedroht mich zu schlagen!!")
    assert_safety_first(again)
    assert "ausreden" not in joined(again)


def test_harassment_of_a_trainee_long_short_and_touching(chat, sender):
    long = chat(sender, TRAINEE)
    assert_safety_first(long)
    assert "§ 12 AGG" in joined(long)
    assert "Missverständnis" not in joined(long)
    assert_safety_first(chat(sender + "-b", "kunde belaestigt unsere azubine sexuell"))
    assert_safety_first(chat(sender + "-c", "er hat sie angefasst"))


def test_police_question(chat, sender):
    replies = chat(sender, "soll ich die polizei rufen?")
    assert_safety_first(replies)
    assert "nicht helfen" not in joined(replies)


def test_accepting_the_offer_records_the_incident(chat, sender):
    chat(sender, PUNCH)
    asked = joined(chat(sender, "ja"))
    assert "Kunde" in asked or "Wer" in asked  # the incident form asks for the client
    chat(sender, "Herr Brandt")
    saved = joined(chat(sender, "kein kommentar"))
    assert "Brandt" in saved


def test_wrong_case_is_corrected_and_nothing_is_pasted_into_a_letter(chat, tracker, sender):
    chat(sender, "wir haben dem kunden die falsche ware geliefert und jetzt ist er sauer")
    assert tracker(sender)["slots"]["case"] == "our_fault"
    replies = chat(
        sender, "nein, wir haben keinen fehler gemacht! der kunde behauptet was, was nicht stimmt"
    )
    slots = tracker(sender)["slots"]
    assert slots["case"] == "false_claims"
    assert slots["fault_what"] is None
    text = joined(replies)
    assert "es tut mir leid: nein" not in text
    assert "behauptet" in text  # the false-claims intro and its first question


def test_unclear_correction_asks_with_buttons(chat, sender):
    chat(sender, "der kunde hat mich am telefon als idioten beschimpft")
    replies = chat(sender, "falscher fall")
    assert "/report_own_fault" in payloads(replies)
    assert "/report_false_claims" in payloads(replies)


def test_correction_to_our_fault_inside_the_abuse_form(chat, tracker, sender):
    chat(sender, "der kunde hat mich am telefon als idioten beschimpft")
    chat(
        sender,
        "du hast mich falsch verstanden, der fehler liegt bei uns, wir haben zu spaet geliefert",
    )
    assert tracker(sender)["slots"]["case"] == "our_fault"


def test_question_in_the_middle_of_a_form(chat, tracker, sender):
    first = joined(chat(sender, "der kunde hat mich am telefon als idioten beschimpft"))
    assert "Wie oft" in first
    replies = chat(sender, "kann ich dem autohaus eigentlich kuendigen?")
    text = joined(replies)
    assert "Wie oft" in text  # the question again after a short answer
    slots = tracker(sender)["slots"]
    assert slots["abuse_frequency"] is None
    off_topic = joined(chat(sender, "wie wird das wetter morgen"))
    assert "Wie oft" in off_topic
    assert tracker(sender)["slots"]["abuse_frequency"] is None


def test_back_to_the_previous_question(chat, tracker, sender):
    chat(sender, "der kunde hat mich am telefon als idioten beschimpft")
    chat(sender, "schon oefter")
    assert tracker(sender)["slots"]["abuse_frequency"] is not None
    replies = joined(chat(sender, "zurück"))
    assert "Wie oft" in replies
    assert tracker(sender)["slots"]["abuse_frequency"] is None


def test_stop_still_ends_every_form(chat, tracker, sender):
    chat(sender, "der kunde hat mich am telefon als idioten beschimpft")
    assert "abgebrochen" in joined(chat(sender, "stopp"))
    assert tracker(sender)["active_loop"] in ({}, None) or not tracker(sender)["active_loop"].get(
        "name"
    )


def test_safety_inside_a_form_comes_first(chat, tracker, sender):
    chat(sender, "der kunde will staendig extras, die er nicht zahlt")
    replies = chat(sender, "und gestern hat er gesagt er wartet nach feierabend auf mich")
    assert_safety_first(replies)
    assert tracker(sender)["slots"]["extra_what"] is None


def test_safety_inside_the_role_play_steps_out_of_character(chat, tracker, sender):
    chat(sender, "Rollenspiel starten")
    chat(sender, "late_payer")
    chat(sender, "1")
    assert tracker(sender)["slots"]["roleplay_active"] is True
    replies = chat(
        sender, "sorry kurz raus: ein echter kunde hat mir gerade gedroht mich zu schlagen"
    )
    assert_safety_first(replies)
    assert tracker(sender)["slots"]["roleplay_active"] is False


def test_is_it_worth_it_is_about_ending(chat, sender):
    replies = joined(chat(sender, "ob es sich noch lohnt mit denen"))
    assert "Warnzeichen" in replies
