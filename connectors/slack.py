"""Klartext's Slack channel: Events API + interactive buttons, answers via ``chat.postMessage``.

Registered in ``credentials.yml`` as ``connectors.slack.KlartextSlackInput``; active only when
``KLARTEXT_SLACK_BOT_TOKEN`` and ``KLARTEXT_SLACK_SIGNING_SECRET`` are set (environment or
``.env``), otherwise it registers no route (``/webhooks/slack/webhook`` answers 404).

One URL, ``POST /webhooks/slack/webhook``, serves the Events API (``url_verification``,
``event_callback``) and Interactivity (``block_actions``):

* Every request must carry a valid signature: ``X-Slack-Signature`` =
  ``v0=HMAC-SHA256(signing secret, "v0:<timestamp>:<body>")`` and an
  ``X-Slack-Request-Timestamp`` at most five minutes off; otherwise HTTP 401. The check is
  slack_sdk's :class:`~slack_sdk.signature.SignatureVerifier`; this module only names the
  reason of a refusal.
* Requests are acknowledged at once (Slack waits three seconds at most) and answered in
  the background. Each event is handled once: a retry (``X-Slack-Retry-Num``) of an event
  already received is acknowledged with ``X-Slack-No-Retry: 1`` and not answered again,
  and a message that arrives both as ``message`` and ``app_mention`` is answered once.
* The coach answers direct messages, mentions in channels (in a thread under the mention)
  and further messages in a thread it takes part in. Replies go to the thread the user
  writes in; the sender id is the Slack user id (``shared/CONTRACT.md``), so a user keeps
  one conversation whether they write in a thread or not.
* Buttons are Block Kit buttons (``actions`` block); a click arrives as ``block_actions``,
  the chosen button's payload is processed like a typed message, and the buttons of that
  message are replaced by "Deine Wahl: …" (``chat.update``).
* Texts are sent with ``&``, ``<``, ``>`` escaped, so nothing in them becomes a link, a
  mention or a command; Slack's ``*bold*`` (used by the coach's texts) stays. Long texts
  are sent in parts of at most 3,000 characters (the limit of one section).

Web API calls go through slack_sdk's :class:`~slack_sdk.web.async_client.AsyncWebClient`
(aiohttp; never blocks the server; one retry after HTTP 429, waiting as ``Retry-After`` says).
A call Slack refuses is logged, not raised. ``KLARTEXT_SLACK_API_BASE`` (default
``https://slack.com/api``) points the Web API calls elsewhere – the tests point it at a fake
on loopback.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple
from urllib.parse import parse_qs

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from connectors import channel_common as common
from connectors.guard import handle_safely
from connectors.rest import prepare_text

logger = logging.getLogger(__name__)

TOKEN_ENV = "KLARTEXT_SLACK_BOT_TOKEN"
SECRET_ENV = "KLARTEXT_SLACK_SIGNING_SECRET"
API_BASE_ENV = "KLARTEXT_SLACK_API_BASE"
DEFAULT_API_BASE = "https://slack.com/api"

MAX_AGE_SECONDS = 300  # the window SignatureVerifier enforces (named here for the error key)
MAX_BODY_BYTES = 1_000_000
TEXT_LIMIT = 3000  # characters of one section / one message part
BUTTON_TITLE_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
BUTTONS_PER_BLOCK = 25
API_TIMEOUT_SECONDS = 15
ACTION_ID_PREFIX = "klartext_button_"

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_HANDLED_SUBTYPES = {None, "thread_broadcast", "file_share"}


# --------------------------------------------------------------------------- helpers
def signature_problem(
    verifier: SignatureVerifier, timestamp: Optional[str], sent: Optional[str], body: bytes
) -> Optional[str]:
    """``None`` when ``verifier`` accepts the request, else the key of the error text.

    The decision is the verifier's; a refused request is told apart only for the answer
    (timestamp outside the five-minute window vs. a wrong signature).
    """
    if not timestamp or not sent:
        return "slack_signature_missing"
    try:
        stamp = int(timestamp)
    except ValueError:  # slack_sdk would raise on it
        return "slack_timestamp_invalid"
    try:
        if verifier.is_valid(body, timestamp, sent):
            return None
    except (UnicodeDecodeError, TypeError):  # body not UTF-8 / signature not ASCII
        return "slack_signature_invalid"
    if abs(verifier.clock.now() - stamp) > MAX_AGE_SECONDS:
        return "slack_timestamp_invalid"
    return "slack_signature_invalid"


def escape(value: str) -> str:
    """Escape the three characters Slack treats as control sequences."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(value: str) -> str:
    return value.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def incoming_text(raw: str) -> str:
    """The user's text without mentions of the bot, with Slack's escaping undone."""
    return unescape(_MENTION.sub("", raw or "")).strip()


