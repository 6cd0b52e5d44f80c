"""Real conversations over REST, part 2: issue 10, items 7–11, as a user meets them.

Each test replays one of the conversations that went wrong when the coach was tried as a new
user would – realistic chat spelling (lower case, no umlauts, "ne", "jaaa", typos), typed
answers instead of buttons – and checks what the user sees (the replies' text and buttons)
and what the tracker holds. Both servers run (tests/conftest.py). Items 1–6 are in
tests/test_conversations_real.py.

The tests at the end cover coach bugs found while writing these conversations (a danger
note recorded, distress inside a form, "falscher farbton" as an answer).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, Iterable, List

import pytest

pytestmark = pytest.mark.integration

Chat = Callable[[str, str], List[Dict[str, Any]]]
Replies = List[Dict[str, Any]]


def joined(replies: Replies) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def payloads(replies: Replies) -> List[str]:
    return [b["payload"] for r in replies for b in r.get("buttons", [])]


def letters(text: str) -> List[str]:
    """The drafted letters in the coach's text: from the salutation to "[Ihr Name]"."""
    found = []
    for match in re.finditer(r"^(?:Guten Tag|Sehr geehrte|Hallo)\b", text, re.MULTILINE):
        end = text.find("[Ihr Name]", match.start())
        if end != -1:
            found.append(text[match.start() : end])
    return found


def words(text: str) -> List[str]:
    return re.findall(r"\w+|\?\?+", text.lower())


def assert_no_chat_text(letter: str, user_messages: Iterable[str]) -> None:
    """No run of three words of any user message, and no chat word, is in a letter."""
    flat = " " + " ".join(words(letter)) + " "
    for message in user_messages:
        ws = words(message)
        for i in range(len(ws) - 2):
            fragment = " ".join(ws[i : i + 3])
            assert f" {fragment} " not in flat, f"chat text {fragment!r} in the draft:\n{letter}"
    for chat_word in ("ner", "ne", "nich", "grad", "hab", "jo", "??"):
        assert f" {chat_word} " not in flat, f"chat word {chat_word!r} in the draft:\n{letter}"


def loop_name(tracker_json: Dict[str, Any]) -> str | None:
    return (tracker_json.get("active_loop") or {}).get("name")


def say(chat: Chat, sender: str, log: List[str], text: str) -> Replies:
    """Send a message and remember it (for the checks that no chat text reaches a draft)."""
    log.append(text)
    return chat(sender, text)


# --------------------------------------------------------------------------- item 7
def extra_requests_advice(chat: Chat, sender: str) -> str:
    chat(sender, "unser kunde will staendig extras die er nicht zahlen will")
    for answer in (
        "ne zweite logo variante, umsonst natuerlich",
        "nee eigentlich war das klar geregelt",
        "jaaa staendig",
        "eher nicht, das sind locker 2 tage arbeit",
    ):
        chat(sender, answer)
    return joined(chat(sender, "gegen bezahlung"))


def our_fault_advice(chat: Chat, sender: str, offer: str) -> str:
    chat(sender, "wir haben bei nem kunden 500 flyer im falschen farbton gedruckt, er ist sauer")
    for answer in (
        "hab den farbton verwechselt",
        "jo, hat sich ausgekotzt am telefon",
        "schon spuerbar, er braucht die flyer fuers wochenende",
    ):
        chat(sender, answer)
    return joined(chat(sender, offer))


