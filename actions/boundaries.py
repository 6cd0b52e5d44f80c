"""Personal boundaries and their guided set-up: thin actions over bot/boundaries.py.

Flows (rules in data/rules/features_history.yml):

* ``set_boundary`` → action_start_boundary (pre-fills from the message) → boundary_form
  (behaviour, threshold, note, confirmation) → action_save_boundary. A threshold of
  ``remove`` deletes the boundary instead (only offered when one exists).
* ``show_boundaries`` → action_show_boundaries; users without any are offered the guided
  set-up (utter_offer_boundary_setup → affirm → boundary_setup_form).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import STORAGE_ERRORS, entity, in_thread, message_text, repository, send
from actions.history_common import (
    BOUNDARY_SLOTS,
    Events,
    FixedQuestion,
    behavior_answer,
    boundaries_of,
    boundary_for,
    canonical_behavior,
    invalid,
    note_answer,
    own_boundaries,
    t,
    yes_no_answer,
    yes_no_buttons,
)
from actions.playbook_form import CancellableFormValidation, after_cancel
from bot import answers
from bot import boundaries as bnd
from bot import incidents as inc
from bot.storage.repository import InvalidInput

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- boundaries
def _just_offered(tracker: Tracker) -> bool:
    """Whether the coach's last action before this message offered the guided set-up.

    Then the user chose "Selbst festlegen" and goes straight to the form.
    """
    seen_user = False
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            if seen_user:
                return False
            seen_user = True
        elif seen_user and event.get("event") == "action" and event.get("name") != "action_listen":
            return event.get("name") == "utter_offer_boundary_setup"
    return False


class ActionStartBoundary(Action):
    """Start ``boundary_form`` with what the message already says; or offer the set-up."""

    def name(self) -> Text:
        return "action_start_boundary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        text = message_text(tracker)
        existing = await boundaries_of(tracker.sender_id)
        behavior = canonical_behavior(entity(tracker, "behavior"), existing)
        behavior = behavior or bnd.parse_behavior(text) or bnd.behavior_in_sentence(text)
        events: Events = [SlotSet(slot, None) for slot in BOUNDARY_SLOTS]
        if behavior is None and not existing and not _just_offered(tracker):
            return events + [FollowupAction("utter_offer_boundary_setup")]
        threshold = None
        if behavior is not None:
            key, _ = bnd.split_behavior(behavior)
            has = any(b.behavior == key for b in existing)
            if has and bnd.wants_removal(text):
                threshold = bnd.REMOVE
            else:
                try:
                    threshold = bnd.parse_threshold(text, strict=True)
                except bnd.ThresholdError:
                    threshold = None
        if behavior is None:
            dispatcher.utter_message(text=t("boundary.start"))
        return events + [
            SlotSet("boundary_behavior", behavior),
            SlotSet("boundary_threshold", threshold),
        ]


class ValidateBoundaryForm(CancellableFormValidation):
    def name(self) -> Text:
        return "validate_boundary_form"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        if tracker.get_slot("boundary_threshold") == bnd.REMOVE:
            return [s for s in domain_slots if s != "boundary_note"]
        return domain_slots

    async def validate_boundary_behavior(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        own = own_boundaries(await boundaries_of(tracker.sender_id))
        return behavior_answer("boundary_behavior", value, dispatcher, own, free_text=True)

    async def validate_boundary_threshold(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is None:  # reset before the form starts: not an answer
            return {"boundary_threshold": None}
        existing = await boundary_for(tracker.sender_id, tracker.get_slot("boundary_behavior"))
        try:
            threshold = bnd.parse_threshold(value, allow_remove=existing is not None)
        except bnd.ThresholdError as error:
            invalid(dispatcher, error.code)
            return {"boundary_threshold": None}
        if threshold is None:
            invalid(dispatcher, "threshold_unknown")
        return {"boundary_threshold": threshold}

    async def validate_boundary_note(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return note_answer("boundary_note", value, dispatcher)

    async def validate_boundary_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return yes_no_answer("boundary_confirm", value, dispatcher)


def _pending_boundary(tracker: Tracker) -> tuple:
    """(behaviour key, own words or None, threshold, note) of the boundary being set."""
    behavior, words = bnd.split_behavior(tracker.get_slot("boundary_behavior") or "")
    raw = tracker.get_slot("boundary_threshold")
    threshold = bnd.Threshold.from_canonical(raw if raw and raw != bnd.REMOVE else bnd.ABSOLUTE)
    note = tracker.get_slot("boundary_note")
    return behavior, words, threshold, None if note in (None, inc.NO_NOTE) else note


class ActionAskBoundaryBehavior(FixedQuestion):
    question, behavior_choices = "boundary.ask_behavior", True

    def name(self) -> Text:
        return "action_ask_boundary_behavior"


class ActionAskBoundaryThreshold(Action):
    def name(self) -> Text:
        return "action_ask_boundary_threshold"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        behavior = tracker.get_slot("boundary_behavior")
        existing = await boundary_for(tracker.sender_id, behavior)
        question = t("boundary.ask_threshold", label=bnd.slot_label(behavior))
        buttons = [
            {"title": t("boundary.button_absolute"), "payload": t("boundary.payload_absolute")},
            {"title": t("boundary.button_count_2"), "payload": t("boundary.button_count_2")},
            {"title": t("boundary.button_count_3"), "payload": t("boundary.button_count_3")},
        ]
        if existing is not None:
            current = bnd.describe_threshold(existing.max_count, existing.period_days)
            question = t("boundary.ask_threshold_existing", current=current) + " " + question
            buttons.append(
                {"title": t("boundary.button_remove"), "payload": t("boundary.payload_remove")}
            )
        dispatcher.utter_message(text=question, buttons=buttons)
        return []


class ActionAskBoundaryNote(FixedQuestion):
    question, button_keys = "boundary.ask_note", ("boundary.button_no_note",)

    def name(self) -> Text:
        return "action_ask_boundary_note"


class ActionAskBoundaryConfirm(Action):
    def name(self) -> Text:
        return "action_ask_boundary_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        behavior, words, threshold, note = _pending_boundary(tracker)
        existing = await boundary_for(tracker.sender_id, tracker.get_slot("boundary_behavior"))
        if tracker.get_slot("boundary_threshold") == bnd.REMOVE and existing is not None:
            dispatcher.utter_message(
                text=t("boundary.ask_confirm_remove", line=bnd.describe_boundary(existing)),
                buttons=yes_no_buttons(t("boundary.button_yes_remove"), t("boundary.button_no")),
            )
            return []
        line = bnd.describe(behavior, threshold.max_count, threshold.period_days, note, own=words)
        if existing is not None:
            question = t(
                "boundary.ask_confirm_replace", line=line, old=bnd.describe_boundary(existing)
            )
        else:
            question = t("boundary.ask_confirm", line=line)
        if words:  # no category fits: say that it is kept in the user's words
            question = t("boundary.own_words_hint") + " " + question
        dispatcher.utter_message(
            text=question,
            buttons=yes_no_buttons(t("boundary.button_yes_save"), t("boundary.button_no")),
        )
        return []


class ActionSaveBoundary(Action):
    def name(self) -> Text:
        return "action_save_boundary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        reset: Events = [SlotSet(slot, None) for slot in BOUNDARY_SLOTS]
        cancelled = after_cancel(dispatcher, tracker)
        if cancelled is not None:
            return reset + cancelled
        if tracker.get_slot("boundary_confirm") != "yes" or not tracker.get_slot(
            "boundary_behavior"
        ):
            dispatcher.utter_message(text=t("boundary.not_saved"))
            return reset
        behavior, words, threshold, note = _pending_boundary(tracker)
        repo = repository()
        try:
            if tracker.get_slot("boundary_threshold") == bnd.REMOVE:
                removed = await in_thread(repo.remove_boundary, tracker.sender_id, behavior)
                remaining = len(await in_thread(repo.boundaries, tracker.sender_id))
                if removed is None:
                    dispatcher.utter_message(text=t("boundary.nothing_to_remove"))
                else:
                    dispatcher.utter_message(
                        text=t(
                            "boundary.removed",
                            line=bnd.describe_boundary(removed),
                            count=bnd.plural("boundaries", remaining),
                        )
                    )
                return reset
            saved, _previous = await in_thread(
                lambda: repo.set_boundary(
                    tracker.sender_id,
                    behavior,
                    threshold.max_count,
                    threshold.period_days,
                    note,
                    label=words,
                )
            )
            total = len(await in_thread(repo.boundaries, tracker.sender_id))
        except InvalidInput as error:
            invalid(dispatcher, error.code)
            return reset
        except STORAGE_ERRORS:  # tell the user instead of going silent
            logger.exception("saving a boundary failed")
            invalid(dispatcher, "storage_failed")
            return reset
        dispatcher.utter_message(
            text=t(
                "boundary.saved",
                line=bnd.describe_boundary(saved),
                count=bnd.plural("boundaries", total),
            )
        )
        dispatcher.utter_message(text=t("boundary.saved_hint"))
        return reset


class ActionShowBoundaries(Action):
    def name(self) -> Text:
        return "action_show_boundaries"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        items = await boundaries_of(tracker.sender_id)
        if not items:
            return [FollowupAction("utter_offer_boundary_setup")]
        lines = [t("boundary.list_intro", count=len(items))]
        lines += [t("boundary.list_item", line=bnd.describe_boundary(b)) for b in items]
        send(dispatcher, ["\n".join(lines)])
        buttons = [
            {
                "title": t("boundary.button_edit", label=bnd.label_of(b)),
                "payload": '/set_boundary{"behavior": "%s"}' % b.behavior,
            }
            for b in items
        ]
        buttons.append({"title": t("boundary.button_new"), "payload": "/set_boundary"})
        dispatcher.utter_message(text=t("boundary.list_outro"), buttons=buttons)
        return []


# --------------------------------------------------------------------------- guided set-up
class ActionStartBoundarySetup(Action):
    def name(self) -> Text:
        return "action_start_boundary_setup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        existing = [b.behavior for b in await boundaries_of(tracker.sender_id)]
        plan = [dict(s) for s in bnd.suggestions(existing)]
        state = {"plan": plan, "step": 0, "accepted": []}
        if not plan:
            return [SlotSet("boundary_setup_state", state), SlotSet("boundary_setup", "done")]
        dispatcher.utter_message(text=t("setup.intro", total=len(plan)))
        return [SlotSet("boundary_setup_state", state), SlotSet("boundary_setup", None)]


class ActionAskBoundarySetup(Action):
    def name(self) -> Text:
        return "action_ask_boundary_setup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        state = tracker.get_slot("boundary_setup_state") or {}
        plan, step = state.get("plan") or [], int(state.get("step") or 0)
        if step >= len(plan):
            return []
        suggestion = plan[step]
        dispatcher.utter_message(
            text=t(
                "setup.ask",
                number=step + 1,
                total=len(plan),
                line=bnd.suggestion_line(suggestion),
                why=t(f"setup.why.{suggestion['behavior']}"),
            ),
            buttons=yes_no_buttons(t("setup.button_yes"), t("setup.button_no")),
        )
        return []


class ValidateBoundarySetupForm(CancellableFormValidation):
    def name(self) -> Text:
        return "validate_boundary_setup_form"

    async def validate_boundary_setup(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is None:  # reset before the form starts: not an answer
            return {"boundary_setup": None}
        state = dict(tracker.get_slot("boundary_setup_state") or {})
        plan = state.get("plan") or []
        if value == "done":
            return {"boundary_setup": "done"}
        parsed = answers.parse_yes_no(value, allow_skip=True) if isinstance(value, str) else None
        if parsed is None:
            invalid(dispatcher, "yes_no")
            return {"boundary_setup": None}
        step = int(state.get("step") or 0)
        accepted = list(state.get("accepted") or [])
        if parsed == "yes" and step < len(plan):
            accepted.append(step)
        step += 1
        state.update(step=step, accepted=accepted)
        return {
            "boundary_setup": "done" if step >= len(plan) else None,
            "boundary_setup_state": state,
        }


class ActionFinishBoundarySetup(Action):
    def name(self) -> Text:
        return "action_finish_boundary_setup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        state = tracker.get_slot("boundary_setup_state") or {}
        plan = state.get("plan") or []
        reset: Events = [SlotSet("boundary_setup_state", None), SlotSet("boundary_setup", None)]
        cancelled = after_cancel(dispatcher, tracker)
        if cancelled is not None:
            return reset + cancelled
        if not plan:
            dispatcher.utter_message(text=t("setup.nothing_left"))
            return reset
        chosen = [plan[i] for i in state.get("accepted") or [] if 0 <= i < len(plan)]
        if not chosen:
            dispatcher.utter_message(text=t("setup.none_accepted"))
            return reset
        repo = repository()
        saved = []
        try:
            for suggestion in chosen:
                threshold = bnd.Threshold.from_canonical(suggestion["threshold"])
                info, _ = await in_thread(
                    lambda s=suggestion, th=threshold: repo.set_boundary(
                        tracker.sender_id, s["behavior"], th.max_count, th.period_days
                    )
                )
                saved.append(bnd.describe_boundary(info))
        except STORAGE_ERRORS:  # tell the user instead of going silent
            logger.exception("saving the guided boundaries failed")
            invalid(dispatcher, "storage_failed")
            return reset
        dispatcher.utter_message(text=t("setup.done", lines="; ".join(saved)))
        return reset
