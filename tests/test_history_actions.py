"""Boundary, incident, history and data-rights actions run with a real rasa_sdk Tracker.

Each action runs directly, with a CollectingDispatcher.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import (
    boundaries as bnd_actions,
)
from actions import (
    cases,
)
from actions import (
    history as h,
)
from actions import (
    incidents as inc_actions,
)
from actions import (
    warning_signs as ws_actions,
)
from bot import dates, warning_signs
from bot.config import ROOT

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
TODAY = dates.today()


@pytest.fixture(autouse=True)
def _same_day_throughout(monkeypatch):
    """The day the tests were collected on, also after midnight in the coach's time zone."""
    monkeypatch.setattr(dates, "today", lambda: TODAY)


pytestmark = pytest.mark.usefixtures("isolated_db")


def repo():
    from actions.common import repository

    return repository()


def make_tracker(
    intent: str = "greet",
    text: str = "",
    slots: Optional[Dict[str, Any]] = None,
    entities: Optional[List[dict]] = None,
    active_loop: Optional[str] = None,
    sender: str = "alice",
    validate: Optional[Dict[str, Any]] = None,
) -> Tracker:
    """A tracker; ``validate`` slots are set as the latest events (what a form validation sees)."""
    all_slots = {name: None for name in DOMAIN["slots"]}
    all_slots.update(slots or {})
    all_slots.update(validate or {})
    events = [{"event": "slot", "name": k, "value": v} for k, v in (validate or {}).items()]
    return Tracker(
        sender_id=sender,
        slots=all_slots,
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.99},
            "entities": entities or [],
        },
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or m.get("response") or "" for m in dispatcher.messages)


def slot_events(events) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def run(action, tracker) -> tuple:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, DOMAIN)
    return dispatcher, events


# --------------------------------------------------------------------------- boundaries
async def test_start_boundary_prefills_from_the_message():
    tracker = make_tracker(
        "set_boundary",
        "Beleidigungen sind für mich ein absolutes No-Go",
        entities=[{"entity": "behavior", "value": "insult"}],
    )
    _, events = await run(bnd_actions.ActionStartBoundary(), tracker)
    assert slot_events(events) == {
        "boundary_behavior": "insult",
        "boundary_threshold": "absolute",
        "boundary_note": None,
        "boundary_confirm": None,
    }


async def test_start_boundary_without_anything_offers_the_guided_setup():
    _, events = await run(
        bnd_actions.ActionStartBoundary(), make_tracker("set_boundary", "Grenze setzen")
    )
    assert FollowupAction("utter_offer_boundary_setup") in events
    repo().set_boundary("alice", "threat")
    dispatcher, events = await run(
        bnd_actions.ActionStartBoundary(), make_tracker("set_boundary", "Grenze setzen")
    )
    assert not any(e.get("event") == "followup" for e in events)  # has one: straight to the form
    assert "Grenze festhalten" in texts(dispatcher)


async def test_removal_is_recognised_only_for_an_existing_boundary():
    msg = "Lösch meine Grenze zu Beleidigungen"
    _, events = await run(bnd_actions.ActionStartBoundary(), make_tracker("set_boundary", msg))
    assert slot_events(events)["boundary_threshold"] is None
    repo().set_boundary("alice", "insult")
    _, events = await run(bnd_actions.ActionStartBoundary(), make_tracker("set_boundary", msg))
    assert slot_events(events)["boundary_threshold"] == "remove"


@pytest.mark.parametrize(
    "slot,answer,expected,says",
    [
        ("boundary_behavior", "Anschreien", "shouting", None),
        # no category fits: kept in the user's own words (issue 11)
        ("boundary_behavior", "Kaffee verschüttet", "text:Kaffee verschüttet", None),
        ("boundary_behavior", "!!!", None, "in wenigen Worten"),
        ("boundary_threshold", "3-mal in 30 Tagen", "count:3:30", None),
        ("boundary_threshold", "1000 mal pro Tag", None, "zwischen 2 und 50"),
        ("boundary_threshold", "hmm", None, "nicht als Grenze verstehen"),
        ("boundary_note", "keine Notiz", "none", None),
        ("boundary_note", "y" * 2000, None, "2000 Zeichen"),
        ("boundary_confirm", "Ja, speichern", "yes", None),
        ("boundary_confirm", "vielleicht", None, "Ja oder Nein"),
    ],
)
async def test_boundary_form_validation(slot, answer, expected, says):
    tracker = make_tracker(
        "affirm",
        answer,
        active_loop="boundary_form",
        slots={"boundary_behavior": "shouting"},
        validate={"requested_slot": slot, slot: answer},
    )
    dispatcher, events = await run(bnd_actions.ValidateBoundaryForm(), tracker)
    assert slot_events(events)[slot] == expected
    if says:
        assert says in texts(dispatcher)
    else:
        assert dispatcher.messages == []


