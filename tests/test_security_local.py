"""The tester's attacks on a local-mode set-up, over HTTP: all refused (docs/security.md).

A Rasa server + action server in local mode as ``make run``/``rasa run`` start them (no
settings at all: no web chat secret, no tokens, the action secret generated into the var
directory), on ports eight above the test servers'. Attacks:

1. a forged call to the action server's ``/webhook`` naming another user → 401, no action
   runs, the coach's database is not touched;
2. the REST channel from another machine (here: through a reverse proxy) or from a web page
   of another site in the local user's browser → 403;
3. the web chat offering another user's id as its session id → a fresh session instead;
4. Rasa's HTTP API through a reverse proxy → 403.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import date
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Tuple

import pytest
import yaml
from fakes.drivers import WebchatClient, http
from test_security_units import GOOD

from bot.config import ROOT, SETTINGS
from bot.escalation import behaviors
from bot.storage.repository import CoachRepository
from connectors.security import ACTION_SECRET_FILE, ACTION_SECRET_HEADER
from connectors.texts import reply
from devtools.servers import ServerPair, newest_model

pytestmark = pytest.mark.integration

PORT_OFFSET = 8
VICTIM_CLIENT = "Opfermann GmbH"
PROXY = {"X-Forwarded-For": "203.0.113.7"}


def own_pair(
    tmp_path_factory: pytest.TempPathFactory, offset: int, settings: Dict[str, str], **kwargs: Any
) -> Tuple[ServerPair, Path]:
    """A server pair of this test module with exactly ``settings`` (a .env adds nothing)."""
    model = newest_model(ROOT / "models")
    if model is None:
        pytest.fail("No trained model in models/ – run `make train` first.", pytrace=False)
    var_dir = tmp_path_factory.mktemp("klartext-security")
    env = {setting.name: "" for setting in SETTINGS}
    env.update(settings)
    env.update(
        {
            "KLARTEXT_VAR_DIR": str(var_dir),
            "KLARTEXT_DATABASE_URL": f"sqlite:///{var_dir / 'klartext.db'}",
            "KLARTEXT_TRACKER_STORE_URL": f"sqlite:///{var_dir / 'tracker.db'}",
        }
    )
    rasa_port = int(os.environ.get("KLARTEXT_TEST_RASA_PORT", "15005")) + offset
    action_port = int(os.environ.get("KLARTEXT_TEST_ACTION_PORT", "15055")) + offset
    pair = ServerPair(
        ROOT,
        rasa_port=rasa_port,
        action_port=action_port,
        model=model,
        env=env,
        log_dir=var_dir / "log",
        **kwargs,
    )
    try:
        pair.start()
    except RuntimeError as exc:
        pytest.fail(f"Could not start the security test servers: {exc}", pytrace=False)
    return pair, var_dir


def http_json(
    method: str, url: str, body: Any = None, headers: Optional[Dict[str, str]] = None
) -> Tuple[int, Any]:
    """(status, decoded JSON or text) of one HTTP request."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    status, raw, _ = http(
        method, url, data, {"Content-Type": "application/json", **(headers or {})}
    )
    text = raw.decode("utf-8", errors="replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def action_call(action: str, sender: str) -> Dict[str, Any]:
    """What a forger sends to the action server: any action for any user's id."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {
        "next_action": action,
        "sender_id": sender,
        "version": "3.6.21",
        "domain": domain,
        "tracker": {
            "sender_id": sender,
            "slots": {},
            "latest_message": {"text": "/show_history", "intent": {"name": "show_history"}},
            "latest_event_time": None,
            "followup_action": None,
            "paused": False,
            "events": [],
            "latest_input_channel": "rest",
            "active_loop": {},
            "latest_action": {"action_name": "action_listen"},
            "latest_action_name": "action_listen",
        },
    }


def user_turns(pair: ServerPair, sender: str, query: str = "") -> int:
    status, tracker = http_json("GET", f"{pair.base_url}/conversations/{sender}/tracker{query}")
    assert status == 200, tracker
    return sum(1 for event in tracker.get("events") or [] if event.get("event") == "user")


def digest(database: Path) -> str:
    """Fingerprint of a SQLite database with its write-ahead log (WAL mode)."""
    fingerprint = hashlib.sha256()
    for path in (database, database.with_name(database.name + "-wal")):
        fingerprint.update(path.read_bytes() if path.exists() else b"-")
    return fingerprint.hexdigest()


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[ServerPair, Path]]:
    """Local mode with no settings at all, like `rasa run` from the repository root."""
    pair, var_dir = own_pair(tmp_path_factory, PORT_OFFSET, {})
    try:
        yield pair, var_dir
    finally:
        pair.stop()


@pytest.fixture
def victim(local: Tuple[ServerPair, Path]) -> str:
    """A user with a recorded incident in the coach's database."""
    _, var_dir = local
    sender = f"victim-{uuid.uuid4().hex[:12]}"
    repo = CoachRepository(f"sqlite:///{var_dir / 'klartext.db'}")
    repo.log_incident(sender, VICTIM_CLIENT, sorted(behaviors())[0], date.today())
    return sender


# --------------------------------------------------------------------------- attack 1
@pytest.mark.parametrize(
    "headers",
    [{}, {ACTION_SECRET_HEADER: "guessed"}, {ACTION_SECRET_HEADER: GOOD}],
    ids=["no secret", "guessed secret", "other secret"],
)
def test_forged_action_calls_are_refused_and_touch_nothing(local, victim, headers):
    pair, var_dir = local
    database = var_dir / "klartext.db"
    before = digest(database)
    for action in ("action_show_history", "action_export_my_data", "action_delete_my_data"):
        status, body = http_json(
            "POST", f"{pair.action_url}/webhook", action_call(action, victim), headers
        )
        assert status == 401, (action, body)
        assert ACTION_SECRET_HEADER in body["error"] and VICTIM_CLIENT not in json.dumps(body)
    assert digest(database) == before
    repo = CoachRepository(f"sqlite:///{database}")
    assert [incident.client for incident in repo.incidents(victim)] == [VICTIM_CLIENT]


def test_only_the_secret_opens_the_action_server(local, victim):
    """The control: Rasa's secret (generated into var/) runs the same call."""
    pair, var_dir = local
    secret = (var_dir / ACTION_SECRET_FILE).read_text().strip()
    status, body = http_json(
        "POST",
        f"{pair.action_url}/webhook",
        action_call("action_show_history", victim),
        {ACTION_SECRET_HEADER: secret},
    )
    assert status == 200 and VICTIM_CLIENT in json.dumps(body, ensure_ascii=False)
    assert http_json("GET", f"{pair.action_url}/health")[0] == 200
    assert http_json("GET", f"{pair.action_url}/actions")[0] == 401


def test_rasa_and_the_action_server_share_the_generated_secret(local, victim):
    """Zero configuration: Rasa's action calls carry the generated secret, actions run."""
    pair, _ = local
    status, replies = http_json(
        "POST",
        f"{pair.base_url}/webhooks/rest/webhook",
        {"sender": victim, "message": "Zeig mir meine Vorfälle"},
    )
    assert status == 200, replies
    shown = json.dumps(replies, ensure_ascii=False)
    assert VICTIM_CLIENT in shown, replies
    for notice in ("action_server_unavailable", "action_failed"):
        assert reply(notice) not in shown


# --------------------------------------------------------------------------- attack 2
@pytest.mark.parametrize(
    "headers", [PROXY, {"Origin": "https://evil.example"}], ids=["proxy", "foreign page"]
)
def test_rest_from_elsewhere_is_refused_and_nothing_processed(local, victim, headers):
    pair, _ = local
    status, body = http_json(
        "POST",
        f"{pair.base_url}/webhooks/rest/webhook",
        {"sender": victim, "message": "Zeig mir meine Vorfälle"},
        headers,
    )
    assert status == 403 and "Local mode" in body["error"]
    assert VICTIM_CLIENT not in json.dumps(body)
    assert user_turns(pair, victim) == 0


# --------------------------------------------------------------------------- attack 3
async def test_the_web_chat_does_not_take_an_offered_session_id(local, victim):
    pair, _ = local
    forger = WebchatClient(pair.base_url)
    given = await forger.connect(None, session_id=victim)
    assert given != victim
    replies = await forger.say("Zeig mir meine Vorfälle")
    assert VICTIM_CLIENT not in json.dumps(replies, ensure_ascii=False)
    await forger.close()
    assert user_turns(pair, victim) == 0
    # a reload of the tab continues the session the server issued
    again = WebchatClient(pair.base_url)
    assert await again.connect(None, session_id=given) == given
    await again.close()


async def test_the_web_chat_through_a_proxy_is_refused(local):
    import socketio

    pair, _ = local
    client = socketio.AsyncClient(reconnection=False)
    reasons = []
    client.on("connect_error", lambda data=None: reasons.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(pair.base_url, headers=PROXY, transports=["polling"])
    assert reasons and "local_only" in json.dumps(reasons)


# --------------------------------------------------------------------------- attack 4
def test_the_http_api_through_a_proxy_is_refused(local, victim):
    pair, _ = local
    for method, path in (
        ("GET", f"/conversations/{victim}/tracker"),
        ("GET", "/status"),
        ("POST", "/model/parse"),
    ):
        status, body = http_json(method, f"{pair.base_url}{path}", {"text": "hallo"}, PROXY)
        assert status == 403 and "Local mode" in body["error"], (path, body)
    assert http_json("GET", f"{pair.base_url}/status")[0] == 200  # from this machine
