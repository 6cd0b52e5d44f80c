"""One behaviour everywhere: REST, socket.io (web chat), Slack and Teams answer alike.

The same conversation over each channel gives the same answers – channels differ only in
how buttons and long texts are rendered (split into parts, Block Kit vs. Hero card,
*emphasis* markers). The Slack and Teams sides are the test doubles of tests/fakes/; the
server is the one of the session.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Tuple

from fakes.drivers import (
    SlackPlatform,
    TeamsPlatform,
    WebchatClient,
    rest_messages,
    slack_messages,
    socketio_messages,
    teams_messages,
    unique,
)

from connectors import texts as channel_replies
from connectors.channel_common import squash, strip_emphasis
from connectors.webchat_auth import issue_token

Message = Tuple[str, List[Tuple[str, str]]]
Turn = Tuple[str, List[Tuple[str, str]]]

# (kind, value): "say" a text or "click" the button with that title of the last answer
CONVERSATION = [
    ("say", "Was kannst du alles?"),
    ("click", "Ein Kunde ist ausfällig"),
    ("click", "Schon mehrmals"),
    ("click", "Beleidigend"),
]


def normalized(messages: List[Message]) -> Turn:
    """A turn as the user gets it, independent of how the channel cut and decorated it."""
    text = squash(" ".join(strip_emphasis(text) for text, _ in messages))
    buttons = [button for _, buttons in messages for button in buttons]
    return text, buttons


def button_payload(messages: List[Message], title: str) -> str:
    for _, buttons in reversed(messages):
        for shown, payload in buttons:
            if shown == title:
                return payload
    raise AssertionError(f"no button {title!r} in {messages!r}")


def run_rest(chat) -> List[Turn]:
    sender, turns, last = unique("rest-"), [], []
    for kind, value in CONVERSATION:
        text = value if kind == "say" else button_payload(last, value)
        last = rest_messages(chat(sender, text))
        turns.append(normalized(last))
    return turns


async def run_socketio(base_url: str, secret: str) -> List[Turn]:
    client = WebchatClient(base_url)
    await client.connect(issue_token(unique("web-"), secret))
    turns, last = [], []
    try:
        for kind, value in CONVERSATION:
            text = value if kind == "say" else button_payload(last, value)
            last = socketio_messages(await client.say(text))
            turns.append(normalized(last))
    finally:
        await client.close()
    return turns


def run_slack(slack: SlackPlatform, wait_turn: Callable[..., Any]) -> List[Turn]:
    user, channel, turns = unique("U"), unique("D"), []
    seen = 0
    for number, (kind, value) in enumerate(CONVERSATION, 1):
        if kind == "say":
            assert slack.say(user, channel, value) == 200
        else:
            message = [c for c in slack.api.calls(channel=channel) if c.get("blocks")][-1]
            assert slack.click(user, channel, message, value) == 200
        wait_turn(user, number)
        calls = slack.api.calls(channel=channel)
        turns.append(normalized(slack_messages(calls[seen:])))
        seen = len(calls)
    return turns


def run_teams(teams: TeamsPlatform, wait_turn: Callable[..., Any]) -> List[Turn]:
    user, conversation, turns = unique("29:user-"), unique("a:conv-"), []
    seen = 0
    for number, (kind, value) in enumerate(CONVERSATION, 1):
        if kind == "say":
            teams.say(user, conversation, value)
        else:
            card = [a for a in teams.connector.activities(conversation) if a.get("attachments")][-1]
            teams.click(user, conversation, card, value)
        wait_turn(user, number)
        replies = teams.connector.activities(conversation)
        turns.append(normalized(teams_messages(replies[seen:])))
        seen = len(replies)
    return turns


async def test_same_conversation_same_answers_on_every_channel(
    servers, channel_fakes, chat, wait_turn
):
    slack = SlackPlatform(servers.base_url, channel_fakes.slack_signing_secret, channel_fakes.slack)
    teams = TeamsPlatform(
        servers.base_url,
        channel_fakes.identity,
        channel_fakes.connector,
        channel_fakes.teams_app_id,
        channel_fakes.teams_tenant_id,
    )
    results: Dict[str, List[Turn]] = {
        "rest": run_rest(chat),
        "slack": run_slack(slack, wait_turn),
        "teams": run_teams(teams, wait_turn),
        "socketio": await run_socketio(servers.base_url, channel_fakes.webchat_secret),
    }
    reference = results["rest"]
    assert "Womit fangen wir an?" in reference[0][0]
    assert "Wie oft" in reference[1][0] and "Wie heftig" in reference[2][0]
    assert len(reference[3][0]) > 200  # the advice: a long text
    for channel, turns in results.items():
        for number, (expected, got) in enumerate(zip(reference, turns, strict=True), 1):
            assert got == expected, f"{channel}, turn {number} differs from REST"


def test_action_server_down_notice_on_every_channel(
    servers, channel_fakes, actions_down, wait_turn
):
    """handle_safely/the guard work on the new channels: German notice, no silence."""
    import asyncio

    notice = squash(channel_replies.reply("action_server_unavailable"))
    report = "/report_abuse"  # runs the custom action action_start_case

    slack = SlackPlatform(servers.base_url, channel_fakes.slack_signing_secret, channel_fakes.slack)
    user, channel = unique("U"), unique("D")
    slack.say(user, channel, report)
    wait_turn(user, 1)
    assert notice in normalized(slack_messages(slack.api.calls(channel=channel)))[0]

    teams = TeamsPlatform(
        servers.base_url,
        channel_fakes.identity,
        channel_fakes.connector,
        channel_fakes.teams_app_id,
        channel_fakes.teams_tenant_id,
    )
    member, conversation = unique("29:user-"), unique("a:conv-")
    teams.say(member, conversation, report)
    wait_turn(member, 1)
    assert notice in normalized(teams_messages(teams.connector.activities(conversation)))[0]

    async def web() -> str:
        client = WebchatClient(servers.base_url)
        await client.connect(issue_token(unique("web-"), channel_fakes.webchat_secret))
        try:
            return normalized(socketio_messages(await client.say(report)))[0]
        finally:
            await client.close()

    assert notice in asyncio.run(web())