async def test_confirm_shows_what_was_understood_and_saving_needs_a_yes():
    slots = {
        "boundary_behavior": "shouting",
        "boundary_threshold": "count:3:30",
        "boundary_note": "dann lege ich auf",
    }
    dispatcher, _ = await run(bnd_actions.ActionAskBoundaryConfirm(), make_tracker(slots=slots))
    assert (
        "Anschreien: Grenze erreicht ab dem 3. Mal innerhalb von 30 Tagen "
        "(Notiz: dann lege ich auf)" in texts(dispatcher)
    )
    dispatcher, _ = await run(
        bnd_actions.ActionSaveBoundary(), make_tracker(slots={**slots, "boundary_confirm": "no"})
    )
    assert "nichts gespeichert" in texts(dispatcher) and repo().boundaries("alice") == []
    dispatcher, events = await run(
        bnd_actions.ActionSaveBoundary(), make_tracker(slots={**slots, "boundary_confirm": "yes"})
    )
    assert "Gespeichert" in texts(dispatcher) and "1 Grenze" in texts(dispatcher)
    assert [(b.behavior, b.max_count, b.note) for b in repo().boundaries("alice")] == [
        ("shouting", 3, "dann lege ich auf")
    ]
    assert all(v is None for v in slot_events(events).values())


async def test_change_and_remove_an_existing_boundary():
    repo().set_boundary("alice", "insult")
    dispatcher, _ = await run(
        bnd_actions.ActionAskBoundaryThreshold(),
        make_tracker(slots={"boundary_behavior": "insult"}),
    )
    assert "Bisher gilt bei dir: absolutes No-Go" in texts(dispatcher)
    assert "Grenze entfernen" in [b["title"] for b in dispatcher.messages[0]["buttons"]]
    slots = {
        "boundary_behavior": "insult",
        "boundary_threshold": "count:2:30",
        "boundary_note": "none",
    }
    dispatcher, _ = await run(bnd_actions.ActionAskBoundaryConfirm(), make_tracker(slots=slots))
    assert "ersetzt deine bisherige Grenze" in texts(dispatcher)
    tracker = make_tracker(
        active_loop="boundary_form",
        slots={"boundary_behavior": "insult", "boundary_threshold": "remove"},
    )
    required = await bnd_actions.ValidateBoundaryForm().required_slots(
        DOMAIN["forms"]["boundary_form"]["required_slots"], CollectingDispatcher(), tracker, DOMAIN
    )
    assert "boundary_note" not in required
    dispatcher, _ = await run(
        bnd_actions.ActionSaveBoundary(),
        make_tracker(
            slots={
                "boundary_behavior": "insult",
                "boundary_threshold": "remove",
                "boundary_confirm": "yes",
            }
        ),
    )
    assert "Entfernt" in texts(dispatcher) and repo().boundaries("alice") == []


async def test_show_boundaries():
    _, events = await run(bnd_actions.ActionShowBoundaries(), make_tracker("show_boundaries"))
    assert events == [FollowupAction("utter_offer_boundary_setup")]
    repo().set_boundary("alice", "late_payment", 2, 90)
    dispatcher, _ = await run(bnd_actions.ActionShowBoundaries(), make_tracker("show_boundaries"))
    assert "Zahlungsverzug: Grenze erreicht ab dem 2. Mal innerhalb von 90 Tagen" in texts(
        dispatcher
    )
    payloads = [b["payload"] for m in dispatcher.messages for b in m.get("buttons", [])]
    assert '/set_boundary{"behavior": "late_payment"}' in payloads


