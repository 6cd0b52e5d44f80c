"""Real conversations over REST, part 3: what reading the transcripts of issue 10 still found.

* A long story whose decisive fact is an untrue claim about us is the false-claims case,
  whatever background comes before it (``bot/case_signals.py``).
* "Hm." outside a form is an invitation to tell, not "da kann ich dir nicht helfen".
* The hint that "kürzer"/"förmlicher" give another version comes with the first draft only.
* A warning sign already named in the first message is counted, not asked again.
* An insult told without any word near danger is the abuse case, even where the trained
  classifier leans to danger (``bot.safety.hint``, ``CaseSignalClassifier``); plain danger
  wordings the rules now catch get the safety intent; a mistake of ours told as settled,
  then a turn ("seitdem ..."), is decided by what came after.

Both servers run (tests/conftest.py).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List

import pytest

pytestmark = pytest.mark.integration

Chat = Callable[[str, str], List[Dict[str, Any]]]
HINT = "„kürzer“, „förmlicher“"


def joined(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def payloads(replies: List[Dict[str, Any]]) -> List[str]:
    return [b["payload"] for r in replies for b in r.get("buttons", [])]


def _case_after(chat: Chat, tracker, new_sender, message: str) -> str:
    """The case slot after a new user's first message."""
    sender = new_sender()
    chat(sender, message)
    return tracker(sender)["slots"]["case"]


@pytest.mark.parametrize(
    "story",
    [
        "kurz zum hintergrund: wir machen seit jahren die it fuer eine kleine kanzlei, lief immer "
        "gut. letzte woche hat unser techniker dort einen neuen router eingebaut. jetzt behauptet "
        "der seniorpartner, wir haetten dabei seine daten geloescht, dabei war das backup schon "
        "seit monaten kaputt, das zeigen die logs. wie geh ich damit um",
        "hi, bin im kundenservice von nem moebelhaus. eine kundin hat ein sofa bekommen, alles "
        "ok laut lieferschein mit ihrer unterschrift. jetzt schreibt sie ueberall, wir haetten ihr "
        "ein gebrauchtes sofa angedreht, das ist frei erfunden",
    ],
)
def test_a_long_story_with_an_untrue_claim_is_the_false_claims_case(
    chat: Chat, tracker, new_sender, story: str
):
    assert _case_after(chat, tracker, new_sender, story) == "false_claims"


def test_hesitation_outside_a_form_invites_to_tell(chat: Chat, sender):
    chat(sender, "hallo")
    replies = chat(sender, "Hm.")
    text = joined(replies)
    assert "nicht helfen" not in text, text
    assert "in deinen Worten" in text
    assert "/report_abuse" in payloads(replies) and "/help" in payloads(replies)


def test_an_off_topic_question_still_gets_the_limits(chat: Chat, sender):
    text = joined(chat(sender, "wie wird das wetter morgen in berlin"))
    assert "schwierigen Kundensituationen" in text, text


def test_the_draft_hint_comes_with_the_first_draft_only(chat: Chat, sender):
    chat(sender, "/report_own_fault")
    chat(sender, "wir haben die falsche farbe gedruckt")
    chat(sender, "Nein")
    chat(sender, "spürbar")
    first = joined(chat(sender, "gutschrift"))
    assert HINT in first
    shorter = joined(chat(sender, "kürzer bitte"))
    assert "[Ihr Name]" in shorter and HINT not in shorter
    again = joined(chat(sender, "anders formulieren"))
    assert "[Ihr Name]" in again and HINT not in again


def test_a_sign_named_in_the_first_message_is_not_asked(chat: Chat, tracker, new_sender):
    sender = new_sender()
    text = joined(chat(sender, "soll ich dem kunden kuendigen? er zahlt seit monaten nicht"))
    slots = tracker(sender)["slots"]
    assert slots["sign_payment"] == "yes", text
    assert "Zahlungsausfälle" in text
    asked = text
    for _ in range(9):
        asked += joined(chat(sender, "nein"))
    assert "5/10" not in asked


@pytest.mark.parametrize(
    "message",
    [
        "der kunde meinte am telefon, ich sei eine zumutung und soll mich verpissen",
        "die kundin hat mir gesagt, ich soll die klappe halten und mein hirn einschalten",
    ],
)
def test_an_insult_without_danger_words_is_the_abuse_case(
    chat: Chat, tracker, new_sender, message: str
):
    assert _case_after(chat, tracker, new_sender, message) == "abusive"


@pytest.mark.parametrize(
    "message",
    [
        "er meinte, wenn er mich nochmal sieht, bringt er mich um",
        "der kunde hat zugeschlagen, mitten in der werkstatt",
        "der typ steht schon wieder vorm buero und filmt rein",
        "er hat mir mit dem tod gedroht",
    ],
)
def test_plain_danger_wordings_get_the_safety_reply(chat: Chat, tracker, new_sender, message: str):
    sender = new_sender()
    replies = chat(sender, message)
    events = tracker(sender)["events"]
    intents = [e["parse_data"]["intent"]["name"] for e in events if e.get("event") == "user"]
    assert intents[-1] == "report_danger", joined(replies)
    assert tracker(sender)["slots"]["case"] is None


def test_a_settled_mistake_then_insults_is_the_abuse_case(chat: Chat, tracker, new_sender):
    story = (
        "ok fairerweise: wir haben herrn vogt die falsche brille geschickt, das war unser fehler. "
        "haben wir sofort getauscht und uns entschuldigt. seitdem ruft er aber taeglich an und "
        "beschimpft meine kollegin als unfaehige kuh"
    )
    assert _case_after(chat, tracker, new_sender, story) == "abusive"
