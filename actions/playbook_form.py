"""The one mechanism by which every form listens, is interrupted and is left.

Every form validation of the coach derives from :class:`ListeningFormValidation`. Before a
message is taken as the answer to the question asked, :func:`bot.interrupts.classify` decides
whether it is something else, and :meth:`ListeningFormValidation.run` acts on it:

* "stopp" (the whole message) ends the form; the action after the form says so.
* A safety signal (violence, a threat, harassment, stalking, damage) ends the form, and the
  safety reply (``actions/safety.py``) is the first thing the user hears.
* Acute distress ("ich kann nicht mehr") ends the form with a short, calm reply.
* "zurück" asks the previous question again; "moment, bei der Preisfrage meinte ich ja"
  corrects that earlier answer and asks the current question again.
* "falscher Fall …" or a clear description of another case ends the form and starts that
  case (keeping client and behaviour); a correction without a clear case asks which one.
* A question in the middle ("kann ich dem kündigen?") gets a short answer, then the question
  is asked again.

Leaving a form always goes through the action that follows it, which calls
:func:`after_form` first. :class:`QuestionFormValidation` adds per-slot validation from a
question definition (``bot/playbooks.yml``) so there is no validate_<slot> method to write.
"""

from __future__ import annotations

import abc
from typing import Any, Callable, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from bot import interrupts

CANCELLED_SLOT = "cancelled"
EXIT_SLOT = "form_exit"
Events = List[Dict[str, Any]]
#: a message longer than this counts as an answer to a yes/no or choice question only when it
#: starts with the answer ("ja, er …"); a long description that merely contains "nie" does not
LONG_ANSWER_WORDS = 6


def _end(requested: str, **slots: Any) -> Events:
    """Events that end the form now: the requested slot stays empty, the exit is noted."""
    events = [SlotSet(requested, None), SlotSet("requested_slot", None)]
    return events + [SlotSet(name, value) for name, value in slots.items()]