async def test_guided_setup_saves_only_accepted_suggestions():
    _, events = await run(bnd_actions.ActionStartBoundarySetup(), make_tracker())
    state = slot_events(events)["boundary_setup_state"]
    assert [s["behavior"] for s in state["plan"]][:2] == ["insult", "threat"]
    validator = bnd_actions.ValidateBoundarySetupForm()
    for answer in ["Ja", "Nein", "Ja", "Nein"]:
        tracker = make_tracker(
            active_loop="boundary_setup_form",
            slots={"boundary_setup_state": state},
            validate={"requested_slot": "boundary_setup", "boundary_setup": answer},
        )
        dispatcher = CollectingDispatcher()
        result = slot_events(await validator.run(dispatcher, tracker, DOMAIN))
        state = result["boundary_setup_state"]
        assert result["boundary_setup"] is None
    tracker = make_tracker(
        active_loop="boundary_setup_form",
        slots={"boundary_setup_state": state},
        validate={"requested_slot": "boundary_setup", "boundary_setup": "nein"},
    )
    result = slot_events(await validator.run(CollectingDispatcher(), tracker, DOMAIN))
    assert result["boundary_setup"] == "done"
    dispatcher, _ = await run(
        bnd_actions.ActionFinishBoundarySetup(),
        make_tracker(slots={"boundary_setup_state": result["boundary_setup_state"]}),
    )
    assert sorted(b.behavior for b in repo().boundaries("alice")) == ["insult", "shouting"]
    assert "Gespeichert" in texts(dispatcher)


# --------------------------------------------------------------------------- incidents
async def test_start_incident_prefills_client_behaviour_and_date():
    tracker = make_tracker(
        "log_incident",
        "Notier bitte: Müller GmbH hat mich gestern beschimpft",
        entities=[
            {"entity": "client", "value": "Müller GmbH"},
            {"entity": "behavior", "value": "insult"},
        ],
    )
    _, events = await run(inc_actions.ActionStartIncident(), tracker)
    slots = slot_events(events)
    assert slots["incident_client"] == "Müller GmbH" and slots["incident_behavior"] == "insult"
    assert (
        slots["incident_date"] == (TODAY - timedelta(days=1)).isoformat()
        and slots["incident_note"] is None
    )


@pytest.mark.parametrize(
    "slot,answer,expected,says",
    [
        ("incident_client", "Bäckerei Huber", "Bäckerei Huber", None),
        ("incident_client", "!!!", None, "Namen des Kunden"),
        ("incident_client", "<script>alert(1)</script>", None, "spitze Klammern"),
        (
            "incident_client",
            "Robert'); DROP TABLE clients;--",
            "Robert'); DROP TABLE clients;--",
            None,
        ),
        ("incident_behavior", "zahlt nicht", "late_payment", None),
        ("incident_behavior", "hat geniest", None, "keinem Verhalten zuordnen"),
        ("incident_date", "gestern", (TODAY - timedelta(days=1)).isoformat(), None),
        ("incident_date", "20.05.2099", None, "in der Zukunft"),
        ("incident_date", "irgendwann", None, "nicht verstanden"),
        ("incident_note", "Er hat aufgelegt", "Er hat aufgelegt", None),
        ("incident_note", "z" * 2000, None, "2000 Zeichen"),
    ],
)
async def test_incident_form_validation(slot, answer, expected, says):
    tracker = make_tracker(
        "inform",
        answer,
        active_loop="incident_form",
        validate={"requested_slot": slot, slot: answer},
    )
    dispatcher, events = await run(inc_actions.ValidateIncidentForm(), tracker)
    assert slot_events(events)[slot] == expected
    assert (says in texts(dispatcher)) if says else dispatcher.messages == []


async def test_incident_client_keeps_the_stored_spelling():
    repo().remember_client("alice", "Müller GmbH")
    tracker = make_tracker(
        "inform",
        "müller gmbh",
        active_loop="incident_form",
        validate={"requested_slot": "incident_client", "incident_client": "müller gmbh"},
    )
    _, events = await run(inc_actions.ValidateIncidentForm(), tracker)
    assert slot_events(events)["incident_client"] == "Müller GmbH"


async def test_save_incident_answers_with_the_level_and_crossed_boundary():
    repo().set_boundary("alice", "shouting", 2, 30)
    repo().log_incident("alice", "Müller GmbH", "shouting", TODAY - timedelta(days=3))
    slots = {
        "incident_client": "Müller GmbH",
        "incident_behavior": "shouting",
        "incident_date": TODAY.isoformat(),
        "incident_note": "none",
    }
    dispatcher, events = await run(inc_actions.ActionSaveIncident(), make_tracker(slots=slots))
    said = texts(dispatcher)
    assert "Festgehalten" in said and "2. Vorfall" in said
    assert (
        "Grenze „Anschreien: Grenze erreicht ab dem 2. Mal innerhalb von 30 Tagen“ überschritten"
        in said
    )
    assert "Stufe 2 von 6" in said
    assert SlotSet("client_name", "Müller GmbH") in events
    assert len(repo().incidents("alice")) == 2


