"""Slack channel against the running server: signed and forged requests, retries, buttons, threads.

The coach's answers are read from the fake Slack Web API (tests/fakes/).
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, List

import pytest
from fakes.drivers import SlackPlatform, slack_messages, unique


@pytest.fixture
def slack(servers, channel_fakes) -> SlackPlatform:
    return SlackPlatform(servers.base_url, channel_fakes.slack_signing_secret, channel_fakes.slack)


def texts(calls: List[Dict[str, Any]]) -> str:
    return "\n".join(text for text, _ in slack_messages(calls))


def user_turns(channel_tracker, sender: str) -> int:
    return sum(1 for e in channel_tracker(sender).get("events", []) if e.get("event") == "user")


def test_signed_direct_message_is_answered_with_buttons(slack, channel_fakes, wait_turn):
    user, channel = unique("U"), unique("D")
    assert slack.say(user, channel, "Was kannst du alles?") == 200
    wait_turn(user, 1)
    calls = channel_fakes.slack.calls(channel=channel)
    assert "Womit fangen wir an?" in texts(calls)
    buttons = [b for _, bs in slack_messages(calls) for b in bs]
    assert ("Ein Kunde ist ausfällig", "/report_abuse") in buttons
    with_buttons = [c for c in calls if c.get("blocks")]
    assert with_buttons and with_buttons[-1]["blocks"][-1]["type"] == "actions"
    assert all("thread_ts" not in c for c in calls)  # top-level DM → top-level answer


def test_url_verification_challenge(slack):
    body = json.dumps(
        {"type": "url_verification", "challenge": "klartext-challenge", "token": "x"}
    ).encode()
    status, raw, _ = slack.post(body)
    assert status == 200 and json.loads(raw) == {"challenge": "klartext-challenge"}


@pytest.mark.parametrize(
    "case",
    [
        "unsigned",
        "wrong_secret",
        "tampered_body",
        "old_timestamp",
        "future_timestamp",
        "garbage_signature",
        "bad_timestamp",
    ],
)
def test_forged_or_stale_requests_are_refused(case, slack, channel_fakes, channel_tracker):
    user, channel = unique("U"), unique("D")
    body = slack.event_body(slack.message_event(user, channel, "Was kannst du alles?"))
    now = int(time.time())
    kwargs: Dict[str, Any] = {}
    if case == "unsigned":
        kwargs["unsigned"] = True
    elif case == "wrong_secret":
        kwargs["secret"] = "not-the-signing-secret"
    elif case == "tampered_body":
        kwargs["signature"] = slack.sign(body, str(now))
        kwargs["timestamp"] = str(now)
        body = body.replace(b"Was kannst du alles?", b"Loesch alle meine Daten")
    elif case == "old_timestamp":
        kwargs["timestamp"] = str(now - 6 * 60)  # correctly signed, but replayed too late
    elif case == "future_timestamp":
        kwargs["timestamp"] = str(now + 6 * 60)
    elif case == "garbage_signature":
        kwargs["signature"] = "v0=" + "0" * 64
    elif case == "bad_timestamp":
        kwargs["timestamp"] = "gestern"
    status, raw, _ = slack.post(body, **kwargs)
    assert status == 401, raw
    assert "error" in json.loads(raw)
    time.sleep(1.0)
    assert channel_fakes.slack.calls(channel=channel) == []
    assert user_turns(channel_tracker, user) == 0


def test_retries_are_not_answered_twice(slack, channel_fakes, wait_turn, channel_tracker):
    user, channel = unique("U"), unique("D")
    event = slack.message_event(user, channel, "Was kannst du alles?")
    body = slack.event_body(event, event_id=unique("Ev"))
    assert slack.post(body)[0] == 200
    # Slack retries when it thinks the first delivery failed – here right away and later
    status, _, headers = slack.post(
        body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert status == 200 and headers.get("X-Slack-No-Retry") == "1"
    wait_turn(user, 1)
    answered = len(channel_fakes.slack.calls(channel=channel))
    assert (
        slack.post(
            body, headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"}
        )[0]
        == 200
    )
    # the same post delivered as app_mention too (bot mentioned in a DM) is also answered once
    mention = dict(event, type="app_mention")
    mention.pop("channel_type", None)
    assert slack.post(slack.event_body(mention))[0] == 200
    time.sleep(2.0)
    assert user_turns(channel_tracker, user) == 1
    assert len(channel_fakes.slack.calls(channel=channel)) == answered


def test_buttons_work_as_block_actions(slack, channel_fakes, wait_turn):
    user, channel = unique("U"), unique("D")
    slack.say(user, channel, "Was kannst du alles?")
    wait_turn(user, 1)
    message = [c for c in channel_fakes.slack.calls(channel=channel) if c.get("blocks")][-1]
    before = len(channel_fakes.slack.calls(channel=channel))
    assert slack.click(user, channel, message, "Ein Kunde ist ausfällig") == 200
    wait_turn(user, 2)
    answer = channel_fakes.slack.calls(channel=channel)[before:]
    assert "Wie oft" in texts(answer)
    assert "Schon mehrmals" in [title for _, bs in slack_messages(answer) for title, _ in bs]
    # the clicked message's buttons are replaced by the choice
    updates = channel_fakes.slack.calls("chat.update", channel=channel)
    assert updates, "chat.update was not called"
    blocks = updates[-1]["blocks"]
    assert all(block["type"] != "actions" for block in blocks)
    assert blocks[-1]["elements"][0]["text"] == "Deine Wahl: Ein Kunde ist ausfällig"


def test_thread_keeps_one_conversation(slack, channel_fakes, wait_turn, channel_tracker):
    user, channel = unique("U"), unique("C")
    mention_ts = SlackPlatform.next_ts()
    slack.say(
        user, channel, "<@U0KLARTEXT> Was kannst du alles?", ts=mention_ts, kind="app_mention"
    )
    wait_turn(user, 1)
    first = channel_fakes.slack.calls(channel=channel)
    assert "Womit fangen wir an?" in texts(first)
    assert {c.get("thread_ts") for c in first} == {mention_ts}  # answered in a thread

    # a button clicked in the thread is answered in the thread
    message = [c for c in first if c.get("blocks")][-1]
    slack.click(user, channel, message, "Ein Kunde ist ausfällig")
    wait_turn(user, 2)
    second = channel_fakes.slack.calls(channel=channel)[len(first) :]
    assert "Wie oft" in texts(second)
    assert {c.get("thread_ts") for c in second} == {mention_ts}

    # the user answers in the thread without mentioning the coach: same conversation
    slack.say(user, channel, "Schon mehrmals", thread_ts=mention_ts, channel_type="channel")
    wait_turn(user, 3)
    third = channel_fakes.slack.calls(channel=channel)[len(first) + len(second) :]
    assert "Wie heftig" in texts(third)
    assert {c.get("thread_ts") for c in third} == {mention_ts}
    assert channel_tracker(user)["slots"]["case"] == "abusive"

    # a channel message outside the coach's threads is not for the coach
    slack.say(user, channel, "Mittagessen um zwölf?", channel_type="channel")
    slack.say(
        user, channel, "Hier im Thread", thread_ts=SlackPlatform.next_ts(), channel_type="channel"
    )
    time.sleep(1.5)
    assert user_turns(channel_tracker, user) == 3


def test_direct_message_in_a_thread_is_answered_in_that_thread(slack, channel_fakes, wait_turn):
    user, channel = unique("U"), unique("D")
    thread = SlackPlatform.next_ts()
    slack.say(user, channel, "Was kannst du alles?", thread_ts=thread)
    wait_turn(user, 1)
    calls = channel_fakes.slack.calls(channel=channel)
    assert calls and {c.get("thread_ts") for c in calls} == {thread}


def test_markup_is_escaped_and_bot_messages_are_ignored(
    slack, channel_fakes, wait_turn, channel_tracker
):
    user, channel = unique("U"), unique("D")
    # Slack sends "<" and ">" escaped; the coach sees the user's literal text
    slack.say(user, channel, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; <@U0KLARTEXT>")
    state = wait_turn(user, 1)
    assert state["latest_message"]["text"] == "<script>alert(1)</script> &"
    for call in channel_fakes.slack.calls(channel=channel):
        assert "<script>" not in call["text"]
    # messages of bots (including the coach's own) never start a turn
    bot_event = slack.message_event(user, channel, "Hallo")
    bot_event["bot_id"] = "B0KLARTEXT"
    slack.post(slack.event_body(bot_event))
    time.sleep(1.0)
    assert user_turns(channel_tracker, user) == 1
