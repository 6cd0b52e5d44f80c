"""``action_session_start``: a new session keeps the case, drops a half-filled form, greets back.

Rasa runs it when a user writes after the session expired (``session_config`` in
``domain.yml``) and for a brand-new conversation. What carries over and the welcome-back text
come from ``bot/session.py``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import session


def open_form_slots(tracker: Tracker, domain: Dict[Text, Any]) -> List[Text]:
    """The required slots of the form that is active in ``tracker`` (none without one)."""
    form = (tracker.active_loop or {}).get("name")
    if not form:
        return []
    return list((domain.get("forms") or {}).get(form, {}).get("required_slots") or [])


class ActionSessionStart(Action):
    """Start a session with the carried-over slots and, if there is one, the welcome back."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        old = dict(tracker.slots)
        welcome = session.welcome_back(old)
        if welcome is not None:
            dispatcher.utter_message(text=welcome.text, buttons=welcome.buttons)
        carried = session.carried_slots(old, open_form_slots(tracker, domain))
        return [
            SessionStarted(),
            *[SlotSet(name, value) for name, value in carried.items()],
            ActionExecuted("action_listen"),
        ]
