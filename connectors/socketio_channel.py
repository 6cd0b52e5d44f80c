"""Klartext's socket.io channel (web chat) and the widget's files.

Registered in ``credentials.yml`` as ``connectors.socketio_channel.KlartextSocketIOInput``;
``name()`` stays ``"socketio"`` and the protocol is Rasa's (``session_request`` →
``session_confirm``, ``user_uttered`` → ``bot_uttered`` with ``text`` and
``quick_replies``), so other Rasa socket.io clients work too. Compared with the stock
``SocketIOInput`` it

* keeps a conversation per *session id* (the widget keeps it in ``sessionStorage``, so a
  reload of the tab continues the conversation); bot messages go to the room of that id,
* with ``KLARTEXT_WEBCHAT_SECRET`` set, refuses a connection without a valid signed token
  (:mod:`connectors.webchat_auth`) and takes the sender id from the token, never from the
  browser (the stock channel checks the token but trusts the browser's session id),
* without a secret (:func:`connectors.security.webchat_refusal`, ``docs/security.md``):
  refuses every connection in production mode (``sign_in_unavailable``) and, in local
  mode, connections not from this machine (``local_only``); the session id is issued and
  signed by the server (:func:`issue_session_id`), and a session id the browser offers is
  taken only with a valid signature – an invented or another user's id (a Slack or REST
  sender id, say) gets a fresh session instead,
* validates what the browser sends (types, size, session id format), answers an empty or
  over-long message like the REST channel, and runs every message through
  :func:`connectors.guard.handle_safely` (action-server-down notice, apology on errors),
* emits ``bot_turn_done`` after each turn (the widget hides its typing indicator),
* serves the widget: ``GET /webchat/`` (page), ``/webchat/klartext-chat.js``,
  ``/webchat/klartext-chat.css``, ``/webchat/socket.io.min.js`` and ``/webchat/config.js``.

Settings (environment or ``.env``): ``KLARTEXT_WEBCHAT_SECRET`` (sign-in, optional),
``KLARTEXT_WEBCHAT_ORIGINS`` (comma-separated origins that may open the socket; default
``*``: any page may embed the widget).
"""

from __future__ import annotations

import hmac
import logging
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer
from socketio.exceptions import ConnectionRefusedError as SocketRefused

from bot.config import Settings, load_settings
from connectors import security, server_guard, webchat_assets
from connectors.channel_common import setting
from connectors.guard import handle_safely
from connectors.rest import prepare_text
from connectors.webchat_auth import verify_token

logger = logging.getLogger(__name__)

ORIGINS_ENV = "KLARTEXT_WEBCHAT_ORIGINS"
SECRET_ENV = "KLARTEXT_WEBCHAT_SECRET"
TURN_DONE_EVT = "bot_turn_done"
MAX_SOCKET_MESSAGE_BYTES = 64 * 1024
MAX_METADATA_KEYS = 20

_SESSION_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")
SESSION_KEY_PURPOSE = "webchat-session"
_SESSION_MAC_CHARS = 32


class KlartextSocketIOOutput(SocketIOOutput):
    """Bot messages to the room of the conversation (all tabs of that session)."""

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        # the stock channel passes the dict as keyword arguments to emit()
        await self._send_message(recipient_id, {"custom": json_message})


