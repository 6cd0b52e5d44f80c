"""The ten-warning-signs check behind `ask_end_relationship` (seed 001)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import message_text, send
from actions.history import WarningPrefillMixin, warning_prefill_events
from actions.playbook_form import QuestionFormValidation, after_cancel
from bot import answers, warning_signs
from bot.texts import text

ANSWER_BUTTONS = "warning_buttons"


class ActionStartWarningCheck(Action):
    def name(self) -> Text:
        return "action_start_warning_check"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response="utter_warning_check_intro")
        events = [SlotSet(slot, None) for slot in warning_signs.form_slots()]
        # signs the client's incident history already shows are pre-filled (actions/history.py)
        events += await warning_prefill_events(dispatcher, tracker)
        return events + _named_in_message(dispatcher, tracker, events)


def _named_in_message(
    dispatcher: CollectingDispatcher, tracker: Tracker, events: List[Dict[Text, Any]]
) -> List[Dict[Text, Any]]:
    """Signs the starting message already names count as "yes" and are not asked again."""
    prefilled = {e["name"] for e in events if e.get("event") == "slot" and e.get("value")}
    named = [
        key
        for key in warning_signs.signs_in(message_text(tracker))
        if warning_signs.SLOT_PREFIX + key not in prefilled
    ]
    if not named:
        return []
    signs = ", ".join(warning_signs.short_name(key) for key in named)
    dispatcher.utter_message(text=text("knowledge", "warning_from_message", signs=signs))
    return [SlotSet(warning_signs.SLOT_PREFIX + key, "yes") for key in named]


class ValidateWarningSignsForm(WarningPrefillMixin, QuestionFormValidation):
    def form_name(self) -> str:
        return warning_signs.form_name()

    def handles(self, slot: str) -> bool:
        return slot in warning_signs.form_slots()

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[Text]:
        """The clarifying-talk question only follows when at least one sign is "yes"."""
        slots = await super().required_slots(domain_slots, dispatcher, tracker, domain)
        given = {k: tracker.get_slot(warning_signs.SLOT_PREFIX + k) for k in warning_signs.keys()}
        if warning_signs.asks_followup(given):
            return slots
        return [s for s in slots if s != warning_signs.followup_slot()]

    def parse_answer(self, slot: str, value: Any) -> Optional[str]:
        return answers.parse_yes_no(value, allow_skip=True) if isinstance(value, str) else None

    def invalid_response(self, slot: str) -> str:
        return "utter_invalid_yesno_skip"


class ActionWarningSignsResult(Action):
    def name(self) -> Text:
        return "action_warning_signs_result"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        cancelled = after_cancel(dispatcher, tracker)
        if cancelled is not None:
            return cancelled
        keys = warning_signs.keys() + (warning_signs.followup_key(),)
        given = {key: tracker.get_slot(warning_signs.SLOT_PREFIX + key) for key in keys}
        messages = warning_signs.evaluate(given)
        send(dispatcher, messages[:-1])
        # the last message names the ways on ("Wie geht's weiter?"): they come as buttons
        buttons = warning_signs.next_buttons(given)
        if buttons:
            dispatcher.utter_message(text=messages[-1], buttons=buttons)
        else:
            send(dispatcher, messages[-1:])
        return []


def _ask_action(key: str) -> type:
    """`action_ask_sign_<key>` (also the follow-up `sign_clarified`): text from knowledge.yml."""

    class _Ask(Action):
        def name(self) -> Text:
            return f"action_ask_{warning_signs.SLOT_PREFIX}{key}"

        async def run(
            self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
        ) -> List[Dict[Text, Any]]:
            dispatcher.utter_message(text=warning_signs.question(key), buttons=_buttons(domain))
            return []

    _Ask.__name__ = f"ActionAskSign_{key}"
    _Ask.__qualname__ = _Ask.__name__
    return _Ask


def _buttons(domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
    """The Ja/Nein/Überspringen buttons, defined once in the domain.

    They live in the response ``utter_warning_buttons``.
    """
    variants = (domain.get("responses") or {}).get("utter_" + ANSWER_BUTTONS) or [{}]
    return variants[0].get("buttons", [])


ASK_ACTIONS = [_ask_action(key) for key in warning_signs.keys() + (warning_signs.followup_key(),)]
