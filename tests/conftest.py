"""Shared fixtures: the running servers (once per session), HTTP helpers, PostgreSQL.

Environment knobs:

* ``KLARTEXT_TEST_RASA_PORT`` / ``KLARTEXT_TEST_ACTION_PORT`` – ports of the test servers
  (default 15005 / 15055, so a developer's ``make run`` on 5005/5055 is not disturbed).
* ``KLARTEXT_TEST_PROJECT_DIR`` – project whose newest model in ``models/`` is served
  (default: this repository).
* ``KLARTEXT_TEST_PG_URL`` – PostgreSQL for the ``postgres`` tests
  (default ``postgresql://postgres@127.0.0.1:5432/test``).
* ``KLARTEXT_REQUIRE_SERVICES=1`` – fail instead of skip when PostgreSQL is unreachable (CI).

Tests that use ``servers`` (directly or through ``chat``/``tracker``/``webhook``) are
marked ``integration`` automatically, tests that use ``postgres_url`` ``postgres``.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

from devtools.servers import ServerPair, newest_model

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
# trainer rights of the test servers: one sender by configuration, others by the trainer code
TEST_TRAINER = "trainer-by-config"
TEST_TRAINER_CODE = "KLAR-TEST-2026"
HTTP_TIMEOUT = 120.0

_SERVER_FIXTURES = {
    "servers",
    "chat",
    "tracker",
    "webhook",
    "actions_down",
    "wait_turn",
    "channel_tracker",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & _SERVER_FIXTURES:
            item.add_marker(pytest.mark.integration)
        if "postgres_url" in names:
            item.add_marker(pytest.mark.postgres)


def _require_services() -> bool:
    return os.environ.get("KLARTEXT_REQUIRE_SERVICES", "").strip().lower() in {"1", "true", "yes"}


# --------------------------------------------------------------------------- servers
@pytest.fixture(scope="session")
def servers(
    tmp_path_factory: pytest.TempPathFactory, channel_env: Dict[str, str]
) -> Iterator[ServerPair]:
    """Rasa server + action server, started once per test session.

    Both run with ``KLARTEXT_VAR_DIR`` and the database URLs pointing at a temporary
    folder, so the tests never touch the developer's ``var/`` data (nor a database
    configured in ``.env``).
    """
    project = Path(os.environ.get("KLARTEXT_TEST_PROJECT_DIR") or ROOT).resolve()
    model = newest_model(project / "models")
    if model is None:
        pytest.fail(
            f"No trained model in {project / 'models'} – run `make train` first.", pytrace=False
        )
    var_dir = tmp_path_factory.mktemp("klartext-var")
    env = {
        "KLARTEXT_VAR_DIR": str(var_dir),
        "KLARTEXT_DATABASE_URL": f"sqlite:///{var_dir / 'klartext.db'}",
        "KLARTEXT_TRACKER_STORE_URL": f"sqlite:///{var_dir / 'tracker.db'}",
        "KLARTEXT_TRAINERS": TEST_TRAINER,
        "KLARTEXT_TRAINER_CODE": TEST_TRAINER_CODE,
        # local mode (REST and HTTP API without tokens, on loopback) whatever .env says
        "KLARTEXT_MODE": "local",
        "KLARTEXT_REST_TOKEN": "",
        "KLARTEXT_API_TOKEN": "",
    }
    env.update(channel_env)  # web chat secret, Slack/Teams settings pointing at the fakes
    pair = ServerPair(
        project,
        rasa_port=int(os.environ.get("KLARTEXT_TEST_RASA_PORT", "15005")),
        action_port=int(os.environ.get("KLARTEXT_TEST_ACTION_PORT", "15055")),
        model=model,
        env=env,
        log_dir=var_dir / "log",
    )
    try:
        pair.start()
    except RuntimeError as exc:
        pytest.fail(f"Could not start the test servers: {exc}", pytrace=False)
    try:
        yield pair
    finally:
        pair.stop()


@pytest.fixture
def actions_down(servers: ServerPair) -> Iterator[ServerPair]:
    """The servers with the action server stopped; it is started again afterwards."""
    servers.stop_actions()
    try:
        yield servers
    finally:
        servers.start_actions()


# --------------------------------------------------------------------------- HTTP
def http_request(
    method: str,
    url: str,
    body: Optional[bytes] = None,
    headers: Optional[Dict[str, str]] = None,
    timeout: float = HTTP_TIMEOUT,
) -> Tuple[int, bytes, Dict[str, str]]:
    """Send a request; return status, body and headers (also for 4xx/5xx)."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # a local http:// URL
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers or {})


