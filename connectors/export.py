"""Data export downloads and conversation erasure on the Rasa server.

Registered in ``credentials.yml`` as ``connectors.export.ExportInput``. It is an input
channel only to get code into the Rasa server process; it receives no chat messages.

* ``GET /webhooks/export/download/<token>`` – the JSON export of the one user the token was
  signed for (``bot/data_rights.py``), built at download time. Forged or damaged tokens get
  HTTP 403, expired ones 410, each with a German explanation.
* Erasing a conversation: when a turn asked to erase it (``action_delete_my_data`` sets the
  slot ``data_erased``), ``KlartextTrackerStore.save`` deletes the sender's stored events
  instead of writing the in-memory conversation back (otherwise Rasa would re-save the whole
  conversation right after the action deleted it). For any other tracker store (e.g. the
  in-memory one), this channel wraps the store's ``save`` with the same rule after start.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import date
from functools import partial
from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import data_rights
from bot.storage.db import STORAGE_ERRORS
from bot.texts import text
from connectors.tracker_store import KlartextTrackerStore, erase_if_requested, inner_store

logger = logging.getLogger(__name__)

_HOOK_FLAG = "_klartext_erase_hook"


def tracker_target(agent: Any) -> Any:
    """Engine of the agent's SQL tracker store (None: use the URL from the settings)."""
    inner = inner_store(getattr(agent, "tracker_store", None))
    engine = getattr(inner, "engine", None)
    return engine if engine is not None else None


def install_erase_hook(agent: Any) -> bool:
    """Make the agent's tracker store drop conversations that asked to be erased."""
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return False
    if getattr(store, _HOOK_FLAG, False):
        return True
    if isinstance(inner_store(store), KlartextTrackerStore):
        return True  # its own save() erases (connectors/tracker_store.py)
    original: Callable[[Any], Awaitable[None]] = store.save

    async def save(tracker: Any) -> None:
        if not await erase_if_requested(store, tracker):
            await original(tracker)

    store.save = save
    setattr(store, _HOOK_FLAG, True)
    return True


def _message(key: str, status: int) -> HTTPResponse:
    return response.text(
        text("history", f"data.{key}"),
        status=status,
        headers={"Cache-Control": "no-store"},
        content_type="text/plain; charset=utf-8",
    )


async def download_response(token: str, agent: Any = None) -> HTTPResponse:
    """The answer to ``GET /webhooks/export/download/<token>``."""
    try:
        sender_id = data_rights.verify_token(token)
    except data_rights.TokenExpired:
        return _message("download_expired", 410)
    except data_rights.TokenInvalid:
        return _message("download_invalid", 403)
    try:
        loop = asyncio.get_running_loop()
        document = await loop.run_in_executor(
            None,
            partial(data_rights.export_document, sender_id, tracker_target=tracker_target(agent)),
        )
    except STORAGE_ERRORS:  # a database down answers 500 with a German message
        logger.exception("Building a data export failed")
        return _message("download_failed", 500)
    filename = f"klartext-export-{date.today().isoformat()}.json"
    return response.json(
        document,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
        dumps=partial(json.dumps, ensure_ascii=False, indent=2, default=str),
    )


class ExportInput(InputChannel):
    """Serves export downloads; installs the erase hook on the tracker store."""

    @classmethod
    def name(cls) -> Text:
        return "export"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("klartext_export", __name__)

        @bp.listener("after_server_start")
        async def _install(app: Any, _loop: Any) -> None:  # pragma: no cover - server
            if not install_erase_hook(getattr(app.ctx, "agent", None)):
                logger.warning("No agent at server start: erase hook not installed yet")

        @bp.route("/download/<token>", methods=["GET"])
        async def download(request: Request, token: str) -> HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            install_erase_hook(agent)
            return await download_response(token, agent)

        return bp

    def get_output_channel(self) -> Optional[Any]:  # pragma: no cover - no chat on this channel
        return None
