"""Knowledge answers: how to end a relationship, legal checks, afterwards, stress, help."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_intent, send
from bot import knowledge

TOPIC_BY_INTENT = {
    "ask_how_to_terminate": "how_to_terminate",
    "ask_legal": "legal",
    "ask_after_termination": "after_termination",
    "report_stress": "stress",
    "help": "help",
}


class ActionExplainTopic(Action):
    def name(self) -> Text:
        return "action_explain_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        topic = TOPIC_BY_INTENT.get(latest_intent(tracker) or "", "help")
        send(dispatcher, knowledge.topic(topic))
        return []
