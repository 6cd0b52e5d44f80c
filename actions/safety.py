"""Safety first: danger to body or dignity gets the safety reply before anything else.

The reply is sent by one action, ``action_safety``, reached from three places: a fresh
message (intent ``report_danger``), any form (``actions/playbook_form.py`` ends the form and
the action after it hands over) and the role-play (the coach steps out of character). The
texts are the domain responses ``utter_safety_<kind>`` and ``utter_safety_offer``; accepting
the offer records the incident with what is already known (:class:`ActionLogDangerIncident`).
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import entity, message_text
from bot import dates, escalation, safety

Events = List[Dict[Text, Any]]
INCIDENT_SLOTS = ("incident_client", "incident_behavior", "incident_date", "incident_note")


def send_safety_reply(dispatcher: CollectingDispatcher, kind: str) -> None:
    """What to do for safety now, then the offer to record the incident."""
    reply = kind if kind in safety.KINDS else "threat"
    dispatcher.utter_message(response=f"utter_safety_{reply}")
    dispatcher.utter_message(response="utter_safety_offer")


def _kind(tracker: Tracker) -> str:
    """The danger kind: from the latest message, else the slot an interrupted form set."""
    found = safety.detect(message_text(tracker))
    if found is not None:
        return found.kind
    return entity(tracker, "danger_kind") or tracker.get_slot("danger_kind") or "threat"


class ActionSafety(Action):
    """A fresh message about danger: the safety reply first, whatever was going on."""

    def name(self) -> Text:
        return "action_safety"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        kind = _kind(tracker)
        send_safety_reply(dispatcher, kind)
        return [SlotSet("danger_kind", kind)]


class ActionLogDangerIncident(Action):
    """The user accepted to record the dangerous incident: the incident form, pre-filled."""

    def name(self) -> Text:
        return "action_log_danger_incident"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        behavior = escalation.behavior_for_danger(tracker.get_slot("danger_kind") or "threat")
        events: Events = [SlotSet(slot, None) for slot in INCIDENT_SLOTS]
        events += [
            SlotSet("incident_behavior", behavior),
            SlotSet("incident_date", dates.today().isoformat()),
            SlotSet("incident_source", {"safety": tracker.get_slot("danger_kind")}),
        ]
        client = tracker.get_slot("client_name")
        if client:
            events.append(SlotSet("incident_client", client))
        return events + [FollowupAction("incident_form")]
