"""Incidents per client: logging them, and offering it after a case flow.

Flows (rules in data/rules/features_history.yml):

* ``log_incident`` → action_start_incident → incident_form → action_save_incident.
* after action_case_advice: :func:`offer_case_incident` (called by that action) offers to
  record the case; affirm → action_log_case_incident (asks only for a missing client).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import STORAGE_ERRORS, entity, in_thread, message_text, repository, send
from actions.history_common import (
    INCIDENT_SLOTS,
    MAX_CLIENT_BUTTONS,
    Events,
    FixedQuestion,
    behavior_answer,
    boundaries_of,
    canonical_behavior,
    client_names,
    invalid,
    note_answer,
    own_boundaries,
    t,
    yes_no_buttons,
)
from actions.playbook_form import CancellableFormValidation, after_cancel
from actions.safety import ActionLogDangerIncident
from bot import boundaries as bnd
from bot import clients, dates, playbooks
from bot import incidents as inc
from bot.storage.repository import InvalidInput

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- incidents
class ActionStartIncident(Action):
    """Start ``incident_form`` with client, behaviour and date from the message if named."""

    def name(self) -> Text:
        return "action_start_incident"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        text = message_text(tracker)
        known = await client_names(tracker.sender_id)
        mentioned = entity(tracker, "client")
        client = inc.resolve_client(mentioned, None if text.startswith("/") else text, known)
        if client is None and mentioned:
            try:
                client = inc.parse_client(mentioned)
            except InvalidInput:
                client = None
        own = own_boundaries(await boundaries_of(tracker.sender_id))
        behavior = canonical_behavior(entity(tracker, "behavior"), own)
        if behavior is None and not text.startswith("/"):
            behavior = bnd.behavior_in_text(text, own)
        found = None if text.startswith("/") else dates.find_date(text)
        dispatcher.utter_message(text=t("incident.start"))
        return [SlotSet(slot, None) for slot in INCIDENT_SLOTS] + [
            SlotSet("incident_source", None),
            SlotSet("incident_client", client),
            SlotSet("incident_behavior", behavior),
            SlotSet("incident_date", found.isoformat() if found else None),
        ]


def _date_in_message(tracker: Tracker) -> Optional[date]:
    """A date the latest message names ("Ja, aber das war gestern", "nein, am Montag")."""
    text = message_text(tracker)
    return None if text.startswith("/") else dates.find_date(text)


class ValidateIncidentForm(CancellableFormValidation):
    def name(self) -> Text:
        return "validate_incident_form"

    def hears_danger(self, slot: str, tracker: Tracker) -> bool:
        # recording an incident after the safety reply: its description is the answer
        return "safety" not in (tracker.get_slot("incident_source") or {})

    async def validate_incident_client(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is None:  # reset before the form starts: not an answer
            return {"incident_client": None}
        try:
            name = inc.parse_client(value)
        except InvalidInput as error:
            invalid(dispatcher, error.code)
            return {"incident_client": None}
        known = await client_names(tracker.sender_id)  # keep the spelling stored first
        return {"incident_client": next((k for k in known if clients.same_client(name, k)), name)}

    async def validate_incident_behavior(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        own = own_boundaries(await boundaries_of(tracker.sender_id))
        return behavior_answer("incident_behavior", value, dispatcher, own)

    async def validate_incident_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is None:  # reset before the form starts: not an answer
            return {"incident_date": None}
        if tracker.get_slot("requested_slot") is None:
            # pre-filled when the form starts (after the safety reply or a case): the message
            # that accepted the offer may name the day ("Ja, aber das war gestern")
            named = _date_in_message(tracker)
            if named is not None:
                return {"incident_date": named.isoformat()}
        try:
            return {
                "incident_date": dates.parse_date(
                    value if isinstance(value, str) else ""
                ).isoformat()
            }
        except dates.DateError as error:
            invalid(dispatcher, error.code, value=error.value)
            return {"incident_date": None}

    async def validate_incident_note(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        corrected = dates.correction(value) if isinstance(value, str) else None
        if corrected is not None and tracker.get_slot("requested_slot") == "incident_note":
            # "nein, am Montag": the day was wrong – take it and ask for the note again
            dispatcher.utter_message(
                text=t("incident.date_corrected", date=dates.format_date(corrected))
            )
            return {"incident_date": corrected.isoformat(), "incident_note": None}
        return note_answer("incident_note", value, dispatcher)


class ActionAskIncidentClient(Action):
    def name(self) -> Text:
        return "action_ask_incident_client"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        names: List[str] = []
        current = tracker.get_slot("client_name")
        for name in ([current] if current else []) + await client_names(tracker.sender_id):
            try:
                name = inc.parse_client(name)
            except InvalidInput:
                continue
            if name not in names:
                names.append(name)
        buttons = [{"title": n, "payload": n} for n in names[:MAX_CLIENT_BUTTONS]]
        dispatcher.utter_message(text=t("incident.ask_client"), buttons=buttons)
        return []


class ActionAskIncidentBehavior(FixedQuestion):
    """The categories as buttons, followed by the user's boundaries in own words."""

    question, behavior_choices = "incident.ask_behavior", True

    def name(self) -> Text:
        return "action_ask_incident_behavior"

    async def extra_buttons(self, tracker: Tracker) -> List[Dict[str, str]]:
        own = own_boundaries(await boundaries_of(tracker.sender_id))
        return [{"title": b.label, "payload": b.label} for b in own]


class ActionAskIncidentDate(FixedQuestion):
    question, button_keys = (
        "incident.ask_date",
        ("incident.button_today", "incident.button_yesterday"),
    )

    def name(self) -> Text:
        return "action_ask_incident_date"


