"""The escalation history per client and its use in the ending check.

* ``show_history`` → action_show_history (one client or the overview).
* ``ask_end_relationship``: :func:`warning_prefill_events` and :class:`WarningPrefillMixin`
  pre-fill the warning-sign check from the client's incidents; the user confirms once.

Boundaries are in actions/boundaries.py, incidents in actions/incidents.py, shared helpers
in actions/history_common.py.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    STORAGE_ERRORS,
    entity,
    in_thread,
    message_text,
    repository,
    send,
    store_quietly,
)
from actions.history_common import (
    PREFILL_CONFIRM,
    PREFILL_SLOT,
    Events,
    invalid,
    t,
    yes_no_buttons,
)
from bot import answers, clients, dates, warning_signs
from bot import incidents as inc

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- history
class ActionShowHistory(Action):
    def name(self) -> Text:
        return "action_show_history"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        repo = repository()
        try:
            everything = await in_thread(repo.incidents, tracker.sender_id)
            limits = await in_thread(repo.boundaries, tracker.sender_id)
        except STORAGE_ERRORS:  # tell the user instead of going silent
            logger.exception("reading the history failed")
            invalid(dispatcher, "storage_failed")
            return []
        by_client: Dict[str, list] = {}
        for item in everything:
            by_client.setdefault(item.client, []).append(item)
        text = message_text(tracker)
        mentioned = entity(tracker, "client")
        client = inc.resolve_client(
            mentioned, None if text.startswith("/") else text, list(by_client)
        )
        today = dates.today()
        if client is not None:
            send(dispatcher, inc.timeline(client, by_client[client], limits, today))
            return [SlotSet("client_name", client)]
        if mentioned:
            forms = clients.forms(clients.display_name(mentioned))
            dispatcher.utter_message(text=t("history.unknown_client", **forms))
        send(dispatcher, inc.overview(by_client, limits, today))
        return []


# --------------------------------------------------------------------------- warning signs
async def warning_prefill_events(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """Called by action_start_warning_check: pre-fill signs from the client's incidents."""
    reset: Events = [SlotSet(PREFILL_SLOT, None), SlotSet(PREFILL_CONFIRM, None)]
    repo = repository()
    everything = await store_quietly(repo.incidents, tracker.sender_id) or []
    if not everything:
        return reset
    names = list(dict.fromkeys(i.client for i in everything))
    text = message_text(tracker)
    client = inc.resolve_client(
        entity(tracker, "client"), None if text.startswith("/") else text, names
    )
    if client is None:
        client = inc.resolve_client(tracker.get_slot("client_name"), None, names)
    if client is None:
        return reset
    prefill = inc.warning_prefill([i for i in everything if i.client == client], dates.today())
    if not prefill:
        return reset
    slots = [SlotSet(warning_signs.SLOT_PREFIX + key, "yes") for key in prefill]
    return slots + [
        SlotSet(PREFILL_SLOT, {"client": client, "signs": prefill}),
        SlotSet(PREFILL_CONFIRM, None),
        SlotSet("client_name", client),
    ]


class WarningPrefillMixin:
    """For ValidateWarningSignsForm: ask once to confirm pre-filled signs, then the rest."""

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        if tracker.get_slot(PREFILL_SLOT):
            return [PREFILL_CONFIRM] + [s for s in domain_slots if s != PREFILL_CONFIRM]
        return domain_slots

    async def extract_sign_prefill_confirm(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """The answer to the confirmation question.

        A custom mapping, because the slot is not in the form's static required_slots.
        """
        if tracker.get_slot("requested_slot") != PREFILL_CONFIRM:
            return {}
        return {PREFILL_CONFIRM: message_text(tracker)}

    async def validate_sign_prefill_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is None:  # reset before the form starts: not an answer
            return {"sign_prefill_confirm": None}
        parsed = answers.parse_yes_no(value) if isinstance(value, str) else None
        if parsed not in ("yes", "no"):
            invalid(dispatcher, "yes_no")
            return {PREFILL_CONFIRM: None}
        if parsed == "no":  # ask those signs one by one after all
            signs = (tracker.get_slot(PREFILL_SLOT) or {}).get("signs") or {}
            return {PREFILL_CONFIRM: "no", **{warning_signs.SLOT_PREFIX + k: None for k in signs}}
        return {PREFILL_CONFIRM: "yes"}


class ActionAskSignPrefillConfirm(Action):
    def name(self) -> Text:
        return f"action_ask_{PREFILL_CONFIRM}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        prefill = tracker.get_slot(PREFILL_SLOT) or {}
        signs = prefill.get("signs") or {}
        dispatcher.utter_message(
            text=inc.prefill_question(
                prefill.get("client") or "", signs, warning_signs.keys(), len(warning_signs.keys())
            ),
            buttons=yes_no_buttons(t("prefill.button_yes"), t("prefill.button_no")),
        )
        return []
