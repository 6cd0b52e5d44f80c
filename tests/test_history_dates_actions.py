"""Dates where an incident is offered (issue 11), in the actions themselves (no servers).

"Ja, aber das war gestern" to an offer, "nein, am Montag" as a correction: the offer is kept
and the incident is saved with the day the user named.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from rasa_sdk.events import FollowupAction, SlotSet
from test_history_actions import ABUSIVE, make_tracker, repo, run, slot_events, texts

from actions import incidents as inc_actions
from bot import boundaries as bnd
from bot import dates, escalation

TODAY = dates.today()


@pytest.fixture(autouse=True)
def _same_day_throughout(monkeypatch):
    """The day the tests were collected on, also after midnight in the coach's time zone."""
    monkeypatch.setattr(dates, "today", lambda: TODAY)


MONDAY = TODAY - timedelta(days=TODAY.weekday())
OWN = "Nachrichten nach Feierabend"

pytestmark = pytest.mark.usefixtures("isolated_db")


@pytest.mark.parametrize(
    "said,day",
    [
        ("Ja, aber das war gestern", TODAY - timedelta(days=1)),
        ("ja, vorgestern", TODAY - timedelta(days=2)),
        ("Ja", TODAY),
        ("/affirm", TODAY),
    ],
)
async def test_accepting_the_case_offer_with_a_day(said, day):
    tracker = make_tracker("affirm", said, slots={**ABUSIVE, "client_name": "Herrn Brandt"})
    dispatcher, _ = await run(inc_actions.ActionLogCaseIncident(), tracker)
    saved = repo().incidents("alice")
    assert [(i.client, i.occurred_on) for i in saved] == [("Herr Brandt", day)]
    assert f"Festgehalten: {dates.format_date(day)} · Herr Brandt" in texts(dispatcher)


async def test_accepting_without_a_client_keeps_the_day_for_the_form():
    tracker = make_tracker("affirm", "Ja, das war am Montag", slots=ABUSIVE)
    _, events = await run(inc_actions.ActionLogCaseIncident(), tracker)
    assert slot_events(events)["incident_date"] == MONDAY.isoformat()
    assert FollowupAction("incident_form") in events


async def test_a_no_that_only_corrects_the_day_records_the_case():
    tracker = make_tracker("deny", "nein, am montag", slots={**ABUSIVE, "client_name": "Becker AG"})
    dispatcher, _ = await run(inc_actions.ActionDeclineCaseIncident(), tracker)
    assert [i.occurred_on for i in repo().incidents("alice")] == [MONDAY]
    assert "Festgehalten" in texts(dispatcher)
    tracker = make_tracker("deny", "Nein, danke", slots={**ABUSIVE, "client_name": "Becker AG"})
    dispatcher, _ = await run(inc_actions.ActionDeclineCaseIncident(), tracker)
    assert dispatcher.messages[0]["response"] == "utter_incident_offer_declined"
    assert len(repo().incidents("alice")) == 1


async def test_the_safety_log_takes_the_day_from_the_accepting_message():
    """The form starts with today pre-filled; the "Ja, …" that started it names the day."""
    tracker = make_tracker(
        "affirm",
        "Ja, aber das war vorgestern",
        active_loop="incident_form",
        validate={"incident_date": TODAY.isoformat(), "incident_behavior": "physical_threat"},
    )
    dispatcher, events = await run(inc_actions.ValidateIncidentForm(), tracker)
    assert SlotSet("incident_date", (TODAY - timedelta(days=2)).isoformat()) in events
    assert SlotSet("incident_behavior", "physical_threat") in events
    assert dispatcher.messages == []


async def test_a_correction_instead_of_the_note_changes_the_day():
    tracker = make_tracker(
        "deny",
        "nein, am montag",
        active_loop="incident_form",
        slots={"requested_slot": "incident_note", "incident_date": TODAY.isoformat()},
        validate={"incident_note": "nein, am montag"},
    )
    dispatcher, events = await run(inc_actions.ValidateIncidentForm(), tracker)
    assert slot_events(events)["incident_date"] == MONDAY.isoformat()
    assert slot_events(events)["incident_note"] is None
    assert "korrigiert" in texts(dispatcher)


def _behaviour_answer(said: str):
    return make_tracker(
        "inform",
        said,
        active_loop="incident_form",
        slots={"requested_slot": "incident_behavior"},
        validate={"incident_behavior": said},
    )


async def test_an_incident_in_own_words_needs_a_matching_boundary():
    said = "wieder Nachrichten nach Feierabend"
    dispatcher, events = await run(inc_actions.ValidateIncidentForm(), _behaviour_answer(said))
    assert slot_events(events)["incident_behavior"] is None
    assert "keinem Verhalten zuordnen" in texts(dispatcher)
    repo().set_boundary("alice", escalation.custom_key(OWN), 3, 30, label=OWN)
    dispatcher, events = await run(inc_actions.ValidateIncidentForm(), _behaviour_answer(said))
    assert slot_events(events)["incident_behavior"] == bnd.TEXT_PREFIX + OWN
    assert dispatcher.messages == []


async def test_a_no_to_the_safety_offer_that_corrects_the_day_starts_the_form():
    slots = {"danger_kind": "threat", "client_name": "Frau Krüger"}
    _, events = await run(
        inc_actions.ActionDeclineDangerIncident(), make_tracker("deny", "nein, am montag", slots)
    )
    assert FollowupAction("incident_form") in events
    assert slot_events(events)["incident_behavior"] == "physical_threat"
    dispatcher, events = await run(
        inc_actions.ActionDeclineDangerIncident(), make_tracker("deny", "Nein, jetzt nicht", slots)
    )
    assert dispatcher.messages[0]["response"] == "utter_safety_declined" and events == []


async def test_a_request_describing_an_own_boundary_prefills_it():
    repo().set_boundary("alice", escalation.custom_key(OWN), 3, 30, label=OWN)
    said = "Vorfall erfassen: Herr Brandt schreibt mir Nachrichten nach Feierabend"
    _, events = await run(inc_actions.ActionStartIncident(), make_tracker("log_incident", said))
    assert slot_events(events)["incident_behavior"] == bnd.TEXT_PREFIX + OWN
