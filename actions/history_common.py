"""Helpers shared by the actions on boundaries, incidents, history and data rights."""

from __future__ import annotations

import abc
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import repository, store_quietly
from bot import answers, escalation
from bot import boundaries as bnd
from bot import incidents as inc
from bot.storage.repository import InvalidInput

logger = logging.getLogger(__name__)

BOUNDARY_SLOTS = ("boundary_behavior", "boundary_threshold", "boundary_note", "boundary_confirm")
INCIDENT_SLOTS = ("incident_client", "incident_behavior", "incident_date", "incident_note")
PREFILL_SLOT = "sign_prefill"
PREFILL_CONFIRM = "sign_prefill_confirm"
MAX_CLIENT_BUTTONS = 4

Events = List[Dict[Text, Any]]


# --------------------------------------------------------------------------- helpers
def t(key: str, **values: Any) -> str:
    return inc.t(key, **values)


def yes_no_buttons(
    yes: str, no: str, yes_payload: str = "Ja", no_payload: str = "Nein"
) -> List[Dict[str, str]]:
    return [{"title": yes, "payload": yes_payload}, {"title": no, "payload": no_payload}]


def behavior_buttons() -> List[Dict[str, str]]:
    return [{"title": bnd.label(b), "payload": bnd.label(b)} for b in escalation.behaviors()]


def canonical_behavior(value: Optional[str], own: list = ()) -> Optional[str]:
    """The slot value of a behaviour entity or button payload: a category or ``text:<words>``.

    A ``custom:…`` key (the edit button of a boundary in own words) becomes that boundary's
    words; ``own`` are the user's boundaries.
    """
    if not value:
        return None
    if escalation.is_custom(value):
        words = next((b.label for b in own if b.behavior == value and b.label), None)
        return bnd.TEXT_PREFIX + words if words else None
    return bnd.parse_behavior(value)


def own_boundaries(boundaries: list) -> list:
    """The boundaries in the user's own words (those with a label)."""
    return [b for b in boundaries if escalation.is_custom(b.behavior) and b.label]


def invalid(dispatcher: CollectingDispatcher, code: str, **values: Any) -> None:
    dispatcher.utter_message(text=inc.invalid_message(code, **values))


def behavior_answer(
    slot: str,
    value: Any,
    dispatcher: CollectingDispatcher,
    own: list = (),
    *,
    free_text: bool = False,
) -> Dict[Text, Any]:
    """Validated behaviour answer for ``slot`` (None and a German hint when not understood).

    Args:
        slot: The slot answered.
        value: The answer.
        dispatcher: For the hint.
        own: The user's boundaries in own words; an answer with similar words is theirs.
        free_text: Whether any behaviour in own words is taken (a boundary), or only one of
            ``own`` (an incident).
    """
    if value is None:  # reset before the form starts: not an answer
        return {slot: None}
    behavior = bnd.parse_behavior_answer(value, own)
    if behavior is not None and behavior.startswith(bnd.TEXT_PREFIX) and not free_text:
        words = behavior[len(bnd.TEXT_PREFIX) :]
        behavior = behavior if any(b.label == words for b in own) else None
    if behavior is None:
        said = value if isinstance(value, str) else ""
        if free_text:
            invalid(dispatcher, "behavior_own_words", value=said)
        else:
            invalid(dispatcher, "behavior_unknown", value=said, own=[b.label for b in own])
    return {slot: behavior}


def note_answer(slot: str, value: Any, dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
    """Validated free-text note for ``slot`` (None and a German hint when empty, too long …)."""
    if value is None:  # reset before the form starts: not an answer
        return {slot: None}
    try:
        return {slot: inc.parse_note(value)}
    except InvalidInput as error:
        invalid(dispatcher, error.code, length=len(value) if isinstance(value, str) else 0)
        return {slot: None}


def yes_no_answer(slot: str, value: Any, dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
    """Validated yes/no answer for ``slot`` (None and a German hint when not understood)."""
    if value is None:  # reset before the form starts: not an answer
        return {slot: None}
    parsed = answers.parse_yes_no(value) if isinstance(value, str) else None
    if parsed not in ("yes", "no"):
        invalid(dispatcher, "yes_no")
        parsed = None
    return {slot: parsed}


class FixedQuestion(Action, abc.ABC):
    """An ask-action whose question and buttons are fixed texts of ``bot/texts/history.yml``.

    ``button_keys`` name texts used as both title and payload (the answer is parsed from the
    text); ``behavior_choices`` adds one button per behaviour of the escalation matrix.
    """

    question: str = ""
    button_keys: tuple = ()
    behavior_choices: bool = False

    @abc.abstractmethod
    def name(self) -> Text:  # pragma: no cover - abstract
        ...

    async def extra_buttons(self, tracker: Tracker) -> List[Dict[str, str]]:
        """Buttons after the fixed ones (none here)."""
        return []

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        buttons = behavior_buttons() if self.behavior_choices else []
        buttons += [{"title": t(key), "payload": t(key)} for key in self.button_keys]
        buttons += await self.extra_buttons(tracker)
        dispatcher.utter_message(text=t(self.question, limit=inc.NOTE_MAX), buttons=buttons)
        return []


async def boundaries_of(sender: str) -> list:
    return await store_quietly(repository().boundaries, sender) or []


async def boundary_for(sender: str, behavior: Optional[str]):
    """The user's boundary for a behaviour slot value (category or ``text:<words>``)."""
    if not behavior:
        return None
    key, _ = bnd.split_behavior(behavior)
    return next((b for b in await boundaries_of(sender) if b.behavior == key), None)


async def client_names(sender: str) -> List[str]:
    return [c.name for c in (await store_quietly(repository().clients, sender) or [])]
