"""A new session (bot/session.py, actions/session.py): what carries over, the welcome back."""

from __future__ import annotations

from pathlib import Path

from rasa_sdk.executor import CollectingDispatcher
from trackers import DOMAIN, make_tracker

from actions.session import ActionSessionStart, open_form_slots
from bot import session

ROOT = Path(__file__).resolve().parent.parent


def test_case_client_and_finished_answers_carry_over_transient_flags_do_not() -> None:
    old = {
        "case": "abusive",
        "client_name": "Herr Brandt",
        "fault_what": "Lieferung zu spät",  # a finished form's answer
        "rp_scenario": "late_payer",
        "requested_slot": None,
        "cancelled": True,
        "delete_confirm": True,
        "topic": None,
    }
    assert session.carried_slots(old) == {
        "case": "abusive",
        "client_name": "Herr Brandt",
        "fault_what": "Lieferung zu spät",
        "rp_scenario": "late_payer",
    }


def test_a_half_filled_form_does_not_carry_over() -> None:
    old = {
        "case": "abusive",
        "abuse_frequency": "mehrmals",
        "requested_slot": "abuse_severity",
    }
    carried = session.carried_slots(old, ["abuse_frequency", "abuse_severity"])
    assert carried == {"case": "abusive"}


def test_an_unfinished_roleplay_ends_but_scenario_and_level_stay() -> None:
    old = {
        "roleplay_active": True,
        "rp_state": {"turn": 7},
        "rp_utterance": "Das ist doch lächerlich!",
        "rp_scenario": "late_payer",
        "rp_difficulty": 2,
    }
    assert session.carried_slots(old) == {"rp_scenario": "late_payer", "rp_difficulty": 2}
    finished = {"roleplay_active": False, "rp_state": {"turn": 9}, "rp_scenario": "late_payer"}
    assert session.carried_slots(finished) == finished


def test_welcome_back_names_the_client() -> None:
    welcome = session.welcome_back({"case": "abusive", "client_name": "Herr Brandt"})
    assert welcome is not None
    assert welcome.text == "Letztes Mal ging es um Herrn Brandt – weiter damit oder etwas Neues?"
    assert welcome.buttons == [
        {"title": "Weiter damit", "payload": "/report_abuse"},
        {"title": "Etwas Neues", "payload": "/greet"},
    ]


def test_welcome_back_names_the_case_without_a_client() -> None:
    welcome = session.welcome_back({"case": "our_fault"})
    assert welcome is not None
    assert welcome.text.startswith("Letztes Mal ging es um einen Fehler auf unserer Seite")
    assert [b["payload"] for b in welcome.buttons] == ["/report_own_fault", "/greet"]


def test_welcome_back_after_a_roleplay_offers_to_practise_again() -> None:
    welcome = session.welcome_back({"roleplay_active": True, "case": "abusive"})
    assert welcome is not None and "Rollenspiel" in welcome.text
    assert [b["payload"] for b in welcome.buttons] == ["/start_roleplay", "/greet"]


def test_no_welcome_back_without_anything_to_go_on_with() -> None:
    assert session.welcome_back({}) is None
    assert session.welcome_back({"case": None, "client_name": None, "topic": "legal"}) is None


async def test_the_action_starts_the_session_with_the_carried_slots_and_the_welcome() -> None:
    tracker = make_tracker(
        intent="deny",
        slots={
            "case": "abusive",
            "client_name": "Herr Brandt",
            "abuse_frequency": "mehrmals",
            "requested_slot": "abuse_severity",
        },
        active_loop="abusive_form",
    )
    assert "abuse_frequency" in open_form_slots(tracker, DOMAIN)
    dispatcher = CollectingDispatcher()
    events = await ActionSessionStart().run(dispatcher, tracker, DOMAIN)

    assert events[0]["event"] == "session_started"
    assert events[-1]["event"] == "action" and events[-1]["name"] == "action_listen"
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots == {"case": "abusive", "client_name": "Herr Brandt"}
    assert [m["text"] for m in dispatcher.messages] == [
        "Letztes Mal ging es um Herrn Brandt – weiter damit oder etwas Neues?"
    ]


async def test_a_new_user_gets_a_silent_session_start() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionSessionStart().run(dispatcher, make_tracker(), DOMAIN)
    assert [e["event"] for e in events] == ["session_started", "action"]
    assert dispatcher.messages == []


class _Processor:
    """What ``MessageProcessor._update_tracker_session`` uses of the processor."""

    def __init__(self) -> None:
        from rasa.shared.core.domain import Domain

        self.domain = Domain.load(str(ROOT / "domain.yml"))
        self.nlg = None
        self.ran: list = []

    async def _run_action(self, action, tracker, output_channel, nlg, prediction) -> None:
        self.ran.append(action)

    def _has_session_expired(self, tracker) -> bool:
        return False


async def test_a_new_conversation_starts_its_session_without_the_action_server() -> None:
    from rasa.core.actions.action import ActionSessionStart as BuiltIn
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from connectors import speedups

    assert speedups.install()
    processor = _Processor()
    new = DialogueStateTracker("new", processor.domain.slots)
    await MessageProcessor._update_tracker_session(processor, new, None)
    assert [type(action) for action in processor.ran] == [BuiltIn]  # not the RemoteAction

    going_on = DialogueStateTracker("old", processor.domain.slots)
    for event in (ActionExecuted("action_listen"), UserUttered("Hallo")):
        going_on.update(event, processor.domain)
    processor.ran.clear()
    await MessageProcessor._update_tracker_session(processor, going_on, None)
    assert processor.ran == []  # not expired: no session start at all
