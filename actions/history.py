"""Boundaries, incidents and the escalation history (issue 4): thin actions over bot/.

Flows (rules in data/rules/features_history.yml):

* ``set_boundary`` → action_start_boundary (pre-fills from the message) → boundary_form
  (behaviour, threshold, note, confirmation) → action_save_boundary. A threshold of
  ``remove`` deletes the boundary instead (only offered when one exists).
* ``show_boundaries`` → action_show_boundaries; users without any are offered the guided
  set-up (utter_offer_boundary_setup → affirm → boundary_setup_form).
* ``log_incident`` → action_start_incident → incident_form → action_save_incident.
* after action_case_advice: :func:`offer_case_incident` (called by that action) offers to
  record the case; affirm → action_log_case_incident (asks only for a missing client).
* ``show_history`` → action_show_history (one client or the overview).
* ``ask_end_relationship``: :func:`warning_prefill_events` and :class:`WarningPrefillMixin`
  pre-fill the warning-sign check from the client's incidents; the user confirms once.
"""
from __future__ import annotations

import abc
import logging
from datetime import date
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import in_thread, repository, send, store_quietly
from actions.playbook_form import CancellableFormValidation, after_cancel
from bot import answers, boundaries as bnd, dates, escalation, incidents as inc, playbooks, warning_signs
from bot.storage.repository import InvalidInput, client_key

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


def entity(tracker: Tracker, name: str) -> Optional[str]:
    for item in (tracker.latest_message or {}).get("entities") or []:
        if item.get("entity") == name and isinstance(item.get("value"), str) and item["value"].strip():
            return item["value"].strip()
    return None


def message_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def yes_no_buttons(yes: str, no: str, yes_payload: str = "Ja", no_payload: str = "Nein") -> List[Dict[str, str]]:
    return [{"title": yes, "payload": yes_payload}, {"title": no, "payload": no_payload}]


def behavior_buttons() -> List[Dict[str, str]]:
    return [{"title": bnd.label(b), "payload": bnd.label(b)} for b in escalation.behaviors()]


def canonical_behavior(value: Optional[str]) -> Optional[str]:
    return bnd.parse_behavior(value) if value else None


def invalid(dispatcher: CollectingDispatcher, code: str, **values: Any) -> None:
    dispatcher.utter_message(text=inc.invalid_message(code, **values))


