"""The tracker store keeps conversations across restarts, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import List

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot.storage import tracker_events
from connectors.tracker_store import (
    WINDOW_KEEP_TURNS,
    WINDOW_MAX_TURNS,
    KlartextTrackerStore,
    latest_session,
    url_to_params,
    window_cut,
)

ROOT = Path(__file__).resolve().parent.parent

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, report_abuse]
slots:
  case:
    type: categorical
    values: [our_fault, extra_requests, false_claims, abusive]
    influence_conversation: false
    mappings: [{type: custom}]
responses:
  utter_greet:
  - text: "Hallo!"
actions: [action_start_case]
"""
)


def _conversation(sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    events: List[Event] = [
        ActionExecuted("action_listen"),
        UserUttered("Hallo 👋 <b>du</b>", intent={"name": "greet", "confidence": 0.98}),
        ActionExecuted("utter_greet"),
        BotUttered("Hallo! Wie kann ich dir helfen?"),
        ActionExecuted("action_listen"),
        UserUttered(
            "Ein Kunde hat mich gerade am Telefon übel beschimpft",
            intent={"name": "report_abuse", "confidence": 0.95},
        ),
        ActionExecuted("action_start_case"),
        SlotSet("case", "abusive"),
        ActionExecuted("action_listen"),
    ]
    for event in events:
        tracker.update(event, DOMAIN)
    return tracker


def _as_dicts(tracker: DialogueStateTracker) -> List[dict]:
    return [event.as_dict() for event in tracker.events]


async def _save_and_reload(url: str, sender: str) -> None:
    original = _conversation(sender)

    store = KlartextTrackerStore(domain=DOMAIN, url=url)
    await store.save(original)
    store.engine.dispose()

    reopened = KlartextTrackerStore(domain=DOMAIN, url=url)  # a fresh connection
    try:
        loaded = await reopened.retrieve(sender)
        assert loaded is not None, "conversation was not stored"
        assert _as_dicts(loaded) == _as_dicts(original)
        assert loaded.get_slot("case") == "abusive"
        assert loaded.latest_message.text == "Ein Kunde hat mich gerade am Telefon übel beschimpft"
        assert sender in set(await reopened.keys())

        # further events are appended, not duplicated
        loaded.update(UserUttered("danke", intent={"name": "thank", "confidence": 1.0}), DOMAIN)
        await reopened.save(loaded)
        again = await reopened.retrieve(sender)
        assert again is not None
        assert len(again.events) == len(original.events) + 1
        assert await reopened.retrieve(f"unknown-{uuid.uuid4().hex}") is None
    finally:
        reopened.engine.dispose()


async def test_sqlite_saves_and_reloads_conversation(tmp_path: Path) -> None:
    db = tmp_path / "nested" / "tracker.db"  # missing folders are created
    await _save_and_reload(f"sqlite:///{db}", "sqlite-user")
    assert db.is_file()


def test_sqlite_commits_through_the_write_ahead_log(tmp_path: Path) -> None:
    """SQLite: WAL with synchronous=NORMAL, so a commit does not wait for the disk."""
    store = KlartextTrackerStore(domain=DOMAIN, url=f"sqlite:///{tmp_path / 'tracker.db'}")
    try:
        with store.engine.connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
        assert (mode, synchronous) == ("wal", 1)  # 1 = NORMAL
    finally:
        store.engine.dispose()


@pytest.mark.postgres
async def test_postgres_saves_and_reloads_conversation(postgres_url: str) -> None:
    sender = f"test-pg-{uuid.uuid4().hex}"
    try:
        await _save_and_reload(postgres_url, sender)
    finally:
        engine = sa.create_engine(postgres_url)
        with engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM events WHERE sender_id = :s"), {"s": sender})
        engine.dispose()


def test_default_url_comes_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLARTEXT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("KLARTEXT_TRACKER_STORE_URL", "")
    store = KlartextTrackerStore(domain=DOMAIN)
    try:
        assert store.url.get_backend_name() == "sqlite"
        assert Path(store.url.database) == tmp_path / "tracker.db"
    finally:
        store.engine.dispose()


def test_endpoints_yml_loads_this_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rasa falls back to an in-memory store on a bad `type` – make sure it doesn't."""
    monkeypatch.setenv("KLARTEXT_TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'from-env.db'}")
    config = read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store")
    assert config is not None
    store = TrackerStore.create(config, domain=DOMAIN)
    inner = getattr(store, "_tracker_store", store)  # Rasa may wrap it
    assert isinstance(inner, KlartextTrackerStore)
    assert Path(inner.url.database) == tmp_path / "from-env.db"
    inner.engine.dispose()


def test_url_parsing() -> None:
    params = url_to_params("postgresql://klartext:geheim@db.example:6543/coach?sslmode=require")
    assert params == {
        "dialect": "postgresql",
        "host": "db.example",
        "port": 6543,
        "db": "coach",
        "username": "klartext",
        "password": "geheim",
        "query": {"sslmode": "require"},
    }
    with pytest.raises(ValueError):
        url_to_params("not a url")


def test_unreachable_database_fails_fast() -> None:
    # port 1 on loopback: connection refused at once; no endless retry loop
    with pytest.raises(ConnectionError, match="tracker store"):
        KlartextTrackerStore(
            domain=DOMAIN, url="postgresql://nobody@127.0.0.1:1/none", connect_timeout=0
        )


# --------------------------------------------------------------------------- bounded window
LONG_DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, report_abuse, thank]
slots:
  case:
    type: categorical
    values: [our_fault, extra_requests, false_claims, abusive]
    influence_conversation: false
    mappings: [{type: custom}]
  turn:
    type: any
    influence_conversation: false
    mappings: [{type: custom}]
  abuse_frequency:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
