"""Drafts to the client and follow-ups after the advice, over REST (both servers running).

The conversations of issue 10 that went wrong: a draft pasted the user's chat text into a
business letter, or claimed a check the user had not made; a follow-up after the advice
("und wenn er trotzdem nicht zahlt?") started the case's questions again, got the case menu
or "ich halte nichts fest". Needs a model trained with the intents ask_followup and
change_draft (data/nlu/followups.yml).
"""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

pytestmark = pytest.mark.integration

RAW_WHAT = "ner, hab den falschen farbton genommen. hab ich doch grad geschrieben??"


def joined(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def payloads(replies: List[Dict[str, Any]]) -> List[str]:
    return [b["payload"] for r in replies for b in r.get("buttons", [])]


def our_fault_advice(chat, sender: str, offer: str = "gutschrift") -> str:
    chat(sender, "/report_own_fault")
    chat(sender, RAW_WHAT)
    chat(sender, "Nein")
    chat(sender, "spürbar")
    return joined(chat(sender, offer))


def extra_requests_advice(chat, sender: str) -> str:
    chat(sender, "/report_extra_requests")
    for answer in ("ne zweite logo variante umsonst", "Nein", "Nein", "Nein"):
        chat(sender, answer)
    return joined(chat(sender, "gegen Bezahlung"))


def test_the_draft_holds_no_chat_text_and_says_sie(chat, sender):
    advice = our_fault_advice(chat, sender)
    assert "Entwurf" in advice and "Guten Tag," in advice
    for raw in ("ner,", "hab ich doch", "??", "farbton"):
        assert raw not in advice, raw
    assert "[Lieferung/Leistung]" in advice and "[Betrag]" in advice


def test_i_actually_want_to_reprint_changes_the_draft(chat, tracker, sender):
    our_fault_advice(chat, sender)
    replies = joined(chat(sender, "aber ich will ja eigentlich neu drucken"))
    assert "bessern kostenlos nach" in replies
    assert "halte nichts fest" not in replies and "nichts fest" not in replies
    slots = tracker(sender)["slots"]
    assert slots["fault_offer"] == "redo"
    assert slots["draft"]["answers"]["fault_offer"] == "redo"


def test_shorter_and_more_formal_versions_of_the_last_draft(chat, tracker, sender):
    our_fault_advice(chat, sender)
    shorter = joined(chat(sender, "kürzer bitte"))
    assert "kürzere Fassung" in shorter and "[Ihr Name]" in shorter
    formal = joined(chat(sender, "etwas förmlicher bitte"))
    assert "Mit freundlichen Grüßen" in formal
    assert tracker(sender)["slots"]["draft"]["variant"] == "formal"
    other = joined(chat(sender, "kannst du das anders formulieren?"))
    assert "andere Formulierung" in other


def test_what_if_he_still_does_not_pay_is_the_next_step_not_the_questions(chat, tracker, sender):
    extra_requests_advice(chat, sender)
    replies = joined(chat(sender, "und was mach ich wenn er trotzdem nicht zahlen will"))
    assert "Fünf Fragen" not in replies and "Was genau" not in replies
    assert "Kompromiss" in replies
    assert tracker(sender)["slots"]["case_followup"]["step"] == "compromise_offer"
    again = chat(sender, "und wenn er den kompromiss auch ablehnt?")
    assert "/ask_end_relationship" in payloads(again)


def test_what_if_he_insists_on_the_credit_gets_a_draft_not_the_case_menu(chat, tracker, sender):
    our_fault_advice(chat, sender, offer="neu drucken")
    replies = chat(sender, "und wenn er trotzdem auf der gutschrift besteht?")
    text = joined(replies)
    assert "/report_own_fault" not in payloads(replies)
    assert "Gutschrift" in text and "[Betrag]" in text
    assert tracker(sender)["slots"]["fault_offer"] == "discount"


def test_can_i_end_it_goes_to_the_ending_path(chat, sender):
    extra_requests_advice(chat, sender)
    replies = chat(sender, "kann ich ihm kündigen?")
    text = joined(replies)
    # either the warning-sign check starts, or it is offered with a button
    assert "Warnzeichen" in text or "/ask_end_relationship" in payloads(replies)


def test_no_internal_check_claimed_when_the_user_did_not_check(chat, sender):
    chat(sender, "/report_false_claims")
    chat(sender, "er sagt ne lieferung fehlt, stimmt aber nich")
    chat(sender, "Nein")
    advice = joined(chat(sender, "Lieferschein"))
    draft = advice[advice.index("Entwurf") :]
    assert "geprüft" not in draft and "[Datum]" in draft
    assert "stimmt aber nich" not in draft


def test_a_followup_without_a_case_asks_what_it_is_about(chat, sender):
    replies = chat(sender, "und wenn er trotzdem nicht zahlt?")
    assert "/report_extra_requests" in payloads(replies)
