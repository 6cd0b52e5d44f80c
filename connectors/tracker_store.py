"""Rasa's SQL tracker store, configured from Klartext's settings.

``endpoints.yml``::

    tracker_store:
      type: connectors.tracker_store.KlartextTrackerStore

The database comes from ``bot.config.load_settings().tracker_store_url``
(``KLARTEXT_TRACKER_STORE_URL``; default ``sqlite:///<var>/tracker.db``), so the same
``endpoints.yml`` works on SQLite and PostgreSQL. An explicit ``url:`` in ``endpoints.yml``
wins over the settings. Further keys (``login_db``, ``connect_timeout`` …) are passed on.

Rasa 3.6 instantiates a custom store as
``cls(host=<url from endpoints.yml>, domain=domain, event_broker=event_broker, **kwargs)``
(``rasa.core.tracker_store._load_from_module_name_in_endpoint_config``) and silently falls
back to the in-memory store when that raises ``AttributeError`` or ``ImportError`` – so
this constructor raises neither for a bad configuration (``ValueError``/``ConnectionError``
instead). Unlike the stock ``SQLTrackerStore``, which retries an unreachable database
forever, it gives up after ``connect_timeout`` seconds with a clear ``ConnectionError``.

Long conversations cost what short ones cost. The stock store loads every event of the
current session on each message (a Slack user's direct messages are one session for months)
and counts them again on each save, and everything downstream – the policies' states, the
tracker sent to the action server – grows with it. This store loads a bounded window instead:

* ``retrieve`` reads the conversation's *snapshot* (a session start carrying its slots and
  active form, ``bot/storage/tracker_events.py``) and the events after it. Once the window
  holds more than :data:`WINDOW_MAX_TURNS` user messages, its older part is folded into a new
  snapshot, so it keeps :data:`WINDOW_KEEP_TURNS` to :data:`WINDOW_MAX_TURNS` user messages.
  A session start inside the window makes everything before it unnecessary (Rasa's own rule).
* ``save`` appends the events added since the tracker was loaded, without counting the
  stored ones.
* Every event stays stored: ``retrieve_full_tracker`` (HTTP API) and the data export read all
  of them. What the coach needs from long ago comes from its own database, not the tracker.

On SQLite (the zero-set-up default) every connection uses the write-ahead log with
``synchronous=NORMAL``, like the coach's own database (``bot/storage/db.py``): a commit no
longer waits for the disk (``fsync``), which was the largest single item of a short
conversation's turn (13 % of the Rasa server's samples, and it blocks the event loop). The
database stays consistent after a crash; a power cut can lose the last turns' events. The
connections stay open in a small pool (the stock engine closed the file after every session,
and closing a WAL database writes its log back with an fsync). PostgreSQL is not touched.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple, Union

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, Event, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine.url import URL, make_url

from bot.storage import tracker_events
from connectors import speedups

speedups.install()  # see connectors/speedups.py

logger = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 30.0

#: a loaded conversation holds the last WINDOW_KEEP_TURNS to WINDOW_MAX_TURNS user messages
WINDOW_KEEP_TURNS = 8
WINDOW_MAX_TURNS = 16

#: attribute of a tracker: how many of its events are in the database already
_STORED = "_klartext_stored_events"

Row = Tuple[int, Dict[str, Any]]  # (event id, event dict)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """Write-ahead log without an fsync per commit, and wait for a locked database."""
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def url_to_params(url: Union[str, URL]) -> Dict[str, Any]:
    """Split an SQLAlchemy URL into the constructor arguments of ``SQLTrackerStore``."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except Exception as exc:  # sqlalchemy.exc.ArgumentError
        raise ValueError(f"Invalid tracker store URL {url!r}: {exc}") from None
    params: Dict[str, Any] = {
        "dialect": parsed.drivername,
        "host": parsed.host,
        "port": parsed.port,
        "db": parsed.database,
        "username": parsed.username,
        "password": parsed.password,
        "query": dict(parsed.query) or None,
    }
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        params["db"] = str(path)
    return params


def configured_url() -> str:
    """The tracker store URL from the settings (environment / ``.env``)."""
    from bot.config import load_settings

    return load_settings().tracker_store_url