forms:
  abusive_form:
    required_slots: [abuse_frequency]
actions: [action_start_case]
"""
)


def _turn(number: int) -> List[Event]:
    return [
        UserUttered(f"Nachricht {number}", intent={"name": "thank", "confidence": 1.0}),
        ActionExecuted("action_start_case"),
        SlotSet("turn", number),
        ActionExecuted("action_listen"),
    ]


async def _play(store: KlartextTrackerStore, sender: str, turns: int) -> None:
    """``turns`` messages, each loaded and saved like the Rasa server does."""
    for number in range(turns):
        tracker = await store.retrieve(sender)
        if tracker is None:
            tracker = DialogueStateTracker(sender, LONG_DOMAIN.slots)
            tracker.update(ActionExecuted("action_listen"), LONG_DOMAIN)
        events = _turn(number)
        if number == 0:  # a case and an active form set long ago
            events[2:2] = [SlotSet("case", "abusive"), ActiveLoop("abusive_form")]
        for event in events:
            tracker.update(event, LONG_DOMAIN)
        await store.save(tracker)


def _users(tracker: DialogueStateTracker) -> List[str]:
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


async def test_a_long_conversation_loads_a_bounded_window_with_its_whole_state(
    tmp_path: Path,
) -> None:
    store = KlartextTrackerStore(domain=LONG_DOMAIN, url=f"sqlite:///{tmp_path / 't.db'}")
    await _play(store, "long", 100)

    tracker = await store.retrieve("long")
    assert tracker is not None
    users = _users(tracker)
    assert WINDOW_KEEP_TURNS <= len(users) <= WINDOW_MAX_TURNS
    assert users[-1] == "Nachricht 99"
    assert tracker.get_slot("case") == "abusive"  # set in turn 0, long out of the window
    assert tracker.get_slot("turn") == 99
    assert tracker.active_loop_name == "abusive_form"
    assert tracker.latest_action_name == "action_listen"

    full = await store.retrieve_full_tracker("long")  # HTTP API: every event
    assert _users(full) == [f"Nachricht {n}" for n in range(100)]
    exported = tracker_events.export_events(store.engine, "long")
    assert [e["text"] for e in exported if e["event"] == "user"] == _users(full)
    assert not any(e.get("name") == "action_session_start" for e in exported)  # no snapshot rows
    store.engine.dispose()


async def test_the_window_matches_the_full_conversation_at_every_length(tmp_path: Path) -> None:
    store = KlartextTrackerStore(domain=LONG_DOMAIN, url=f"sqlite:///{tmp_path / 't.db'}")
    for turns in (1, WINDOW_MAX_TURNS, WINDOW_MAX_TURNS + 1, 3 * WINDOW_MAX_TURNS):
        sender = f"s{turns}"
        await _play(store, sender, turns)
        window, full = await store.retrieve(sender), await store.retrieve_full_tracker(sender)
        assert window.current_slot_values() == full.current_slot_values()
        assert window.active_loop_name == full.active_loop_name
        assert window.latest_message.text == full.latest_message.text
        assert _users(window) == _users(full)[-len(_users(window)) :]
    store.engine.dispose()


async def test_a_session_start_ends_the_window(tmp_path: Path) -> None:
    store = KlartextTrackerStore(domain=LONG_DOMAIN, url=f"sqlite:///{tmp_path / 't.db'}")
    await _play(store, "s", 5)
    tracker = await store.retrieve("s")
    for event in (
        ActionExecuted("action_session_start"),
        SessionStarted(),
        SlotSet("case", "abusive"),
        ActionExecuted("action_listen"),
        *_turn(5),
    ):
        tracker.update(event, LONG_DOMAIN)
    await store.save(tracker)
    again = await store.retrieve("s")
    assert _users(again) == ["Nachricht 5"]
    assert again.get_slot("case") == "abusive" and again.get_slot("turn") == 5
    assert len(_users(await store.retrieve_full_tracker("s"))) == 6
    store.engine.dispose()


async def test_erasing_and_purging_remove_the_snapshot(tmp_path: Path) -> None:
    store = KlartextTrackerStore(domain=LONG_DOMAIN, url=f"sqlite:///{tmp_path / 't.db'}")
    await _play(store, "gone", 3 * WINDOW_MAX_TURNS)
    await _play(store, "old", 3 * WINDOW_MAX_TURNS)

    def snapshot_senders() -> set:
        with store.engine.connect() as conn:
            return set(conn.execute(sa.select(tracker_events.snapshots.c.sender_id)).scalars())

    assert snapshot_senders() == {"gone", "old"}
    assert tracker_events.delete_events(store.engine, "gone") > 0
    assert await store.retrieve("gone") is None
    assert snapshot_senders() == {"old"}
    tracker_events.purge_events_before(store.engine, time.time() + 60)
    assert snapshot_senders() == set()
    assert await store.retrieve("old") is None
    store.engine.dispose()


def test_the_window_starts_at_a_turn_boundary() -> None:
    def rows(*kinds: str) -> list:
        events = {"l": {"event": "action", "name": "action_listen"}, "u": {"event": "user"}}
        return [
            (i + 1, events.get(k, {"event": "action", "name": "x"})) for i, k in enumerate(kinds)
        ]

    conversation = rows("l", "u", "x", "l", "u", "x", "l", "u", "x", "l")
    assert window_cut(conversation, keep_turns=2, max_turns=3) is None
    assert window_cut(conversation + rows("u"), keep_turns=2, max_turns=3) == 6
    assert latest_session(conversation) == (conversation, False)
