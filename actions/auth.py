"""An action server only the Rasa server can call.

Every call from Rasa carries the action secret in the header ``X-Klartext-Action-Secret``
(:mod:`connectors.guard` adds it to the agent's action endpoint). This module makes the
action server check it before any action runs: a call without it, or with a wrong one,
gets HTTP 401 and ``{"error": …}`` – nothing is executed, nothing stored is read or
touched. ``GET /health`` stays open (it reveals nothing). It also makes the action server
listen on ``KLARTEXT_ACTION_HOST`` (default ``127.0.0.1``) instead of rasa_sdk's
``0.0.0.0``.

How it gets into the server: ``rasa run actions`` (rasa_sdk 3.6) creates its Sanic app
``rasa_sdk``, *then* imports the ``actions`` package to register the actions, and only after
that reads ``SANIC_HOST`` and starts serving. ``actions/__init__.py`` calls
:func:`protect_action_server`, which finds that app by name, registers the check as a
request middleware and sets ``SANIC_HOST``. So the check comes with the actions themselves:
whoever serves this package – ``rasa run actions`` from the repository root with no
settings, ``make run``, ``make serve``, the tests – serves it guarded, and there is no
separate plugin to forget. (rasa_sdk's own plugin hook needs an installed top-level
``rasa_sdk_plugins`` package – one more thing that could be missing, and then the server
would run unguarded.) Imported anywhere else (unit tests, tools) there is no such app and
nothing happens.

The secret is :func:`connectors.security.action_secret`: ``KLARTEXT_ACTION_SECRET``, or in
local mode the one generated once into the var directory, which the Rasa server started
from the same repository reads too. In production mode without ``KLARTEXT_ACTION_SECRET``
the action server refuses to start.
"""

from __future__ import annotations

import logging
import os
from typing import Awaitable, Callable, Optional

from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config import Settings, load_settings
from connectors import security

logger = logging.getLogger(__name__)

#: Name of the Sanic app that ``rasa run actions`` creates (rasa_sdk.endpoint.create_app).
RASA_SDK_APP = "rasa_sdk"
#: Paths that need no secret.
OPEN_PATHS = frozenset({"/health"})
_INSTALLED_FLAG = "klartext_action_auth"


def require_secret(secret: str) -> Callable[[Request], Awaitable[Optional[HTTPResponse]]]:
    """The request middleware: 401 unless the request carries ``secret``."""
    refusal = {"error": security.error("action_secret", header=security.ACTION_SECRET_HEADER)}

    async def check(request: Request) -> Optional[HTTPResponse]:
        if request.path in OPEN_PATHS:
            return None
        if security.tokens_match(request.headers.get(security.ACTION_SECRET_HEADER), secret):
            return None
        logger.warning(
            "Refused a call to %s from %s: no valid action secret", request.path, request.ip
        )
        return response.json(refusal, status=401)

    return check


def install(app: Sanic, settings: Optional[Settings] = None) -> None:
    """Guard ``app`` with the action secret and bind it to ``KLARTEXT_ACTION_HOST`` (once).

    Raises:
        connectors.security.DoorOpen: production mode without ``KLARTEXT_ACTION_SECRET``.
    """
    if getattr(app.ctx, _INSTALLED_FLAG, False):
        return
    settings = settings or load_settings()
    secret = security.action_secret(settings)
    app.register_middleware(require_secret(secret), "request")
    os.environ["SANIC_HOST"] = settings.action_host  # read by rasa_sdk right after the import
    setattr(app.ctx, _INSTALLED_FLAG, True)


def protect_action_server() -> bool:
    """Guard rasa_sdk's app if this process is serving it; ``False`` when there is none."""
    try:
        app = Sanic.get_app(RASA_SDK_APP)
    except SanicException:
        return False
    install(app)
    return True
