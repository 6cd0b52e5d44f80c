"""Direct access to Rasa's conversation events (table ``events`` of the SQL tracker store).

Rasa 3.6 has no API to export or delete one sender's conversation, so this module reads and
deletes the rows itself, with SQLAlchemy Core, on SQLite and PostgreSQL alike. Every function
takes the tracker store URL (or an engine already connected to it) and works on exactly one
``sender_id``; a missing table simply means "no conversations yet".

Deleting rows while the Rasa server handles a message of the same sender is not enough:
the server keeps the conversation in memory for the request and saves it afterwards. The
action that deletes therefore sets the slot :data:`ERASE_SLOT`; ``connectors.export`` makes
the server drop such a conversation instead of saving it (see :func:`erase_requested`).

Long conversations: the tracker store (``connectors/tracker_store.py``) loads only a bounded
window of recent events plus a *snapshot* – the conversation's state (slots, active form)
just before that window, kept as a short list of events in the table :data:`SNAPSHOT_TABLE`.
The snapshot is derived data: every event stays in ``events`` (the export reads all of them),
and erasing or purging a conversation removes its snapshot too.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any, Iterable, Mapping, Union

import sqlalchemy as sa
from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)

ERASE_SLOT = "data_erased"
TABLE = "events"
SNAPSHOT_TABLE = "klartext_tracker_snapshots"

_events = sa.table(
    TABLE,
    sa.column("id", sa.Integer),
    sa.column("sender_id", sa.String),
    sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float),
    sa.column("data", sa.Text),
)

#: the state of a conversation just before its loaded window (see the module docstring)
SNAPSHOT_METADATA = sa.MetaData()
snapshots = sa.Table(
    SNAPSHOT_TABLE,
    SNAPSHOT_METADATA,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("after_id", sa.Integer, nullable=False),  # the last event the snapshot covers
    sa.Column("events", sa.Text, nullable=False),  # JSON list of Rasa event dicts
    sa.Column("updated", sa.Float, nullable=False),  # Unix time of the last change
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
    """Delete every stored event of ``sender_id`` and its snapshot; returns how many events went."""
    engine = _engine(target)
    if not _has_table(engine):
        return 0
    with engine.begin() as conn:
        if _has_snapshots(conn):
            conn.execute(sa.delete(snapshots).where(snapshots.c.sender_id == sender_id))
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
        if _has_snapshots(conn):  # a snapshot not renewed since the cutoff holds old state
            conn.execute(sa.delete(snapshots).where(snapshots.c.updated < cutoff_timestamp))
        return conn.execute(sa.delete(_events).where(condition)).rowcount or 0


def _has_snapshots(conn: sa.engine.Connection) -> bool:
    return sa.inspect(conn).has_table(SNAPSHOT_TABLE)


# --------------------------------------------------------------------------- bounded window
def create_snapshot_table(engine: Engine) -> None:
    """Create the snapshot table if missing; on a server database also a window index.

    SQLite's index on ``sender_id`` already orders by row id, so a window read is a range scan
    there; PostgreSQL needs ``(sender_id, id)`` for that.
    """
    try:
        SNAPSHOT_METADATA.create_all(engine)
        if engine.dialect.name != "sqlite":
            table = sa.Table(TABLE, sa.MetaData(), autoload_with=engine)
            index = sa.Index("ix_klartext_events_sender_id_id", table.c.sender_id, table.c.id)
            index.create(engine, checkfirst=True)
    except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.IntegrityError) as exc:
        # several replicas starting at once: another one created it first (as Rasa does)
        logger.warning("Could not create the tracker snapshot table or index: %s", exc)


def read_snapshot(conn: sa.engine.Connection, sender_id: str) -> tuple[int, list[dict[str, Any]]]:
    """The id of the last event the snapshot covers and its events (``(0, [])`` without one)."""
    row = conn.execute(
        sa.select(snapshots.c.after_id, snapshots.c.events).where(
            snapshots.c.sender_id == sender_id
        )
    ).first()
    if row is None:
        return 0, []
    return row.after_id, json.loads(row.events)


def read_events_after(
    conn: sa.engine.Connection, sender_id: str, after_id: int
) -> list[tuple[int, dict[str, Any]]]:
    """``(id, event dict)`` of the events of ``sender_id`` after ``after_id``, oldest first."""
    rows = conn.execute(
        sa.select(_events.c.id, _events.c.data)
        .where(_events.c.sender_id == sender_id, _events.c.id > after_id)
        .order_by(_events.c.id)
    )
    return [(row.id, json.loads(row.data)) for row in rows]


def write_snapshot(
    conn: sa.engine.Connection, sender_id: str, after_id: int, events: list[dict[str, Any]]
) -> None:
    """Replace the snapshot of ``sender_id``: its state after the event ``after_id``."""
    values = {"after_id": after_id, "events": json.dumps(events), "updated": time.time()}
    updated = conn.execute(
        sa.update(snapshots).where(snapshots.c.sender_id == sender_id).values(**values)
    ).rowcount
    if not updated:
        conn.execute(sa.insert(snapshots).values(sender_id=sender_id, **values))


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