def text_section(value: str) -> Dict[str, Any]:
    """A section with the (escaped) text; ``*…*`` of the coach's texts renders bold."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": escape(value)}}


def button_blocks(buttons: List[Tuple[str, str]]) -> List[Dict[str, Any]]:
    """``actions`` blocks with at most 25 Block Kit buttons each."""
    blocks = []
    for start in range(0, len(buttons), BUTTONS_PER_BLOCK):
        elements = []
        for index, (title, payload) in enumerate(buttons[start : start + BUTTONS_PER_BLOCK], start):
            elements.append(
                {
                    "type": "button",
                    "text": {
                        "type": "plain_text",
                        "text": common.shorten(title, BUTTON_TITLE_LIMIT),
                        "emoji": True,
                    },
                    "value": payload[:BUTTON_VALUE_LIMIT],
                    "action_id": f"{ACTION_ID_PREFIX}{index}",
                }
            )
        blocks.append(
            {
                "type": "actions",
                "block_id": f"klartext_buttons_{start // BUTTONS_PER_BLOCK}",
                "elements": elements,
            }
        )
    return blocks


def web_client(token: str, base_url: str = DEFAULT_API_BASE) -> AsyncWebClient:
    """slack_sdk's async Web API client at ``base_url``, retrying once after HTTP 429."""
    return AsyncWebClient(
        token=token,
        base_url=base_url.rstrip("/") + "/",
        timeout=API_TIMEOUT_SECONDS,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )


async def call_api(method: str, request: Awaitable[Any]) -> None:
    """Await a Web API ``request``; Slack refusing it (``ok: false``, HTTP error) is logged."""
    try:
        await request
    except SlackApiError as error:
        logger.error("Slack %s failed: %s", method, error)


class SlackOutput(OutputChannel):
    """Sends the coach's messages to one Slack channel (and thread)."""

    @classmethod
    def name(cls) -> Text:
        return "slack"

    def __init__(
        self,
        client: AsyncWebClient,
        channel: str,
        thread_ts: Optional[str] = None,
        on_thread_reply: Optional[Callable[[str, str], None]] = None,
    ) -> None:
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self._on_thread_reply = on_thread_reply

    async def _post(self, text: str, blocks: Optional[List[Dict[str, Any]]] = None) -> None:
        payload: Dict[str, Any] = {"channel": self.channel, "text": escape(text)}
        if blocks:
            payload["blocks"] = blocks
        if self.thread_ts:
            payload["thread_ts"] = self.thread_ts
            if self._on_thread_reply:
                self._on_thread_reply(self.channel, self.thread_ts)
        await call_api("chat.postMessage", self.client.chat_postMessage(**payload))

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in common.split_text(text, TEXT_LIMIT):
            await self._post(part)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        parts = common.split_text(text, TEXT_LIMIT) or [common.text("slack", "buttons_fallback")]
        for part in parts[:-1]:
            await self._post(part)
        last = parts[-1]
        blocks = [text_section(last)] + button_blocks(common.normalize_buttons(buttons))
        await self._post(last, blocks)

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._post(image, [{"type": "image", "image_url": image, "alt_text": image}])

    async def send_attachment(self, recipient_id: Text, attachment: Text, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, str(attachment))

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        payload = dict(json_message)
        payload.pop("token", None)  # would replace the bot token of the request
        payload.setdefault("channel", self.channel)
        if self.thread_ts:
            payload.setdefault("thread_ts", self.thread_ts)
        await call_api("chat.postMessage", self.client.chat_postMessage(**payload))