def inner_store(store: Any) -> Any:
    """The actual tracker store below Rasa's wrappers (AwaitableTrackerStore …)."""
    seen = set()
    while hasattr(store, "_tracker_store") and id(store) not in seen:
        seen.add(id(store))
        store = store._tracker_store
    return store


async def erase_conversation(store: Any, sender_id: str) -> int:
    """Remove everything the tracker store holds for ``sender_id``."""
    inner = inner_store(store)
    engine = getattr(inner, "engine", None)
    if engine is not None:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, tracker_events.delete_events, engine, sender_id)
    memory = getattr(inner, "store", None)  # InMemoryTrackerStore
    if isinstance(memory, dict):
        return 1 if memory.pop(sender_id, None) is not None else 0
    logger.warning("Tracker store %s cannot erase conversations", type(inner).__name__)
    return 0


async def erase_if_requested(store: Any, tracker: Any) -> bool:
    """If this turn asked to erase the conversation, delete it from ``store``; True if so."""
    if not tracker_events.erase_requested(tracker.events):
        return False
    removed = await erase_conversation(store, tracker.sender_id)
    logger.info("Erased the conversation of a user on request (%s stored events)", removed)
    return True


def latest_session(rows: List[Row]) -> Tuple[List[Row], bool]:
    """The rows from the latest session start on, and whether there was one."""
    for index in range(len(rows) - 1, -1, -1):
        event = rows[index][1]
        if event.get("event") == "action" and event.get("name") == ACTION_SESSION_START_NAME:
            return rows[index:], True
    return rows, False


def window_cut(rows: List[Row], keep_turns: int, max_turns: int) -> Optional[int]:
    """Where the window should start, or None while it holds at most ``max_turns`` messages.

    The cut is the ``action_listen`` before the ``keep_turns``-th last user message, so the
    window starts at a turn boundary and a form's question stays with its answer.
    """
    users = [index for index, (_, event) in enumerate(rows) if event.get("event") == "user"]
    if len(users) <= max_turns:
        return None
    for index in range(users[-keep_turns] - 1, 0, -1):
        event = rows[index][1]
        if event.get("event") == "action" and event.get("name") == ACTION_LISTEN_NAME:
            return index
    return None


def snapshot_events(tracker: DialogueStateTracker) -> List[Dict[str, Any]]:
    """A session start that carries the state of ``tracker``: its slots and active form."""
    timestamp = tracker.events[-1].timestamp if tracker.events else time.time()
    events: List[Event] = [
        ActionExecuted(ACTION_SESSION_START_NAME, timestamp=timestamp),
        SessionStarted(timestamp=timestamp),
    ]
    events += [
        SlotSet(slot.name, slot.value, timestamp=timestamp)
        for slot in tracker.slots.values()
        if slot.value != slot.initial_value
    ]
    if tracker.active_loop_name:
        events.append(ActiveLoop(tracker.active_loop_name, timestamp=timestamp))
    return [event.as_dict() for event in events]


class KlartextTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` whose database URL comes from Klartext's settings."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[Text] = None,
        event_broker: Optional[EventBroker] = None,
        url: Optional[Text] = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        raw_url = url or (host if host and "://" in host else None) or configured_url()
        params = url_to_params(raw_url)
        for key in ("dialect", "port", "db", "username", "password", "query"):
            if key in kwargs:  # explicit keys in endpoints.yml win over the URL
                params[key] = kwargs.pop(key)
        self.url = URL.create(
            params["dialect"],
            username=params["username"],
            password=params["password"],
            host=params["host"],
            port=params["port"],
            database=params["db"],
            query=params["query"] or {},
        )
        if self.url.get_backend_name() != "sqlite":
            login_db = kwargs.get("login_db")
            probe = self.url.set(database=login_db) if login_db else self.url
            self._wait_for_database(probe, float(connect_timeout))
        logger.info("Tracker store: %s", self.url.__repr__())
        super().__init__(domain=domain, event_broker=event_broker, **params, **kwargs)
        if self.engine.dialect.name == "sqlite" and self.url.database not in (None, "", ":memory:"):
            self._pooled_sqlite_engine()
        tracker_events.create_snapshot_table(self.engine)

    def _pooled_sqlite_engine(self) -> None:
        """Replace the stock SQLite engine by one that keeps its connections open.

        SQLAlchemy 1.4 opens and closes a new SQLite connection for every session of a file
        database (``NullPool``); closing the last connection of a WAL database checkpoints
        the log to disk, so each turn paid an fsync again (10 % of the Rasa server's samples).
        The Rasa server uses the store from its event loop thread only; the pool also serves
        helper threads safely (``check_same_thread=False``, one connection per checkout).
        """
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url,
            poolclass=sa.pool.QueuePool,
            pool_size=4,
            max_overflow=4,
            connect_args={"check_same_thread": False},
        )
        sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The conversation as a bounded window: snapshot + recent events (module docstring)."""
        with self.engine.begin() as conn:
            after_id, prefix = tracker_events.read_snapshot(conn, sender_id)
            rows, new_session = latest_session(
                tracker_events.read_events_after(conn, sender_id, after_id)
            )
            if new_session:
                prefix = []
            cut = window_cut(rows, WINDOW_KEEP_TURNS, WINDOW_MAX_TURNS)
            if cut is not None:
                before = self._tracker(sender_id, prefix + [event for _, event in rows[:cut]])
                prefix = snapshot_events(before)
                tracker_events.write_snapshot(conn, sender_id, rows[cut - 1][0], prefix)
                rows = rows[cut:]
        events = prefix + [event for _, event in rows]
        if not events:
            return None
        tracker = self._tracker(sender_id, events)
        setattr(tracker, _STORED, len(tracker.events))
        return tracker

    def _tracker(self, sender_id: Text, events: List[Dict[str, Any]]) -> DialogueStateTracker:
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    async def save(self, tracker: Any) -> None:
        """Append the turn's new events, or erase the conversation if the turn asked for it.

        When ``action_delete_my_data`` set the slot ``data_erased``, the sender's stored events
        are deleted instead of writing the in-memory conversation back. A tracker this store
        loaded or saved knows how many of its events are stored; any other one is compared
        with the database like the stock store does.
        """
        if await erase_if_requested(self, tracker):
            return
        stored = getattr(tracker, _STORED, None)
        with self.session_scope() as session:
            if stored is None:
                new_events = list(self._additional_events(session, tracker))
            else:
                new_events = list(itertools.islice(tracker.events, stored, None))
            session.add_all([self._row(tracker.sender_id, event) for event in new_events])
            session.commit()
        setattr(tracker, _STORED, len(tracker.events))
        if self.event_broker is not None:
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

    def _row(self, sender_id: Text, event: Event) -> Any:
        """The ``events`` table row of ``event`` (the same columns as the stock store)."""
        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get("name"),
            action_name=data.get("name"),
            data=json.dumps(data),
        )

    @staticmethod
    def get_db_url(
        dialect: Text = "sqlite",
        host: Optional[Text] = None,
        port: Optional[int] = None,
        db: Text = "rasa.db",
        username: Text = None,
        password: Text = None,
        login_db: Optional[Text] = None,
        query: Optional[Dict] = None,
    ) -> URL:
        """Same as the stock one, built with ``URL.create`` (no SQLAlchemy deprecation)."""
        return URL.create(
            dialect,
            username=username,
            password=password,
            host=host,
            port=port,
            database=login_db if login_db else db,
            query=query or {},
        )

    @staticmethod
    def _wait_for_database(url: URL, timeout: float) -> None:
        """Connect once within ``timeout`` seconds or raise ``ConnectionError``."""
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        deadline = time.monotonic() + max(timeout, 0.0)
        try:
            while True:
                try:
                    with engine.connect():
                        return
                except sa.exc.OperationalError as exc:
                    if time.monotonic() >= deadline:
                        raise ConnectionError(
                            f"Cannot connect to the tracker store database {url!r} "
                            f"(gave up after {timeout:g} s): {exc.orig}"
                        ) from None
                    logger.warning("Tracker store database %r not reachable yet, retrying", url)
                    time.sleep(1.0)
        finally:
            engine.dispose()