def test_item7_followups_after_the_advice_climb_the_ladder(chat: Chat, tracker, new_sender):
    # "und was mach ich wenn er trotzdem nicht zahlen will" – not the five questions again
    sender = new_sender()
    advice = extra_requests_advice(chat, sender)
    assert "Empfehlung" in advice and "Entwurf" in advice
    answers_before = {k: v for k, v in tracker(sender)["slots"].items() if k.startswith("extra_")}
    replies = chat(sender, "und was mach ich wenn er trotzdem nicht zahlen will")
    text = joined(replies)
    assert "Fünf Fragen" not in text and "Was genau will der Kunde" not in text
    assert "Kompromiss" in text
    assert "nichts fest" not in text
    state = tracker(sender)
    assert loop_name(state) is None
    assert state["slots"]["case_followup"]["step"] == "compromise_offer"
    assert {k: v for k, v in state["slots"].items() if k.startswith("extra_")} == answers_before
    # the next follow-up is the ending path, with buttons
    last = chat(sender, "und wenn er den kompromiss auch ablehnt?")
    assert "/ask_end_relationship" in payloads(last)
    assert "/ask_how_to_terminate" in payloads(last)
    assert "Fünf Fragen" not in joined(last)

    # "und wenn er trotzdem auf der gutschrift besteht?" – a draft, not the case menu
    sender = new_sender()
    our_fault_advice(chat, sender, "kostenlos neu drucken")
    assert tracker(sender)["slots"]["fault_offer"] == "redo"
    insisted = chat(sender, "und wenn er trotzdem auf der gutschrift besteht?")
    text = joined(insisted)
    assert "/report_own_fault" not in payloads(insisted)
    assert "Worum geht es" not in text
    assert "Gutschrift" in text and "[Betrag]" in text
    assert tracker(sender)["slots"]["fault_offer"] == "discount"
    assert tracker(sender)["slots"]["draft"]["answers"]["fault_offer"] == "discount"

    # "aber ich will ja eigentlich neu drucken" – the draft changes, nothing about recording
    changed = joined(chat(sender, "aber ich will ja eigentlich neu drucken"))
    assert "nichts fest" not in changed and "festhalten" not in changed
    assert "bessern kostenlos nach" in changed
    (letter,) = letters(changed)
    assert "Gutschrift" not in letter
    slots = tracker(sender)["slots"]
    assert slots["fault_offer"] == "redo"
    assert slots["draft"]["answers"]["fault_offer"] == "redo"


# --------------------------------------------------------------------------- item 8
def test_item8_stress_gets_short_calm_answers_and_no_repeats(chat: Chat, tracker, sender):
    first = chat(sender, "mir wird das alles zu viel mit dem kunden, ich schlaf schon schlecht")
    first_text = joined(first)
    assert len(first_text) < 400, first_text
    assert "/ask_more" in payloads(first)

    # an unrelated question is answered as that question, not with the stress text
    other = joined(chat(sender, "kann ich dem autohaus kuendigen?"))
    assert first_text not in other
    assert "Warnzeichen" in other or "Kündigung" in other or "Vertrag" in other
    if loop_name(tracker(sender)):
        assert "abgebrochen" in joined(chat(sender, "stopp"))

    # the same plea twice: short, and not word for word the same
    plea = "zu viel text, wie krieg ich JETZT den kopf frei?"
    once = chat(sender, plea)
    twice = chat(sender, plea)
    for replies in (once, twice):
        assert 0 < len(joined(replies)) < 400, joined(replies)
        assert "nicht ganz verstanden" not in joined(replies)
    assert joined(once) != joined(twice)

    # a crisis: where to get help, now
    crisis = joined(chat(sender, "ich kann echt nicht mehr"))
    assert "0800 111 0 111" in crisis
    assert "112" in crisis
    assert crisis not in (joined(once), joined(twice))

    # the coach's own cue phrase is understood, not "kein Problem"
    cue = chat(sender, "Das lässt mich nicht los")
    cue_text = joined(cue)
    assert "kein Problem" not in cue_text and "Okay, kein" not in cue_text
    assert "/ask_more" in payloads(cue)
    assert len(cue_text) < 500
    more = joined(chat(sender, "Mehr dazu"))
    assert more and more != cue_text
    assert tracker(sender)["slots"]["topic"] == "stress"


