"""The platforms' side of a conversation, for the channel tests.

* :class:`SlackPlatform` sends events and button clicks to ``/webhooks/slack/webhook`` the
  way Slack does (signed with the signing secret) and reads the coach's answers from the
  fake Web API.
* :class:`TeamsPlatform` sends activities to ``/webhooks/teams/webhook`` the way the Bot
  Connector does (RS256 token from the fake identity provider) and reads the answers from
  the fake Bot Connector.
* :class:`WebchatClient` is a socket.io client speaking the widget's protocol.
* ``*_messages`` turn what each channel delivered into ``(text, [(title, payload)])`` pairs,
  so the parity test can compare channels.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Dict, List, Optional, Tuple

Message = Tuple[str, List[Tuple[str, str]]]


def http(
    method: str,
    url: str,
    body: Optional[bytes] = None,
    headers: Optional[Dict[str, str]] = None,
    timeout: float = 60.0,
) -> Tuple[int, bytes, Dict[str, str]]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 - loopback
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers or {})


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"


# --------------------------------------------------------------------------- Slack
class SlackPlatform:
    """Slack's side: signed Events API / Interactivity requests."""

    _ts = itertools.count(1)

    def __init__(self, base_url: str, signing_secret: str, api: Any) -> None:
        self.url = f"{base_url}/webhooks/slack/webhook"
        self.secret = signing_secret
        self.api = api

    @classmethod
    def next_ts(cls) -> str:
        return f"{int(time.time())}.{next(cls._ts):06d}"

    def sign(self, body: bytes, timestamp: str, secret: Optional[str] = None) -> str:
        base = b"v0:" + timestamp.encode() + b":" + body
        return "v0=" + hmac.new((secret or self.secret).encode(), base, hashlib.sha256).hexdigest()

    def post(
        self,
        body: bytes,
        *,
        content_type: str = "application/json",
        timestamp: Optional[str] = None,
        signature: Optional[str] = None,
        secret: Optional[str] = None,
        headers: Optional[Dict[str, str]] = None,
        unsigned: bool = False,
    ) -> Tuple[int, bytes, Dict[str, str]]:
        stamp = timestamp if timestamp is not None else str(int(time.time()))
        sent = {"Content-Type": content_type}
        if not unsigned:
            sent["X-Slack-Request-Timestamp"] = stamp
            sent["X-Slack-Signature"] = signature or self.sign(body, stamp, secret)
        sent.update(headers or {})
        return http("POST", self.url, body, sent)

    def event_body(self, event: Dict[str, Any], event_id: Optional[str] = None) -> bytes:
        return json.dumps(
            {
                "token": "deprecated",
                "team_id": "T0KLARTEXT",
                "api_app_id": "A0KLARTEXT",
                "type": "event_callback",
                "event_id": event_id or unique("Ev"),
                "event_time": int(time.time()),
                "event": event,
            }
        ).encode()

    @staticmethod
    def message_event(
        user: str,
        channel: str,
        text: str,
        *,
        ts: Optional[str] = None,
        thread_ts: Optional[str] = None,
        channel_type: str = "im",
        kind: str = "message",
    ) -> Dict[str, Any]:
        event: Dict[str, Any] = {
            "type": kind,
            "user": user,
            "channel": channel,
            "text": text,
            "ts": ts or SlackPlatform.next_ts(),
        }
        if kind == "message":
            event["channel_type"] = channel_type
        if thread_ts:
            event["thread_ts"] = thread_ts
        return event

    def say(self, user: str, channel: str, text: str, **kwargs: Any) -> int:
        event = self.message_event(user, channel, text, **kwargs)
        status, _, _ = self.post(self.event_body(event))
        return status

    def click(
        self,
        user: str,
        channel: str,
        message: Dict[str, Any],
        title: str,
        message_ts: str = "1700000000.000001",
    ) -> int:
        """Click the button ``title`` of a message the coach posted (a chat.postMessage body)."""
        for block in message.get("blocks", []):
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element["text"]["text"] == title:
                    action = dict(element, block_id=block["block_id"], action_ts=str(time.time()))
                    container = {
                        "type": "message",
                        "message_ts": message_ts,
                        "channel_id": channel,
                        "is_ephemeral": False,
                    }
                    shown = dict(message, ts=message_ts)
                    if message.get("thread_ts"):
                        container["thread_ts"] = message["thread_ts"]
                    payload = {
                        "type": "block_actions",
                        "user": {"id": user, "team_id": "T0KLARTEXT"},
                        "team": {"id": "T0KLARTEXT"},
                        "channel": {"id": channel},
                        "container": container,
                        "message": shown,
                        "trigger_id": unique("trig"),
                        "actions": [action],
                    }
                    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
                    status, _, _ = self.post(body, content_type="application/x-www-form-urlencoded")
                    return status
        raise AssertionError(f"no button {title!r} in {message!r}")


