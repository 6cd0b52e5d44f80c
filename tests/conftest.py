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

_SERVER_FIXTURES = {"servers", "chat", "tracker", "webhook", "actions_down"}


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
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerPair]:
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
    }
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
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 - local
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
