"""The role-play actions with a real Tracker and CollectingDispatcher."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher
from trackers import DOMAIN, make_tracker, texts

from actions import roleplay as rp
from bot import roleplay
from bot.roleplay import session

pytestmark = pytest.mark.usefixtures("isolated_db")


def slot_events(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def validate_turn(state, text):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "affirm",
        text,
        slots={"rp_state": state, "roleplay_active": True},
        active_loop="roleplay_form",
    )
    result = rp.ValidateRoleplayForm().validate_rp_utterance(text, dispatcher, tracker, DOMAIN)
    return result, dispatcher


async def test_setup_suggests_the_users_real_case():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "start_roleplay", slots={"case": "abusive", "client_name": "Herr Yilmaz"}
    )
    events = slot_events(await rp.ActionRoleplaySetup().run(dispatcher, tracker, DOMAIN))
    assert events["rp_suggested"] in {"insults_staff", "threatens_reviews"}
    assert "Herr Yilmaz" in texts(dispatcher)
    dispatcher = CollectingDispatcher()
    await rp.ActionAskRpScenario().run(
        dispatcher, make_tracker(slots={"rp_suggested": events["rp_suggested"]}), DOMAIN
    )
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert titles[0].startswith("Mein Fall") and titles[-1] == "Überrasch mich"
    assert len(titles) == len(roleplay.list_scenarios()) + 2


async def test_setup_without_history_suggests_nothing():
    dispatcher = CollectingDispatcher()
    events = slot_events(
        await rp.ActionRoleplaySetup().run(dispatcher, make_tracker("start_roleplay"), DOMAIN)
    )
    assert events["rp_suggested"] is None and dispatcher.messages == []


@pytest.mark.parametrize(
    "answer,ok", [("extras", True), ("3", True), ("überrasch mich", True), ("quatsch", False)]
)
def test_scenario_choice(answer, ok):
    dispatcher = CollectingDispatcher()
    result = rp.ValidateRoleplaySetupForm().validate_rp_scenario(
        answer, dispatcher, make_tracker(), DOMAIN
    )
    assert (result["rp_scenario"] is not None) == ok
    assert (dispatcher.messages == []) == ok


@pytest.mark.parametrize(
    "answer,level", [("1", "1"), ("schwer", "3"), ("mittel", "2"), ("irgendwie", None)]
)
def test_difficulty_choice(answer, level):
    result = rp.ValidateRoleplaySetupForm().validate_rp_difficulty(
        answer, CollectingDispatcher(), make_tracker(), DOMAIN
    )
    assert result["rp_difficulty"] == level


async def test_start_then_turns_hint_pause_restart_stop():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"rp_scenario": "late_payer", "rp_difficulty": "2"})
    events = slot_events(await rp.ActionRoleplayStart().run(dispatcher, tracker, DOMAIN))
    assert events["roleplay_active"] is True and events["rp_state"]["scenario_id"] == "late_payer"
    assert len(dispatcher.messages) >= 2  # briefing + the client's first line
    state = events["rp_state"]

    result, d = validate_turn(state, "Ich möchte die Zusammenarbeit beenden.")
    assert (
        result["rp_utterance"] is None and result["rp_state"]["turn"] == 1
    )  # in character, not a command
    state = result["rp_state"]

    result, d = validate_turn(state, "Tipp?")
    assert d.messages[0]["text"].startswith("Tipp") and "rp_state" not in result

    result, d = validate_turn(state, "Pause")
    assert result["rp_state"]["paused"] is True
    paused = result["rp_state"]
    result, d = validate_turn(paused, "Wir beenden die Zusammenarbeit.")
    assert "Pause" in texts(d) and "rp_state" not in result
    result, d = validate_turn(paused, "weiter")
    assert result["rp_state"]["paused"] is False

    result, d = validate_turn(state, "nochmal von vorn")
    assert result["rp_state"]["turn"] == 0 and result["rp_state"]["restarts"] == 1

    result, d = validate_turn(state, "stopp")
    assert result["rp_utterance"] == rp.DONE and result["rp_state"]["stopped"] is True


async def test_feedback_sets_the_score_and_stores_the_result():
    from actions.common import repository

    state, _ = roleplay.start("extras", 1, seed=7)
    for line in [
        "Wir beenden die Zusammenarbeit zum 30. Juni, "
        "weil die Zusatzwünsche ohne Bezahlung überhandnehmen.",
        "Ich verstehe Ihren Ärger. "
        "Ich übergebe Ihnen alle Unterlagen und empfehle Ihnen einen Kollegen.",
        "Danke für die gute Zusammenarbeit.",
    ] * 3:
        state, _, finished = roleplay.turn(state, line)
        if finished:
            break
    dispatcher = CollectingDispatcher()
    events = slot_events(
        await rp.ActionRoleplayFeedback().run(
            dispatcher, make_tracker(slots={"rp_state": state}, sender="bob"), DOMAIN
        )
    )
    assert 0 <= events["roleplay_score"] <= 100 and events["roleplay_active"] is False
    assert "Auswertung" in texts(dispatcher)
    stored = repository().roleplays("bob")
    assert len(stored) == 1 and stored[0].overall == events["roleplay_score"]
    assert stored[0].transcript and stored[0].scenario_id == "extras"


async def test_stop_before_saying_anything_stores_nothing():
    from actions.common import repository

    state, _ = roleplay.start("extras", 1, seed=7)
    dispatcher = CollectingDispatcher()
    events = slot_events(
        await rp.ActionRoleplayFeedback().run(
            dispatcher,
            make_tracker(slots={"rp_state": {**state, "stopped": True}}, sender="carl"),
            DOMAIN,
        )
    )
    assert "roleplay_score" not in events and repository().roleplays("carl") == []


async def test_progress_report():
    from actions.common import repository

    for overall, clarity in [(40.0, 0.3), (70.0, 0.8)]:
        repository().save_roleplay(
            "dora",
            scenario_id="extras",
            difficulty=1,
            overall=overall,
            scores={"clarity": clarity, "respect": 0.9},
            transcript=[],
        )
    dispatcher = CollectingDispatcher()
    await rp.ActionRoleplayProgress().run(dispatcher, make_tracker(sender="dora"), DOMAIN)
    report = texts(dispatcher)
    assert (
        "abgeschlossene Rollenspiele: 2" in report
        and "Klarheit: 30 % → 80 %" in report
        and "↑" in report
    )
    dispatcher = CollectingDispatcher()
    await rp.ActionRoleplayProgress().run(dispatcher, make_tracker(sender="nobody"), DOMAIN)
    assert "noch kein Rollenspiel" in texts(dispatcher)


async def test_progress_recommends_the_actual_weakest_criterion_or_nothing():
    from actions.common import repository

    scores = {"clarity": 1.0, "reasons": 0.9, "respect": 0.95, "transition": 0.5}
    repository().save_roleplay(
        "erik", scenario_id="extras", difficulty=1, overall=80.0, scores=scores, transcript=[]
    )
    dispatcher = CollectingDispatcher()
    await rp.ActionRoleplayProgress().run(dispatcher, make_tracker(sender="erik"), DOMAIN)
    assert "Schwerpunkt: Übergabe" in texts(dispatcher), texts(dispatcher)

    all_good = {"clarity": 1.0, "reasons": 0.9, "respect": 1.0, "transition": 0.9}
    repository().save_roleplay(
        "fritz", scenario_id="extras", difficulty=1, overall=95.0, scores=all_good, transcript=[]
    )
    dispatcher = CollectingDispatcher()
    await rp.ActionRoleplayProgress().run(dispatcher, make_tracker(sender="fritz"), DOMAIN)
    report = texts(dispatcher)
    assert "Schwerpunkt" not in report and "mindestens 80 %" in report


@pytest.mark.parametrize(
    "text,cmd",
    [
        ("Tipp?", "hint"),
        ("stopp", "stop"),
        ("/stop", "stop"),
        ("Pause", "pause"),
        ("Ich möchte die Zusammenarbeit beenden", None),
        ("Wir sollten das Gespräch beenden, bevor es eskaliert", None),
        ("Ich möchte das Rollenspiel abbrechen", "stop"),
        ("ich will aufhören", "stop"),
        ("abbrechen bitte", "stop"),
    ],
)
def test_commands_are_whole_messages_only(text, cmd):
    assert session.command(text) == cmd


async def test_an_abort_phrase_ends_the_roleplay_and_is_not_quoted():
    state, _ = roleplay.start("late_payer", 2, seed=3)
    result, _ = validate_turn(state, "Naja, vielleicht sollten wir mal reden.")
    state = result["rp_state"]
    result, dispatcher = validate_turn(state, "Ich möchte das Rollenspiel abbrechen")
    assert result["rp_utterance"] == rp.DONE and result["rp_state"]["stopped"] is True
    assert dispatcher.messages == [] and result["rp_state"]["turns"] == state["turns"]
    dispatcher = CollectingDispatcher()
    await rp.ActionRoleplayFeedback().run(
        dispatcher, make_tracker(slots={"rp_state": result["rp_state"]}, sender="eve"), DOMAIN
    )
    said = texts(dispatcher)
    assert "Rollenspiel abbrechen" not in said and "was du jetzt schreibst" in said
    assert [b["payload"] for b in dispatcher.messages[-1]["buttons"]] == [
        "/start_roleplay",
        "/ask_progress",
    ]
