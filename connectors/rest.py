"""Klartext's REST input channel: ``POST /webhooks/rest/webhook``.

Registered in ``credentials.yml`` by module path (``connectors.rest.KlartextRestInput``) in
place of the built-in ``rest`` channel; ``name()`` stays ``"rest"`` so the URL is unchanged.

Compared with the stock ``RestInput`` it

* answers malformed requests with HTTP 400 (413 for huge bodies) and ``{"error": "..."}``
  instead of a 500 with a stack trace in the log,
* answers an empty or whitespace-only message with a German hint instead of running NLU,
* cuts a message longer than :data:`MAX_MESSAGE_CHARS` characters and says so,
* tells the user in German when the action server is down (see :mod:`connectors.guard`)
  and apologises for any other unexpected error instead of answering nothing,
* trusts the ``sender`` field only from callers that may name any user
  (:func:`connectors.security.rest_refusal`, ``docs/security.md``): with
  ``KLARTEXT_REST_TOKEN`` only from callers sending ``Authorization: Bearer <token>``
  (missing: 401, wrong: 403); without it, off in production mode (403) and only from this
  machine in local mode (loopback, no proxy header; else 403). A refused request gets
  ``{"error": "..."}`` and nothing is processed,
* guards the rest of the Rasa server at start (:mod:`connectors.server_guard`: the HTTP
  API's door, the production start check).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import unicodedata
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Union

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import QueueOutputChannel, RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from bot.config import load_settings
from connectors import security, server_guard, speedups, texts
from connectors.guard import handle_safely

speedups.install()  # see connectors/speedups.py

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000
MAX_SENDER_CHARS = 128
MAX_BODY_BYTES = 1_000_000

_LONE_SURROGATES = re.compile("[\ud800-\udfff]")


class BadRequest(Exception):
    """A malformed request; carries the HTTP status and the caller-facing text."""

    def __init__(self, key: str, status: int = 400, **values: Any) -> None:
        self.status = status
        self.text = texts.error(key, **values)
        super().__init__(self.text)


def _kind(value: Any) -> str:
    """JSON type name of ``value`` for error texts."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _clean_text(text: str) -> str:
    """Drop NUL characters and replace unpaired surrogates (they break storage/JSON)."""
    return _LONE_SURROGATES.sub("\ufffd", text.replace("\x00", ""))


def parse_payload(body: bytes) -> Dict[str, Any]:
    """Validate a webhook request body; raise :class:`BadRequest` when it is malformed.

    Returns ``sender``, ``message`` (not yet shortened), ``metadata`` and ``input_channel``.
    """
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest("body_too_large", status=413, limit=MAX_BODY_BYTES)
    if not body or not body.strip():
        raise BadRequest("empty_body")
    try:
        raw = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("not_utf8") from None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BadRequest("not_json", detail=str(exc)) from None
    if not isinstance(data, dict):
        raise BadRequest("not_object", kind=_kind(data))

    if "sender" not in data:
        raise BadRequest("sender_missing")
    sender = data["sender"]
    if not isinstance(sender, str):
        raise BadRequest("sender_not_string", kind=_kind(sender))
    if not sender.strip():
        raise BadRequest("sender_empty")
    if len(sender) > MAX_SENDER_CHARS:
        raise BadRequest("sender_too_long", limit=MAX_SENDER_CHARS, length=len(sender))
    if _LONE_SURROGATES.search(sender) or any(
        unicodedata.category(char) == "Cc" for char in sender
    ):
        raise BadRequest("sender_invalid_chars")

    if "message" not in data:
        raise BadRequest("message_missing")
    message = data["message"]
    if not isinstance(message, str):
        raise BadRequest("message_not_string", kind=_kind(message))

    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest("metadata_not_object", kind=_kind(metadata))

    input_channel = data.get("input_channel")
    if input_channel is not None and (not isinstance(input_channel, str) or not input_channel):
        raise BadRequest("input_channel_not_string", kind=_kind(input_channel))

    return {
        "sender": sender,
        "message": _clean_text(message),
        "metadata": metadata,
        "input_channel": input_channel,
    }


def prepare_text(text: str) -> "tuple[Optional[str], List[str]]":
    """Return the text to process (``None``: don't process) and notes to send first.

    Empty / whitespace-only → ``None`` and the German hint; too long → cut with a note.
    Reusable by other channels.
    """
    if not text.strip():
        return None, [texts.reply("empty_message")]
    if len(text) > MAX_MESSAGE_CHARS:
        return text[:MAX_MESSAGE_CHARS], [texts.reply("truncated", limit=MAX_MESSAGE_CHARS)]
    return text, []


class KlartextRestInput(RestInput):
    """REST channel with request validation and German error replies."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint("custom_webhook_KlartextRestInput", __name__)
        settings = load_settings()
        server_guard.attach(webhook)

        @webhook.listener("after_server_start")
        async def _install_guard(app: Any, _loop: Any) -> None:  # pragma: no cover - server
            from connectors.guard import install_action_guard

            install_action_guard(getattr(app.ctx, "agent", None))
            speedups.freeze_startup_objects()  # the model is loaded by now

        # noinspection PyUnusedLocal
        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Union[ResponseStream, HTTPResponse]:
            refusal = security.rest_refusal(settings, request.ip, request.headers)
            if refusal is not None:
                logger.warning("Refused a REST request from %s (%s)", request.ip, refusal.status)
                return response.json(refusal.body(), status=refusal.status)
            try:
                payload = parse_payload(request.body or b"")
            except BadRequest as bad:
                logger.info("Rejected webhook request (%s): %s", bad.status, bad.text)
                return response.json({"error": bad.text}, status=bad.status)

            sender = payload["sender"]
            input_channel = payload["input_channel"] or self.name()
            metadata = payload["metadata"]
            text, notes = prepare_text(payload["message"])
            agent = getattr(request.app.ctx, "agent", None)

            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                return response.stream(
                    self._stream(
                        on_new_message, text, notes, sender, input_channel, metadata, agent
                    ),
                    content_type="text/event-stream",
                )

            collector = CollectingOutputChannel()
            for note in notes:
                await collector.send_text_message(sender, note)
            if text is not None:
                await handle_safely(
                    on_new_message,
                    UserMessage(
                        text, collector, sender, input_channel=input_channel, metadata=metadata
                    ),
                    agent=agent,
                )
            return response.json(collector.messages)

        return webhook

    def _stream(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: Optional[str],
        notes: List[str],
        sender: str,
        input_channel: str,
        metadata: Optional[Dict[str, Any]],
        agent: Any,
    ) -> Callable[[Any], Awaitable[None]]:
        async def stream(resp: Any) -> None:
            queue: asyncio.Queue = asyncio.Queue()
            collector = QueueOutputChannel(queue)
            for note in notes:
                await collector.send_text_message(sender, note)

            async def run() -> None:
                if text is not None:
                    await handle_safely(
                        on_new_message,
                        UserMessage(
                            text, collector, sender, input_channel=input_channel, metadata=metadata
                        ),
                        agent=agent,
                    )
                await queue.put("DONE")

            task = asyncio.ensure_future(run())
            while True:
                item = await queue.get()
                if item == "DONE":
                    break
                await resp.write(json.dumps(item) + "\n")
            await task

        return stream
