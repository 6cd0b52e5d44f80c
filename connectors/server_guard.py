"""The Rasa server's own doors: the production start check and the HTTP API's gate.

Klartext's channels (REST, web chat) call :func:`attach` on their blueprint; at server start
:func:`install` then, once per app,

* refuses to start in production mode when a door would be open
  (:func:`connectors.security.require_production_settings`: the error names each missing
  setting), also for a plain ``rasa run`` that did not go through ``make serve``;
* puts a request middleware in front of Rasa's HTTP API (``/status``, ``/version``,
  ``/domain``, ``/conversations/…``, ``/model…``): with ``KLARTEXT_API_TOKEN`` only requests
  with ``?token=<it>`` pass (compared in constant time; Rasa's own ``--auth-token`` check
  follows), without it the API is off in production and answers only requests from this
  machine in local mode (:func:`connectors.security.api_refusal`). Rasa's API routes belong
  to the app, not to a channel, so an app-wide middleware is the one place to guard them;
  it only looks at the API's paths and leaves every channel to its own door.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Optional

from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config import Settings, load_settings
from connectors import security

logger = logging.getLogger(__name__)

API_PATHS = frozenset({"/status", "/version", "/domain", "/model"})
API_PREFIXES = ("/conversations/", "/model/")
_INSTALLED_FLAG = "klartext_server_guard"


def is_api_path(path: str) -> bool:
    """Whether ``path`` is one of Rasa's HTTP API routes."""
    return path in API_PATHS or path.startswith(API_PREFIXES)


def api_gate(settings: Settings) -> Callable[[Request], Awaitable[Optional[HTTPResponse]]]:
    """The request middleware guarding Rasa's HTTP API with ``settings``."""

    async def gate(request: Request) -> Optional[HTTPResponse]:
        if not is_api_path(request.path):
            return None
        refusal = security.api_refusal(
            settings, request.ip, request.headers, request.args.get("token")
        )
        if refusal is None:
            return None
        logger.warning(
            "Refused an HTTP API request from %s to %s (%s)",
            request.ip,
            request.path,
            refusal.status,
        )
        return response.json(refusal.body(), status=refusal.status)

    return gate


def install(app: Sanic, settings: Optional[Settings] = None) -> None:
    """Check a production start and guard the HTTP API of ``app`` (once per app).

    Raises:
        connectors.security.DoorOpen: production mode with an open door.
    """
    if getattr(app.ctx, _INSTALLED_FLAG, False):
        return
    settings = settings or load_settings()
    try:
        security.require_production_settings(settings)
    except security.DoorOpen as refused:
        logger.error("Klartext refuses to start in production mode:\n%s", refused)
        raise
    app.register_middleware(api_gate(settings), "request")
    setattr(app.ctx, _INSTALLED_FLAG, True)


def attach(blueprint: Blueprint) -> None:
    """Run :func:`install` when the server of ``blueprint`` starts."""

    async def _install(app: Sanic, _loop: Any) -> None:
        install(app)

    blueprint.listener("before_server_start")(_install)
