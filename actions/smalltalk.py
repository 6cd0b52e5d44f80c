"""Messages outside the coach's topics: a hesitant "Hm." is an invitation, not off topic."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import message_text
from bot import interrupts


class ActionOutOfScope(Action):
    """Out of scope: "Hm." and "naja" get an invitation to tell, anything else the limits."""

    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        if interrupts.is_hesitation(message_text(tracker)):
            dispatcher.utter_message(response="utter_hesitate")
        else:
            dispatcher.utter_message(response="utter_out_of_scope")
        return []
