"""Real conversations over REST, part 4: the danger guess, settled stories and new safety rules.

* An insult told without any word near danger is the abuse case, even where the trained
  classifier leans to danger (``bot.safety.hint``, ``CaseSignalClassifier``).
* With a word near danger the safety reply comes first, whatever else is told.
* A mistake of ours told as settled, then a turn ("seitdem ...") decides by what came after.
* Plain danger wordings the rules now catch get the safety reply.

Both servers run (tests/conftest.py).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List

import pytest

pytestmark = pytest.mark.integration

Chat = Callable[[str, str], List[Dict[str, Any]]]


def joined(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


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
    sender = new_sender()
    chat(sender, message)
    assert tracker(sender)["slots"]["case"] == "abusive"


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
    sender = new_sender()
    chat(
        sender,
        "ok fairerweise: wir haben herrn vogt die falsche brille geschickt, das war unser fehler. "
        "haben wir sofort getauscht und uns entschuldigt. seitdem ruft er aber taeglich an und "
        "beschimpft meine kollegin als unfaehige kuh",
    )
    assert tracker(sender)["slots"]["case"] == "abusive"