def behavior_answer(slot: str, value: Any, dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
    """Validated behaviour answer for ``slot`` (None and a German hint when not understood)."""
    if value is None:  # reset before the form starts: not an answer
        return {slot: None}
    behavior = bnd.parse_behavior(value)
    if behavior is None:
        invalid(dispatcher, "behavior_unknown", value=value if isinstance(value, str) else "")
    return {slot: behavior}


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

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        buttons = behavior_buttons() if self.behavior_choices else []
        buttons += [{"title": t(key), "payload": t(key)} for key in self.button_keys]
        dispatcher.utter_message(text=t(self.question, limit=inc.NOTE_MAX), buttons=buttons)
        return []


async def _boundaries(sender: str) -> list:
    return await store_quietly(repository().boundaries, sender) or []


async def _boundary_for(sender: str, behavior: Optional[str]):
    if not behavior:
        return None
    return next((b for b in await _boundaries(sender) if b.behavior == behavior), None)


async def _client_names(sender: str) -> List[str]:
    return [c.name for c in (await store_quietly(repository().clients, sender) or [])]


# --------------------------------------------------------------------------- boundaries
def _just_offered(tracker: Tracker) -> bool:
    """Whether the coach's last action before this message offered the guided set-up
    (the user chose "Selbst festlegen": go straight to the form)."""
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

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        text = message_text(tracker)
        behavior = canonical_behavior(entity(tracker, "behavior")) or bnd.parse_behavior(text)
        existing = await _boundaries(tracker.sender_id)
        events: Events = [SlotSet(slot, None) for slot in BOUNDARY_SLOTS]
        if behavior is None and not existing and not _just_offered(tracker):
            return events + [FollowupAction("utter_offer_boundary_setup")]
        threshold = None
        if behavior is not None:
            has = any(b.behavior == behavior for b in existing)
            if has and bnd.wants_removal(text):
                threshold = bnd.REMOVE
            else:
                try:
                    threshold = bnd.parse_threshold(text, strict=True)
                except bnd.ThresholdError:
                    threshold = None
        if behavior is None:
            dispatcher.utter_message(text=t("boundary.start"))
        return events + [SlotSet("boundary_behavior", behavior), SlotSet("boundary_threshold", threshold)]


class ValidateBoundaryForm(CancellableFormValidation):
    def name(self) -> Text:
        return "validate_boundary_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        if tracker.get_slot("boundary_threshold") == bnd.REMOVE:
            return [s for s in domain_slots if s != "boundary_note"]
        return domain_slots

    async def validate_boundary_behavior(self, value: Any, dispatcher: CollectingDispatcher,
                                         tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return behavior_answer("boundary_behavior", value, dispatcher)

    async def validate_boundary_threshold(self, value: Any, dispatcher: CollectingDispatcher,
                                          tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if value is None:  # reset before the form starts: not an answer
            return {"boundary_threshold": None}
        existing = await _boundary_for(tracker.sender_id, tracker.get_slot("boundary_behavior"))
        try:
            threshold = bnd.parse_threshold(value, allow_remove=existing is not None)
        except bnd.ThresholdError as error:
            invalid(dispatcher, error.code)
            return {"boundary_threshold": None}
        if threshold is None:
            invalid(dispatcher, "threshold_unknown")
        return {"boundary_threshold": threshold}

    async def validate_boundary_note(self, value: Any, dispatcher: CollectingDispatcher,
                                     tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if value is None:  # reset before the form starts: not an answer
            return {"boundary_note": None}
        try:
            return {"boundary_note": inc.parse_note(value)}
        except InvalidInput as error:
            invalid(dispatcher, error.code, length=len(value) if isinstance(value, str) else 0)
            return {"boundary_note": None}

    async def validate_boundary_confirm(self, value: Any, dispatcher: CollectingDispatcher,
                                        tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return yes_no_answer("boundary_confirm", value, dispatcher)


def _pending_boundary(tracker: Tracker) -> tuple:
    behavior = tracker.get_slot("boundary_behavior")
    raw = tracker.get_slot("boundary_threshold")
    threshold = bnd.Threshold.from_canonical(raw if raw and raw != bnd.REMOVE else bnd.ABSOLUTE)
    note = tracker.get_slot("boundary_note")
    return behavior, threshold, None if note in (None, inc.NO_NOTE) else note


class ActionAskBoundaryBehavior(FixedQuestion):
    question, behavior_choices = "boundary.ask_behavior", True

    def name(self) -> Text:
        return "action_ask_boundary_behavior"


class ActionAskBoundaryThreshold(Action):
    def name(self) -> Text:
        return "action_ask_boundary_threshold"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        behavior = tracker.get_slot("boundary_behavior")
        existing = await _boundary_for(tracker.sender_id, behavior)
        question = t("boundary.ask_threshold", label=bnd.label(behavior))
        buttons = [{"title": t("boundary.button_absolute"), "payload": t("boundary.payload_absolute")},
                   {"title": t("boundary.button_count_2"), "payload": t("boundary.button_count_2")},
                   {"title": t("boundary.button_count_3"), "payload": t("boundary.button_count_3")}]
        if existing is not None:
            current = bnd.describe_threshold(existing.max_count, existing.period_days)
            question = t("boundary.ask_threshold_existing", current=current) + " " + question
            buttons.append({"title": t("boundary.button_remove"), "payload": t("boundary.payload_remove")})
        dispatcher.utter_message(text=question, buttons=buttons)
        return []


class ActionAskBoundaryNote(FixedQuestion):
    question, button_keys = "boundary.ask_note", ("boundary.button_no_note",)

    def name(self) -> Text:
        return "action_ask_boundary_note"


class ActionAskBoundaryConfirm(Action):
    def name(self) -> Text:
        return "action_ask_boundary_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        behavior, threshold, note = _pending_boundary(tracker)
        existing = await _boundary_for(tracker.sender_id, behavior)
        if tracker.get_slot("boundary_threshold") == bnd.REMOVE and existing is not None:
            dispatcher.utter_message(text=t("boundary.ask_confirm_remove", line=bnd.describe_boundary(existing)),
                                     buttons=yes_no_buttons(t("boundary.button_yes_remove"), t("boundary.button_no")))
            return []
        line = bnd.describe(behavior, threshold.max_count, threshold.period_days, note)
        if existing is not None:
            question = t("boundary.ask_confirm_replace", line=line, old=bnd.describe_boundary(existing))
        else:
            question = t("boundary.ask_confirm", line=line)
        dispatcher.utter_message(text=question,
                                 buttons=yes_no_buttons(t("boundary.button_yes_save"), t("boundary.button_no")))
        return []


class ActionSaveBoundary(Action):
    def name(self) -> Text:
        return "action_save_boundary"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        reset: Events = [SlotSet(slot, None) for slot in BOUNDARY_SLOTS]
        cancelled = after_cancel(dispatcher, tracker)
        if cancelled is not None:
            return reset + cancelled
        if tracker.get_slot("boundary_confirm") != "yes" or not tracker.get_slot("boundary_behavior"):
            dispatcher.utter_message(text=t("boundary.not_saved"))
            return reset
        behavior, threshold, note = _pending_boundary(tracker)
        repo = repository()
        try:
            if tracker.get_slot("boundary_threshold") == bnd.REMOVE:
                removed = await in_thread(repo.remove_boundary, tracker.sender_id, behavior)
                remaining = len(await in_thread(repo.boundaries, tracker.sender_id))
                if removed is None:
                    dispatcher.utter_message(text=t("boundary.nothing_to_remove"))
                else:
                    dispatcher.utter_message(text=t("boundary.removed", line=bnd.describe_boundary(removed),
                                                    count=bnd.plural("boundaries", remaining)))
                return reset
            saved, _previous = await in_thread(
                lambda: repo.set_boundary(tracker.sender_id, behavior, threshold.max_count, threshold.period_days, note))
            total = len(await in_thread(repo.boundaries, tracker.sender_id))
        except InvalidInput as error:
            invalid(dispatcher, error.code)
            return reset
        except Exception:  # noqa: BLE001 - tell the user instead of going silent
            logger.exception("saving a boundary failed")
            invalid(dispatcher, "storage_failed")
            return reset
        dispatcher.utter_message(text=t("boundary.saved", line=bnd.describe_boundary(saved),
                                        count=bnd.plural("boundaries", total)))
        dispatcher.utter_message(text=t("boundary.saved_hint"))
        return reset


class ActionShowBoundaries(Action):
    def name(self) -> Text:
        return "action_show_boundaries"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        items = await _boundaries(tracker.sender_id)
        if not items:
            return [FollowupAction("utter_offer_boundary_setup")]
        lines = [t("boundary.list_intro", count=len(items))]
        lines += [t("boundary.list_item", line=bnd.describe_boundary(b)) for b in items]
        send(dispatcher, ["\n".join(lines)])
        buttons = [{"title": t("boundary.button_edit", label=bnd.label(b.behavior)),
                    "payload": '/set_boundary{"behavior": "%s"}' % b.behavior} for b in items]
        buttons.append({"title": t("boundary.button_new"), "payload": "/set_boundary"})
        dispatcher.utter_message(text=t("boundary.list_outro"), buttons=buttons)
        return []


# --------------------------------------------------------------------------- guided set-up
class ActionStartBoundarySetup(Action):
    def name(self) -> Text:
        return "action_start_boundary_setup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        existing = [b.behavior for b in await _boundaries(tracker.sender_id)]
        plan = [dict(s) for s in bnd.suggestions(existing)]
        state = {"plan": plan, "step": 0, "accepted": []}
        if not plan:
            return [SlotSet("boundary_setup_state", state), SlotSet("boundary_setup", "done")]
        dispatcher.utter_message(text=t("setup.intro", total=len(plan)))
        return [SlotSet("boundary_setup_state", state), SlotSet("boundary_setup", None)]


class ActionAskBoundarySetup(Action):
    def name(self) -> Text:
        return "action_ask_boundary_setup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        state = tracker.get_slot("boundary_setup_state") or {}
        plan, step = state.get("plan") or [], int(state.get("step") or 0)
        if step >= len(plan):
            return []
        suggestion = plan[step]
        dispatcher.utter_message(
            text=t("setup.ask", number=step + 1, total=len(plan), line=bnd.suggestion_line(suggestion),
                   why=t(f"setup.why.{suggestion['behavior']}")),
            buttons=yes_no_buttons(t("setup.button_yes"), t("setup.button_no")))
        return []


class ValidateBoundarySetupForm(CancellableFormValidation):
    def name(self) -> Text:
        return "validate_boundary_setup_form"

    async def validate_boundary_setup(self, value: Any, dispatcher: CollectingDispatcher,
                                      tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
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
        return {"boundary_setup": "done" if step >= len(plan) else None, "boundary_setup_state": state}


class ActionFinishBoundarySetup(Action):
    def name(self) -> Text:
        return "action_finish_boundary_setup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
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
                info, _ = await in_thread(lambda s=suggestion, th=threshold: repo.set_boundary(
                    tracker.sender_id, s["behavior"], th.max_count, th.period_days))
                saved.append(bnd.describe_boundary(info))
        except Exception:  # noqa: BLE001
            logger.exception("saving the guided boundaries failed")
            invalid(dispatcher, "storage_failed")
            return reset
        dispatcher.utter_message(text=t("setup.done", lines="; ".join(saved)))
        return reset


# --------------------------------------------------------------------------- incidents
class ActionStartIncident(Action):
    """Start ``incident_form`` with client, behaviour and date from the message if named."""

    def name(self) -> Text:
        return "action_start_incident"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        text = message_text(tracker)
        known = await _client_names(tracker.sender_id)
        mentioned = entity(tracker, "client")
        client = inc.resolve_client(mentioned, None if text.startswith("/") else text, known)
        if client is None and mentioned:
            try:
                client = inc.parse_client(mentioned)
            except InvalidInput:
                client = None
        behavior = canonical_behavior(entity(tracker, "behavior"))
        if behavior is None and not text.startswith("/"):
            behavior = bnd.parse_behavior(text)
        found = None if text.startswith("/") else dates.find_date(text)
        dispatcher.utter_message(text=t("incident.start"))
        return [SlotSet(slot, None) for slot in INCIDENT_SLOTS] + [
            SlotSet("incident_source", None),
            SlotSet("incident_client", client),
            SlotSet("incident_behavior", behavior),
            SlotSet("incident_date", found.isoformat() if found else None),
        ]


class ValidateIncidentForm(CancellableFormValidation):
    def name(self) -> Text:
        return "validate_incident_form"

    async def validate_incident_client(self, value: Any, dispatcher: CollectingDispatcher,
                                       tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if value is None:  # reset before the form starts: not an answer
            return {"incident_client": None}
        try:
            name = inc.parse_client(value)
        except InvalidInput as error:
            invalid(dispatcher, error.code)
            return {"incident_client": None}
        known = await _client_names(tracker.sender_id)  # keep the spelling stored first
        return {"incident_client": next((k for k in known if client_key(k) == client_key(name)), name)}

    async def validate_incident_behavior(self, value: Any, dispatcher: CollectingDispatcher,
                                         tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return behavior_answer("incident_behavior", value, dispatcher)

    async def validate_incident_date(self, value: Any, dispatcher: CollectingDispatcher,
                                     tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if value is None:  # reset before the form starts: not an answer
            return {"incident_date": None}
        try:
            return {"incident_date": dates.parse_date(value if isinstance(value, str) else "").isoformat()}
        except dates.DateError as error:
            invalid(dispatcher, error.code, value=error.value)
            return {"incident_date": None}

    async def validate_incident_note(self, value: Any, dispatcher: CollectingDispatcher,
                                     tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if value is None:  # reset before the form starts: not an answer
            return {"incident_note": None}
        try:
            return {"incident_note": inc.parse_note(value)}
        except InvalidInput as error:
            invalid(dispatcher, error.code, length=len(value) if isinstance(value, str) else 0)
            return {"incident_note": None}


class ActionAskIncidentClient(Action):
    def name(self) -> Text:
        return "action_ask_incident_client"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        names: List[str] = []
        current = tracker.get_slot("client_name")
        for name in ([current] if current else []) + await _client_names(tracker.sender_id):
            try:
                name = inc.parse_client(name)
            except InvalidInput:
                continue
            if name not in names:
                names.append(name)
        buttons = [{"title": n, "payload": n} for n in names[:MAX_CLIENT_BUTTONS]]
        dispatcher.utter_message(text=t("incident.ask_client"), buttons=buttons)
        return []


class ActionAskIncidentBehavior(FixedQuestion):
    question, behavior_choices = "incident.ask_behavior", True

    def name(self) -> Text:
        return "action_ask_incident_behavior"


class ActionAskIncidentDate(FixedQuestion):
    question, button_keys = "incident.ask_date", ("incident.button_today", "incident.button_yesterday")

    def name(self) -> Text:
        return "action_ask_incident_date"


class ActionAskIncidentNote(FixedQuestion):
    question, button_keys = "incident.ask_note", ("incident.button_no_note",)

    def name(self) -> Text:
        return "action_ask_incident_note"


async def _save_incident(dispatcher: CollectingDispatcher, sender: str, client: str, behavior: str,
                         occurred_on: date, note: Optional[str], source: Optional[dict]) -> Events:
    """Store one incident and answer with the level; events for the conversation."""
    repo = repository()
    source = source or {}
    today = dates.today()
    try:
        saved = await in_thread(lambda: repo.log_incident(
            sender, client, behavior, occurred_on, note, source="case" if source.get("case") else "chat",
            case=source.get("case"), level_hint=source.get("level_hint"), today=today))
        history = await in_thread(repo.incidents, sender, saved.client)
        limits = await in_thread(repo.boundaries, sender)
    except InvalidInput as error:
        invalid(dispatcher, error.code)
        return []
    except Exception:  # noqa: BLE001
        logger.exception("saving an incident failed")
        invalid(dispatcher, "storage_failed")
        return []
    send(dispatcher, inc.after_logging(saved, history, limits, today))
    return [SlotSet("client_name", saved.client)]


class ActionSaveIncident(Action):
    def name(self) -> Text:
        return "action_save_incident"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        reset: Events = [SlotSet(slot, None) for slot in INCIDENT_SLOTS] + [SlotSet("incident_source", None)]
        cancelled = after_cancel(dispatcher, tracker)
        if cancelled is not None:
            return reset + cancelled
        client, behavior = tracker.get_slot("incident_client"), tracker.get_slot("incident_behavior")
        raw_date, note = tracker.get_slot("incident_date"), tracker.get_slot("incident_note")
        if not (client and behavior and raw_date):
            dispatcher.utter_message(response="utter_stopped")
            return reset
        try:
            occurred_on = date.fromisoformat(raw_date)
        except ValueError:
            invalid(dispatcher, "date_unknown")
            return reset
        events = await _save_incident(dispatcher, tracker.sender_id, client, behavior, occurred_on,
                                      None if note in (None, inc.NO_NOTE) else note,
                                      tracker.get_slot("incident_source"))
        return reset + events


# --------------------------------------------------------------------------- after a case flow
def case_offer(tracker: Tracker) -> Optional[dict]:
    """What the finished case flow would be recorded as (None for our_fault / no case).

    Computed from the slots the case flow left behind, so nothing extra is stored between
    the offer and the user's answer.
    """
    case = tracker.get_slot("case")
    book = playbooks.playbooks().get(case or "")
    if book is None:
        return None
    offer = inc.case_incident(case, {slot: tracker.get_slot(slot) for slot in book.slots})
    if offer is None:
        return None
    client = tracker.get_slot("client_name")
    try:
        offer["client"] = inc.parse_client(client) if client else None
    except InvalidInput:
        offer["client"] = None
    return offer


async def offer_case_incident(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """Called by action_case_advice: offer to record the case as an incident (not our_fault)."""
    offer = case_offer(tracker)
    if offer is not None:
        dispatcher.utter_message(
            text=inc.offer_text(offer, offer["client"], dates.today()),
            buttons=yes_no_buttons(t("incident.button_offer_yes"), t("incident.button_offer_no"), "/affirm", "/deny"))
    return []


class ActionLogCaseIncident(Action):
    """The user accepted the offer after a case: save with the known details."""

    def name(self) -> Text:
        return "action_log_case_incident"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        offer = case_offer(tracker)
        if offer is None:
            dispatcher.utter_message(text=t("incident.nothing_offered"))
            return []
        source = {"case": offer.get("case"), "level_hint": offer.get("level_hint")}
        today = dates.today()
        if offer.get("client"):
            return await _save_incident(dispatcher, tracker.sender_id, offer["client"], offer["behavior"], today,
                                        offer.get("note"), source)
        # only the client is missing: the incident form asks for it and nothing else
        return [SlotSet(slot, None) for slot in INCIDENT_SLOTS] + [
            SlotSet("incident_behavior", offer["behavior"]),
            SlotSet("incident_date", today.isoformat()),
            SlotSet("incident_note", offer.get("note") or inc.NO_NOTE),
            SlotSet("incident_source", source),
            FollowupAction("incident_form"),
        ]


# --------------------------------------------------------------------------- history
class ActionShowHistory(Action):
    def name(self) -> Text:
        return "action_show_history"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        repo = repository()
        try:
            everything = await in_thread(repo.incidents, tracker.sender_id)
            limits = await in_thread(repo.boundaries, tracker.sender_id)
        except Exception:  # noqa: BLE001
            logger.exception("reading the history failed")
            invalid(dispatcher, "storage_failed")
            return []
        by_client: Dict[str, list] = {}
        for item in everything:
            by_client.setdefault(item.client, []).append(item)
        text = message_text(tracker)
        mentioned = entity(tracker, "client")
        client = inc.resolve_client(mentioned, None if text.startswith("/") else text, list(by_client))
        today = dates.today()
        if client is not None:
            send(dispatcher, inc.timeline(client, by_client[client], limits, today))
            return [SlotSet("client_name", client)]
        if mentioned:
            dispatcher.utter_message(text=t("history.unknown_client", client=mentioned))
        send(dispatcher, inc.overview(by_client, limits, today))
        return []


# --------------------------------------------------------------------------- warning signs
async def warning_prefill_events(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """Called by action_start_warning_check: pre-fill signs from the client's incidents."""
    reset: Events = [SlotSet(PREFILL_SLOT, None), SlotSet(PREFILL_CONFIRM, None)]
    repo = repository()
    everything = await store_quietly(repo.incidents, tracker.sender_id) or []
    if not everything:
        return reset
    names = list(dict.fromkeys(i.client for i in everything))
    text = message_text(tracker)
    client = inc.resolve_client(entity(tracker, "client"), None if text.startswith("/") else text, names)
    if client is None:
        client = inc.resolve_client(tracker.get_slot("client_name"), None, names)
    if client is None:
        return reset
    prefill = inc.warning_prefill([i for i in everything if i.client == client], dates.today())
    if not prefill:
        return reset
    slots = [SlotSet(warning_signs.SLOT_PREFIX + key, "yes") for key in prefill]
    return slots + [SlotSet(PREFILL_SLOT, {"client": client, "signs": prefill}), SlotSet(PREFILL_CONFIRM, None),
                    SlotSet("client_name", client)]


class WarningPrefillMixin:
    """For ValidateWarningSignsForm: ask once to confirm pre-filled signs, then the rest."""

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        if tracker.get_slot(PREFILL_SLOT):
            return [PREFILL_CONFIRM] + [s for s in domain_slots if s != PREFILL_CONFIRM]
        return domain_slots

    async def extract_sign_prefill_confirm(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                           domain: DomainDict) -> Dict[Text, Any]:
        """The answer to the confirmation question (a custom mapping: the slot is not in the
        form's static required_slots)."""
        if tracker.get_slot("requested_slot") != PREFILL_CONFIRM:
            return {}
        if ((tracker.latest_message or {}).get("intent") or {}).get("name") == "stop":
            return {}
        return {PREFILL_CONFIRM: message_text(tracker)}

    async def validate_sign_prefill_confirm(self, value: Any, dispatcher: CollectingDispatcher,
                                            tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if value is None:  # reset before the form starts: not an answer
            return {"sign_prefill_confirm": None}
        parsed = answers.parse_yes_no(value) if isinstance(value, str) else None
        if parsed not in ("yes", "no"):
            invalid(dispatcher, "yes_no")
            return {PREFILL_CONFIRM: None}
        if parsed == "no":  # ask those signs one by one after all
            signs = (tracker.get_slot(PREFILL_SLOT) or {}).get("signs") or {}
            return {PREFILL_CONFIRM: "no", **{warning_signs.SLOT_PREFIX + k: None for k in signs}}
        return {PREFILL_CONFIRM: "yes"}


class ActionAskSignPrefillConfirm(Action):
    def name(self) -> Text:
        return f"action_ask_{PREFILL_CONFIRM}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        prefill = tracker.get_slot(PREFILL_SLOT) or {}
        signs = prefill.get("signs") or {}
        dispatcher.utter_message(
            text=inc.prefill_question(prefill.get("client") or "", signs, warning_signs.keys(), len(warning_signs.keys())),
            buttons=yes_no_buttons(t("prefill.button_yes"), t("prefill.button_no")))
        return []

