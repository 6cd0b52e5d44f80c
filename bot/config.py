"""Klartext's settings: one table of every ``KLARTEXT_*`` variable, read into one object.

:data:`SETTINGS` declares each setting the running coach uses – name, type, default and a
one-line description (the README's settings table lists the same names and defaults;
``tests/test_config.py`` checks that). :func:`load_settings` reads them into a frozen
:class:`Settings`:

* values come from the environment; ``.env`` in the repository root is read by
  python-dotenv once per process, and a variable that is already set wins over ``.env``;
* an unset or empty variable means the default; values are stripped;
* ``int`` and ``bool`` values are checked: a bad one raises :class:`SettingError` naming the
  variable (e.g. ``KLARTEXT_EXPORT_TTL='abc' …``); a ``tuple`` setting is a comma-separated
  list;
* every call reads the environment afresh (cheap), so a test that changes a variable with
  ``monkeypatch.setenv`` sees it on the next call.

Defaults need no set-up: SQLite files under ``var/``. Put a PostgreSQL URL into ``.env``
(``KLARTEXT_DATABASE_URL`` for the coach's own data, ``KLARTEXT_TRACKER_STORE_URL`` for
Rasa's conversations) to run on PostgreSQL instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping

ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = ROOT / ".env"
PREFIX = "KLARTEXT_"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class SettingError(ValueError):
    """A ``KLARTEXT_*`` variable whose value cannot be used (the message names it)."""


@dataclass(frozen=True)
class Setting:
    """One ``KLARTEXT_*`` setting.

    Attributes:
        name: The environment variable.
        type: ``str``, ``int``, ``bool``, ``tuple`` (comma-separated list) or ``Path``.
        default: The default as it would be written in ``.env`` (``""``: empty), or ``None``
            when it is computed from other settings (then ``computed`` says how).
        description: One line for the README.
        computed: For a computed default, how it is computed (shown in the README).
    """

    name: str
    type: type
    default: str | None
    description: str
    computed: str = ""

    @property
    def field(self) -> str:
        """The attribute of :class:`Settings` (``KLARTEXT_EXPORT_TTL`` → ``export_ttl``)."""
        return self.name[len(PREFIX) :].lower()

    @property
    def shown_default(self) -> str:
        """The default as the README's settings table shows it."""
        if self.default is None:
            return self.computed
        return f"`{self.default}`" if self.default else "(empty)"

    def parse(self, raw: str | None) -> Any:
        """The typed value of ``raw`` (``None``/empty: the default; computed ones stay None).

        Raises:
            SettingError: ``raw`` is no valid value of this setting's type.
        """
        value = (raw or "").strip()
        if not value:
            if self.default is None:
                return None
            value = self.default
        if self.type is int:
            try:
                return int(value)
            except ValueError:
                raise SettingError(
                    f"{self.name}={value!r} is not a whole number "
                    f"(default: {self.default!r}; {self.description})"
                ) from None
        if self.type is bool:
            if value.lower() in _TRUE:
                return True
            if value.lower() in _FALSE:
                return False
            raise SettingError(
                f"{self.name}={value!r} is not a yes/no value (use 1/0, true/false, yes/no)"
            )
        if self.type is tuple:
            return tuple(item.strip() for item in value.split(",") if item.strip())
        if self.type is Path:
            return Path(value)
        return value


