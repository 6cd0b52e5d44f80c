"""The tester's attacks on a production-mode set-up, over HTTP: all refused (docs/security.md).

A Rasa server + action server with ``KLARTEXT_MODE=production`` and every secret set (as
``make serve`` starts them: HTTP API with ``--auth-token``), on ports ten above the test
servers'. Each door lets in only the holder of its secret:

1. action server: only Rasa (``X-Klartext-Action-Secret``) – a forged call gets 401;
2. REST channel: only callers with ``Authorization: Bearer <KLARTEXT_REST_TOKEN>``;
3. web chat: only signed tokens, the sender comes from the token;
4. HTTP API: only ``?token=<KLARTEXT_API_TOKEN>``.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path
from typing import Iterator, Tuple

import pytest
from fakes.drivers import WebchatClient
from test_security_local import VICTIM_CLIENT, action_call, digest, http_json, own_pair

from bot.escalation import behaviors
from bot.storage.repository import CoachRepository
from connectors.security import ACTION_SECRET_HEADER
from connectors.webchat_auth import issue_token
from devtools.servers import ServerPair

pytestmark = pytest.mark.integration

PORT_OFFSET = 10
REST_TOKEN = "rest-token-0123456789abcdef"
API_TOKEN = "api-token-0123456789abcdef"
WEBCHAT_SECRET = "webchat-secret-0123456789abcdef"
ACTION_SECRET = "action-secret-0123456789abcdef"
BEARER = {"Authorization": f"Bearer {REST_TOKEN}"}


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[ServerPair, Path]]:
    settings = {
        "KLARTEXT_MODE": "production",
        "KLARTEXT_REST_TOKEN": REST_TOKEN,
        "KLARTEXT_ENABLE_API": "true",
        "KLARTEXT_API_TOKEN": API_TOKEN,
        "KLARTEXT_WEBCHAT_SECRET": WEBCHAT_SECRET,
        "KLARTEXT_ACTION_SECRET": ACTION_SECRET,
    }
    pair, var_dir = own_pair(tmp_path_factory, PORT_OFFSET, settings, auth_token=API_TOKEN)
    try:
        yield pair, var_dir
    finally:
        pair.stop()


@pytest.fixture
def victim(prod: Tuple[ServerPair, Path]) -> str:
    _, var_dir = prod
    sender = f"victim-{uuid.uuid4().hex[:12]}"
    repo = CoachRepository(f"sqlite:///{var_dir / 'klartext.db'}")
    repo.log_incident(sender, VICTIM_CLIENT, sorted(behaviors())[0], date.today())
    return sender


def say(pair: ServerPair, sender: str, text: str, headers: dict) -> Tuple[int, object]:
    body = {"sender": sender, "message": text}
    return http_json("POST", f"{pair.base_url}/webhooks/rest/webhook", body, headers)


def user_turns(pair: ServerPair, sender: str) -> int:
    url = f"{pair.base_url}/conversations/{sender}/tracker?token={API_TOKEN}"
    status, tracker = http_json("GET", url)
    assert status == 200, tracker
    return sum(1 for event in tracker.get("events") or [] if event.get("event") == "user")


# --------------------------------------------------------------------------- attack 1
def test_forged_action_calls_are_refused_and_touch_nothing(prod, victim):
    pair, var_dir = prod
    before = digest(var_dir / "klartext.db")
    for headers in ({}, {ACTION_SECRET_HEADER: "guessed"}):
        for action in ("action_show_history", "action_export_my_data", "action_delete_my_data"):
            status, body = http_json(
                "POST", f"{pair.action_url}/webhook", action_call(action, victim), headers
            )
            assert status == 401 and VICTIM_CLIENT not in json.dumps(body), (action, body)
    assert digest(var_dir / "klartext.db") == before


def test_rasa_calls_the_action_server_with_the_configured_secret(prod, victim):
    pair, _ = prod
    status, replies = say(pair, victim, "Zeig mir meine Vorfälle", BEARER)
    assert status == 200
    assert VICTIM_CLIENT in json.dumps(replies, ensure_ascii=False), replies


# --------------------------------------------------------------------------- attack 2
@pytest.mark.parametrize(
    "headers, expected",
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong-token-0123456789"}, 403),
        ({"Authorization": REST_TOKEN}, 401),
        ({"X-Forwarded-For": "127.0.0.1"}, 401),
    ],
    ids=["no token", "wrong token", "no bearer scheme", "spoofed proxy header"],
)
def test_rest_without_the_token_is_refused_and_nothing_processed(prod, victim, headers, expected):
    pair, _ = prod
    for text in ("Zeig mir meine Vorfälle", "Ich möchte eine Kopie meiner Daten", "Lösch alles"):
        status, body = say(pair, victim, text, headers)
        assert status == expected and set(body) == {"error"}, body
    assert user_turns(pair, victim) == 0


# --------------------------------------------------------------------------- attack 3
async def test_the_web_chat_needs_a_signed_token(prod, victim):
    pair, _ = prod
    assert await WebchatClient(pair.base_url).refusal(None) == "token_missing"
    forged = issue_token(victim, "not-the-secret-0123456789abcdefgh")
    assert await WebchatClient(pair.base_url).refusal(forged) == "token_invalid"
    me = f"web-{uuid.uuid4().hex[:10]}"
    client = WebchatClient(pair.base_url)
    assert await client.connect(issue_token(me, WEBCHAT_SECRET), session_id=victim) == me
    await client.close()
    assert user_turns(pair, victim) == 0


# --------------------------------------------------------------------------- attack 4
@pytest.mark.parametrize(
    "query, expected", [("", 401), ("?token=wrong-token-0123456789", 403)], ids=["none", "wrong"]
)
def test_the_http_api_needs_its_token(prod, victim, query, expected):
    pair, _ = prod
    for method, path in (
        ("GET", f"/conversations/{victim}/tracker"),
        ("POST", f"/conversations/{victim}/trigger_intent"),
        ("GET", "/status"),
        ("POST", "/model/parse"),
    ):
        status, body = http_json(method, f"{pair.base_url}{path}{query}", {"name": "show_history"})
        assert status == expected and VICTIM_CLIENT not in json.dumps(body), (path, body)
    assert http_json("GET", f"{pair.base_url}/status?token={API_TOKEN}")[0] == 200