# --------------------------------------------------------------------------- input
class KlartextSlackInput(InputChannel):
    """Slack Events API + Interactivity with signature check, retry dedup and threads."""

    @classmethod
    def name(cls) -> Text:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "KlartextSlackInput":
        credentials = credentials or {}
        return cls(
            token=common.setting(TOKEN_ENV, credentials=credentials, key="slack_token"),
            signing_secret=common.setting(
                SECRET_ENV, credentials=credentials, key="slack_signing_secret"
            ),
            api_base=common.setting(API_BASE_ENV, DEFAULT_API_BASE, credentials, "api_base"),
        )

    def __init__(
        self, token: str = "", signing_secret: str = "", api_base: str = DEFAULT_API_BASE
    ) -> None:
        self.token = token
        self.signing_secret = signing_secret
        # SignatureVerifier refuses an empty secret; without one the channel stays inactive
        self.verifier = SignatureVerifier(signing_secret) if signing_secret.strip() else None
        self.client = web_client(token, api_base or DEFAULT_API_BASE)
        self.events = common.Deduplicator(ttl=3600)  # event ids and message keys
        self.threads = common.Deduplicator(ttl=7 * 24 * 3600)  # threads the coach is in
        self.tasks = common.BackgroundTasks()

    @property
    def active(self) -> bool:
        return bool(self.token and self.verifier)

    def _web(self) -> AsyncWebClient:
        """The Web API client, with one aiohttp session (created in the server's loop)."""
        if self.client.session is None or self.client.session.closed:
            self.client.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=API_TIMEOUT_SECONDS)
            )
        return self.client

    def _remember_thread(self, channel: str, thread_ts: str) -> None:
        self.threads.seen(f"{channel}:{thread_ts}")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        slack = Blueprint("klartext_slack_webhook", __name__)
        if not self.active:
            logger.info(
                "Slack channel not configured (%s and %s unset): inactive.", TOKEN_ENV, SECRET_ENV
            )
            return slack
        logger.info("Slack channel active (Web API at %s).", self.client.base_url)

        @slack.listener("before_server_stop")
        async def _close(app: Any, _loop: Any) -> None:  # pragma: no cover - server
            await self.tasks.wait()
            if self.client.session is not None and not self.client.session.closed:
                await self.client.session.close()

        @slack.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @slack.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            body = request.body or b""
            if len(body) > MAX_BODY_BYTES:
                return _error(413, "body_too_large", limit=MAX_BODY_BYTES)
            problem = signature_problem(
                self.verifier,
                request.headers.get("X-Slack-Request-Timestamp"),
                request.headers.get("X-Slack-Signature"),
                body,
            )
            if problem:
                logger.warning("Refused a Slack request: %s", common.error(problem))
                return _error(401, problem)
            retry = request.headers.get("X-Slack-Retry-Num")
            ack_headers = {"X-Slack-No-Retry": "1"} if retry else {}

            content_type = (request.headers.get("Content-Type") or "").lower()
            try:
                if "application/x-www-form-urlencoded" in content_type:
                    form = parse_qs(body.decode("utf-8"))
                    data = json.loads(form["payload"][0])
                else:
                    data = json.loads(body.decode("utf-8"))
            except (KeyError, IndexError, ValueError, UnicodeDecodeError):
                return _error(400, "slack_body_invalid")
            if not isinstance(data, dict):
                return _error(400, "slack_body_invalid")

            kind = data.get("type")
            if kind == "url_verification":
                return response.json({"challenge": data.get("challenge", "")})
            if kind == "event_callback":
                self._on_event(data, retry, on_new_message)
            elif kind == "block_actions":
                self._on_block_actions(data, on_new_message)
            return response.text("", status=200, headers=ack_headers)

        return slack

    # ------------------------------------------------------------------ events
    def _on_event(
        self,
        data: Dict[str, Any],
        retry: Optional[str],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        event_id = data.get("event_id")
        if self.events.seen(f"event:{event_id}" if event_id else None):
            logger.info(
                "Slack event %s already received (retry %s): not answered again",
                event_id,
                retry or "-",
            )
            return
        event = data.get("event")
        if not isinstance(event, dict):
            return
        message = self._message_from_event(event)
        if message is None:
            return
        channel, thread_ts, user, text, ts = message
        if self.events.seen(f"message:{channel}:{ts}"):  # message + app_mention of one post
            return
        metadata = {
            "slack": {
                "team": data.get("team_id"),
                "channel": channel,
                "ts": ts,
                "thread_ts": thread_ts,
                "event_id": event_id,
            }
        }
        self.tasks.start(
            self._process(on_new_message, text, user, channel, thread_ts, metadata),
            name=f"slack event {event_id}",
        )

    def _message_from_event(
        self, event: Dict[str, Any]
    ) -> Optional[Tuple[str, Optional[str], str, str, str]]:
        """(channel, thread to answer in, user, text, ts) of an event for the coach, or None."""
        kind = event.get("type")
        if kind not in ("message", "app_mention"):
            return None
        if event.get("bot_id") or event.get("subtype") not in _HANDLED_SUBTYPES:
            return None
        user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
        if not (isinstance(user, str) and isinstance(channel, str) and isinstance(ts, str)):
            return None
        raw = event.get("text")
        if not isinstance(raw, str):
            return None
        thread_ts = event.get("thread_ts") if isinstance(event.get("thread_ts"), str) else None
        if kind == "app_mention":
            thread_ts = thread_ts or ts  # answer in a thread under the mention
        elif event.get("channel_type") != "im":
            # a channel message concerns the coach only in a thread it takes part in
            if not thread_ts or f"{channel}:{thread_ts}" not in self.threads:
                return None
        return channel, thread_ts, user, incoming_text(raw), ts

    # ------------------------------------------------------------------ buttons
    def _on_block_actions(
        self, data: Dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        actions = data.get("actions") or []
        user = (data.get("user") or {}).get("id")
        channel = (data.get("channel") or {}).get("id") or (data.get("container") or {}).get(
            "channel_id"
        )
        if not actions or not isinstance(actions[0], dict) or not user or not channel:
            return
        action = actions[0]
        key = f"action:{action.get('action_ts') or data.get('trigger_id')}:{user}"
        if self.events.seen(key):
            return
        payload = action.get("value")
        if not isinstance(payload, str) or not payload:
            return
        title = ((action.get("text") or {}).get("text")) or payload
        container = data.get("container") or {}
        message = data.get("message") or {}
        thread_ts = container.get("thread_ts") or message.get("thread_ts")
        message_ts = container.get("message_ts") or message.get("ts")
        metadata = {
            "slack": {
                "team": (data.get("team") or {}).get("id"),
                "channel": channel,
                "ts": message_ts,
                "thread_ts": thread_ts,
                "action": action.get("action_id"),
            }
        }

        async def run() -> None:
            if message_ts and isinstance(message.get("blocks"), list):
                await self._mark_choice(channel, message_ts, message, title)
            await self._process(on_new_message, payload, user, channel, thread_ts, metadata)

        self.tasks.start(run(), name=f"slack action of {user}")

    async def _mark_choice(
        self, channel: str, ts: str, message: Dict[str, Any], title: str
    ) -> None:
        """Replace the buttons of the clicked message by the choice (no second click)."""
        chosen = common.text("slack", "choice_made", title=title)
        blocks = [
            block
            for block in message.get("blocks", [])
            if isinstance(block, dict) and block.get("type") != "actions"
        ]
        blocks.append(
            {"type": "context", "elements": [{"type": "plain_text", "text": chosen, "emoji": True}]}
        )
        await call_api(
            "chat.update",
            self._web().chat_update(
                channel=channel, ts=ts, text=message.get("text") or escape(chosen), blocks=blocks
            ),
        )

    # ------------------------------------------------------------------ processing
    async def _process(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str,
        user: str,
        channel: str,
        thread_ts: Optional[str],
        metadata: Dict[str, Any],
    ) -> None:
        output = SlackOutput(self._web(), channel, thread_ts, self._remember_thread)
        if thread_ts:
            self._remember_thread(channel, thread_ts)
        prepared, notes = prepare_text(text)
        for note in notes:
            await output.send_text_message(user, note)
        if prepared is not None:
            await handle_safely(
                on_new_message,
                UserMessage(prepared, output, user, input_channel=self.name(), metadata=metadata),
            )

    def get_output_channel(self) -> Optional[OutputChannel]:
        return None


def _error(status: int, key: str, **values: Any) -> HTTPResponse:
    return response.json({"error": common.error(key, **values)}, status=status)