def _origins(value: str) -> Any:
    origins = [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
    if not origins or "*" in origins:
        return "*"
    return origins


def session_id_from_browser(value: Any) -> Optional[str]:
    """The browser's session id if it has a safe format, else ``None``."""
    if isinstance(value, str) and _SESSION_ID.match(value):
        return value
    return None


def _session_mac(key: bytes, nonce: str) -> str:
    return hmac.new(key, nonce.encode("ascii"), "sha256").hexdigest()[:_SESSION_MAC_CHARS]


def issue_session_id(key: bytes) -> str:
    """A new session id signed with ``key``: ``<random hex>-<signature>``."""
    nonce = uuid.uuid4().hex
    return f"{nonce}-{_session_mac(key, nonce)}"


def signed_session_id(value: Any, key: bytes) -> Optional[str]:
    """The browser's session id if this server issued it (valid signature), else ``None``."""
    value = session_id_from_browser(value)
    if value is None:
        return None
    nonce, _, mac = value.rpartition("-")
    if nonce.isalnum() and nonce.isascii() and hmac.compare_digest(mac, _session_mac(key, nonce)):
        return value
    return None


def _metadata(value: Any) -> Dict[str, Any]:
    if isinstance(value, dict) and len(value) <= MAX_METADATA_KEYS:
        return {str(key): item for key, item in value.items()}
    return {}


def authorize(secret: str, auth: Any) -> Optional[str]:
    """Admit a socket connection: the signed sender id, ``None`` when no sign-in is needed.

    With a secret configured, a connection without a valid token is refused
    (``ConnectionRefusedError`` → the browser gets ``connect_error`` with the reason).
    """
    if not secret:
        return None
    token = auth.get("token") if isinstance(auth, dict) else None
    sender, reason = verify_token(token, secret)
    if sender is None:
        logger.info("Refused a web chat connection (%s)", reason)
        raise SocketRefused(reason)
    return sender


class WebchatBlueprint(SocketBlueprint):
    """Attaches the socket.io server and the widget's routes (outside the webhook prefix)."""

    def __init__(
        self, sio: AsyncServer, socketio_path: Text, sign_in: bool, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(sio, socketio_path, *args, **kwargs)
        self.ctx.sign_in = sign_in

    def register(self, app: Sanic, options: Dict[Text, Any]) -> None:
        super().register(app, options)
        socket_path = self.ctx.socketio_path
        sign_in = self.ctx.sign_in

        async def page(request: Request) -> HTTPResponse:
            return _asset_response("index.html", webchat_assets.page_headers())

        async def static(request: Request, name: str) -> HTTPResponse:
            if name == webchat_assets.CONFIG_NAME:
                body = webchat_assets.config_js(None, socket_path, sign_in)
                return response.raw(
                    body,
                    content_type=webchat_assets.JS_TYPE,
                    headers=webchat_assets.asset_headers(),
                )
            headers = (
                webchat_assets.page_headers()
                if name in ("", "index.html")
                else webchat_assets.asset_headers()
            )
            return _asset_response(name, headers)

        app.add_route(page, "/webchat/", methods=["GET"], name="klartext_webchat_page")
        app.add_route(static, "/webchat/<name:str>", methods=["GET"], name="klartext_webchat_asset")


def _asset_response(name: str, headers: Dict[str, str]) -> HTTPResponse:
    found = webchat_assets.asset(name)
    if found is None:
        return response.json({"error": "not found"}, status=404)
    body, content_type = found
    return response.raw(body, content_type=content_type, headers=headers)


class KlartextSocketIOInput(SocketIOInput):
    """socket.io channel with optional signed sign-in and the action-server guard."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "KlartextSocketIOInput":
        credentials = credentials or {}
        channel = cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            True,
            credentials.get("socketio_path", "/socket.io"),
            None,
            "HS256",
            credentials.get("metadata_key", "metadata"),
        )
        channel.secret = setting(SECRET_ENV, credentials=credentials, key="secret")
        channel.origins = _origins(setting(ORIGINS_ENV, credentials=credentials, key="origins"))
        return channel

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session_persistence = True
        self.secret: str = ""
        self.origins: Any = "*"
        self.settings: Settings = load_settings()
        self._session_key: Optional[bytes] = None

    def session_key(self) -> bytes:
        """The key that signs the session ids of unsigned (no-secret) web chat sessions."""
        if self._session_key is None:
            self._session_key = security.derived_key(SESSION_KEY_PURPOSE, self.settings)
        return self._session_key

    def unsigned_sender(self, requested: Any) -> str:
        """The sender of a session without sign-in: the offered id if we signed it, else new."""
        key = self.session_key()
        return signed_session_id(requested, key) or issue_session_id(key)

    def get_output_channel(self) -> Optional[KlartextSocketIOOutput]:
        if self.sio is None:
            return None
        return KlartextSocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=self.origins,
            cors_credentials=False,
            max_http_buffer_size=MAX_SOCKET_MESSAGE_BYTES,
        )
        self.sio = sio
        bp = WebchatBlueprint(
            sio, self.socketio_path, bool(self.secret), "socketio_webhook", __name__
        )
        server_guard.attach(bp)
        namespace = self.namespace
        logger.info(
            "Web chat (socket.io at %s, page at /webchat/): sign-in %s",
            self.socketio_path,
            "required" if self.secret else "not required",
        )

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            request = environ.get("sanic.request")
            refused = security.webchat_refusal(
                self.settings,
                self.secret,
                getattr(request, "ip", None),
                getattr(request, "headers", None) or {},
            )
            if refused is not None:
                logger.info("Refused a web chat connection (%s)", refused)
                raise SocketRefused(refused)
            sender = authorize(self.secret, auth)  # raises SocketRefused
            await sio.save_session(
                sid, {"sender": sender, "signed": bool(sender)}, namespace=namespace
            )
            return True

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: Text, data: Any = None) -> None:
            session = await sio.get_session(sid, namespace=namespace)
            if session.get("signed"):
                sender = session["sender"]
            else:
                requested = data.get("session_id") if isinstance(data, dict) else None
                sender = self.unsigned_sender(requested)
                session["sender"] = sender
                await sio.save_session(sid, session, namespace=namespace)
            await sio.enter_room(sid, sender, namespace=namespace)
            await sio.emit("session_confirm", sender, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: Text, data: Any = None) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message"), str):
                logger.info("Ignored a malformed web chat message from socket %s", sid)
                return
            session = await sio.get_session(sid, namespace=namespace)
            sender = session.get("sender")
            if sender is None:  # no session_request before the first message
                sender = self.unsigned_sender(data.get("session_id"))
                session["sender"] = sender
                await sio.save_session(sid, session, namespace=namespace)
                await sio.enter_room(sid, sender, namespace=namespace)
                await sio.emit("session_confirm", sender, room=sid, namespace=namespace)
            output = KlartextSocketIOOutput(sio, self.bot_message_evt)
            text, notes = prepare_text(data["message"])
            try:
                for note in notes:
                    await output.send_text_message(sender, note)
                if text is not None:
                    await handle_safely(
                        on_new_message,
                        UserMessage(
                            text,
                            output,
                            sender,
                            input_channel=self.name(),
                            metadata=_metadata(data.get(self.metadata_key)),
                        ),
                    )
            finally:
                await sio.emit(TURN_DONE_EVT, {}, room=sender, namespace=namespace)

        return bp


def blueprint_routes(blueprint: Blueprint) -> List[str]:
    """URIs of a blueprint's routes (tests, diagnostics)."""
    return [route.uri for route in getattr(blueprint, "_future_routes", [])]


__all__: Iterable[str] = (
    "authorize",
    "issue_session_id",
    "signed_session_id",
    "KlartextSocketIOInput",
    "KlartextSocketIOOutput",
    "session_id_from_browser",
)
