"""Every form listens: interruptions in the middle of a form are never stored as the answer.

A correction, a case switch, a question, "zurück", "stopp" and a safety signal are handled
as such.

The form validations are run the way Rasa runs them (``run`` with a tracker whose form is
active and whose requested slot is set); the whole conversations over REST are in
``tests/test_conversations_real.py``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from trackers import DOMAIN

from actions import boundaries, cases, data_rights, incidents, roleplay, warning_signs
from actions.groups import ValidateGroupSetupForm

# (validation, form, requested slot, slots already answered, current case)
FORMS: List[Tuple[Any, str, str, Dict[str, Any], Optional[str]]] = [
    (cases.ValidateOurFaultForm, "our_fault_form", "fault_heard", {"fault_what": "x"}, "our_fault"),
    (
        cases.ValidateExtraRequestsForm,
        "extra_requests_form",
        "extra_unclear",
        {"extra_what": "x"},
        "extra_requests",
    ),
    (
        cases.ValidateFalseClaimsForm,
        "false_claims_form",
        "false_checked",
        {"false_claim": "x"},
        "false_claims",
    ),
    (
        cases.ValidateAbusiveForm,
        "abusive_form",
        "abuse_severity",
        {"abuse_frequency": "once"},
        "abusive",
    ),
    (
        warning_signs.ValidateWarningSignsForm,
        "warning_signs_form",
        "sign_respect",
        {"sign_expectations": "yes"},
        None,
    ),
    (
        roleplay.ValidateRoleplaySetupForm,
        "roleplay_setup_form",
        "rp_difficulty",
        {"rp_scenario": "late_payer"},
        None,
    ),
    (
        ValidateGroupSetupForm,
        "group_setup_form",
        "rp_difficulty",
        {"rp_scenario": "late_payer"},
        None,
    ),
    (
        boundaries.ValidateBoundaryForm,
        "boundary_form",
        "boundary_threshold",
        {"boundary_behavior": "insult"},
        None,
    ),
    (boundaries.ValidateBoundarySetupForm, "boundary_setup_form", "boundary_setup", {}, None),
    (
        incidents.ValidateIncidentForm,
        "incident_form",
        "incident_behavior",
        {"incident_client": "Müller GmbH"},
        None,
    ),
    (data_rights.ValidateDeleteDataForm, "delete_data_form", "delete_confirm", {}, None),
]
IDS = [form for _, form, *_ in FORMS]


def tracker_in_form(
    form: str,
    requested: str,
    answered: Dict[str, Any],
    case: Optional[str],
    text: str,
    ranking: List[Tuple[str, float]],
) -> Tracker:
    """A tracker in the middle of ``form``: the question ``requested`` was just asked."""
    slots = {name: None for name in DOMAIN["slots"]}
    slots.update(answered, requested_slot=requested, case=case)
    slots[requested] = text  # what Rasa's from_text mapping extracted from the message
    intent, confidence = ranking[0]
    return Tracker(
        sender_id="interrupt-tester",
        slots=slots,
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
            "entities": [],
        },
        events=[
            {"event": "slot", "name": requested, "value": text},
        ],
        paused=False,
        followup_action=None,
        active_loop={"name": form},
        latest_action_name=form,
    )


async def run(validation: Any, tracker: Tracker) -> Tuple[List[dict], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await validation().run(dispatcher, tracker, DOMAIN)
    return events, dispatcher


def stored(events: List[dict], slot: str) -> Any:
    """The last value the events give ``slot`` (None if they clear or do not touch it)."""
    value = None
    for event in events:
        if event.get("event") == "slot" and event.get("name") == slot:
            value = event.get("value")
    return value


def slot_events(events: List[dict]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def other_case(case: Optional[str]) -> Tuple[str, str]:
    """An intent and its case that differ from ``case``."""
    return (
        ("report_false_claims", "false_claims")
        if case != "false_claims"
        else (
            "report_abuse",
            "abusive",
        )
    )


@pytest.mark.parametrize("validation, form, requested, answered, case", FORMS, ids=IDS)
async def test_correction_is_not_an_answer(validation, form, requested, answered, case):
    intent, target = other_case(case)
    text = (
        "nein, falscher fall – es geht um was anderes, der kunde behauptet dinge die nicht stimmen"
    )
    tracker = tracker_in_form(
        form, requested, answered, case, text, [("correct_case", 0.7), (intent, 0.25)]
    )
    events, _ = await run(validation, tracker)
    slots = slot_events(events)
    assert stored(events, requested) is None
    assert slots.get("requested_slot", "unset") is None  # the form ends
    assert slots.get("form_exit") == "switch" and slots.get("case") == target


@pytest.mark.parametrize("validation, form, requested, answered, case", FORMS, ids=IDS)
async def test_unclear_correction_asks_which_case(validation, form, requested, answered, case):
    tracker = tracker_in_form(
        form, requested, answered, case, "du hast mich falsch verstanden", [("correct_case", 0.9)]
    )
    events, _ = await run(validation, tracker)
    assert stored(events, requested) is None
    assert slot_events(events).get("form_exit") == "clarify"


@pytest.mark.parametrize("validation, form, requested, answered, case", FORMS, ids=IDS)
async def test_another_case_switches(validation, form, requested, answered, case):
    intent, target = other_case(case)
    text = "der kunde behauptet ueberall, wir haetten ihm nie eine rechnung geschickt, stimmt nicht"
    tracker = tracker_in_form(form, requested, answered, case, text, [(intent, 0.9)])
    events, _ = await run(validation, tracker)
    assert stored(events, requested) is None
    assert slot_events(events).get("form_exit") == "switch"
    assert slot_events(events).get("case") == target


@pytest.mark.parametrize("validation, form, requested, answered, case", FORMS, ids=IDS)
async def test_question_in_the_middle_is_answered_and_the_question_repeated(
    validation, form, requested, answered, case
):
    tracker = tracker_in_form(
        form, requested, answered, case, "kann ich dem autohaus kuendigen?", [("ask_legal", 0.85)]
    )
    events, dispatcher = await run(validation, tracker)
    assert stored(events, requested) is None
    assert "requested_slot" not in slot_events(events)  # the form goes on with the same question
    responses = [m.get("response") for m in dispatcher.messages]
    assert responses == ["utter_brief_ask_legal", "utter_back_to_question"]


@pytest.mark.parametrize("validation, form, requested, answered, case", FORMS, ids=IDS)
async def test_cancel_ends_the_form(validation, form, requested, answered, case):
    tracker = tracker_in_form(form, requested, answered, case, "stopp", [("stop", 0.95)])
    events, _ = await run(validation, tracker)
    assert stored(events, requested) is None
    assert slot_events(events).get("cancelled") is True


@pytest.mark.parametrize("validation, form, requested, answered, case", FORMS, ids=IDS)
async def test_safety_signal_ends_the_form(validation, form, requested, answered, case):
    text = "er hat gerade gedroht mich zu schlagen wenn ich nochmal anrufe"
    tracker = tracker_in_form(form, requested, answered, case, text, [("report_abuse", 0.6)])
    events, dispatcher = await run(validation, tracker)
    assert stored(events, requested) is None
    assert slot_events(events).get("form_exit") == "safety"
    assert dispatcher.messages == []  # the reply comes from action_safety, first thing after


@pytest.mark.parametrize("validation, form, requested, answered, case", FORMS, ids=IDS)
async def test_back_asks_the_previous_question(validation, form, requested, answered, case):
    tracker = tracker_in_form(form, requested, answered, case, "zurück", [("go_back", 0.9)])
    events, dispatcher = await run(validation, tracker)
    slots = slot_events(events)
    assert stored(events, requested) is None
    for previous in answered:  # the previous answer is cleared, so the form asks it again
        assert previous in slots and slots[previous] is None
    assert dispatcher.messages[0]["response"] in (
        "utter_back_previous_question",
        "utter_back_first_question",
    )


async def test_a_real_answer_is_still_an_answer():
    tracker = tracker_in_form(
        "abusive_form",
        "abuse_frequency",
        {},
        "abusive",
        "fast jeden tag",
        [("report_abuse", 0.5)],
    )
    events, _ = await run(cases.ValidateAbusiveForm, tracker)
    assert "form_exit" not in slot_events(events)


async def test_role_play_lines_are_never_interrupted_by_topics():
    state, _ = roleplay.roleplay.start("late_payer", 1, 7)
    tracker = tracker_in_form(
        "roleplay_form",
        "rp_utterance",
        {"rp_state": state},
        None,
        "nein, falscher fall, kann ich ihnen kuendigen?",
        [("correct_case", 0.9)],
    )
    validation = roleplay.ValidateRoleplayForm()
    found = await validation.run(CollectingDispatcher(), tracker, DOMAIN)
    assert "form_exit" not in slot_events(found)


async def test_safety_inside_the_role_play_steps_out_of_character():
    state = {"scenario_id": "late_payer", "turns": []}
    tracker = tracker_in_form(
        "roleplay_form",
        "rp_utterance",
        {"rp_state": state},
        None,
        "moment, echt jetzt: der kunde hat mir heute gesagt er wartet nach feierabend auf mich",
        [("report_danger", 0.9)],
    )
    events = await roleplay.ValidateRoleplayForm().run(CollectingDispatcher(), tracker, DOMAIN)
    slots = slot_events(events)
    assert slots["rp_utterance"] == roleplay.DONE
    assert slots["rp_state"]["safety"] is True and slots["danger_kind"]


async def test_correcting_an_earlier_answer_fixes_it_and_asks_again():
    tracker = tracker_in_form(
        "extra_requests_form",
        "extra_effort",
        {"extra_what": "logo", "extra_unclear": "no", "extra_chronic": "no"},
        "extra_requests",
        "moment, bei der frage ob das oefter vorkommt meinte ich ja",
        [("affirm", 0.6)],
    )
    events, dispatcher = await run(cases.ValidateExtraRequestsForm, tracker)
    slots = slot_events(events)
    assert slots["extra_chronic"] == "yes"
    assert slots["extra_effort"] is None and "requested_slot" not in slots
    assert dispatcher.messages[0]["response"] == "utter_corrected_earlier"


@pytest.mark.parametrize("validation, form, requested, answered, case", FORMS, ids=IDS)
async def test_acute_distress_ends_the_form(validation, form, requested, answered, case):
    tracker = tracker_in_form(
        form, requested, answered, case, "ich kann echt nicht mehr", [("report_stress", 1.0)]
    )
    events, _ = await run(validation, tracker)
    assert stored(events, requested) is None
    assert slot_events(events).get("form_exit") == "distress"