def slack_messages(calls: List[Dict[str, Any]]) -> List[Message]:
    """chat.postMessage bodies → (text, buttons)."""
    result = []
    for call in calls:
        sections = [b["text"]["text"] for b in call.get("blocks", []) if b.get("type") == "section"]
        text = "\n".join(sections) if sections else call.get("text", "")
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        buttons = [
            (e["text"]["text"], e["value"])
            for b in call.get("blocks", [])
            if b.get("type") == "actions"
            for e in b.get("elements", [])
        ]
        result.append((text, buttons))
    return result


# --------------------------------------------------------------------------- Teams
class TeamsPlatform:
    """The Bot Connector's side: signed activities to the bot."""

    def __init__(
        self, base_url: str, identity: Any, connector: Any, app_id: str, tenant_id: str
    ) -> None:
        self.url = f"{base_url}/webhooks/teams/webhook"
        self.identity = identity
        self.connector = connector
        self.app_id = app_id
        self.tenant_id = tenant_id

    def activity(
        self,
        user: str,
        conversation: str,
        text: Optional[str] = None,
        *,
        value: Any = None,
        tenant: Optional[str] = None,
        service_url: Optional[str] = None,
        kind: str = "message",
    ) -> Dict[str, Any]:
        tenant = tenant or self.tenant_id
        activity: Dict[str, Any] = {
            "type": kind,
            "id": unique("act"),
            "timestamp": "2026-11-22T12:00:00.000Z",
            "serviceUrl": service_url or self.connector.url,
            "channelId": "msteams",
            "from": {"id": user, "name": "Testperson", "aadObjectId": str(uuid.uuid4())},
            "conversation": {
                "id": conversation,
                "conversationType": "personal",
                "tenantId": tenant,
            },
            "recipient": {"id": f"28:{self.app_id}", "name": "Klartext"},
            "channelData": {"tenant": {"id": tenant}},
            "locale": "de-DE",
        }
        if text is not None:
            activity["text"] = text
            activity["textFormat"] = "plain"
        if value is not None:
            activity["value"] = value
        return activity

    def send(
        self,
        activity: Dict[str, Any],
        token: Optional[str] = "valid",
        headers: Optional[Dict[str, str]] = None,
    ) -> Tuple[int, Any]:
        sent = {"Content-Type": "application/json"}
        if token == "valid":
            token = self.identity.channel_token(activity["serviceUrl"])
        if token:
            sent["Authorization"] = f"Bearer {token}"
        sent.update(headers or {})
        status, raw, _ = http("POST", self.url, json.dumps(activity).encode(), sent)
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, raw

    def say(self, user: str, conversation: str, text: str) -> Dict[str, Any]:
        activity = self.activity(user, conversation, text)
        status, body = self.send(activity)
        assert status == 200, (status, body)
        return activity

    def click(
        self, user: str, conversation: str, reply: Dict[str, Any], title: str
    ) -> Dict[str, Any]:
        """Click a Hero card button of a reply the way Teams sends it (messageBack/imBack)."""
        for attachment in reply.get("attachments", []):
            for button in attachment.get("content", {}).get("buttons", []):
                if button["title"] == title:
                    if button["type"] == "messageBack":
                        activity = self.activity(
                            user, conversation, button["text"], value=button.get("value")
                        )
                    else:
                        activity = self.activity(user, conversation, button["value"])
                    status, body = self.send(activity)
                    assert status == 200, (status, body)
                    return activity
        raise AssertionError(f"no button {title!r} in {reply!r}")


