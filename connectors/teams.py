"""Klartext's Microsoft Teams channel (Bot Framework activities, single- or multi-tenant).

Registered in ``credentials.yml`` as ``connectors.teams.KlartextTeamsInput``; active only when
``KLARTEXT_TEAMS_APP_ID`` and ``KLARTEXT_TEAMS_APP_PASSWORD`` are set (environment or
``.env``), otherwise it registers no route. The Azure Bot's messaging endpoint is
``https://<host>/webhooks/teams/webhook``.

* Every activity is authenticated (:mod:`connectors.botframework_auth`): RS256 token from
  the Bot Connector, checked against the OpenID metadata's keys, issuer, audience (app id),
  ``serviceUrl`` claim, endorsements and – with ``KLARTEXT_TEAMS_TENANT_ID`` set
  (single-tenant bot) – the tenant. Refused: HTTP 401/403, nothing is processed.
* The activity is acknowledged at once and answered in the background; replies are posted
  with aiohttp (never blocking the server) to
  ``<serviceUrl>/v3/conversations/<id>/activities/<replyToId>`` with a client-credentials
  token (tenant endpoint for single-tenant bots), cached until shortly before it expires.
* Buttons are a Hero card whose actions Teams can click: ``messageBack`` (shows the title,
  sends the payload, e.g. ``/report_abuse``) or ``imBack`` when the payload is plain text.
  Long texts are sent in parts of at most 4,000 characters; text is sent as plain text
  (``*…*`` emphasis markers of the coach's texts are dropped).
* The sender id is the Teams user's ``from.id`` (``shared/CONTRACT.md``); ``<at>…</at>``
  mentions of the bot are removed from the text.

Endpoints can be pointed elsewhere (tests use fakes on loopback):
``KLARTEXT_TEAMS_OPENID_METADATA_URL``, ``KLARTEXT_TEAMS_TOKEN_URL``,
``KLARTEXT_TEAMS_ISSUERS`` (comma-separated) and ``KLARTEXT_TEAMS_SERVICE_URL`` (send replies
there instead of to the activity's ``serviceUrl``).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text
from urllib.parse import quote

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors import channel_common as common
from connectors.botframework_auth import (
    DEFAULT_ISSUER,
    DEFAULT_OPENID_METADATA_URL,
    AuthError,
    ChannelTokenValidator,
    ConnectorTokenClient,
    OpenIdKeyCache,
    SessionProvider,
    token_url_for,
)
from connectors.guard import handle_safely
from connectors.rest import prepare_text

logger = logging.getLogger(__name__)

APP_ID_ENV = "KLARTEXT_TEAMS_APP_ID"
PASSWORD_ENV = "KLARTEXT_TEAMS_APP_PASSWORD"
TENANT_ENV = "KLARTEXT_TEAMS_TENANT_ID"
METADATA_ENV = "KLARTEXT_TEAMS_OPENID_METADATA_URL"
TOKEN_URL_ENV = "KLARTEXT_TEAMS_TOKEN_URL"
ISSUERS_ENV = "KLARTEXT_TEAMS_ISSUERS"
SERVICE_URL_ENV = "KLARTEXT_TEAMS_SERVICE_URL"

MAX_BODY_BYTES = 1_000_000
TEXT_LIMIT = 4000
HERO_CARD = "application/vnd.microsoft.card.hero"

_AT_MENTION = re.compile(r"<at>.*?</at>", re.S)


def incoming_text(activity: Dict[str, Any]) -> str:
    """What the user said: a button's payload, else the text without @-mentions."""
    value = activity.get("value")
    if (
        isinstance(value, dict)
        and isinstance(value.get("payload"), str)
        and value["payload"].strip()
    ):
        return value["payload"].strip()
    text = activity.get("text")
    return _AT_MENTION.sub("", text).strip() if isinstance(text, str) else ""