# Every KLARTEXT_* setting of the running coach. Test-only variables (KLARTEXT_TEST_*,
# KLARTEXT_REQUIRE_SERVICES …) and the ports of `make run` (devtools/run.py) are not here.
SETTINGS: tuple[Setting, ...] = (
    # storage
    Setting(
        "KLARTEXT_VAR_DIR",
        Path,
        None,
        "directory of the SQLite files, the generated export secret and other run-time files",
        computed="`var/` in the repository",
    ),
    Setting(
        "KLARTEXT_DATABASE_URL",
        str,
        None,
        "SQLAlchemy URL of the coach's own data (boundaries, clients, incidents, role-plays)",
        computed="`sqlite:///<KLARTEXT_VAR_DIR>/klartext.db`",
    ),
    Setting(
        "KLARTEXT_TRACKER_STORE_URL",
        str,
        None,
        "SQLAlchemy URL of Rasa's conversations (tracker store)",
        computed="`sqlite:///<KLARTEXT_VAR_DIR>/tracker.db`",
    ),
    # data rights
    Setting(
        "KLARTEXT_PUBLIC_URL",
        str,
        "http://127.0.0.1:5005",
        "base of the data-export download link; must be reachable by the user's browser",
    ),
    Setting(
        "KLARTEXT_SECRET",
        str,
        "",
        "signs the export links; empty: a random secret generated once into the var directory",
    ),
    Setting("KLARTEXT_EXPORT_TTL", int, "900", "lifetime of an export link in seconds (≥ 10)"),
    Setting(
        "KLARTEXT_RETENTION_DAYS",
        int,
        "365",
        "`coach purge` removes incidents, transcripts and conversations older than this",
    ),
    Setting(
        "KLARTEXT_TIMEZONE",
        str,
        "Europe/Berlin",
        "time zone of 'heute'/'gestern' in dates (unknown zone: the server's local date)",
    ),
    # trainer group sessions
    Setting("KLARTEXT_TRAINERS", tuple, "", "comma-separated sender ids with trainer rights"),
    Setting(
        "KLARTEXT_TRAINER_CODE",
        str,
        "",
        "code with which a user becomes a trainer ('Trainercode …'); empty: no code",
    ),
    Setting(
        "KLARTEXT_DASHBOARD_TTL",
        int,
        "28800",
        "lifetime of a trainer's dashboard link in seconds (≥ 10)",
    ),
    # web chat
    Setting(
        "KLARTEXT_WEBCHAT_SECRET",
        str,
        "",
        "web chat sign-in: HS256 secret of the tokens; empty: no sign-in needed",
    ),
    Setting(
        "KLARTEXT_WEBCHAT_ORIGINS",
        tuple,
        "*",
        "comma-separated origins of pages that may open the web chat socket",
    ),
    # Slack
    Setting(
        "KLARTEXT_SLACK_BOT_TOKEN",
        str,
        "",
        "Slack bot token (`xoxb-…`); Slack stays off without it",
    ),
    Setting(
        "KLARTEXT_SLACK_SIGNING_SECRET",
        str,
        "",
        "Slack signing secret; Slack stays off without it",
    ),
    Setting("KLARTEXT_SLACK_API_BASE", str, "https://slack.com/api", "Slack Web API base URL"),
    # Microsoft Teams
    Setting(
        "KLARTEXT_TEAMS_APP_ID",
        str,
        "",
        "Microsoft App ID of the Azure Bot; Teams stays off without it",
    ),
    Setting(
        "KLARTEXT_TEAMS_APP_PASSWORD",
        str,
        "",
        "client secret of the Azure Bot; Teams stays off without it",
    ),
    Setting(
        "KLARTEXT_TEAMS_TENANT_ID",
        str,
        "",
        "tenant of a single-tenant bot (tokens of other tenants are refused); empty: any",
    ),
    Setting(
        "KLARTEXT_TEAMS_OPENID_METADATA_URL",
        str,
        "https://login.botframework.com/v1/.well-known/openidconfiguration",
        "OpenID metadata whose keys verify the Bot Framework tokens",
    ),
    Setting(
        "KLARTEXT_TEAMS_TOKEN_URL",
        str,
        "",
        "where the bot gets its own access token; empty: derived from the tenant",
    ),
    Setting(
        "KLARTEXT_TEAMS_ISSUERS",
        tuple,
        "https://api.botframework.com",
        "comma-separated accepted issuers of the Bot Framework tokens",
    ),
    Setting(
        "KLARTEXT_TEAMS_SERVICE_URL",
        str,
        "",
        "send replies here instead of the activity's serviceUrl (tests); empty: serviceUrl",
    ),
    # security: which door is guarded by what (docs/security.md)
    Setting(
        "KLARTEXT_MODE",
        str,
        "local",
        "`local` (loopback only, no set-up) or `production` (every door needs its secret)",
    ),
    Setting(
        "KLARTEXT_REST_TOKEN",
        str,
        "",
        "REST channel token (`Authorization: Bearer …`); empty: REST only from loopback in "
        "local mode, off in production",
    ),
    Setting(
        "KLARTEXT_ENABLE_API",
        bool,
        "false",
        "`make run`/`make serve` start Rasa's HTTP API (production: needs KLARTEXT_API_TOKEN)",
    ),
    Setting(
        "KLARTEXT_API_TOKEN",
        str,
        "",
        "token of Rasa's HTTP API (`?token=…`); empty: API only from loopback in local mode, "
        "off in production",
    ),
    Setting(
        "KLARTEXT_ACTION_SECRET",
        str,
        "",
        "sent by Rasa with every action call; empty: generated once into the var directory "
        "(local mode only)",
    ),
    Setting(
        "KLARTEXT_ACTION_HOST",
        str,
        "127.0.0.1",
        "interface the action server listens on",
    ),
    Setting(
        "KLARTEXT_RASA_HOST",
        str,
        "127.0.0.1",
        "interface `make serve` binds the Rasa server to",
    ),
    # conversation locks (connectors/lock_store.py, docs/locks.md)
    Setting(
        "KLARTEXT_LOCK_STORE_URL",
        str,
        "",
        "Redis of the conversation locks (several Rasa replicas), e.g. `redis://127.0.0.1:6379/0`;"
        " empty: in-process locks",
    ),
    Setting(
        "KLARTEXT_LOCK_STORE_PREFIX",
        str,
        "klartext",
        "first part of the lock keys in Redis (several bots can share one Redis)",
    ),
)

BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """All settings of the running coach, typed (one attribute per entry of SETTINGS)."""

    var_dir: Path
    database_url: str
    tracker_store_url: str
    public_url: str
    secret: str
    export_ttl: int
    retention_days: int
    timezone: str
    trainers: tuple[str, ...]
    trainer_code: str
    dashboard_ttl: int
    webchat_secret: str
    webchat_origins: tuple[str, ...]
    slack_bot_token: str
    slack_signing_secret: str
    slack_api_base: str
    teams_app_id: str
    teams_app_password: str
    teams_tenant_id: str
    teams_openid_metadata_url: str
    teams_token_url: str
    teams_issuers: tuple[str, ...]
    teams_service_url: str
    mode: str
    rest_token: str
    enable_api: bool
    api_token: str
    action_secret: str
    action_host: str
    rasa_host: str
    lock_store_url: str
    lock_store_prefix: str

    def get(self, name: str) -> Any:
        """The typed value of the setting ``name`` (``KLARTEXT_…``).

        Raises:
            KeyError: ``name`` is not declared in :data:`SETTINGS`.
        """
        if name not in BY_NAME:
            raise KeyError(f"{name} is not a Klartext setting (see bot/config.py)")
        return getattr(self, BY_NAME[name].field)

    def text(self, name: str) -> str:
        """The setting ``name`` as text, as it would be written in ``.env`` (lists joined)."""
        value = self.get(name)
        if isinstance(value, tuple):
            return ",".join(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)


if [f.name for f in fields(Settings)] != [s.field for s in SETTINGS]:  # pragma: no cover
    raise RuntimeError("bot/config.py: Settings and SETTINGS list different settings")

_dotenv_loaded = False


def load_dotenv_once() -> None:
    """Read ``.env`` of the repository root into ``os.environ``, once per process.

    Variables already in the environment win. Tests set ``_dotenv_loaded`` to ignore a
    developer's ``.env``.
    """
    global _dotenv_loaded
    if _dotenv_loaded:
        return
    _dotenv_loaded = True
    try:
        from dotenv import load_dotenv
    except ImportError:  # pragma: no cover - python-dotenv is a pinned dependency
        return
    load_dotenv(ENV_FILE, override=False)


def read_settings(environ: Mapping[str, str]) -> Settings:
    """Settings from ``environ`` alone (no ``.env``, no side effects).

    Raises:
        SettingError: a variable has a bad value (the message names it).
    """
    values = {s.field: s.parse(environ.get(s.name)) for s in SETTINGS}
    var_dir = values["var_dir"] or ROOT / "var"
    values["var_dir"] = var_dir
    values["database_url"] = values["database_url"] or f"sqlite:///{var_dir / 'klartext.db'}"
    values["tracker_store_url"] = (
        values["tracker_store_url"] or f"sqlite:///{var_dir / 'tracker.db'}"
    )
    return Settings(**values)


def load_settings(env_file: Path | None = None) -> Settings:
    """The settings now: environment, with ``.env`` read once; creates the var directory.

    Args:
        env_file: Read this file (variables already set win) instead of only the
            repository's ``.env``; for tools and tests.

    Raises:
        SettingError: a variable has a bad value (the message names it).
    """
    load_dotenv_once()
    if env_file is not None:
        from dotenv import load_dotenv

        load_dotenv(env_file, override=False)
    settings = read_settings(os.environ)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return settings


def quiet_tensorflow() -> None:
    """Ask TensorFlow for errors only (``TF_CPP_MIN_LOG_LEVEL=3`` unless already set)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
