"""Web chat over socket.io against the running server.

Covers sign-in with signed tokens, the conversation kept per session, validation, and the
widget's files served by the server. (The browser itself is driven in
test_webchat_browser.py.)
"""

from __future__ import annotations

import json
import time

import pytest
from fakes.drivers import WebchatClient, http, socketio_messages, unique

from connectors.webchat_auth import issue_token


def token_for(channel_fakes, sender: str, **kwargs) -> str:
    return issue_token(sender, channel_fakes.webchat_secret, **kwargs)


@pytest.mark.parametrize("token", ["missing", "wrong_secret", "expired", "garbage", "no_sender"])
async def test_connection_without_valid_token_is_refused(token, servers, channel_fakes):
    sender = unique("web-")
    tokens = {
        "missing": None,
        "wrong_secret": issue_token(sender, "not-the-secret-0123456789abcdefghijkl"),
        "expired": token_for(channel_fakes, sender, ttl_seconds=60, now=time.time() - 3600),
        "garbage": "abc.def.ghi",
        "no_sender": __import__("jwt").encode(
            {"exp": int(time.time()) + 600}, channel_fakes.webchat_secret, algorithm="HS256"
        ),
    }
    client = WebchatClient(servers.base_url)
    expected = {"missing": "token_missing", "expired": "token_expired"}.get(token, "token_invalid")
    assert await client.refusal(tokens[token]) == expected
    assert client.session_id is None


async def test_signed_session_takes_the_sender_from_the_token(
    servers, channel_fakes, channel_tracker
):
    sender = unique("web-")
    client = WebchatClient(servers.base_url)
    # the browser asks for another person's session id: ignored, the token decides
    confirmed = await client.connect(
        token_for(channel_fakes, sender), session_id="someone-else-1234"
    )
    assert confirmed == sender
    replies = await client.say("Was kannst du alles?")
    messages = socketio_messages(replies)
    assert any(
        text == "Womit fangen wir an?" and ("Ein Kunde ist ausfällig", "/report_abuse") in buttons
        for text, buttons in messages
    )
    await client.close()
    assert channel_tracker(sender)["latest_message"]["text"] == "Was kannst du alles?"
    events = channel_tracker("someone-else-1234").get("events") or []
    assert not any(e.get("event") == "user" for e in events)


async def test_reconnect_continues_the_conversation(servers, channel_fakes, channel_tracker):
    sender = unique("web-")
    token = token_for(channel_fakes, sender)
    first = WebchatClient(servers.base_url)
    await first.connect(token)
    replies = await first.say("/report_abuse")  # what the button "Ein Kunde ist ausfällig" sends
    assert any("Wie oft" in text for text, _ in socketio_messages(replies))
    await first.close()
    # like a page reload: a new socket with the same token
    second = WebchatClient(servers.base_url)
    assert await second.connect(token, session_id=sender) == sender
    replies = await second.say("Schon mehrmals")
    assert any("Wie heftig" in text for text, _ in socketio_messages(replies))
    await second.close()
    assert channel_tracker(sender)["slots"]["case"] == "abusive"


async def test_malformed_and_empty_messages(servers, channel_fakes):
    client = WebchatClient(servers.base_url)
    await client.connect(token_for(channel_fakes, unique("web-")))
    for bad in (None, 42, ["liste"], {"message": 7}):
        await client.client.emit("user_uttered", bad)
    empty = await client.say("   ")
    assert [m["text"] for m in empty] and "keine Nachricht" in empty[0]["text"]
    replies = await client.say("Was kannst du alles?")
    assert any(m.get("quick_replies") for m in replies)
    await client.close()


def test_widget_files_are_served_by_the_rasa_server(servers):
    status, page, headers = http("GET", f"{servers.base_url}/webchat/")
    assert status == 200 and b"klartext-chat.js" in page
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    for name in ("klartext-chat.js", "klartext-chat.css", "socket.io.min.js"):
        status, body, _ = http("GET", f"{servers.base_url}/webchat/{name}")
        assert status == 200 and len(body) > 100, name
    status, config, _ = http("GET", f"{servers.base_url}/webchat/config.js")
    assert status == 200
    data = json.loads(config.decode().split("=", 1)[1].strip().rstrip(";"))
    assert data["signIn"] is True and data["server"] is None
    assert data["texts"]["send"] == "Senden"
    for bad in (
        "..%2F..%2Fcredentials.yml",
        "package.json",
        "node_modules",
        "e2e%2Fwebchat.e2e.mjs",
    ):
        assert http("GET", f"{servers.base_url}/webchat/{bad}")[0] == 404, bad
