"""Engines and sessions, created lazily per database URL, schema kept current by Alembic."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

#: What storage raises when the database or a file under var/ fails, as opposed to a bug in
#: the code: callers that must keep the conversation going catch exactly these.
STORAGE_ERRORS: tuple[type[Exception], ...] = (SQLAlchemyError, OSError)

_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_factories: dict[str, sessionmaker] = {}


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, future=True, connect_args={"check_same_thread": False, "timeout": 15}
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, future=True, pool_pre_ping=True, pool_size=5, max_overflow=5)


def alembic_config(url: str):
    """Alembic configuration for the migrations in ``migrations/`` against ``url``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, engine: Engine | None = None) -> None:
    """Bring the schema at ``url`` to the newest migration."""
    from alembic import command

    cfg = alembic_config(url)
    if engine is not None:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    else:
        command.upgrade(cfg, "head")


def get_engine(url: str) -> Engine:
    """The engine for ``url``; the first call in a process migrates the schema."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _make_engine(url)
            upgrade(url, engine)
            _engines[url] = engine
            _factories[url] = sessionmaker(bind=engine, future=True, expire_on_commit=False)
        return engine


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session for ``url`` that commits on success and rolls back on any error."""
    get_engine(url)
    session = _factories[url]()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


def run_upgrade(args) -> int:
    """`coach db upgrade`."""
    from bot.config import load_settings

    url = load_settings().database_url
    upgrade(url)
    print(f"Datenbank ist auf dem neuesten Stand: {url.split('@')[-1]}")
    return 0
