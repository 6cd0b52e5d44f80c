"""Knowledge answers: how to end a relationship, legal checks, afterwards, stress, help.

Short first: a topic answer is its short text with a "Mehr dazu" button; ``ask_more`` sends
the next part of the last topic (slots ``topic`` and ``topic_part``). Acute distress and a
crisis in a stress message get a short reply with one thing to do now (``bot/distress.py``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_intent
from bot import knowledge

TOPIC_BY_INTENT = {
    "ask_how_to_terminate": "how_to_terminate",
    "ask_legal": "legal",
    "ask_after_termination": "after_termination",
    "report_stress": "stress",
    "help": "help",
}
MORE_INTENT = "ask_more"


def send_reply(
    dispatcher: CollectingDispatcher, tracker: Tracker, reply: knowledge.Reply
) -> List[Dict[Text, Any]]:
    """Send a knowledge reply – never a message identical to one of the previous turn.

    The shared way out of the knowledge actions: a message the coach sent word for word in
    its previous turn is replaced by its short variant (``knowledge.unrepeated``). Returns the
    slot events that remember which topic and part "Mehr dazu" continues.
    """
    previous = knowledge.previous_texts(tracker.events or [])
    reply = knowledge.unrepeated(reply, previous)
    for message in reply.messages:
        buttons = [{"title": title, "payload": payload} for title, payload in message.buttons]
        if buttons:
            dispatcher.utter_message(text=message.text, buttons=buttons)
        else:
            dispatcher.utter_message(text=message.text)
    return [SlotSet("topic", reply.topic), SlotSet("topic_part", reply.part)]


def _confidence(tracker: Tracker) -> Optional[float]:
    value = ((tracker.latest_message or {}).get("intent") or {}).get("confidence")
    return float(value) if isinstance(value, (int, float)) else None


def topic_of(tracker: Tracker) -> str:
    """The topic of the current message's intent – never one of an earlier message.

    A question the NLU took for ``report_stress`` only with doubt and that does not speak of
    stress ("kann ich dem autohaus kuendigen?") gets the next topic intent of the ranking
    (``help`` when there is none) instead of the stress text.
    """
    intent = latest_intent(tracker) or ""
    name = TOPIC_BY_INTENT.get(intent, "help")
    message = (tracker.latest_message or {}).get("text") or ""
    if name == "stress" and knowledge.doubtful_stress(message, _confidence(tracker)):
        ranking = (tracker.latest_message or {}).get("intent_ranking") or []
        others = [r.get("name") for r in ranking if r.get("name") != intent]
        name = next((TOPIC_BY_INTENT[o] for o in others if o in TOPIC_BY_INTENT), "help")
    return name


class ActionExplainTopic(Action):
    """A topic's short answer; "Mehr dazu" goes on with the next part of the last topic."""

    def name(self) -> Text:
        return "action_explain_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        if latest_intent(tracker) == MORE_INTENT:
            part = tracker.get_slot("topic_part")
            reply = knowledge.more(tracker.get_slot("topic"), part)
        else:
            message = (tracker.latest_message or {}).get("text") or ""
            previous = knowledge.previous_texts(tracker.events or [])
            reply = knowledge.answer(topic_of(tracker), message, previous)
        return send_reply(dispatcher, tracker, reply)
