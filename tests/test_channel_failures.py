"""The REST channel under bad input and a failing action server.

The first part checks the building blocks in-process (fast); the integration part goes
through the running servers over HTTP (``servers`` fixture, started once per session).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import urllib.error
import urllib.request
from typing import Any, Dict, List

import pytest
from aiohttp import web
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from connectors import texts
from connectors.guard import (
    NOTICE_METADATA_KEY,
    GuardedActionEndpoint,
    handle_safely,
    install_action_guard,
)
from connectors.rest import MAX_MESSAGE_CHARS, BadRequest, parse_payload, prepare_text

ABUSE = "Ein Kunde hat mich gerade am Telefon übel beschimpft"
UNAVAILABLE = texts.reply("action_server_unavailable")
FAILED = texts.reply("action_failed")
END_TURN = {"event": "followup", "name": "action_listen"}
STACK_TRACE_MARKERS = ("Traceback", "Exception", "Error:", 'File "')

MALFORMED: Dict[str, bytes] = {
    "empty body": b"",
    "whitespace body": b"  \n ",
    "not json": b"sender=a&message=hallo",
    "broken json": b'{"sender": "a", "message": ',
    "json list": b'[{"sender": "a", "message": "hallo"}]',
    "json null": b"null",
    "json number": b"42",
    "json string": b'"hallo"',
    "json true": b"true",
    "sender missing": b'{"message": "hallo"}',
    "sender null": b'{"sender": null, "message": "hallo"}',
    "sender empty": b'{"sender": "", "message": "hallo"}',
    "sender blank": b'{"sender": "   ", "message": "hallo"}',
    "sender number": b'{"sender": 123, "message": "hallo"}',
    "sender list": b'{"sender": ["a"], "message": "hallo"}',
    "sender object": b'{"sender": {"id": "a"}, "message": "hallo"}',
    "sender too long": json.dumps({"sender": "x" * 129, "message": "hallo"}).encode(),
    "sender control chars": b'{"sender": "a\\nb", "message": "hallo"}',
    "message missing": b'{"sender": "a"}',
    "message null": b'{"sender": "a", "message": null}',
    "message number": b'{"sender": "a", "message": 5}',
    "message list": b'{"sender": "a", "message": ["hallo"]}',
    "message object": b'{"sender": "a", "message": {"text": "hallo"}}',
    "metadata not object": b'{"sender": "a", "message": "hallo", "metadata": [1]}',
    "not utf-8": b'{"sender": "a", "message": "\xff\xfe"}',
}


def _texts(replies: List[Dict[str, Any]]) -> List[str]:
    return [reply.get("text") or "" for reply in replies]


def _assert_no_stack_trace(replies: List[Dict[str, Any]]) -> None:
    for text in _texts(replies):
        for marker in STACK_TRACE_MARKERS:
            assert marker not in text, f"reply looks like a stack trace: {text!r}"


# =========================================================================== in-process
@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_parse_payload_rejects_malformed(body: bytes) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_payload(body)
    assert 400 <= caught.value.status < 500
    assert caught.value.text


def test_parse_payload_accepts_good_request() -> None:
    payload = parse_payload(
        json.dumps(
            {"sender": "u" * 128, "message": "Hallo \ud83d\ude00", "metadata": {"a": 1}}
        ).encode()
    )
    assert payload["sender"] == "u" * 128
    assert payload["message"] == "Hallo 😀"
    assert payload["metadata"] == {"a": 1}
    # unpaired surrogates and NUL characters cannot be stored: replaced / dropped
    assert (
        parse_payload(b'{"sender": "a", "message": "x\\ud800y\\u0000z"}')["message"] == "x\ufffdyz"
    )


def test_prepare_text() -> None:
    assert prepare_text("") == (None, [texts.reply("empty_message")])
    assert prepare_text(" \n\t ") == (None, [texts.reply("empty_message")])
    assert prepare_text("Hallo") == ("Hallo", [])
    cut, notes = prepare_text("ä" * (MAX_MESSAGE_CHARS + 1))
    assert cut == "ä" * MAX_MESSAGE_CHARS
    assert notes == [texts.reply("truncated", limit=MAX_MESSAGE_CHARS)]


def test_all_texts_exist() -> None:
    for key in (
        "empty_message",
        "truncated",
        "action_server_unavailable",
        "action_failed",
        "unexpected_error",
    ):
        assert texts.reply(key, limit=MAX_MESSAGE_CHARS).strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _action_call(events: List[Dict[str, Any]] | None = None) -> Dict[str, Any]:
    return {
        "next_action": "action_start_case",
        "sender_id": "u",
        "tracker": {"events": events or []},
    }


@pytest.fixture
async def fake_action_server():
    """An aiohttp app on a free port whose answer each test chooses."""
    state: Dict[str, Any] = {"status": 200, "body": {"events": [], "responses": []}, "delay": 0.0}

    async def webhook(request: web.Request) -> web.Response:
        if state["delay"]:
            await asyncio.sleep(state["delay"])
        return web.json_response(state["body"], status=state["status"])

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    state["url"] = f"http://127.0.0.1:{port}/webhook"
    yield state
    await runner.cleanup()


async def test_guard_passes_successful_answers_through(fake_action_server: Dict[str, Any]) -> None:
    fake_action_server["body"] = {
        "events": [{"event": "slot", "name": "case", "value": "abusive"}],
        "responses": [],
    }
    endpoint = GuardedActionEndpoint.wrap(EndpointConfig(url=fake_action_server["url"]))
    assert await endpoint.request(json=_action_call(), method="post") == fake_action_server["body"]


async def test_guard_answers_for_unreachable_action_server() -> None:
    endpoint = GuardedActionEndpoint.wrap(
        EndpointConfig(url=f"http://127.0.0.1:{_free_port()}/webhook")
    )
    result = await endpoint.request(json=_action_call(), method="post")
    assert result["events"] == [END_TURN]
    assert [r["text"] for r in result["responses"]] == [UNAVAILABLE]
    assert result["responses"][0][NOTICE_METADATA_KEY] == "action_server_unavailable"


async def test_guard_answers_for_failing_action_server(fake_action_server: Dict[str, Any]) -> None:
    fake_action_server.update(status=500, body={"error": "boom"})
    endpoint = GuardedActionEndpoint.wrap(EndpointConfig(url=fake_action_server["url"]))
    result = await endpoint.request(json=_action_call(), method="post")
    assert [r["text"] for r in result["responses"]] == [FAILED]


async def test_guard_times_out_hanging_action_server(fake_action_server: Dict[str, Any]) -> None:
    fake_action_server["delay"] = 5.0
    endpoint = GuardedActionEndpoint.wrap(
        EndpointConfig(url=fake_action_server["url"], timeout=0.3)
    )
    result = await asyncio.wait_for(endpoint.request(json=_action_call(), method="post"), 3)
    assert [r["text"] for r in result["responses"]] == [UNAVAILABLE]


async def test_guard_keeps_action_rejections(fake_action_server: Dict[str, Any]) -> None:
    fake_action_server.update(status=400, body={"action_name": "action_start_case", "error": "no"})
    endpoint = GuardedActionEndpoint.wrap(EndpointConfig(url=fake_action_server["url"]))
    with pytest.raises(ClientResponseError):
        await endpoint.request(json=_action_call(), method="post")


async def test_guard_notifies_once_per_turn() -> None:
    endpoint = GuardedActionEndpoint.wrap(
        EndpointConfig(url=f"http://127.0.0.1:{_free_port()}/webhook")
    )
    notice = {
        "event": "bot",
        "text": UNAVAILABLE,
        "metadata": {NOTICE_METADATA_KEY: "action_server_unavailable"},
    }
    same_turn = _action_call(
        [{"event": "user", "text": "a"}, notice, {"event": "action", "name": "x"}]
    )
    assert await endpoint.request(json=same_turn, method="post") == {
        "events": [END_TURN],
        "responses": [],
    }
    next_turn = _action_call([notice, {"event": "user", "text": "b"}])
    assert len((await endpoint.request(json=next_turn, method="post"))["responses"]) == 1


async def test_guard_slot_mapping_validation_gets_no_followup() -> None:
    """action_extract_slots accepts only slot/bot events from that call."""
    endpoint = GuardedActionEndpoint.wrap(
        EndpointConfig(url=f"http://127.0.0.1:{_free_port()}/webhook")
    )
    call = dict(_action_call(), next_action="action_validate_slot_mappings")
    result = await endpoint.request(json=call, method="post")
    assert result["events"] == [] and len(result["responses"]) == 1


def test_install_action_guard_is_idempotent() -> None:
    class Agent:
        action_endpoint = EndpointConfig(url="http://127.0.0.1:1/webhook", token="t")

        class processor:  # stands in for the agent's MessageProcessor attribute
            action_endpoint = None

    agent = Agent()
    agent.processor.action_endpoint = agent.action_endpoint
    install_action_guard(agent)
    guarded = agent.action_endpoint
    assert isinstance(guarded, GuardedActionEndpoint)
    assert guarded.url == "http://127.0.0.1:1/webhook" and guarded.token == "t"
    assert isinstance(agent.processor.action_endpoint, GuardedActionEndpoint)
    install_action_guard(agent)
    assert agent.action_endpoint is guarded
    install_action_guard(None)  # no agent loaded yet: nothing happens


async def test_handle_safely_apologises(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(message: UserMessage) -> None:
        raise RuntimeError("kaputt")

    collector = CollectingOutputChannel()
    with caplog.at_level(logging.ERROR):
        ok = await handle_safely(broken, UserMessage("hallo", collector, "u"), agent=None)
    assert ok is False
    assert _texts(collector.messages) == [texts.reply("unexpected_error")]
    assert "kaputt" in caplog.text  # the stack trace goes to the log, not to the user


# =========================================================================== integration
@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_request_gets_4xx_with_json_error(webhook, body: bytes) -> None:
    status, answer = webhook(body)
    assert 400 <= status < 500, (status, answer)
    assert isinstance(answer, dict) and isinstance(answer.get("error"), str) and answer["error"], (
        answer
    )


def test_wrong_content_type_still_works(webhook, sender: str) -> None:
    status, answer = webhook(
        json.dumps({"sender": sender, "message": "Hallo"}).encode(), content_type="text/plain"
    )
    assert status == 200 and isinstance(answer, list) and answer


@pytest.mark.parametrize(
    "message",
    ["", "   \n\t  "],
    ids=["empty", "whitespace"],
)
def test_empty_message_gets_hint(chat, tracker, sender: str, message: str) -> None:
    replies = chat(sender, message)
    assert _texts(replies) == [texts.reply("empty_message")]
    # NLU did not run: nothing about this message is stored
    assert not [e for e in tracker(sender)["events"] if e["event"] == "user"]


def test_very_long_message_is_cut(chat, tracker, sender: str) -> None:
    message = (ABUSE + " ") * 200  # ~10,000 characters
    message = message[:10_000]
    replies = chat(sender, message)
    assert _texts(replies)[0] == texts.reply("truncated", limit=MAX_MESSAGE_CHARS)
    _assert_no_stack_trace(replies)
    users = [e for e in tracker(sender)["events"] if e["event"] == "user"]
    assert len(users) == 1 and users[0]["text"] == message[:MAX_MESSAGE_CHARS]


@pytest.mark.parametrize(
    "message",
    ["😡🤬😤", "<script>alert(1)</script>", "<b>Hallo</b> &amp; 😀", "\u200b\u200b", "x\ud800y"],
    ids=["emoji", "script", "markup", "zero-width", "lone-surrogate"],
)
def test_odd_messages_get_a_reply(chat, tracker, sender: str, message: str) -> None:
    replies = chat(sender, message)
    assert replies and any(_texts(replies)), replies
    _assert_no_stack_trace(replies)
    user_texts = [e["text"] for e in tracker(sender)["events"] if e["event"] == "user"]
    if "<" in message:
        assert user_texts == [message], "markup must be kept as plain text"


def test_streaming_mode(servers, sender: str) -> None:
    url = f"{servers.base_url}/webhooks/rest/webhook?stream=true"
    request = urllib.request.Request(
        url, data=json.dumps({"sender": sender, "message": ""}).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        lines = [json.loads(line) for line in resp.read().decode().splitlines() if line.strip()]
    assert _texts(lines) == [texts.reply("empty_message")]
    bad = urllib.request.Request(url, data=b"[]", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(bad, timeout=60)
    assert caught.value.code == 400


def test_action_server_down_then_back(servers, actions_down, chat, tracker, sender: str) -> None:
    replies = chat(sender, ABUSE)
    assert UNAVAILABLE in _texts(replies), replies
    assert _texts(replies).count(UNAVAILABLE) == 1
    # the turn ends with the notice: nothing that needed the failed action goes on
    assert _texts(replies)[-1] == UNAVAILABLE, replies
    assert not tracker(sender).get("active_loop"), "a form was started without its action"
    _assert_no_stack_trace(replies)

    servers.start_actions()  # (the fixture would also do it afterwards)
    replies = chat(sender, ABUSE)
    assert replies, "no reply after the action server came back"
    assert UNAVAILABLE not in _texts(replies) and FAILED not in _texts(replies)
    assert tracker(sender)["slots"].get("case") == "abusive"