# --------------------------------------------------------------------------- item 9
def test_item9_free_text_answers_are_understood(chat: Chat, tracker, new_sender):
    # the warning signs, answered in chat words
    sender = new_sender()
    chat(sender, "ob es sich noch lohnt mit denen")
    for answer in (
        "jaaa staendig",
        "ja die praxismanagerin und meine kollegin koennen sich nicht ausstehen",
        "weiß nicht so genau…",
        "nein",
        "fast jeden tag",
        "nee",
        "nein",
    ):
        replies = joined(chat(sender, answer))
        assert "nicht eindeutig verstanden" not in replies, (answer, replies)
    slots = tracker(sender)["slots"]
    assert slots["sign_expectations"] == "yes"
    assert slots["sign_respect"] == "yes"
    assert slots["sign_cooperation"] == "skip"
    assert slots["sign_ethics"] == "no"
    assert slots["sign_payment"] == "yes"
    assert slots["sign_price"] == "no"
    assert slots["sign_changes"] == "no"
    assert slots["requested_slot"] == "sign_other_clients"

    # a correction names its question: the price question changes, not the current one
    corrected = joined(chat(sender, "moment, bei der preisfrage meinte ich ja"))
    assert "korrigiert" in corrected
    assert "8/10" in corrected  # and the current question comes again
    slots = tracker(sender)["slots"]
    assert slots["sign_price"] == "yes"
    assert slots["sign_changes"] == "no"
    assert slots["sign_other_clients"] is None
    assert slots["requested_slot"] == "sign_other_clients"

    # two offers in one answer, and "nachliefern"
    sender = new_sender()
    our_fault_advice(chat, sender, "kostenlos neu drucken und rabatt")
    assert tracker(sender)["slots"]["fault_offer"] == "redo+discount"
    sender = new_sender()
    advice = our_fault_advice(chat, sender, "nachliefern")
    assert tracker(sender)["slots"]["fault_offer"] == "deliver"
    assert "Die fehlenden Teile liefern wir Ihnen bis [Datum] nach." in advice

    # "fast jeden tag" answers "does it happen all the time?" in a case form
    sender = new_sender()
    chat(sender, "unser kunde will staendig extras die er nicht zahlen will")
    chat(sender, "ne zweite logo variante")
    chat(sender, "nein")
    chat(sender, "fast jeden tag")
    assert tracker(sender)["slots"]["extra_chronic"] == "yes"

    # "weiß nicht so genau…" is an answer where "I don't know" is one
    sender = new_sender()
    chat(sender, "kunde behauptet wir haetten nie geliefert, stimmt aber nicht")
    chat(sender, "er sagt die lieferung kam nie an")
    chat(sender, "noch nicht")
    advice = joined(chat(sender, "weiß nicht so genau…"))
    assert "nicht eindeutig verstanden" not in advice
    assert tracker(sender)["slots"]["false_evidence"] == "unsure"
    assert "Entwurf" in advice


# --------------------------------------------------------------------------- item 10
RAW_FAULT = "ner, hab den falschen farbton genommen. hab ich doch grad geschrieben??"
RAW_CLAIM = "er sagt ne lieferung fehlt, stimmt aber nich. hab ich doch grad geschrieben??"


def test_item10_drafts_hold_no_chat_text_and_claim_no_check(chat: Chat, tracker, new_sender):
    # our fault: the letter is built from the answers, never from the chat text
    sender = new_sender()
    said: List[str] = []
    say(chat, sender, said, "wir haben bei nem kunden die flyer im falschen farbton gedruckt")
    say(chat, sender, said, RAW_FAULT)
    say(chat, sender, said, "jo hat er")
    say(chat, sender, said, "schon spürbar, er braucht die flyer fürs wochenende")
    advice = joined(say(chat, sender, said, "kostenlos neu drucken"))
    drafts = letters(advice)
    assert len(drafts) == 1
    versions = [drafts[0]]
    for ask, variant in (
        ("kürzer", "short"),
        ("förmlicher bitte", "formal"),
        ("kannst du das anders formulieren", "alt"),
    ):
        text = joined(say(chat, sender, said, ask))
        (letter,) = letters(text)
        assert letter not in versions, f"{ask!r} gave no new version"
        versions.append(letter)
        assert tracker(sender)["slots"]["draft"]["variant"] == variant
    assert len(versions[1]) < len(versions[0])  # "kürzer" is shorter
    assert versions[2].startswith("Sehr geehrte")  # "förmlicher" is formal
    for letter in versions:
        assert_no_chat_text(letter, said)
        assert "[Lieferung/Leistung]" in letter and "[Datum]" in letter

    # false claims, not checked yet: no "geprüft" in any version of the letter
    sender = new_sender()
    said = []
    say(chat, sender, said, "kunde behauptet wir haetten ihm die ware nie geliefert")
    say(chat, sender, said, RAW_CLAIM)
    say(chat, sender, said, "ne, hab ich noch nicht geprüft")
    assert tracker(sender)["slots"]["false_checked"] == "no"
    advice = joined(say(chat, sender, said, "lieferschein und ne mail"))
    versions = letters(advice)
    for ask in ("kürzer bitte", "förmlicher", "anders formulieren"):
        (letter,) = letters(joined(say(chat, sender, said, ask)))
        assert letter not in versions, f"{ask!r} gave no new version"
        versions.append(letter)
    assert len(versions) == 4
    for letter in versions:
        assert "geprüft" not in letter, letter
        assert "geprueft" not in letter
        assert_no_chat_text(letter, said)

    # and when the user did check, the letter may say so
    sender = new_sender()
    chat(sender, "kunde behauptet wir haetten ihm die ware nie geliefert")
    chat(sender, "er sagt die lieferung fehlt")
    chat(sender, "ja hab ich, lieferschein ist unterschrieben")
    (letter,) = letters(joined(chat(sender, "lieferschein")))
    assert "geprüft" in letter


