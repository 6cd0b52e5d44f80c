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
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any, Dict, Optional, Text, Union

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from sqlalchemy.engine.url import URL, make_url

from bot.storage import tracker_events
from connectors import speedups

speedups.install()  # see connectors/speedups.py

logger = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 30.0


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

    async def save(self, tracker: Any) -> None:
        """Store the turn, or erase the conversation if the turn asked for it.

        When ``action_delete_my_data`` set the slot ``data_erased``, the sender's stored events
        are deleted instead of writing the in-memory conversation back.
        """
        if not await erase_if_requested(self, tracker):
            await super().save(tracker)

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
