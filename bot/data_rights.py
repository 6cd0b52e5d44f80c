"""The user's data rights: export everything, delete everything, and the retention period.

* :func:`export_document` – boundaries, clients, incidents, role-play results and the
  conversation events of one user as one JSON-ready dict.
* :func:`erase` – delete all of it (coach database and tracker store).
* :func:`make_token` / :func:`verify_token` – short-lived, HMAC-signed download links that
  name exactly one user (``connectors/export.py`` serves them).
* :func:`purge` / ``coach purge`` – delete incidents and transcripts older than the
  retention period (``KLARTEXT_RETENTION_DAYS``, default 365), e.g. from a daily cron job.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from bot.boundaries import plural
from bot.config import Settings, load_settings
from bot.secret_files import generated_secret
from bot.texts import text

EXPORT_FORMAT = "klartext-export/1"
MIN_TTL_SECONDS = 10
SECRET_FILE = "export-secret"
_TOKEN_CONTEXT = b"klartext-export-link-v1\n"


class TokenInvalid(ValueError):
    """Forged, damaged or unknown token (HTTP 403)."""


class TokenExpired(ValueError):
    """Valid signature, but too old (HTTP 410)."""


# --------------------------------------------------------------------------- settings
def _settings() -> Settings:
    return load_settings()


def public_url() -> str:
    """Base of the download link (``KLARTEXT_PUBLIC_URL``), without a trailing slash."""
    return _settings().public_url.rstrip("/")


def ttl_seconds() -> int:
    """Lifetime of a download link in seconds (``KLARTEXT_EXPORT_TTL``, at least 10)."""
    return max(_settings().export_ttl, MIN_TTL_SECONDS)


def retention_days() -> int:
    """Retention period of ``coach purge`` in days (``KLARTEXT_RETENTION_DAYS``)."""
    return _settings().retention_days


def secret(var_dir: Path | None = None) -> bytes:
    """``KLARTEXT_SECRET``, else a random secret created once in ``var/`` (mode 0600).

    Both the action server (signs) and the Rasa server (verifies) read the same file; the
    exclusive create makes sure only one of them generates it.
    """
    settings = _settings()
    if settings.secret:
        return settings.secret.encode("utf-8")
    return generated_secret(var_dir or settings.var_dir, SECRET_FILE).encode("ascii")


# --------------------------------------------------------------------------- tokens
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def _signature(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, _TOKEN_CONTEXT + payload, hashlib.sha256).digest()


def make_token(
    sender_id: str, *, now: float | None = None, ttl: int | None = None, key: bytes | None = None
) -> str:
    """A signed download token for ``sender_id``, valid for ``ttl`` seconds (default: setting)."""
    expires = int(
        (now if now is not None else time.time()) + (ttl if ttl is not None else ttl_seconds())
    )
    payload = f"{expires}:{sender_id}".encode("utf-8")
    return f"{_b64(payload)}.{_b64(_signature(key or secret(), payload))}"


def verify_token(token: str, *, now: float | None = None, key: bytes | None = None) -> str:
    """The sender id the token was made for; TokenInvalid / TokenExpired otherwise."""
    try:
        encoded, signature = token.split(".")
        payload, given = _unb64(encoded), _unb64(signature)
        expires_raw, sender_id = payload.decode("utf-8").split(":", 1)
        expires = int(expires_raw)
    except (ValueError, AttributeError, binascii.Error, UnicodeDecodeError):
        raise TokenInvalid("malformed") from None
    if not hmac.compare_digest(given, _signature(key or secret(), payload)):
        raise TokenInvalid("signature")
    if (now if now is not None else time.time()) > expires or not sender_id:
        raise TokenExpired(str(expires))
    return sender_id


def download_path(token: str) -> str:
    """The path under which the Rasa server serves the export for ``token``."""
    return f"/webhooks/export/download/{token}"


def download_url(sender_id: str) -> str:
    """A fresh, signed download link of the user's data export."""
    return public_url() + download_path(make_token(sender_id))


# --------------------------------------------------------------------------- export / erase
def _repository(url: str | None = None):
    from bot.storage.repository import CoachRepository

    return CoachRepository(url or _settings().database_url)


def export_document(
    sender_id: str, *, database_url: str | None = None, tracker_target=None
) -> dict:
    """Everything stored about ``sender_id``: coach data plus the conversation events."""
    from bot.storage import tracker_events

    document = {
        "format": EXPORT_FORMAT,
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    document.update(_repository(database_url).export(sender_id))
    document["conversation_events"] = tracker_events.export_events(
        tracker_target or _settings().tracker_store_url, sender_id
    )
    return document


def counts(
    sender_id: str, *, database_url: str | None = None, tracker_target=None
) -> dict[str, int]:
    """How many records of each kind (including conversation events) exist for the user."""
    from bot.storage import tracker_events

    result = _repository(database_url).counts(sender_id)
    result["events"] = tracker_events.count_events(
        tracker_target or _settings().tracker_store_url, sender_id
    )
    return result


def erase(
    sender_id: str, *, database_url: str | None = None, tracker_target=None
) -> dict[str, int]:
    """Delete all data of ``sender_id``; returns what was deleted per kind."""
    from bot.storage import tracker_events

    deleted = _repository(database_url).delete_user(sender_id)
    deleted["events"] = tracker_events.delete_events(
        tracker_target or _settings().tracker_store_url, sender_id
    )
    return deleted


def summary(
    found: dict[str, int], kinds=("boundaries", "clients", "incidents", "roleplays")
) -> str:
    """'2 Grenzen, 1 Kunde und 4 Vorfälle' – the non-empty kinds, German plurals."""
    parts = [plural(kind, found.get(kind, 0)) for kind in kinds if found.get(kind, 0)]
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + text("history", "list_and") + parts[-1]


# --------------------------------------------------------------------------- retention
def purge(
    days: int,
    *,
    today: date | None = None,
    database_url: str | None = None,
    tracker_target=None,
    dry_run: bool = False,
) -> dict:
    """Delete incidents, role-play transcripts and conversation events older than ``days``.

    Returns the counts per kind and the ``cutoff`` date (everything before it went).
    """
    from bot.dates import today as _today
    from bot.storage import tracker_events

    if days < 1:
        raise ValueError(days)
    cutoff = (today or _today()) - timedelta(days=days)
    result = _repository(database_url).purge_older_than(cutoff, dry_run=dry_run)
    cutoff_ts = datetime.combine(cutoff, datetime.min.time()).timestamp()
    result["events"] = tracker_events.purge_events_before(
        tracker_target or _settings().tracker_store_url, cutoff_ts, dry_run=dry_run
    )
    result["cutoff"] = cutoff  # type: ignore[assignment]
    return result


def run_purge(args) -> int:
    """`coach purge [--days N] [--dry-run]` – for a daily cron job."""
    from bot.dates import format_date

    days = args.days if getattr(args, "days", None) is not None else retention_days()
    if days < 1:
        print(text("history", "data.purge_bad_days", days=days))
        return 2
    result = purge(days, dry_run=bool(getattr(args, "dry_run", False)))
    parts = [
        plural(kind, result[kind]) for kind in ("incidents", "transcripts", "clients", "events")
    ]
    joined = ", ".join(parts[:-1]) + text("history", "list_and") + parts[-1]
    key = "data.purge_dry_run" if getattr(args, "dry_run", False) else "data.purge_done"
    print(text("history", key, days=days, cutoff=format_date(result["cutoff"]), summary=joined))
    return 0