def card_action(title: str, payload: str) -> Dict[str, Any]:
    """A clickable Hero card action for a Rasa button."""
    if payload == title or not payload.startswith("/"):
        return {"type": "imBack", "title": title, "value": payload}
    return {
        "type": "messageBack",
        "title": title,
        "text": payload,
        "displayText": title,
        "value": {"payload": payload},
    }


class TeamsOutput(OutputChannel):
    """Replies to one activity through the Bot Connector service."""

    @classmethod
    def name(cls) -> Text:
        return "teams"

    def __init__(
        self,
        tokens: ConnectorTokenClient,
        sessions: SessionProvider,
        service_url: str,
        activity: Dict[str, Any],
    ) -> None:
        self.tokens = tokens
        self.sessions = sessions
        self.service_url = service_url.rstrip("/")
        self.conversation = activity.get("conversation") or {}
        self.reply_to_id = activity.get("id")
        self.bot = activity.get("recipient") or {}
        self.user = activity.get("from") or {}
        self.locale = activity.get("locale") or "de-DE"

    def _url(self) -> str:
        conversation = quote(str(self.conversation.get("id", "")), safe="")
        url = f"{self.service_url}/v3/conversations/{conversation}/activities"
        if self.reply_to_id:
            url += "/" + quote(str(self.reply_to_id), safe="")
        return url

    async def _send(self, extra: Dict[str, Any]) -> None:
        activity: Dict[str, Any] = {
            "type": "message",
            "from": self.bot,
            "recipient": self.user,
            "conversation": {"id": self.conversation.get("id")},
            "locale": self.locale,
        }
        if self.reply_to_id:
            activity["replyToId"] = self.reply_to_id
        activity.update(extra)
        body = json.dumps(activity)
        for attempt in (1, 2):
            token = await self.tokens.token()
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            async with self.sessions.get().post(self._url(), data=body, headers=headers) as resp:
                if resp.status == 401 and attempt == 1:
                    self.tokens.forget()
                    continue
                if resp.status >= 300:
                    detail = (await resp.text())[:300]
                    logger.error("Bot Connector answered HTTP %s: %s", resp.status, detail)
                return

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in common.split_text(common.strip_emphasis(text), TEXT_LIMIT):
            await self._send({"text": part, "textFormat": "plain"})

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        parts = common.split_text(common.strip_emphasis(text), TEXT_LIMIT) or [""]
        for part in parts[:-1]:
            await self._send({"text": part, "textFormat": "plain"})
        card = {
            "contentType": HERO_CARD,
            "content": {
                "text": parts[-1],
                "buttons": [
                    card_action(title, payload)
                    for title, payload in common.normalize_buttons(buttons)
                ],
            },
        }
        await self._send({"attachments": [card], "attachmentLayout": "list"})

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._send({"attachments": [{"contentType": "image/png", "contentUrl": image}]})

    async def send_attachment(self, recipient_id: Text, attachment: Text, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, str(attachment))

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        await self._send(dict(json_message))


