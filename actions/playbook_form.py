"""An abstract form validation action that validates every slot from a question definition.

Subclasses name their form; the questions (and how answers are understood) come from
``bot/playbooks.yml`` – there is no validate_<slot> method to write per slot.
"""

from __future__ import annotations

import abc
from typing import Any, Callable, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from bot import answers

CANCELLED_SLOT = "cancelled"


def cancel_or_none(slot: str, value: Any) -> Optional[Dict[str, Any]]:
    """Events that end the form early when the user cancels ("stopp"), else None.

    Setting `requested_slot` to None ends the loop; the action after the form sees
    `cancelled` and says so instead of giving advice. Only explicit cancel phrases count,
    never an NLU guess, so an answer the NLU happens to misread cannot abort a flow.
    """
    if isinstance(value, str) and answers.is_cancel(value):
        return {slot: None, "requested_slot": None, CANCELLED_SLOT: True}
    return None


def after_cancel(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> Optional[List[Dict[str, Any]]]:
    """For the action that follows a form: if the user cancelled, confirm it and reset the flag."""
    if not tracker.get_slot(CANCELLED_SLOT):
        return None
    dispatcher.utter_message(response="utter_stopped")
    return [SlotSet(CANCELLED_SLOT, False)]


class CancellableFormValidation(FormValidationAction, abc.ABC):
    """A form validation that ends the form when the whole message is a cancel phrase.

    Checked before any slot is extracted or validated, so "stopp" never becomes an answer
    (e.g. an incident note) and no NLU guess is needed. The action after the form calls
    :func:`after_cancel`.
    """

    @abc.abstractmethod
    def name(self) -> str:  # pragma: no cover - abstract
        ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        requested = tracker.get_slot("requested_slot")
        text = (tracker.latest_message or {}).get("text") or ""
        if requested and answers.is_cancel(text):
            return [
                SlotSet(requested, None),
                SlotSet("requested_slot", None),
                SlotSet(CANCELLED_SLOT, True),
            ]
        return await super().run(dispatcher, tracker, domain)


class QuestionFormValidation(FormValidationAction, abc.ABC):
    """Validates slots ``validate_<slot>`` by the question's kind (text, yes/no, choice)."""

    @abc.abstractmethod
    def form_name(self) -> str:  # pragma: no cover - abstract
        ...

    def name(self) -> str:
        return f"validate_{self.form_name()}"

    @abc.abstractmethod
    def parse_answer(self, slot: str, value: Any) -> Optional[str]:
        """The canonical value of an answer, or None if it was not understood."""

    @abc.abstractmethod
    def invalid_response(self, slot: str) -> str:
        """The response to send when the answer to ``slot`` was not understood."""

    @abc.abstractmethod
    def handles(self, slot: str) -> bool: ...

    def __getattr__(self, attribute: str) -> Callable:
        if attribute.startswith("validate_") and self.handles(attribute[len("validate_") :]):
            slot = attribute[len("validate_") :]

            def validate(
                value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
            ) -> Dict[str, Any]:
                if (
                    value is None
                ):  # reset before the form starts: not an answer, nothing to complain about
                    return {slot: None}
                cancel = cancel_or_none(slot, value)
                if cancel:
                    return cancel
                parsed = self.parse_answer(slot, value)
                if parsed is None:
                    dispatcher.utter_message(response=self.invalid_response(slot))
                return {slot: parsed}

            return validate
        raise AttributeError(attribute)
