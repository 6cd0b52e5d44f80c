"""Units of the Slack channel: signatures, escaping, Block Kit rendering, inactive when unset."""

from __future__ import annotations

import time
from typing import Any, Dict, List

import pytest

from bot import config
from connectors import slack
from connectors.channel_common import Deduplicator, split_text

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def test_signature_check():
    body = b'{"type":"event_callback"}'
    now = int(time.time())
    good = slack.signature(SECRET, str(now), body)
    assert slack.check_signature(SECRET, str(now), good, body) is None
    assert slack.check_signature(SECRET, None, good, body) == "slack_signature_missing"
    assert slack.check_signature(SECRET, str(now), None, body) == "slack_signature_missing"
    assert slack.check_signature(SECRET, str(now), good, body + b" ") == "slack_signature_invalid"
    assert slack.check_signature("other", str(now), good, body) == "slack_signature_invalid"
    old = str(now - 301)
    assert (
        slack.check_signature(SECRET, old, slack.signature(SECRET, old, body), body)
        == "slack_timestamp_invalid"
    )
    assert slack.check_signature(SECRET, "abc", good, body) == "slack_timestamp_invalid"


def test_signature_matches_slacks_documented_example():
    # example of Slack's "Verifying requests from Slack" documentation
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect"
        b"&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554"
        b"%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    assert (
        slack.signature(SECRET, "1531420618", body)
        == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )


def test_escaping_and_incoming_text():
    assert slack.escape("<b> & </b>") == "&lt;b&gt; &amp; &lt;/b&gt;"
    assert (
        slack.incoming_text("<@U0BOT> &lt;b&gt;Hallo&lt;/b&gt; &amp; tschüss")
        == "<b>Hallo</b> & tschüss"
    )
    assert slack.incoming_text("<@U0BOT|klartext>") == ""


def test_button_blocks_respect_slack_limits():
    buttons = [(f"Titel {i} " + "x" * 100, "/payload" + "y" * 3000) for i in range(30)]
    blocks = slack.button_blocks(buttons)
    assert [len(b["elements"]) for b in blocks] == [25, 5]
    element = blocks[0]["elements"][0]
    assert len(element["text"]["text"]) <= 75 and element["text"]["text"].endswith("…")
    assert len(element["value"]) == 2000
    ids = [e["action_id"] for b in blocks for e in b["elements"]]
    assert len(set(ids)) == 30


def test_split_text_keeps_every_word():
    text = ("Ein Satz mit einigen Wörtern. " * 200).strip()
    parts = split_text(text, 3000)
    assert len(parts) > 1 and all(len(p) <= 3000 for p in parts)
    assert " ".join(parts).split() == text.split()
    assert split_text("kurz", 3000) == ["kurz"] and split_text("   ", 10) == []
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_deduplicator():
    seen = Deduplicator(ttl=60, size=3)
    assert not seen.seen("a") and seen.seen("a")
    assert not seen.seen(None) and not seen.seen(None)
    for key in "bcd":
        seen.seen(key)
    assert "a" not in seen  # oldest dropped when full


class StubAPI:
    def __init__(self) -> None:
        self.calls: List[Dict[str, Any]] = []

    async def call(self, method: str, payload: Dict[str, Any]) -> Dict[str, Any]:
        self.calls.append(dict(payload, _method=method))
        return {"ok": True}


async def test_output_long_text_with_buttons_and_thread():
    api = StubAPI()
    threads = []
    output = slack.SlackOutput(api, "C1", "1700.1", lambda c, t: threads.append((c, t)))
    long = ("Absatz mit <b>Markup</b> & *Betonung*. " * 150).strip()
    await output.send_text_with_buttons("U1", long, [{"title": "Ja", "payload": "/affirm"}])
    assert len(api.calls) == 2
    assert all(c["thread_ts"] == "1700.1" and c["channel"] == "C1" for c in api.calls)
    assert "blocks" not in api.calls[0] and "&lt;b&gt;" in api.calls[0]["text"]
    section, actions = api.calls[1]["blocks"]
    assert section["text"]["type"] == "mrkdwn" and "<b>" not in section["text"]["text"]
    assert actions["elements"][0]["value"] == "/affirm"
    assert threads == [("C1", "1700.1")] * 2


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.setattr(config, "_dotenv_loaded", True)  # ignore a developer's .env
    for name in list(__import__("os").environ):
        if name.startswith(("KLARTEXT_SLACK_", "KLARTEXT_TEAMS_")):
            monkeypatch.delenv(name)


def test_inactive_without_secrets(no_env):
    from connectors.socketio_channel import blueprint_routes

    async def on_message(_):  # pragma: no cover - not called
        return None

    channel = slack.KlartextSlackInput.from_credentials(None)
    assert not channel.active
    assert blueprint_routes(channel.blueprint(on_message)) == []
    half = slack.KlartextSlackInput(token="xoxb-1", signing_secret="")
    assert not half.active
    full = slack.KlartextSlackInput(token="xoxb-1", signing_secret="s")
    assert set(blueprint_routes(full.blueprint(on_message))) >= {"/webhook"}