@pytest.fixture(scope="session")
def webhook(servers: ServerPair) -> Callable[..., Tuple[int, Any]]:
    """``webhook(body)`` → (status, decoded JSON or raw text).

    ``body`` may be ``bytes`` (sent as is) or any JSON-serialisable value.
    """

    def post(body: Any, *, content_type: str = "application/json") -> Tuple[int, Any]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        status, raw, _ = http_request(
            "POST",
            f"{servers.base_url}/webhooks/rest/webhook",
            data,
            {"Content-Type": content_type},
        )
        text = raw.decode("utf-8", errors="replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    return post


@pytest.fixture(scope="session")
def chat(webhook: Callable[..., Tuple[int, Any]]) -> Callable[[str, str], List[Dict[str, Any]]]:
    """``chat(sender, text)`` → the bot's replies (list of dicts); asserts HTTP 200."""

    def send(sender: str, text: str) -> List[Dict[str, Any]]:
        status, replies = webhook({"sender": sender, "message": text})
        assert status == 200, f"webhook answered {status}: {replies!r}"
        assert isinstance(replies, list), f"webhook answered no list: {replies!r}"
        return replies

    return send


@pytest.fixture(scope="session")
def tracker(servers: ServerPair) -> Callable[[str], Dict[str, Any]]:
    """``tracker(sender)`` → the conversation tracker (``GET /conversations/<id>/tracker``)."""

    def get(sender: str) -> Dict[str, Any]:
        quoted = urllib.parse.quote(sender, safe="")
        status, raw, _ = http_request("GET", f"{servers.base_url}/conversations/{quoted}/tracker")
        assert status == 200, f"tracker API answered {status}: {raw[:500]!r}"
        return json.loads(raw)

    return get


@pytest.fixture
def sender() -> str:
    """A sender id no other test uses."""
    return f"test-{uuid.uuid4().hex[:16]}"


@pytest.fixture
def new_sender() -> Callable[[], str]:
    """Factory for further unique sender ids within one test."""
    return lambda: f"test-{uuid.uuid4().hex[:16]}"


@pytest.fixture
def isolated_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Actions run in-process against a fresh SQLite coach database and tracker store.

    Also points ``KLARTEXT_VAR_DIR`` at the test's own directory (export secret, reports).
    """
    monkeypatch.setenv("KLARTEXT_DATABASE_URL", f"sqlite:///{tmp_path / 'coach.db'}")
    monkeypatch.setenv("KLARTEXT_TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    monkeypatch.setenv("KLARTEXT_VAR_DIR", str(tmp_path))
    from actions import common

    common.repository.cache_clear()
    yield
    common.repository.cache_clear()


# --------------------------------------------------------------------------- PostgreSQL
@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of a reachable PostgreSQL; skips (or fails with KLARTEXT_REQUIRE_SERVICES=1)."""
    from sqlalchemy.engine.url import make_url

    url = os.environ.get("KLARTEXT_TEST_PG_URL") or DEFAULT_PG_URL
    shown = url
    try:
        import psycopg2

        parsed = make_url(url)
        shown = repr(parsed)  # password masked
        connection = psycopg2.connect(
            host=parsed.host or "127.0.0.1",
            port=parsed.port or 5432,
            user=parsed.username,
            password=parsed.password,
            dbname=parsed.database,
            connect_timeout=3,
        )
        connection.close()
    except Exception as exc:  # ImportError, OperationalError, bad URL
        message = f"PostgreSQL at {shown} not reachable: {exc}".strip()
        if _require_services():
            pytest.fail(message + " (KLARTEXT_REQUIRE_SERVICES=1)", pytrace=False)
        pytest.skip(message)
    return url


# --------------------------------------------------------------------------- channels
# Fakes of Slack's Web API and of Microsoft's identity provider / Bot Connector run on
# loopback for the whole session; they start before `servers`, which gets their URLs (and
# the web chat secret) through `channel_env`. See tests/fakes/ and docs/channels.md.
TEST_SLACK_TOKEN = "xoxb-klartext-test"
TEST_SLACK_SIGNING_SECRET = "klartext-test-signing-secret"
TEST_TEAMS_APP_ID = "00000000-0000-0000-0000-00000000b075"
TEST_TEAMS_APP_PASSWORD = "klartext-test-app-password"
TEST_TEAMS_TENANT_ID = "11111111-2222-3333-4444-555555555555"
TEST_WEBCHAT_SECRET = "klartext-test-webchat-secret-0123456789"


class ChannelFakes:
    """The running fakes plus the settings the Rasa server gets."""

    def __init__(self) -> None:
        from fakes.botframework import FakeBotConnector, FakeIdentityProvider
        from fakes.slack_api import FakeSlackAPI

        self.slack = FakeSlackAPI(TEST_SLACK_TOKEN).start()
        self.identity = FakeIdentityProvider(TEST_TEAMS_APP_ID, TEST_TEAMS_APP_PASSWORD).start()
        self.connector = FakeBotConnector(self.identity).start()
        self.slack_signing_secret = TEST_SLACK_SIGNING_SECRET
        self.teams_app_id = TEST_TEAMS_APP_ID
        self.teams_tenant_id = TEST_TEAMS_TENANT_ID
        self.webchat_secret = TEST_WEBCHAT_SECRET
        self.env = {
            "KLARTEXT_WEBCHAT_SECRET": TEST_WEBCHAT_SECRET,
            "KLARTEXT_WEBCHAT_ORIGINS": "*",
            "KLARTEXT_SLACK_BOT_TOKEN": TEST_SLACK_TOKEN,
            "KLARTEXT_SLACK_SIGNING_SECRET": TEST_SLACK_SIGNING_SECRET,
            "KLARTEXT_SLACK_API_BASE": f"{self.slack.url}/api",
            "KLARTEXT_TEAMS_APP_ID": TEST_TEAMS_APP_ID,
            "KLARTEXT_TEAMS_APP_PASSWORD": TEST_TEAMS_APP_PASSWORD,
            "KLARTEXT_TEAMS_TENANT_ID": TEST_TEAMS_TENANT_ID,
            "KLARTEXT_TEAMS_OPENID_METADATA_URL": self.identity.metadata_url,
            "KLARTEXT_TEAMS_TOKEN_URL": self.identity.token_url,
            "KLARTEXT_TEAMS_ISSUERS": "https://api.botframework.com",
            "KLARTEXT_TEAMS_SERVICE_URL": "",
        }

    def stop(self) -> None:
        for fake in (self.slack, self.identity, self.connector):
            fake.stop()


@pytest.fixture(scope="session")
def channel_fakes() -> Iterator[ChannelFakes]:
    """Fake Slack Web API, fake OpenID/token endpoint and fake Bot Connector on loopback."""
    fakes = ChannelFakes()
    try:
        yield fakes
    finally:
        fakes.stop()


@pytest.fixture(scope="session")
def channel_env(channel_fakes: ChannelFakes) -> Dict[str, str]:
    """Settings of the web chat, Slack and Teams channels for the test servers."""
    return dict(channel_fakes.env)


@pytest.fixture(scope="session")
def channel_tracker(servers: ServerPair) -> Callable[[str], Dict[str, Any]]:
    """Like ``tracker``, for sender ids with ``:`` (Teams ``29:…``).

    Rasa does not decode ``%3A`` in the conversation id of the tracker API, so ``:`` is sent
    as it is.
    """

    def get(sender: str) -> Dict[str, Any]:
        quoted = urllib.parse.quote(sender, safe=":")
        status, raw, _ = http_request("GET", f"{servers.base_url}/conversations/{quoted}/tracker")
        assert status == 200, f"tracker API answered {status}: {raw[:500]!r}"
        return json.loads(raw)

    return get


@pytest.fixture(scope="session")
def wait_turn(channel_tracker: Callable[[str], Dict[str, Any]]) -> Callable[..., Dict[str, Any]]:
    """``wait_turn(sender, user_turns)``: wait until the coach answered a user message.

    Waits for the ``user_turns``-th user message of ``sender`` to be answered (the tracker
    ends with ``action_listen``).

    For channels that answer in the background (Slack, Teams, socket.io): Rasa saves the
    tracker after all replies of a turn were sent, so the replies are out by then.
    """
    import time

    def wait(sender: str, user_turns: int, timeout: float = 90.0) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: Dict[str, Any] = {}
        while time.monotonic() < deadline:
            last = channel_tracker(sender)
            events = last.get("events") or []
            users = [e for e in events if e.get("event") == "user"]
            if (
                len(users) >= user_turns
                and events
                and events[-1].get("event") == "action"
                and events[-1].get("name") == "action_listen"
            ):
                return last
            time.sleep(0.2)
        raise AssertionError(f"turn {user_turns} of {sender} not finished within {timeout:g} s")

    return wait


# --------------------------------------------------------------------------- PostgreSQL server pair
@pytest.fixture(scope="session")
def pg_servers(tmp_path_factory: pytest.TempPathFactory, postgres_url: str) -> Iterator[ServerPair]:
    """A second Rasa server + action server on the PostgreSQL database of ``postgres_url``.

    Both the coach database and the tracker store live there; started once per session,
    only when needed.

    Ports: ``KLARTEXT_TEST_PG_RASA_PORT`` / ``KLARTEXT_TEST_PG_ACTION_PORT``, default two
    above the ``servers`` ports (15007 / 15057).
    """
    project = Path(os.environ.get("KLARTEXT_TEST_PROJECT_DIR") or ROOT).resolve()
    model = newest_model(project / "models")
    if model is None:
        pytest.fail(
            f"No trained model in {project / 'models'} – run `make train` first.", pytrace=False
        )
    rasa_port = int(
        os.environ.get("KLARTEXT_TEST_PG_RASA_PORT")
        or int(os.environ.get("KLARTEXT_TEST_RASA_PORT", "15005")) + 2
    )
    action_port = int(
        os.environ.get("KLARTEXT_TEST_PG_ACTION_PORT")
        or int(os.environ.get("KLARTEXT_TEST_ACTION_PORT", "15055")) + 2
    )
    var_dir = tmp_path_factory.mktemp("klartext-var-pg")
    env = {
        "KLARTEXT_VAR_DIR": str(var_dir),
        "KLARTEXT_DATABASE_URL": postgres_url,
        "KLARTEXT_TRACKER_STORE_URL": postgres_url,
        "KLARTEXT_PUBLIC_URL": f"http://127.0.0.1:{rasa_port}",
    }
    pair = ServerPair(
        project,
        rasa_port=rasa_port,
        action_port=action_port,
        model=model,
        env=env,
        log_dir=var_dir / "log",
    )
    try:
        pair.start()
    except RuntimeError as exc:
        pytest.fail(f"Could not start the PostgreSQL test servers: {exc}", pytrace=False)
    try:
        yield pair
    finally:
        pair.stop()