class ActionAskIncidentNote(FixedQuestion):
    question, button_keys = "incident.ask_note", ("incident.button_no_note",)

    def name(self) -> Text:
        return "action_ask_incident_note"


async def _save_incident(
    dispatcher: CollectingDispatcher,
    sender: str,
    client: str,
    behavior: str,
    occurred_on: date,
    note: Optional[str],
    source: Optional[dict],
) -> Events:
    """Store one incident and answer with the level; events for the conversation."""
    repo = repository()
    source = source or {}
    today = dates.today()
    key, words = bnd.split_behavior(behavior)
    try:
        saved = await in_thread(
            lambda: repo.log_incident(
                sender,
                client,
                key,
                occurred_on,
                note,
                source="case" if source.get("case") else "chat",
                case=source.get("case"),
                level_hint=source.get("level_hint"),
                today=today,
                label=words,
            )
        )
        history = await in_thread(repo.incidents, sender, saved.client)
        limits = await in_thread(repo.boundaries, sender)
    except InvalidInput as error:
        invalid(dispatcher, error.code)
        return []
    except STORAGE_ERRORS:  # tell the user instead of going silent
        logger.exception("saving an incident failed")
        invalid(dispatcher, "storage_failed")
        return []
    send(dispatcher, inc.after_logging(saved, history, limits, today))
    return [SlotSet("client_name", saved.client)]


class ActionSaveIncident(Action):
    def name(self) -> Text:
        return "action_save_incident"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        reset: Events = [SlotSet(slot, None) for slot in INCIDENT_SLOTS] + [
            SlotSet("incident_source", None)
        ]
        cancelled = after_cancel(dispatcher, tracker)
        if cancelled is not None:
            return reset + cancelled
        client, behavior = (
            tracker.get_slot("incident_client"),
            tracker.get_slot("incident_behavior"),
        )
        raw_date, note = tracker.get_slot("incident_date"), tracker.get_slot("incident_note")
        if not (client and behavior and raw_date):
            dispatcher.utter_message(response="utter_stopped")
            return reset
        try:
            occurred_on = date.fromisoformat(raw_date)
        except ValueError:
            invalid(dispatcher, "date_unknown")
            return reset
        events = await _save_incident(
            dispatcher,
            tracker.sender_id,
            client,
            behavior,
            occurred_on,
            None if note in (None, inc.NO_NOTE) else note,
            tracker.get_slot("incident_source"),
        )
        return reset + events


# --------------------------------------------------------------------------- after a case flow
def case_offer(tracker: Tracker) -> Optional[dict]:
    """What the finished case flow would be recorded as (None for our_fault / no case).

    Computed from the slots the case flow left behind, so nothing extra is stored between
    the offer and the user's answer.
    """
    case = tracker.get_slot("case")
    book = playbooks.playbooks().get(case or "")
    if book is None:
        return None
    offer = inc.case_incident(case, {slot: tracker.get_slot(slot) for slot in book.slots})
    if offer is None:
        return None
    client = tracker.get_slot("client_name")
    try:
        offer["client"] = inc.parse_client(client) if client else None
    except InvalidInput:
        offer["client"] = None
    return offer


async def offer_case_incident(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """Called by action_case_advice: offer to record the case as an incident (not our_fault)."""
    offer = case_offer(tracker)
    if offer is not None:
        dispatcher.utter_message(
            text=inc.offer_text(offer, offer["client"], dates.today()),
            buttons=yes_no_buttons(
                t("incident.button_offer_yes"), t("incident.button_offer_no"), "/affirm", "/deny"
            ),
        )
    return []


class ActionDeclineCaseIncident(Action):
    """A "no" to the offer after a case – unless it only corrects the day ("nein, am Montag").

    For the rule "do not record the case" in place of ``utter_incident_offer_declined``: a
    short correction that names a day records the incident on that day; any other "no"
    gets the declined answer.
    """

    def name(self) -> Text:
        return "action_decline_case_incident"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        if case_offer(tracker) is not None and dates.correction(message_text(tracker)):
            return await ActionLogCaseIncident().run(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_incident_offer_declined")
        return []


class ActionDeclineDangerIncident(Action):
    """A "no" to recording a dangerous incident – unless it only corrects the day.

    For the rule "do not record the dangerous incident now" in place of
    ``utter_safety_declined``: "nein, das war am Montag" starts the pre-filled incident form
    (which takes the day from this message), any other "no" gets the declined answer.
    """

    def name(self) -> Text:
        return "action_decline_danger_incident"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        if dates.correction(message_text(tracker)):
            return await ActionLogDangerIncident().run(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_safety_declined")
        return []


class ActionLogCaseIncident(Action):
    """The user accepted the offer after a case: save with the known details."""

    def name(self) -> Text:
        return "action_log_case_incident"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        offer = case_offer(tracker)
        if offer is None:
            dispatcher.utter_message(text=t("incident.nothing_offered"))
            return []
        source = {"case": offer.get("case"), "level_hint": offer.get("level_hint")}
        day = _date_in_message(tracker) or dates.today()  # "Ja, aber das war gestern"
        if offer.get("client"):
            return await _save_incident(
                dispatcher,
                tracker.sender_id,
                offer["client"],
                offer["behavior"],
                day,
                offer.get("note"),
                source,
            )
        # only the client is missing: the incident form asks for it and nothing else
        return [SlotSet(slot, None) for slot in INCIDENT_SLOTS] + [
            SlotSet("incident_behavior", offer["behavior"]),
            SlotSet("incident_date", day.isoformat()),
            SlotSet("incident_note", offer.get("note") or inc.NO_NOTE),
            SlotSet("incident_source", source),
            FollowupAction("incident_form"),
        ]