class ListeningFormValidation(FormValidationAction, abc.ABC):
    """A form validation that recognises interruptions before validating any answer."""

    #: False for the role-play: every message is the user's line except cancel and safety
    listens: bool = True

    def hears_danger(self, slot: str, tracker: Tracker) -> bool:
        """False where describing danger is the answer (recording a dangerous incident)."""
        return True

    @abc.abstractmethod
    def name(self) -> str:  # pragma: no cover - abstract
        """The validation action's name (``validate_<form>``)."""

    def understood(self, slot: str, text: str) -> bool:
        """True when ``text`` is a valid answer to a yes/no or choice question ``slot``."""
        return False

    def free_text(self, slot: str) -> bool:
        """True when ``slot`` takes free text (a description, a note, a name)."""
        return True

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        requested = tracker.get_slot("requested_slot")
        active = (tracker.active_loop or {}).get("name") == self.form_name()
        if requested and active:
            message = interrupts.Message.from_parse(tracker.latest_message or {})
            order = await self.required_slots(
                self.domain_slots(domain), dispatcher, tracker, domain
            )
            answered = {
                slot: tracker.get_slot(slot)
                for slot in order
                if slot != requested and tracker.get_slot(slot) is not None
            }
            context = interrupts.Context(
                form=self.form_name(),
                slot=requested,
                case=tracker.get_slot("case"),
                understood=self.understood(requested, message.text),
                free_text=self.free_text(requested),
                listens=self.listens,
                answered=answered if self.listens else {},
            )
            found = interrupts.classify(message, context)
            if found is not None and found.kind == interrupts.SAFETY:
                if not self.hears_danger(requested, tracker):
                    found = None
            if found is not None:
                return await self.interrupted(found, requested, dispatcher, tracker, domain)
        return await super().run(dispatcher, tracker, domain)

    async def interrupted(
        self,
        found: interrupts.Interruption,
        requested: str,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        """The events for an interruption of the question ``requested``."""
        if found.kind == interrupts.CANCEL:
            return _end(requested, **{CANCELLED_SLOT: True})
        if found.kind == interrupts.SAFETY:  # the action after the form hands over to safety
            return _end(requested, **{EXIT_SLOT: "safety", "danger_kind": found.target})
        if found.kind == interrupts.DISTRESS:  # a calm reply instead of the next question
            return _end(requested, **{EXIT_SLOT: "distress"})
        if found.kind == interrupts.SWITCH:
            return _end(requested, **{EXIT_SLOT: "switch", "case": found.target})
        if found.kind == interrupts.CLARIFY:
            return _end(requested, **{EXIT_SLOT: "clarify"})
        if found.kind == interrupts.BACK:
            return await self._back(requested, dispatcher, tracker, domain)
        if found.kind == interrupts.EARLIER:  # fix that answer, then the same question again
            dispatcher.utter_message(response="utter_corrected_earlier")
            return [SlotSet(found.target, found.value), SlotSet(requested, None)]
        # a question in the middle: a short answer, then the same question again
        dispatcher.utter_message(response=f"utter_brief_{found.target}")
        dispatcher.utter_message(response="utter_back_to_question")
        return [SlotSet(requested, None)]

    async def _back(
        self,
        requested: str,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        order = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        earlier = order[: order.index(requested)] if requested in order else []
        previous = next((s for s in reversed(earlier) if tracker.get_slot(s) is not None), None)
        if previous is None:
            dispatcher.utter_message(response="utter_back_first_question")
            return [SlotSet(requested, None)]
        dispatcher.utter_message(response="utter_back_previous_question")
        return [SlotSet(previous, None), SlotSet(requested, None)]


def after_form(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[Events]:
    """For the action that follows a form: how the form was left, if not by its last answer.

    Returns the events to return instead of the action's normal work, or None when the form
    was completed. "stopp" is confirmed; a safety signal hands over to ``action_safety``; a
    switch starts the other case; an unclear correction asks which case it is.
    """
    if tracker.get_slot(CANCELLED_SLOT):
        dispatcher.utter_message(response="utter_stopped")
        return [SlotSet(CANCELLED_SLOT, False)]
    exit_kind = tracker.get_slot(EXIT_SLOT)
    if not exit_kind:
        return None
    events: Events = [SlotSet(EXIT_SLOT, None)]
    if exit_kind == "safety":  # the safety reply is the first thing the user hears
        return events + [FollowupAction("action_safety")]
    if exit_kind == "distress":  # the short, calm reply of the stress topic, right here
        from actions.knowledge import send_reply  # knowledge builds on the text tools only
        from bot import knowledge

        message = (tracker.latest_message or {}).get("text") or ""
        previous = knowledge.previous_texts(tracker.events or [])
        return events + send_reply(
            dispatcher, tracker, knowledge.answer("stress", message, previous)
        )
    if exit_kind == "switch":
        from actions.cases import start_case  # the case module builds on this one

        dispatcher.utter_message(response="utter_case_switched")
        return events + start_case(dispatcher, tracker, tracker.get_slot("case"))
    if exit_kind == "clarify":
        dispatcher.utter_message(response="utter_clarify_case")
    return events


def after_cancel(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[Events]:
    """Alias of :func:`after_form` for the actions written before interruptions existed."""
    return after_form(dispatcher, tracker)


# Kept for the forms whose per-slot validators still call it directly (the role-play set-up).
def cancel_or_none(slot: str, value: Any) -> Optional[Dict[str, Any]]:
    """Never ends a form any more: cancelling is recognised once in the listening base."""
    return None


class CancellableFormValidation(ListeningFormValidation, abc.ABC):
    """A listening form validation whose slots are validated by ``validate_<slot>`` methods."""


class QuestionFormValidation(ListeningFormValidation, abc.ABC):
    """Validates slots ``validate_<slot>`` by the question's kind (text, yes/no, choice)."""

    @abc.abstractmethod
    def form_name(self) -> str:  # pragma: no cover - abstract
        """The form this validation belongs to."""

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
        """True for the slots this validation validates."""

    def understood(self, slot: str, text: str) -> bool:
        return (
            self.handles(slot) and not self.free_text(slot) and bool(self.parse_answer(slot, text))
        )

    def free_text(self, slot: str) -> bool:
        return self.invalid_response(slot) == "utter_invalid_text"

    def __getattr__(self, attribute: str) -> Callable:
        if attribute.startswith("validate_") and self.handles(attribute[len("validate_") :]):
            slot = attribute[len("validate_") :]

            def validate(
                value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
            ) -> Dict[str, Any]:
                if value is None:  # reset before the form starts: not an answer
                    return {slot: None}
                parsed = self.parse_answer(slot, value)
                if parsed is None:
                    dispatcher.utter_message(response=self.invalid_response(slot))
                return {slot: parsed}

            return validate
        raise AttributeError(attribute)
