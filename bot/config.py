"""Settings from the environment, with `.env` in the repository root read by python-dotenv.

Defaults need no set-up: SQLite files under ``var/``. Put a PostgreSQL URL into ``.env``
(``KLARTEXT_DATABASE_URL`` for the coach's own data, ``KLARTEXT_TRACKER_STORE_URL`` for
Rasa's conversations) to run on PostgreSQL instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str
    tracker_store_url: str
    var_dir: Path


def load_settings(env_file: Path | None = None) -> Settings:
    """Read settings; values already in the environment win over `.env`."""
    try:
        from dotenv import load_dotenv

        load_dotenv(env_file or ROOT / ".env", override=False)
    except ImportError:  # pragma: no cover - python-dotenv is a pinned dependency
        pass
    var_dir = Path(os.environ.get("KLARTEXT_VAR_DIR", ROOT / "var"))
    var_dir.mkdir(parents=True, exist_ok=True)
    return Settings(
        database_url=os.environ.get("KLARTEXT_DATABASE_URL")
        or f"sqlite:///{var_dir / 'klartext.db'}",
        tracker_store_url=os.environ.get("KLARTEXT_TRACKER_STORE_URL")
        or f"sqlite:///{var_dir / 'tracker.db'}",
        var_dir=var_dir,
    )
