"""Klartext's security model as plain decisions: who may open which door (no Rasa imports).

The model is described in ``docs/security.md``. This module holds the policy; the doors
apply it: the REST channel (:mod:`connectors.rest`), the web chat socket
(:mod:`connectors.socketio_channel`), Rasa's HTTP API (:mod:`connectors.server_guard`), the
action server (:mod:`actions.auth`) and the production launcher (``devtools/serve.py``).
It imports neither Rasa nor Sanic, so the action server can use it too.

* **Mode** (``KLARTEXT_MODE``): ``local`` (default) needs no set-up but opens the doors
  without a token only to requests *from this machine*: a loopback peer address, no proxy
  header (a reverse proxy in front makes a request foreign) and no foreign ``Origin`` (a web
  page from elsewhere in the local user's browser must not post as anyone).
  ``production`` opens no door without its secret.
* **Doors**: :func:`rest_refusal` and :func:`api_refusal` answer ``None`` (let in) or a
  :class:`Refusal` (HTTP status + JSON error text); :func:`webchat_refusal` the reason code
  of a refused socket connection.
* **Action secret** (:func:`action_secret`): ``KLARTEXT_ACTION_SECRET``, or in local mode a
  random secret generated once into the var directory, so that ``rasa run`` and
  ``rasa run actions`` started from the repository root find the same one without any
  configuration. Rasa sends it in :data:`ACTION_SECRET_HEADER` with every action call
  (:mod:`connectors.guard`); the action server refuses calls without it.
* :func:`production_problems` lists every open door of a production start, each naming
  the missing setting (the launcher, the Rasa server and the action server refuse to start).

Secrets are compared in constant time (:func:`tokens_match`).
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional
from urllib.parse import urlsplit

from bot import texts
from bot.config import SettingError, Settings, load_settings
from bot.secret_files import generated_secret
from connectors import channel_common  # noqa: F401  (registers the "security" texts)

LOCAL = "local"
PRODUCTION = "production"
MODES = (LOCAL, PRODUCTION)

#: Header of every call from the Rasa server to the action server.
ACTION_SECRET_HEADER = "X-Klartext-Action-Secret"
#: File in the var directory holding the generated action secret (local mode).
ACTION_SECRET_FILE = "action-secret"
#: Shortest secret or token a production start accepts.
MIN_SECRET_CHARS = 16

#: Headers a reverse proxy adds: their presence makes a request foreign in local mode.
PROXY_HEADERS = frozenset({"forwarded", "via", "x-real-ip"})
_PROXY_PREFIX = "x-forwarded-"


class DoorOpen(RuntimeError):
    """A production start with at least one open door (the message lists them all)."""

    def __init__(self, problems: List[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(f"- {problem}" for problem in self.problems))


@dataclass(frozen=True)
class Refusal:
    """A refused HTTP request: the status and the JSON body's error text."""

    status: int
    error: str

    def body(self) -> dict:
        return {"error": self.error}


# --------------------------------------------------------------------------- texts
def error(key: str, **values: Any) -> str:
    """The error text of a refused request (``errors.<key>``, English, for API callers)."""
    return texts.text("security", f"errors.{key}", **values)


def problem(key: str, **values: Any) -> str:
    """Why a production start is refused (``problems.<key>``, names the setting)."""
    return texts.text("security", f"problems.{key}", **values)


# --------------------------------------------------------------------------- mode
def mode(settings: Settings) -> str:
    """``local`` or ``production``.

    Raises:
        SettingError: ``KLARTEXT_MODE`` has another value.
    """
    value = settings.mode.strip().lower()
    if value not in MODES:
        raise SettingError(problem("unknown_mode", mode=settings.mode))
    return value


def is_production(settings: Settings) -> bool:
    """Whether ``KLARTEXT_MODE=production``."""
    return mode(settings) == PRODUCTION


# --------------------------------------------------------------------------- primitives
def tokens_match(given: Optional[str], expected: Optional[str]) -> bool:
    """Constant-time comparison; an empty expected value never matches."""
    if not expected or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def bearer_token(authorization: Optional[str]) -> Optional[str]:
    """The token of an ``Authorization: Bearer <token>`` header value, else ``None``."""
    if not isinstance(authorization, str):
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _lowered(headers: Mapping[str, Any]) -> dict:
    return {str(name).lower(): value for name, value in headers.items()}


