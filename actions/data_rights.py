"""The user's data rights: export everything, delete everything.

* ``export_my_data`` → action_export_my_data: a download link (connectors/export.py) that
  is signed for this sender only and expires after a few minutes; the JSON is built when
  the link is opened.
* ``delete_my_data`` → action_start_delete_data → delete_data_form (one confirmation) →
  action_delete_my_data: coach data and conversation events are deleted; the slot
  ``data_erased`` tells the Rasa server not to save this conversation again.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import STORAGE_ERRORS, in_thread
from actions.history_common import t, yes_no_answer, yes_no_buttons
from actions.playbook_form import CANCELLED_SLOT, CancellableFormValidation, after_form
from bot import data_rights
from bot.boundaries import plural
from bot.storage.tracker_events import ERASE_SLOT

logger = logging.getLogger(__name__)
Events = List[Dict[Text, Any]]


class ActionExportMyData(Action):
    def name(self) -> Text:
        return "action_export_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        try:
            found = await in_thread(data_rights.counts, tracker.sender_id)
            url = await in_thread(data_rights.download_url, tracker.sender_id)
        except STORAGE_ERRORS:  # database down or the export secret cannot be written
            logger.exception("preparing the export failed")
            dispatcher.utter_message(text=t("data.export_failed"))
            return []
        events = plural("events", found.get("events", 0))
        listed = data_rights.summary(found)
        dispatcher.utter_message(text=t("data.export_link", url=url))
        dispatcher.utter_message(
            text=t("data.export_validity", minutes=max(data_rights.ttl_seconds() // 60, 1))
        )
        if listed:
            dispatcher.utter_message(text=t("data.export_contents", summary=listed, events=events))
        else:
            dispatcher.utter_message(text=t("data.export_nothing", events=events))
        return []


class ActionStartDeleteData(Action):
    def name(self) -> Text:
        return "action_start_delete_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        return [SlotSet("delete_confirm", None)]


class ActionAskDeleteConfirm(Action):
    def name(self) -> Text:
        return "action_ask_delete_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        try:
            found = await in_thread(data_rights.counts, tracker.sender_id)
        except STORAGE_ERRORS:  # still ask; the deletion reports what it found
            logger.exception("counting the user's data failed")
            found = {}
        events = plural("events", found.get("events", 0))
        listed = data_rights.summary(found)
        question = (
            t("data.delete_ask", summary=listed, events=events)
            if listed
            else t("data.delete_ask_nothing", events=events)
        )
        dispatcher.utter_message(
            text=question,
            buttons=yes_no_buttons(
                t("data.button_delete_yes"),
                t("data.button_delete_no"),
                t("data.button_delete_yes"),
                "Nein",
            ),
        )
        return []


class ValidateDeleteDataForm(CancellableFormValidation):
    def name(self) -> Text:
        return "validate_delete_data_form"

    async def validate_delete_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return yes_no_answer("delete_confirm", value, dispatcher)


class ActionDeleteMyData(Action):
    def name(self) -> Text:
        return "action_delete_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        if tracker.get_slot(CANCELLED_SLOT):
            dispatcher.utter_message(text=t("data.kept"))
            return [SlotSet("delete_confirm", None), SlotSet(CANCELLED_SLOT, False)]
        left = after_form(dispatcher, tracker)
        if left is not None:  # a safety signal or another case took over: nothing deleted
            return [SlotSet("delete_confirm", None)] + left
        if tracker.get_slot("delete_confirm") != "yes":
            dispatcher.utter_message(text=t("data.kept"))
            return [SlotSet("delete_confirm", None)]
        try:
            deleted = await in_thread(data_rights.erase, tracker.sender_id)
        except STORAGE_ERRORS:  # the database transaction rolled back
            logger.exception("deleting the user's data failed")
            dispatcher.utter_message(text=t("data.failed"))
            return [SlotSet("delete_confirm", None)]
        events = plural("events", deleted.get("events", 0))
        listed = data_rights.summary(deleted)
        dispatcher.utter_message(
            text=t("data.deleted", summary=listed, events=events)
            if listed
            else t("data.deleted_nothing", events=events)
        )
        # the Rasa server drops this conversation instead of saving it (connectors/tracker_store.py)
        return [SlotSet(ERASE_SLOT, True)]
