"""The four difficult-client cases: start, question forms, tailored advice."""

from __future__ import annotations

import abc
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_intent, repository, send, store_quietly
from actions.playbook_form import Events, QuestionFormValidation, after_form
from bot import interrupts, playbooks


def start_case(
    dispatcher: CollectingDispatcher, tracker: Tracker, case: str, followup: bool = True
) -> Events:
    """Explain what comes, set `case`, clear old answers and start the case's question form.

    The client and the behaviour the user named stay: a switch from one case to another
    keeps what fits. ``followup=False`` when a rule starts the form anyway.
    """
    book = playbooks.playbooks()[case]
    dispatcher.utter_message(text=playbooks.intro(case, tracker.get_slot("client_name")))
    events: Events = [SlotSet("case", case)]
    events += [SlotSet(slot, None) for slot in book.slots]
    return events + ([FollowupAction(book.form)] if followup else [])


def unsure_cases(tracker: Tracker) -> List[str]:
    """The cases to offer as buttons when the NLU is unsure which case the user describes.

    Empty when it is sure: the top case intent is confident and no other case is close.
    """
    message = interrupts.Message.from_parse(tracker.latest_message or {})
    limits = interrupts.vocabulary()["confirm"]
    ranked = [
        (case, confidence)
        for case, confidence in (
            (interrupts.case_for_intent(intent), confidence)
            for intent, confidence in message.ranking
        )
        if case
    ]
    if not ranked or message.confidence >= limits["sure"]:
        return []
    top = ranked[0][1]
    close = [case for case, confidence in ranked if top - confidence <= limits["close"]]
    if top >= limits["confident"] and len(close) == 1:
        return []
    return close[:2] if len(close) > 1 else [ranked[0][0]]


class ActionStartCase(Action):
    """Recognise the case from the intent (asking back when unsure) and start its questions."""

    def name(self) -> Text:
        return "action_start_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        case = playbooks.case_for_intent(latest_intent(tracker)) or tracker.get_slot("case")
        if case not in playbooks.CASES:
            dispatcher.utter_message(response="utter_clarify")
            return []
        unsure = unsure_cases(tracker)
        if unsure:
            dispatcher.utter_message(
                response="utter_confirm_case", buttons=case_buttons(domain, first=unsure)
            )
            return [FollowupAction("action_listen")]  # not the form the rule would start
        client = tracker.get_slot("client_name")
        if client:
            await store_quietly(repository().remember_client, tracker.sender_id, client, case)
        return start_case(dispatcher, tracker, case, followup=False)


def case_buttons(domain: Dict[Text, Any], first: List[str]) -> List[Dict[Text, Any]]:
    """The four cases (``first`` on top) and "etwas anderes", as defined in the domain."""
    variants = (domain.get("responses") or {}).get("utter_clarify_case") or [{}]
    buttons = list(variants[0].get("buttons", []))
    wanted = [f"/{playbooks.playbooks()[case].intent}" for case in first]
    return sorted(
        buttons, key=lambda b: wanted.index(b["payload"]) if b["payload"] in wanted else 9
    )


class ActionCaseAdvice(Action):
    """After the questions: the recommendation tailored to the answers."""

    def name(self) -> Text:
        return "action_case_advice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        left = after_form(dispatcher, tracker)
        if left is not None:
            return left
        case = tracker.get_slot("case")
        if case not in playbooks.CASES:
            dispatcher.utter_message(response="utter_clarify")
            return []
        book = playbooks.playbooks()[case]
        answers = {slot: tracker.get_slot(slot) for slot in book.slots}
        send(dispatcher, playbooks.advice(case, answers, tracker.get_slot("client_name")))
        # offer to record the case as an incident (actions/incidents.py)
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


class ActionCorrectCase(Action):
    """A correction ("falscher Fall") outside a form: switch to the named case, or ask."""

    def name(self) -> Text:
        return "action_correct_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        message = interrupts.Message.from_parse(tracker.latest_message or {})
        minimum = interrupts.vocabulary()["thresholds"]["correction_case"]
        target = interrupts.best_other_case(message, tracker.get_slot("case"), minimum)
        if target is None:
            dispatcher.utter_message(response="utter_clarify_case")
            return []
        dispatcher.utter_message(response="utter_case_switched")
        return start_case(dispatcher, tracker, target)
