"""Every custom action, run directly with a real rasa_sdk Tracker and CollectingDispatcher."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from trackers import DOMAIN, make_tracker, texts

from actions import cases, knowledge
from actions import warning_signs as ws_actions
from bot import playbooks, warning_signs

pytestmark = pytest.mark.usefixtures("isolated_db")


@pytest.mark.parametrize(
    "intent,case",
    [
        ("report_own_fault", "our_fault"),
        ("report_extra_requests", "extra_requests"),
        ("report_false_claims", "false_claims"),
        ("report_abuse", "abusive"),
    ],
)
async def test_start_case_sets_the_case_and_clears_old_answers(intent, case):
    dispatcher = CollectingDispatcher()
    events = await cases.ActionStartCase().run(dispatcher, make_tracker(intent), DOMAIN)
    assert SlotSet("case", case) in events
    for slot in playbooks.playbooks()[case].slots:
        assert SlotSet(slot, None) in events
    assert dispatcher.messages and dispatcher.messages[0]["text"]


async def test_start_case_remembers_the_named_client():
    from actions.common import repository

    tracker = make_tracker("report_abuse", slots={"client_name": "Müller GmbH"}, sender="alice")
    dispatcher = CollectingDispatcher()
    await cases.ActionStartCase().run(dispatcher, tracker, DOMAIN)
    assert [c.name for c in repository().clients("alice")] == ["Müller GmbH"]
    assert repository().clients("alice")[0].last_case == "abusive"


async def test_start_case_without_a_case_asks_back():
    dispatcher = CollectingDispatcher()
    events = await cases.ActionStartCase().run(dispatcher, make_tracker("greet"), DOMAIN)
    assert events == [] and dispatcher.messages[0]["response"] == "utter_clarify"


async def test_case_advice_uses_the_answers():
    tracker = make_tracker(
        "affirm",
        slots={
            "case": "abusive",
            "abuse_frequency": "persistent",
            "abuse_severity": "threat",
            "client_name": "Herr Yilmaz",
        },
    )
    dispatcher = CollectingDispatcher()
    assert await cases.ActionCaseAdvice().run(dispatcher, tracker, DOMAIN) == []
    assert "Zusammenarbeit beenden" in texts(dispatcher)
    assert "Herr Yilmaz" in texts(dispatcher)


async def test_case_advice_without_case_asks_back():
    dispatcher = CollectingDispatcher()
    await cases.ActionCaseAdvice().run(dispatcher, make_tracker(), DOMAIN)
    assert dispatcher.messages[0]["response"] == "utter_clarify"


async def test_form_validation_accepts_understood_and_rejects_unclear_answers():
    action = cases.ValidateAbusiveForm()
    assert action.name() == "validate_abusive_form"
    tracker = make_tracker(
        "affirm",
        "Schon mehrmals",
        active_loop="abusive_form",
        slots={"requested_slot": "abuse_frequency", "abuse_frequency": "Schon mehrmals"},
    )
    tracker.events = [{"event": "slot", "name": "abuse_frequency", "value": "Schon mehrmals"}]
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, DOMAIN)
    assert {
        "event": "slot",
        "timestamp": None,
        "name": "abuse_frequency",
        "value": "repeated",
    } in events
    assert dispatcher.messages == []

    tracker = make_tracker(
        "affirm",
        "hä?",
        active_loop="abusive_form",
        slots={"requested_slot": "abuse_frequency", "abuse_frequency": "hä?"},
    )
    tracker.events = [{"event": "slot", "name": "abuse_frequency", "value": "hä?"}]
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, DOMAIN)
    assert {"event": "slot", "timestamp": None, "name": "abuse_frequency", "value": None} in events
    assert dispatcher.messages[0]["response"] == "utter_invalid_choice"


@pytest.mark.parametrize(
    "validator",
    [
        cases.ValidateOurFaultForm,
        cases.ValidateExtraRequestsForm,
        cases.ValidateFalseClaimsForm,
        cases.ValidateAbusiveForm,
        ws_actions.ValidateWarningSignsForm,
    ],
)
def test_every_form_slot_has_a_validator_and_a_question(validator):
    action = validator()
    form = DOMAIN["forms"][action.form_name()]
    for slot in form["required_slots"]:
        assert callable(getattr(action, f"validate_{slot}"))
        assert (
            f"utter_ask_{slot}" in DOMAIN["responses"] or f"action_ask_{slot}" in DOMAIN["actions"]
        )
    assert not hasattr(action, "validate_not_a_slot")


async def test_warning_check_start_and_questions():
    dispatcher = CollectingDispatcher()
    events = await ws_actions.ActionStartWarningCheck().run(
        dispatcher, make_tracker("ask_end_relationship"), DOMAIN
    )
    for slot in warning_signs.slots():
        assert SlotSet(slot, None) in events
    assert dispatcher.messages[0]["response"] == "utter_warning_check_intro"
    assert SlotSet("sign_clarified", None) in events  # the follow-up is reset too
    names = {cls().name() for cls in ws_actions.ASK_ACTIONS}
    assert names == {f"action_ask_{slot}" for slot in warning_signs.form_slots()}
    ask = next(cls() for cls in ws_actions.ASK_ACTIONS if cls().name() == "action_ask_sign_payment")
    dispatcher = CollectingDispatcher()
    await ask.run(dispatcher, make_tracker(), DOMAIN)
    assert dispatcher.messages[0]["text"].startswith("5/10")
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["Ja", "Nein", "Überspringen"]


async def test_warning_check_result_counts_the_yes_answers():
    slots = {f"sign_{k}": "no" for k in warning_signs.keys()}
    slots.update(sign_payment="yes", sign_respect="yes", sign_price="yes", sign_strategy="skip")
    dispatcher = CollectingDispatcher()
    await ws_actions.ActionWarningSignsResult().run(dispatcher, make_tracker(slots=slots), DOMAIN)
    assert "3 von 10" in texts(dispatcher)


@pytest.mark.parametrize(
    "intent,needle",
    [
        ("ask_legal", "Rechtsberatung"),
        ("ask_how_to_terminate", "Schritt"),
        ("ask_after_termination", "Abschlussbericht"),
        ("report_stress", "Feierabend"),
        ("help", "Gespräch üben"),
    ],
)
async def test_explain_topic(intent, needle):
    dispatcher = CollectingDispatcher()
    await knowledge.ActionExplainTopic().run(dispatcher, make_tracker(intent), DOMAIN)
    assert needle.lower() in texts(dispatcher).lower()


async def test_stopp_inside_a_form_ends_it_and_the_next_action_confirms():
    action = cases.ValidateAbusiveForm()
    tracker = make_tracker(
        "stop",
        "stopp",
        active_loop="abusive_form",
        slots={"requested_slot": "abuse_frequency", "abuse_frequency": "stopp"},
    )
    tracker.events = [{"event": "slot", "name": "abuse_frequency", "value": "stopp"}]
    events = await action.run(CollectingDispatcher(), tracker, DOMAIN)
    assert {"event": "slot", "timestamp": None, "name": "requested_slot", "value": None} in events
    assert {"event": "slot", "timestamp": None, "name": "cancelled", "value": True} in events

    dispatcher = CollectingDispatcher()
    events = await cases.ActionCaseAdvice().run(
        dispatcher, make_tracker(slots={"case": "abusive", "cancelled": True}), DOMAIN
    )
    assert dispatcher.messages[0]["response"] == "utter_stopped"
    assert SlotSet("cancelled", False) in events


async def test_slots_reset_before_the_form_starts_get_no_complaint():
    """action_start_case resets the answers to None; the first validation must stay silent."""
    tracker = make_tracker(
        "report_abuse",
        "/report_abuse",
        active_loop="abusive_form",
        slots={"abuse_frequency": None, "abuse_severity": None},
    )
    tracker.events = [
        {"event": "slot", "name": "abuse_frequency", "value": None},
        {"event": "slot", "name": "abuse_severity", "value": None},
    ]
    dispatcher = CollectingDispatcher()
    await cases.ValidateAbusiveForm().run(dispatcher, tracker, DOMAIN)
    assert dispatcher.messages == []