# --------------------------------------------------------------------------- after a case flow
ABUSIVE = {"case": "abusive", "abuse_frequency": "repeated", "abuse_severity": "insult"}


async def test_case_advice_offers_to_record_the_incident():
    dispatcher, events = await run(
        cases.ActionCaseAdvice(), make_tracker(slots={**ABUSIVE, "client_name": "Müller GmbH"})
    )
    offer = dispatcher.messages[-1]
    assert "als Vorfall festhalten? Müller GmbH · Beleidigung" in offer["text"]
    assert [b["payload"] for b in offer["buttons"]] == ["/affirm", "/deny"]
    assert events == []
    dispatcher, _ = await run(
        cases.ActionCaseAdvice(),
        make_tracker(
            slots={
                "case": "our_fault",
                "fault_what": "zu spät",
                "fault_heard": "yes",
                "fault_impact": "small",
                "fault_offer": "redo",
            }
        ),
    )
    assert "Vorfall" not in texts(dispatcher)


async def test_accepting_the_offer_saves_without_asking_again():
    dispatcher, events = await run(
        inc_actions.ActionLogCaseIncident(),
        make_tracker("affirm", slots={**ABUSIVE, "client_name": "Müller GmbH"}),
    )
    saved = repo().incidents("alice")
    assert [
        (i.client, i.behavior, i.occurred_on, i.source, i.case, i.level_hint) for i in saved
    ] == [("Müller GmbH", "insult", TODAY, "case", "abusive", 2)]
    assert "Stufe 3 von 6 – Zweites Gespräch" in texts(dispatcher)  # the case advice's step


async def test_accepting_without_a_client_asks_only_for_the_client():
    _, events = await run(
        inc_actions.ActionLogCaseIncident(),
        make_tracker(
            "affirm",
            slots={
                "case": "extra_requests",
                "extra_what": "Ein zweites Logo",
                "extra_unclear": "no",
                "extra_chronic": "yes",
                "extra_effort": "no",
                "extra_compromise": "none",
            },
        ),
    )
    slots = slot_events(events)
    assert slots["incident_client"] is None and slots["incident_behavior"] == "unpaid_extra_work"
    assert (
        slots["incident_date"] == TODAY.isoformat() and slots["incident_note"] == "Ein zweites Logo"
    )
    assert FollowupAction("incident_form") in events
    assert repo().incidents("alice") == []


# --------------------------------------------------------------------------- history
async def test_show_history_for_a_client_and_overall():
    repo().log_incident("alice", "Müller GmbH", "physical_threat", TODAY - timedelta(days=1))
    repo().log_incident("alice", "Becker AG", "late_payment", TODAY - timedelta(days=2))
    dispatcher, events = await run(
        h.ActionShowHistory(),
        make_tracker(
            "show_history",
            "Zeig mir den Verlauf mit Müller GmbH",
            entities=[{"entity": "client", "value": "Müller GmbH"}],
        ),
    )
    said = texts(dispatcher)
    assert "Verlauf mit der Müller GmbH – 1 Vorfall" in said and "Becker" not in said
    # a threat of violence: the safety ladder has a summary to forward from the first incident,
    # and one incident reads as one
    assert "Betreff: Vorfall mit der Müller GmbH (Sicherheit)" in said
    assert "habe ich mit der Müller GmbH einen Vorfall dokumentiert" in said
    assert "Zwischen" not in said and "wiederholte" not in said.lower()
    assert SlotSet("client_name", "Müller GmbH") in events
    dispatcher, _ = await run(
        h.ActionShowHistory(), make_tracker("show_history", "Zeig mir alle Vorfälle")
    )
    lines = texts(dispatcher).splitlines()
    assert lines[1].startswith("1. Müller GmbH") and lines[2].startswith("2. Becker AG")
    dispatcher, _ = await run(
        h.ActionShowHistory(),
        make_tracker(
            "show_history",
            "Verlauf Schulz KG",
            entities=[{"entity": "client", "value": "Schulz KG"}],
        ),
    )
    assert "Ich habe keine Vorfälle zur Schulz KG gespeichert." in texts(dispatcher)


async def test_history_is_per_user():
    repo().log_incident("alice", "Müller GmbH", "insult", TODAY)
    dispatcher, _ = await run(
        h.ActionShowHistory(),
        make_tracker(
            "show_history",
            "Verlauf Müller GmbH",
            entities=[{"entity": "client", "value": "Müller GmbH"}],
            sender="bob",
        ),
    )
    assert "keine Vorfälle" in texts(dispatcher) and "Beleidigung" not in texts(dispatcher)