# --------------------------------------------------------------------------- item 11
def test_item11_ending_questions_get_the_ending_path_not_a_boundary(
    chat: Chat, tracker, new_sender
):
    sender = new_sender()
    replies = chat(sender, "ob es sich noch lohnt mit denen")
    text = joined(replies)
    assert loop_name(tracker(sender)) == "warning_signs_form"
    assert "Warnzeichen" in text and "1/10" in text
    assert tracker(sender)["slots"]["case"] is None  # not the extra-requests questions
    assert "zusätzlich" not in text

    sender = new_sender()
    message = "unser kunde zahlt seit 3 monaten seine rechnungen nicht"
    replies = chat(sender, message)
    text = joined(replies)
    state = tracker(sender)
    assert "zahlt seit 3" not in text
    assert "Grenze" not in text
    assert "/set_boundary" not in payloads(replies) and "/affirm" not in payloads(replies)
    assert state["slots"]["boundary_behavior"] is None
    assert loop_name(state) != "boundary_form"
    # the ending path (the warning signs) or payment advice – here: the warning signs
    if loop_name(state) != "warning_signs_form":
        assert "Mahnung" in text or "Zahlung" in text, text
        return
    assert "Warnzeichen" in text
    # the payment sign was named in the first message: counted as "yes", never asked
    assert "Zahlungsausfälle" in text
    assert state["slots"]["sign_payment"] == "yes"
    asked = ""
    for answer in ("nein", "nein", "ne", "nein"):
        asked += joined(chat(sender, answer))
    assert "5/10" not in asked and "6/10" in asked
    assert tracker(sender)["slots"]["sign_payment"] == "yes"


# --------------------------------------------------------------------------- found on the way
def test_the_danger_note_is_saved_not_answered_with_the_safety_reply_again(
    chat: Chat, tracker, sender
):
    chat(sender, "der kunde hat gedroht mich zu schlagen")
    chat(sender, "ja")
    chat(sender, "Herr Keller")
    saved = joined(chat(sender, "hat am telefon gesagt er kommt vorbei und schlägt mich"))
    assert "Festgehalten" in saved, saved


def test_distress_inside_a_form_gets_no_not_understood(chat: Chat, sender):
    chat(sender, "der kunde will staendig extras, die er nicht zahlt")
    replies = joined(chat(sender, "ich kann echt nicht mehr"))
    assert "0800 111 0 111" in replies
    assert "nicht ganz verstanden" not in replies, replies


def test_a_short_answer_with_falsch_is_an_answer_not_a_correction(chat: Chat, tracker, sender):
    chat(sender, "wir haben mist gebaut, der kunde ist sauer")
    assert tracker(sender)["slots"]["case"] == "our_fault"
    replies = joined(chat(sender, "falscher farbton"))
    assert "falsch verstanden" not in replies, replies
    assert tracker(sender)["slots"]["fault_what"]


def test_hesitation_inside_a_form_is_not_out_of_scope(chat: Chat, tracker, sender):
    """A hesitant 'Hm.' in a form is an unclear answer: the question again, not 'no help'."""
    chat(sender, "der kunde hat mich heute am telefon als idiotin beschimpft")
    replies = joined(chat(sender, "Hm."))
    assert "Wie oft" in replies
    assert "nicht helfen" not in replies, replies
    assert tracker(sender)["slots"]["abuse_frequency"] is None
