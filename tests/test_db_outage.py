"""The database-down notice of ``connectors/guard.py`` (unit tests).

The end-to-end run – a private PostgreSQL stopped under two Rasa replicas and started again –
is ``tests/test_replicas.py::test_postgres_down_users_get_a_notice_and_nothing_is_lost``.
"""

from __future__ import annotations

from types import SimpleNamespace

import psycopg2
import pytest
import sqlalchemy as sa
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from connectors import texts
from connectors.guard import handle_safely, install_action_guard, outage_notice

NOTICE = texts.reply("database_unavailable")


def _operational_error() -> sa.exc.OperationalError:
    return sa.exc.OperationalError("SELECT 1", {}, psycopg2.OperationalError("connection refused"))


def test_the_notice_is_german_du_and_says_nothing_is_lost() -> None:
    assert "kurz nicht erreichbar" in NOTICE
    assert "deine Nachricht" in NOTICE and "nicht verloren" in NOTICE


@pytest.mark.parametrize(
    "error",
    [
        _operational_error(),
        sa.exc.InterfaceError("SELECT 1", {}, psycopg2.InterfaceError("connection already closed")),
    ],
)
def test_database_errors_get_the_notice(error: Exception) -> None:
    assert outage_notice(error) == NOTICE


def test_a_wrapped_database_error_gets_the_notice() -> None:
    try:
        try:
            raise _operational_error()
        except sa.exc.OperationalError as inner:
            raise RuntimeError("while saving the tracker") from inner
    except RuntimeError as outer:
        assert outage_notice(outer) == NOTICE


@pytest.mark.parametrize(
    "error",
    [RuntimeError("kaputt"), sa.exc.IntegrityError("INSERT", {}, ValueError("duplicate"))],
)
def test_other_errors_get_no_database_notice(error: Exception) -> None:
    assert outage_notice(error) is None


async def test_handle_safely_sends_the_notice_when_the_database_is_down() -> None:
    async def database_down(message: UserMessage) -> None:
        raise _operational_error()

    collector = CollectingOutputChannel()
    ok = await handle_safely(database_down, UserMessage("hallo", collector, "u"), agent=None)
    assert ok is False
    assert [m.get("text") for m in collector.messages] == [NOTICE]


class _DownStore(InMemoryTrackerStore):
    async def retrieve(self, sender_id: str):
        raise _operational_error()

    async def save(self, tracker) -> None:
        raise _operational_error()


async def test_the_storage_guard_makes_the_fail_safe_store_raise() -> None:
    """Without it Rasa goes on with an empty in-memory conversation and stores nothing."""
    store = FailSafeTrackerStore(_DownStore(Domain.empty()))
    assert await store.retrieve("u") is None  # Rasa's silent fall-back
    agent = SimpleNamespace(tracker_store=store, action_endpoint=None, processor=None)
    install_action_guard(agent)
    with pytest.raises(sa.exc.OperationalError):
        await store.retrieve("u")
    with pytest.raises(sa.exc.OperationalError):
        await store.save(DialogueStateTracker("u", []))
    assert await store.fallback_tracker_store.retrieve("u") is None  # nothing fell back
