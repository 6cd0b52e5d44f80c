"""The tracker store keeps conversations across restarts, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import List

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from connectors.tracker_store import KlartextTrackerStore, url_to_params

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