def teams_messages(activities: List[Dict[str, Any]]) -> List[Message]:
    """The bot's reply activities → (text, buttons)."""
    result = []
    for activity in activities:
        if activity.get("attachments"):
            for attachment in activity["attachments"]:
                content = attachment.get("content", {})
                buttons = [
                    (b["title"], b.get("text") if b["type"] == "messageBack" else b["value"])
                    for b in content.get("buttons", [])
                ]
                result.append((content.get("text", ""), buttons))
        else:
            result.append((activity.get("text", ""), []))
    return result


# --------------------------------------------------------------------------- socket.io
class WebchatClient:
    """A socket.io client speaking the widget's protocol (polling transport)."""

    def __init__(self, base_url: str) -> None:
        import socketio

        self.base_url = base_url
        self.client = socketio.AsyncClient(reconnection=False)
        self.messages: List[Dict[str, Any]] = []
        self.session_id: Optional[str] = None
        self.refused: List[Any] = []
        self._confirmed = asyncio.Event()
        self._done = asyncio.Event()

        @self.client.on("session_confirm")
        async def _confirm(data: Any) -> None:
            self.session_id = data
            self._confirmed.set()

        @self.client.on("connect_error")
        async def _refused(data: Any = None) -> None:
            self.refused.append(data)

        @self.client.on("bot_uttered")
        async def _bot(data: Any) -> None:
            self.messages.append(data)

        @self.client.on("bot_turn_done")
        async def _done(_: Any = None) -> None:
            self._done.set()

    async def connect(
        self,
        token: Optional[str] = None,
        session_id: Optional[str] = None,
        wait_timeout: float = 30,
    ) -> str:
        # python-engineio's websocket client needs a newer aiohttp than Rasa pins: poll
        await self.client.connect(
            self.base_url,
            auth={"token": token} if token else {},
            transports=["polling"],
            wait_timeout=wait_timeout,
        )
        await self.client.emit("session_request", {"session_id": session_id})
        await asyncio.wait_for(self._confirmed.wait(), 30)
        assert self.session_id
        return self.session_id

    async def say(self, text: Any, timeout: float = 90.0) -> List[Dict[str, Any]]:
        """Send a message; the coach's messages of that turn (until ``bot_turn_done``)."""
        start = len(self.messages)
        self._done.clear()
        await self.client.emit("user_uttered", {"message": text, "session_id": self.session_id})
        await asyncio.wait_for(self._done.wait(), timeout)
        await asyncio.sleep(0.05)
        return self.messages[start:]

    async def refusal(self, token: Optional[str], timeout: float = 15.0) -> Optional[str]:
        """Try to connect; the server's refusal reason, or ``None`` when it let us in."""
        attempt = asyncio.ensure_future(self.connect(token, wait_timeout=timeout))
        deadline = time.monotonic() + timeout
        while not self.refused and not attempt.done() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if attempt.done() and not attempt.cancelled() and attempt.exception() is None:
            return None
        attempt.cancel()
        await asyncio.gather(attempt, return_exceptions=True)
        await self.close()
        reasons = [r.get("message") if isinstance(r, dict) else r for r in self.refused]
        assert reasons, "neither connected nor refused"
        return reasons[0]

    async def close(self) -> None:
        """Disconnect without waiting for the pending long-poll request (up to 25 s)."""
        try:
            await asyncio.wait_for(self.client.disconnect(), 2)
        except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - best effort in tests
            pass
        eio = self.client.eio
        for name in ("read_loop_task", "write_loop_task", "ping_loop_task"):
            task = getattr(eio, name, None)
            if task is not None and not task.done():
                task.cancel()
        http_session = getattr(eio, "http", None)
        if http_session is not None and not http_session.closed:
            await http_session.close()
        await asyncio.sleep(0.05)


def socketio_messages(messages: List[Dict[str, Any]]) -> List[Message]:
    return [
        (m.get("text", ""), [(b["title"], b["payload"]) for b in m.get("quick_replies", [])])
        for m in messages
    ]


def rest_messages(replies: List[Dict[str, Any]]) -> List[Message]:
    return [
        (r.get("text", ""), [(b["title"], b["payload"]) for b in r.get("buttons", [])])
        for r in replies
    ]