# --------------------------------------------------------------------------- warning signs
async def test_warning_check_is_prefilled_from_the_history_and_confirmed_once():
    repo().log_incident("alice", "Müller GmbH", "late_payment", TODAY - timedelta(days=20))
    repo().log_incident("alice", "Müller GmbH", "insult", TODAY - timedelta(days=2))
    tracker = make_tracker(
        "ask_end_relationship",
        "Soll ich mich von Müller GmbH trennen?",
        entities=[{"entity": "client", "value": "Müller GmbH"}],
    )
    _, events = await run(ws_actions.ActionStartWarningCheck(), tracker)
    slots = {}
    for e in events:  # later events win, as in the tracker
        if e.get("event") == "slot":
            slots[e["name"]] = e["value"]
    assert (
        slots["sign_payment"] == "yes"
        and slots["sign_respect"] == "yes"
        and slots["sign_ethics"] is None
    )
    assert set(slots["sign_prefill"]["signs"]) == {"payment", "respect"}

    form_slots = DOMAIN["forms"]["warning_signs_form"]["required_slots"]
    validator = ws_actions.ValidateWarningSignsForm()
    tracker = make_tracker(active_loop="warning_signs_form", slots=slots)
    required = await validator.required_slots(form_slots, CollectingDispatcher(), tracker, DOMAIN)
    assert required[0] == "sign_prefill_confirm" and required[1:] == form_slots

    dispatcher, _ = await run(h.ActionAskSignPrefillConfirm(), tracker)
    assert "Zahlungsausfälle" in texts(dispatcher) and "übrigen 8" in texts(dispatcher)

    answer = make_tracker(
        "deny",
        "Nein",
        active_loop="warning_signs_form",
        slots={**slots, "requested_slot": "sign_prefill_confirm"},
    )
    result = slot_events(await validator.run(CollectingDispatcher(), answer, DOMAIN))
    assert result["sign_prefill_confirm"] == "no"
    assert (
        result["sign_payment"] is None and result["sign_respect"] is None
    )  # asked one by one after all
    assert result["requested_slot"] == "sign_expectations"

    answer = make_tracker(
        "affirm",
        "Ja, stimmt",
        active_loop="warning_signs_form",
        slots={**slots, "requested_slot": "sign_prefill_confirm"},
    )
    result = slot_events(await validator.run(CollectingDispatcher(), answer, DOMAIN))
    assert (
        result["sign_prefill_confirm"] == "yes" and result["requested_slot"] == "sign_expectations"
    )


async def test_warning_check_without_history_is_unchanged():
    _, events = await run(
        ws_actions.ActionStartWarningCheck(),
        make_tracker("ask_end_relationship", "Soll ich aufhören?"),
    )
    slots = slot_events(events)
    assert all(slots[s] is None for s in warning_signs.slots())
    assert slots["sign_prefill"] is None


async def test_choosing_to_set_a_boundary_oneself_after_the_offer_starts_the_form():
    tracker = make_tracker("set_boundary", "/set_boundary")
    tracker.events = [
        {"event": "user", "text": "Grenze setzen"},
        {"event": "action", "name": "action_start_boundary"},
        {"event": "action", "name": "utter_offer_boundary_setup"},
        {"event": "bot", "text": "Du hast noch keine …"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "/set_boundary"},
    ]
    dispatcher, events = await run(bnd_actions.ActionStartBoundary(), tracker)
    assert not any(e.get("event") == "followup" for e in events)
    assert "Grenze festhalten" in texts(dispatcher)


@pytest.mark.parametrize(
    "validator,form",
    [
        (bnd_actions.ValidateBoundaryForm, "boundary_form"),
        (inc_actions.ValidateIncidentForm, "incident_form"),
        (bnd_actions.ValidateBoundarySetupForm, "boundary_setup_form"),
    ],
)
async def test_slots_reset_before_the_form_starts_are_no_answers(validator, form):
    """The start actions reset the form's slots; validating those None values must stay silent."""
    reset = {slot: None for slot in DOMAIN["forms"][form]["required_slots"]}
    tracker = make_tracker("log_incident", "Vorfall erfassen", active_loop=form, validate=reset)
    dispatcher = CollectingDispatcher()
    events = await validator().run(dispatcher, tracker, DOMAIN)
    assert dispatcher.messages == []
    assert all(v is None for k, v in slot_events(events).items() if k in reset)
