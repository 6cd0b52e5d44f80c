"""The four difficult-client cases: start, question forms, tailored advice."""

from __future__ import annotations

import abc
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import entity, latest_intent, message_text, repository, send, store_quietly
from actions.playbook_form import Events, QuestionFormValidation, after_form
from bot import drafts, followups, interrupts, playbooks


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
        target = interrupts.corrected_case(message, tracker.get_slot("case"))
        if target is None:
            dispatcher.utter_message(response="utter_clarify_case")
            return []
        dispatcher.utter_message(response="utter_case_switched")
        return start_case(dispatcher, tracker, target)


# --------------------------------------------------------------------------- after the advice
# The draft last shown (bot/drafts.Draft.to_slot) and where the follow-ups stand on the
# case's ladder (bot/followups.Reply.state).
DRAFT_SLOT = "draft"
FOLLOWUP_SLOT = "case_followup"
DRAFT_CHOICE_ENTITY = "draft_choice"
#: the intents asking for another version of the last draft; ask_rephrase is computed
VARIANT_INTENTS = {"ask_shorter": drafts.SHORT, "ask_formal": drafts.FORMAL}


def _case_state(tracker: Tracker) -> tuple[Optional[str], Dict[str, Any], Optional[str]]:
    """The case of the conversation (None if none), its answers and the client's name."""
    case = tracker.get_slot("case")
    client = tracker.get_slot("client_name")
    if case not in playbooks.CASES:
        return None, {}, client
    book = playbooks.playbooks()[case]
    return case, {slot: tracker.get_slot(slot) for slot in book.slots}, client


def _ask_case(
    dispatcher: CollectingDispatcher, domain: Dict[Text, Any], case: Optional[str]
) -> Events:
    """No advice to build on: ask what it is about (the case buttons, the current one first)."""
    first = [case] if case in playbooks.CASES else []
    dispatcher.utter_message(
        text=drafts.say("coach", "no_case"), buttons=case_buttons(domain, first=first)
    )
    return []


class ActionCaseFollowup(Action):
    """After the advice: "und wenn er trotzdem …" – the next step of the case's ladder."""

    def name(self) -> Text:
        return "action_case_followup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        case, answers, client = _case_state(tracker)
        if case is None or not drafts.complete(case, answers):
            return _ask_case(dispatcher, domain, case)
        reply = followups.respond(
            case, answers, client, tracker.get_slot(FOLLOWUP_SLOT), message_text(tracker)
        )
        *first, last = reply.messages
        send(dispatcher, first)
        if reply.ending:
            dispatcher.utter_message(text=last, buttons=followups.ending_buttons())
        else:
            dispatcher.utter_message(text=last)
        events: Events = [SlotSet(slot, value) for slot, value in reply.changed.items()]
        events.append(SlotSet(FOLLOWUP_SLOT, reply.state))
        if reply.draft is not None:
            events.append(SlotSet(DRAFT_SLOT, reply.draft.to_slot()))
        return events


class ActionChangeDraft(Action):
    """A changed draft ("mach den Entwurf mit Rabatt", "lieber neu drucken")."""

    def name(self) -> Text:
        return "action_change_draft"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        case, answers, client = _case_state(tracker)
        if case is None or not drafts.complete(case, answers):
            return _ask_case(dispatcher, domain, case)
        changed = drafts.change(
            case, answers, message_text(tracker), entity(tracker, DRAFT_CHOICE_ENTITY)
        )
        if changed is None:
            return self._unchanged(dispatcher, tracker, case, answers, client)
        draft = drafts.for_advice(case, changed.answers, client)
        events: Events = [SlotSet(changed.slot, changed.value)]
        before = playbooks.extra_requests_verdict(answers) if case == "extra_requests" else None
        if before is not None:
            after = playbooks.extra_requests_verdict(changed.answers)
            if after != before:
                dispatcher.utter_message(text=drafts.say("coach", "verdict_changed", after))
        if draft is None:  # an answer that leaves no draft (abusive: a talk, not a letter)
            dispatcher.utter_message(text=drafts.say("coach", "no_draft_step"))
            return events
        label = changed.label()
        if label:
            shown = drafts.message(draft, "changed", label=label)
        else:
            shown = drafts.message(draft, "changed_plain")
        dispatcher.utter_message(text=shown)
        return events + [SlotSet(DRAFT_SLOT, draft.to_slot())]

    @staticmethod
    def _unchanged(
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        case: str,
        answers: Dict[str, Any],
        client: Optional[str],
    ) -> Events:
        """Nothing new named: the last draft again, with the choices it can offer."""
        draft = drafts.last_draft(tracker.get_slot(DRAFT_SLOT), case, answers, client)
        if draft is None:
            dispatcher.utter_message(text=drafts.say("coach", "no_draft_step"))
            return []
        dispatcher.utter_message(text=drafts.message(draft))
        buttons = drafts.choice_buttons(case)
        if buttons:
            dispatcher.utter_message(text=drafts.say("coach", "ask_choice"), buttons=buttons)
        return [SlotSet(DRAFT_SLOT, draft.to_slot())]


class ActionDraftVariant(Action):
    """Another version of the last draft ("kürzer", "förmlicher", "anders formulieren")."""

    def name(self) -> Text:
        return "action_draft_variant"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        case, answers, client = _case_state(tracker)
        draft = drafts.last_draft(tracker.get_slot(DRAFT_SLOT), case, answers, client)
        if draft is None:
            if case is None or not drafts.complete(case, answers):
                return _ask_case(dispatcher, domain, case)
            dispatcher.utter_message(text=drafts.say("coach", "no_draft_step"))
            return []
        variant = VARIANT_INTENTS.get(latest_intent(tracker) or "") or drafts.rephrased(
            draft.variant
        )
        new = draft.with_variant(variant)
        dispatcher.utter_message(text=drafts.message(new))
        return [SlotSet(DRAFT_SLOT, new.to_slot())]
