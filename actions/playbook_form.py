"""An abstract form validation action that validates every slot from a question definition.

Subclasses name their form; the questions (and how answers are understood) come from
``bot/playbooks.yml`` – there is no validate_<slot> method to write per slot.
"""
from __future__ import annotations

import abc
from typing import Any, Callable, Dict, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict


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
    def handles(self, slot: str) -> bool:
        ...

    def __getattr__(self, attribute: str) -> Callable:
        if attribute.startswith("validate_") and self.handles(attribute[len("validate_"):]):
            slot = attribute[len("validate_"):]

            def validate(value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[str, Any]:
                parsed = self.parse_answer(slot, value)
                if parsed is None:
                    dispatcher.utter_message(response=self.invalid_response(slot))
                return {slot: parsed}

            return validate
        raise AttributeError(attribute)
