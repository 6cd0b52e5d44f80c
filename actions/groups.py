"""Trainer group sessions in chat: verify a trainer, open a session, join it, see its results.

Rights are checked against configuration or the database on every call – never taken from a
slot or entity, which any user can set with `/intent{"slot": "value"}`.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import in_thread, message_text, store_quietly
from actions.playbook_form import after_cancel
from actions.roleplay import SETUP_SLOTS, ValidateRoleplaySetupForm
from bot import groups
from bot.config import load_settings
from bot.roleplay import library
from bot.storage.groups import GroupRepository
from bot.texts import text


def group_repository() -> GroupRepository:
    return GroupRepository(load_settings().database_url)


async def is_trainer(sender_id: str) -> bool:
    return sender_id in groups.configured_trainers() or await in_thread(
        group_repository().has_trainer_grant, sender_id
    )


async def _title(scenario_id: str, trainer: str) -> str:
    """The title of a shipped, published or the trainer's own scenario (else its id)."""
    found = await store_quietly(library.resolve, trainer, scenario_id)
    return found.title if found is not None else scenario_id


class ActionTrainerVerify(Action):
    def name(self) -> Text:
        return "action_trainer_verify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        if not groups.trainer_code_configured():
            dispatcher.utter_message(text=text("groups", "no_codes_configured"))
            return []
        candidate = groups.trainer_code_in(message_text(tracker))
        if candidate is None:
            dispatcher.utter_message(text=text("groups", "code_missing"))
        elif groups.check_trainer_code(candidate):
            await in_thread(group_repository().grant_trainer, tracker.sender_id)
            dispatcher.utter_message(text=text("groups", "code_ok"))
        else:
            dispatcher.utter_message(text=text("groups", "code_wrong"))
        return []


class ActionTrainerOpen(Action):
    """Trainer only: choose scenario and level (group_setup_form), then the session is created."""

    def name(self) -> Text:
        return "action_trainer_open"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        if not await is_trainer(tracker.sender_id):
            dispatcher.utter_message(text=text("groups", "not_trainer"))
            return []
        return [SlotSet(slot, None) for slot in SETUP_SLOTS] + [FollowupAction("group_setup_form")]


class ValidateGroupSetupForm(ValidateRoleplaySetupForm):
    def name(self) -> Text:
        return "validate_group_setup_form"


class ActionTrainerSessionCreated(Action):
    def name(self) -> Text:
        return "action_trainer_session_created"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        cancelled = after_cancel(dispatcher, tracker)
        if cancelled is not None:
            return cancelled
        if not await is_trainer(
            tracker.sender_id
        ):  # the form can be reached by forged events: check again
            dispatcher.utter_message(text=text("groups", "not_trainer"))
            return []
        scenario = tracker.get_slot("rp_scenario")
        difficulty = int(tracker.get_slot("rp_difficulty") or 2)
        if not isinstance(scenario, str) or (
            await store_quietly(library.resolve, tracker.sender_id, scenario) is None
        ):  # only a scenario this trainer may use (the slot can be forged)
            dispatcher.utter_message(response="utter_invalid_rp_scenario")
            return [SlotSet("rp_scenario", None), SlotSet("rp_difficulty", None)]
        session = await in_thread(
            group_repository().open_session, tracker.sender_id, scenario, difficulty
        )
        dispatcher.utter_message(
            text=text(
                "groups",
                "opened",
                title=await _title(scenario, tracker.sender_id),
                difficulty=difficulty,
                code=session.code,
            )
        )
        return [SlotSet("rp_scenario", None), SlotSet("rp_difficulty", None)]


class ActionJoinSession(Action):
    def name(self) -> Text:
        return "action_join_session"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        code = groups.join_code_in(message_text(tracker))
        if code is None:
            dispatcher.utter_message(text=text("groups", "join_missing"))
            return []
        session = await in_thread(group_repository().join, tracker.sender_id, code)
        if session is None:
            dispatcher.utter_message(text=text("groups", "join_unknown"))
            return []
        dispatcher.utter_message(text=text("groups", "joined", code=session.code))
        return [SlotSet(slot, None) for slot in SETUP_SLOTS] + [
            SlotSet("rp_scenario", session.scenario_id),
            SlotSet("rp_difficulty", str(session.difficulty)),
            SlotSet("rp_group", session.code),
            FollowupAction("action_roleplay_start"),
        ]


class ActionSessionResults(Action):
    """The session's results and a signed link to its live dashboard ("Bericht CODE": the link).

    Only for the trainer who opened the session; the code comes from the message, the rights
    from the sender id.
    """

    def name(self) -> Text:
        return "action_session_results"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        repo = group_repository()
        code = groups.join_code_in(message_text(tracker))
        if code is None:
            own = await in_thread(repo.sessions_of, tracker.sender_id)
            if not own:
                dispatcher.utter_message(text=text("groups", "results_none_owned"))
                return []
            code = own[0].code
        results = await in_thread(repo.results, tracker.sender_id, code)
        if results is None:
            dispatcher.utter_message(text=text("groups", "results_not_yours"))
            return []
        link = await in_thread(groups.dashboard_message, tracker.sender_id, code)
        if not groups.asks_for_dashboard(message_text(tracker)):
            session = await in_thread(repo.find_session, code)
            title = await _title(session.scenario_id, tracker.sender_id)
            for message in groups.results_messages(session, title, results):
                dispatcher.utter_message(text=message)
        dispatcher.utter_message(text=link)
        return []
