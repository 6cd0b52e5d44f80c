"""The four difficult-client cases: start, question forms, tailored advice."""

from __future__ import annotations

import abc
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_intent, repository, send, store_quietly
from actions.playbook_form import QuestionFormValidation, after_cancel
from bot import playbooks


class ActionStartCase(Action):
    """Recognise the case from the intent, set `case`, clear old answers, explain what comes."""

    def name(self) -> Text:
        return "action_start_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        case = playbooks.case_for_intent(latest_intent(tracker)) or tracker.get_slot("case")
        if case not in playbooks.CASES:
            dispatcher.utter_message(response="utter_clarify")
            return []
        client = tracker.get_slot("client_name")
        dispatcher.utter_message(text=playbooks.intro(case, client))
        if client:
            await store_quietly(repository().remember_client, tracker.sender_id, client, case)
        events: List[Dict[Text, Any]] = [SlotSet("case", case)]
        events += [SlotSet(slot, None) for slot in playbooks.playbooks()[case].slots]
        return events


class ActionCaseAdvice(Action):
    """After the questions: the recommendation tailored to the answers."""

    def name(self) -> Text:
        return "action_case_advice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        cancelled = after_cancel(dispatcher, tracker)
        if cancelled is not None:
            return cancelled
        case = tracker.get_slot("case")
        if case not in playbooks.CASES:
            dispatcher.utter_message(response="utter_clarify")
            return []
        book = playbooks.playbooks()[case]
        answers = {slot: tracker.get_slot(slot) for slot in book.slots}
        send(dispatcher, playbooks.advice(case, answers, tracker.get_slot("client_name")))
        # issue 4: offer to record the case as an incident (actions/incidents.py)
        from actions.incidents import offer_case_incident

        return await offer_case_incident(dispatcher, tracker)


class _CaseFormValidation(QuestionFormValidation, abc.ABC):
    @property
    @abc.abstractmethod
    def case(self) -> str:
        """The playbook this form belongs to (a class attribute in subclasses)."""

    def form_name(self) -> str:
        return playbooks.playbooks()[self.case].form

    def handles(self, slot: str) -> bool:
        return playbooks.playbooks()[self.case].question(slot) is not None

    def parse_answer(self, slot: str, value: Any) -> Optional[str]:
        return playbooks.playbooks()[self.case].question(slot).parse(value)

    def invalid_response(self, slot: str) -> str:
        return f"utter_invalid_{playbooks.playbooks()[self.case].question(slot).kind}"


class ValidateOurFaultForm(_CaseFormValidation):
    case = "our_fault"


class ValidateExtraRequestsForm(_CaseFormValidation):
    case = "extra_requests"


class ValidateFalseClaimsForm(_CaseFormValidation):
    case = "false_claims"


class ValidateAbusiveForm(_CaseFormValidation):
    case = "abusive"
