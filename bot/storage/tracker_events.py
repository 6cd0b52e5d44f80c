"""Direct access to Rasa's conversation events (table ``events`` of the SQL tracker store).

Rasa 3.6 has no API to export or delete one sender's conversation, so this module reads and
deletes the rows itself, with SQLAlchemy Core, on SQLite and PostgreSQL alike. Every function
takes the tracker store URL (or an engine already connected to it) and works on exactly one
``sender_id``; a missing table simply means "no conversations yet".

Deleting rows while the Rasa server handles a message of the same sender is not enough:
the server keeps the conversation in memory for the request and saves it afterwards. The
action that deletes therefore sets the slot :data:`ERASE_SLOT`; ``connectors.export`` makes
the server drop such a conversation instead of saving it (see :func:`erase_requested`).
"""

from __future__ import annotations

import json
import threading
from typing import Any, Iterable, Mapping, Union

import sqlalchemy as sa
from sqlalchemy.engine import Engine

ERASE_SLOT = "data_erased"
TABLE = "events"

_events = sa.table(
    TABLE,
    sa.column("id", sa.Integer),
    sa.column("sender_id", sa.String),
    sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float),
    sa.column("data", sa.Text),
)

_lock = threading.Lock()
_engines: dict[str, Engine] = {}

Target = Union[str, Engine]


def _engine(target: Target) -> Engine:
    if isinstance(target, Engine):
        return target
    with _lock:
        engine = _engines.get(target)
        if engine is None:
            if target.startswith("sqlite"):
                engine = sa.create_engine(
                    target, future=True, connect_args={"check_same_thread": False, "timeout": 15}
                )
            else:
                engine = sa.create_engine(
                    target, future=True, pool_pre_ping=True, pool_size=2, max_overflow=2
                )
            _engines[target] = engine
        return engine


def _has_table(engine: Engine) -> bool:
    return sa.inspect(engine).has_table(TABLE)


def count_events(target: Target, sender_id: str) -> int:
    """How many conversation events the tracker store holds for ``sender_id``."""
    engine = _engine(target)
    if not _has_table(engine):
        return 0
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(_events).where(_events.c.sender_id == sender_id)
        ).scalar_one()


def export_events(target: Target, sender_id: str) -> list[dict[str, Any]]:
    """All stored events of ``sender_id`` (every session), oldest first, as Rasa wrote them."""
    engine = _engine(target)
    if not _has_table(engine):
        return []
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(_events.c.data).where(_events.c.sender_id == sender_id).order_by(_events.c.id)
        ).scalars()
        result = []
        for data in rows:
            try:
                result.append(json.loads(data))
            except (TypeError, ValueError):
                result.append({"raw": data})
        return result


def delete_events(target: Target, sender_id: str) -> int:
    """Delete every stored event of ``sender_id``; returns how many rows went."""
    engine = _engine(target)
    if not _has_table(engine):
        return 0
    with engine.begin() as conn:
        return (
            conn.execute(sa.delete(_events).where(_events.c.sender_id == sender_id)).rowcount or 0
        )


def purge_events_before(target: Target, cutoff_timestamp: float, *, dry_run: bool = False) -> int:
    """Retention: delete (or count) all events older than ``cutoff_timestamp`` (Unix time)."""
    engine = _engine(target)
    if not _has_table(engine):
        return 0
    condition = _events.c.timestamp < cutoff_timestamp
    with engine.begin() as conn:
        if dry_run:
            return conn.execute(
                sa.select(sa.func.count()).select_from(_events).where(condition)
            ).scalar_one()
        return conn.execute(sa.delete(_events).where(condition)).rowcount or 0


def erase_requested(events: Iterable[Any]) -> bool:
    """Whether the current turn asked to erase the conversation.

    The current turn is the events after the latest user message; the request is a
    ``SlotSet`` of :data:`ERASE_SLOT` to true. Accepts Rasa event objects or their dict form,
    newest last.
    """
    newest_first = reversed(events) if hasattr(events, "__reversed__") else reversed(list(events))
    for event in newest_first:  # no copy of a long conversation on every save
        if isinstance(event, Mapping):
            kind, name, value = event.get("event"), event.get("name"), event.get("value")
        else:
            kind = getattr(event, "type_name", None)
            name, value = getattr(event, "key", None), getattr(event, "value", None)
        if kind == "user":
            return False
        if kind == "slot" and name == ERASE_SLOT and value is True:
            return True
    return False