class KlartextTeamsInput(InputChannel):
    """Bot Framework / Teams input channel with token validation on every activity."""

    @classmethod
    def name(cls) -> Text:
        return "teams"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "KlartextTeamsInput":
        credentials = credentials or {}

        def get(env: str, key: str, default: str = "") -> str:
            return common.setting(env, default, credentials, key)

        tenant = get(TENANT_ENV, "tenant_id")
        return cls(
            app_id=get(APP_ID_ENV, "app_id"),
            app_password=get(PASSWORD_ENV, "app_password"),
            tenant_id=tenant,
            metadata_url=get(METADATA_ENV, "openid_metadata_url", DEFAULT_OPENID_METADATA_URL),
            token_url=get(TOKEN_URL_ENV, "token_url") or token_url_for(tenant),
            issuers=[i.strip() for i in get(ISSUERS_ENV, "issuers", DEFAULT_ISSUER).split(",")],
            service_url=get(SERVICE_URL_ENV, "service_url"),
        )

    def __init__(
        self,
        app_id: str = "",
        app_password: str = "",
        tenant_id: str = "",
        metadata_url: str = DEFAULT_OPENID_METADATA_URL,
        token_url: str = "",
        issuers: Optional[List[str]] = None,
        service_url: str = "",
    ) -> None:
        self.app_id = app_id
        self.app_password = app_password
        self.tenant_id = tenant_id
        self.service_url = service_url
        self.sessions = SessionProvider()
        self.keys = OpenIdKeyCache(metadata_url)
        self.validator = ChannelTokenValidator(
            app_id, self.keys, issuers or [DEFAULT_ISSUER], tenant_id
        )
        self.tokens = ConnectorTokenClient(
            token_url or token_url_for(tenant_id), app_id, app_password, self.sessions
        )
        self.tasks = common.BackgroundTasks()

    @property
    def active(self) -> bool:
        return bool(self.app_id and self.app_password)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        teams = Blueprint("klartext_teams_webhook", __name__)
        if not self.active:
            logger.info(
                "Teams channel not configured (%s and %s unset): inactive.",
                APP_ID_ENV,
                PASSWORD_ENV,
            )
            return teams
        logger.info(
            "Teams channel active (%s bot, keys from %s).",
            "single-tenant" if self.tenant_id else "multi-tenant",
            self.keys.metadata_url,
        )

        @teams.listener("before_server_stop")
        async def _close(app: Any, _loop: Any) -> None:  # pragma: no cover - server
            await self.tasks.wait()
            await self.sessions.close()
            self.keys.close()

        @teams.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @teams.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            body = request.body or b""
            if len(body) > MAX_BODY_BYTES:
                return _error(413, "body_too_large", limit=MAX_BODY_BYTES)
            try:
                activity = json.loads(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                activity = None
            if not isinstance(activity, dict):
                return _error(400, "teams_body_invalid")
            try:
                await self.validator.validate(request.headers.get("Authorization"), activity)
            except AuthError as refused:
                logger.warning(
                    "Refused a Bot Framework activity (%s): %s", refused.status, refused.reason
                )
                key = (
                    "teams_auth_missing"
                    if refused.reason == "missing bearer token"
                    else ("teams_forbidden" if refused.status == 403 else "teams_auth_invalid")
                )
                return _error(refused.status, key, reason=refused.reason)

            if activity.get("type") == "message":
                error = _check_message(activity)
                if error:
                    return _error(400, "teams_body_invalid")
                self.tasks.start(
                    self._process(on_new_message, activity),
                    name=f"teams activity {activity.get('id')}",
                )
            return response.json({}, status=200)

        return teams

    async def _process(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]], activity: Dict[str, Any]
    ) -> None:
        service_url = self.service_url or activity["serviceUrl"]
        output = TeamsOutput(self.tokens, self.sessions, service_url, activity)
        sender = activity["from"]["id"]
        text, notes = prepare_text(incoming_text(activity))
        for note in notes:
            await output.send_text_message(sender, note)
        if text is not None:
            metadata = {
                "teams": {
                    "conversation": (activity.get("conversation") or {}).get("id"),
                    "tenant": ((activity.get("channelData") or {}).get("tenant") or {}).get("id"),
                    "activity_id": activity.get("id"),
                }
            }
            await handle_safely(
                on_new_message,
                UserMessage(text, output, sender, input_channel=self.name(), metadata=metadata),
            )

    def get_output_channel(self) -> Optional[OutputChannel]:
        return None


def _check_message(activity: Dict[str, Any]) -> Optional[str]:
    sender = (activity.get("from") or {}).get("id")
    conversation = (activity.get("conversation") or {}).get("id")
    if not isinstance(sender, str) or not sender or len(sender) > 256:
        return "from.id"
    if not isinstance(conversation, str) or not conversation:
        return "conversation.id"
    if not isinstance(activity.get("serviceUrl"), str):
        return "serviceUrl"
    return None


def _error(status: int, key: str, **values: Any) -> HTTPResponse:
    return response.json({"error": common.error(key, **values)}, status=status)
