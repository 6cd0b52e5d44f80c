"""Units of the Slack channel: signatures, escaping, Block Kit, Web API calls, inactive when unset.

The Web API calls (HTTP 429, refusals) go to the fake Slack API of ``tests/fakes``.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Dict, List

import pytest
from fakes.slack_api import FakeSlackAPI
from slack_sdk.signature import Clock, SignatureVerifier

from bot import config
from connectors import slack
from connectors.channel_common import Deduplicator, split_text

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


class FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self.at = now

    def now(self) -> float:
        return self.at


def test_signature_check():
    body = b'{"type":"event_callback"}'
    now = int(time.time())
    verifier = SignatureVerifier(SECRET)
    good = verifier.generate_signature(timestamp=str(now), body=body)
    assert slack.signature_problem(verifier, str(now), good, body) is None
    assert slack.signature_problem(verifier, None, good, body) == "slack_signature_missing"
    assert slack.signature_problem(verifier, str(now), None, body) == "slack_signature_missing"
    assert (
        slack.signature_problem(verifier, str(now), good, body + b" ") == "slack_signature_invalid"
    )
    other = SignatureVerifier("other")
    assert slack.signature_problem(other, str(now), good, body) == "slack_signature_invalid"
    for stamp in (str(now - 301), str(now + 301)):  # correctly signed, outside the window
        signed = verifier.generate_signature(timestamp=stamp, body=body)
        assert slack.signature_problem(verifier, stamp, signed, body) == "slack_timestamp_invalid"
    assert slack.signature_problem(verifier, "abc", good, body) == "slack_timestamp_invalid"
    # neither a body that is not UTF-8 nor a non-ASCII signature gets past (or raises)
    assert slack.signature_problem(verifier, str(now), good, b"\xff") == "slack_signature_invalid"
    assert slack.signature_problem(verifier, str(now), "v0=ä", body) == "slack_signature_invalid"


def test_signature_matches_slacks_documented_example():
    # example of Slack's "Verifying requests from Slack" documentation
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect"
        b"&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554"
        b"%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    sent = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    verifier = SignatureVerifier(SECRET, clock=FixedClock(1531420618 + 60))
    assert slack.signature_problem(verifier, "1531420618", sent, body) is None
    verifier.clock = FixedClock(1531420618 + 301)
    assert slack.signature_problem(verifier, "1531420618", sent, body) == "slack_timestamp_invalid"


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


class StubClient:
    def __init__(self) -> None:
        self.calls: List[Dict[str, Any]] = []

    async def chat_postMessage(self, **payload: Any) -> Dict[str, Any]:
        self.calls.append(payload)
        return {"ok": True}


async def test_output_long_text_with_buttons_and_thread():
    api = StubClient()
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
def slack_api():
    fake = FakeSlackAPI("xoxb-unit").start()
    yield fake
    fake.stop()


async def test_web_api_retries_once_after_rate_limit(slack_api):
    client = slack.web_client("xoxb-unit", f"{slack_api.url}/api/")  # trailing "/" is fine
    output = slack.SlackOutput(client, "C429")
    slack_api.rate_limit(calls=1, retry_after="0")
    started = time.monotonic()
    await output.send_text_message("U1", "Hallo")
    assert time.monotonic() - started < 5
    assert len(slack_api.rate_limited) == 1
    assert slack_api.calls(channel="C429") == [{"channel": "C429", "text": "Hallo"}]
    assert slack_api.rate_limited[0].path == "/api/chat.postMessage"


async def test_web_api_refusals_are_logged_not_raised(slack_api, caplog):
    output = slack.SlackOutput(slack.web_client("xoxb-unit", f"{slack_api.url}/api"), "C1")
    slack_api.rate_limit(calls=2, retry_after="0")  # still limited after the one retry
    with caplog.at_level(logging.ERROR, logger=slack.logger.name):
        await output.send_text_message("U1", "Hallo")
    assert len(slack_api.rate_limited) == 2 and slack_api.calls(channel="C1") == []
    assert "ratelimited" in caplog.text
    caplog.clear()
    wrong = slack.SlackOutput(slack.web_client("xoxb-wrong", f"{slack_api.url}/api"), "C2")
    with caplog.at_level(logging.ERROR, logger=slack.logger.name):
        await wrong.send_custom_json("U1", {"text": "x", "token": "xoxb-unit"})
    assert "invalid_auth" in caplog.text  # the payload cannot swap the bot token
    assert slack_api.calls(channel="C2") == []


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