def is_loopback(ip: Optional[str]) -> bool:
    """Whether ``ip`` is a loopback address (IPv4-mapped IPv6 included)."""
    try:
        address = ipaddress.ip_address((ip or "").strip().strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def through_proxy(headers: Mapping[str, Any]) -> bool:
    """Whether a proxy header (``Forwarded``, ``X-Forwarded-*``, ``X-Real-IP``, ``Via``) is set."""
    return any(
        name in PROXY_HEADERS or name.startswith(_PROXY_PREFIX) for name in _lowered(headers)
    )


def local_origin(origin: Optional[str]) -> bool:
    """Whether a browser's ``Origin`` is a page on this machine (no ``Origin``: no page)."""
    if origin is None:
        return True
    host = urlsplit(str(origin).strip()).hostname
    return host == "localhost" or is_loopback(host)


def from_this_machine(ip: Optional[str], headers: Mapping[str, Any]) -> bool:
    """From a loopback peer, not through a reverse proxy, not sent by a foreign web page."""
    return (
        is_loopback(ip)
        and not through_proxy(headers)
        and local_origin(_lowered(headers).get("origin"))
    )


# --------------------------------------------------------------------------- doors
def rest_refusal(
    settings: Settings, ip: Optional[str], headers: Mapping[str, Any]
) -> Optional[Refusal]:
    """The REST channel's door: with ``KLARTEXT_REST_TOKEN`` only for its bearer.

    Without a token: off in production, only from this machine in local mode.
    """
    token = settings.rest_token
    if token:
        given = bearer_token(_lowered(headers).get("authorization"))
        if given is None:
            return Refusal(401, error("rest_token_missing"))
        if not tokens_match(given, token):
            return Refusal(403, error("rest_token_wrong"))
        return None
    if is_production(settings):
        return Refusal(403, error("rest_off"))
    if not from_this_machine(ip, headers):
        return Refusal(403, error("local_only"))
    return None


def api_refusal(
    settings: Settings, ip: Optional[str], headers: Mapping[str, Any], token: Optional[str]
) -> Optional[Refusal]:
    """The door of Rasa's HTTP API: with ``KLARTEXT_API_TOKEN`` only for ``?token=`` of it.

    Without a token: off in production, only from this machine in local mode (where Rasa's
    own ``--auth-token`` may still be asked for).
    """
    expected = settings.api_token
    if expected:
        if not token:
            return Refusal(401, error("api_token_missing"))
        if not tokens_match(token, expected):
            return Refusal(403, error("api_token_wrong"))
        return None
    if is_production(settings):
        return Refusal(403, error("api_off"))
    if not from_this_machine(ip, headers):
        return Refusal(403, error("local_only"))
    return None


def webchat_refusal(
    settings: Settings, secret: str, ip: Optional[str], headers: Mapping[str, Any]
) -> Optional[str]:
    """The web chat's door when no token is needed: the refusal reason, or ``None``.

    With a secret every connection needs a signed token (checked by the channel) and this
    answers ``None``. Without one: no connection in production (``sign_in_unavailable``),
    only from this machine in local mode (``local_only``).
    """
    if secret:
        return None
    if is_production(settings):
        return "sign_in_unavailable"
    if not from_this_machine(ip, headers):
        return "local_only"
    return None


# --------------------------------------------------------------------------- secrets


def action_secret(settings: Optional[Settings] = None) -> str:
    """The secret of the Rasa → action server calls.

    ``KLARTEXT_ACTION_SECRET``; without it, in local mode, the secret generated once into
    the var directory.

    Raises:
        DoorOpen: production mode without ``KLARTEXT_ACTION_SECRET``.
    """
    settings = settings or load_settings()
    if settings.action_secret:
        return settings.action_secret
    if is_production(settings):
        raise DoorOpen([problem("action_secret")])
    return generated_secret(settings.var_dir, ACTION_SECRET_FILE)


def derived_key(purpose: str, settings: Optional[Settings] = None) -> bytes:
    """A server-side key for ``purpose`` (HMAC of the action secret; e.g. session ids)."""
    secret = action_secret(settings).encode("utf-8")
    return hmac.new(secret, f"klartext:{purpose}".encode("utf-8"), "sha256").digest()


# --------------------------------------------------------------------------- production
def production_problems(settings: Settings) -> List[str]:
    """Every open door of a production start with ``settings`` (empty: none).

    Checked: the mode, the web chat secret, the action secret, the API token when the API is
    enabled, and the length of every secret or token that is set.
    """
    try:
        current = mode(settings)
    except SettingError as bad:
        return [str(bad)]
    problems = []
    if current != PRODUCTION:
        problems.append(problem("mode", mode=current))
    if not settings.webchat_secret:
        problems.append(problem("webchat_secret"))
    if not settings.action_secret:
        problems.append(problem("action_secret"))
    if settings.enable_api and not settings.api_token:
        problems.append(problem("api_token"))
    for name in (
        "KLARTEXT_WEBCHAT_SECRET",
        "KLARTEXT_ACTION_SECRET",
        "KLARTEXT_API_TOKEN",
        "KLARTEXT_REST_TOKEN",
    ):
        value = settings.text(name)
        if value and len(value) < MIN_SECRET_CHARS:
            problems.append(problem("too_short", name=name, minimum=MIN_SECRET_CHARS))
    return problems


def require_production_settings(settings: Optional[Settings] = None) -> None:
    """In production mode, refuse (raise :class:`DoorOpen`) when a door would be open.

    Called by the Rasa server at start (:mod:`connectors.server_guard`); local mode passes.
    """
    settings = settings or load_settings()
    if not is_production(settings):
        return
    problems = production_problems(settings)
    if problems:
        raise DoorOpen(problems)
