"""The security model's decisions without servers (docs/security.md).

Which door lets whom in (REST, HTTP API, web chat), the action secret on both sides, signed
web chat session ids, and the production start check – as a function and once as the
launcher's process with its message and exit code. The same doors over HTTP:
test_security_local.py and test_security_production.py.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Dict

import pytest
import yaml
from rasa.utils.endpoints import EndpointConfig

from actions import auth
from bot.config import ROOT, SETTINGS, read_settings
from connectors import security
from connectors.guard import GuardedActionEndpoint
from connectors.server_guard import is_api_path
from connectors.socketio_channel import issue_session_id, signed_session_id
from devtools import serve
from devtools.run import shell_endpoints

GOOD = "a-long-enough-secret-0123456789"
LOOPBACK = "127.0.0.1"
FOREIGN = "203.0.113.7"
PROXIED = {"X-Forwarded-For": "203.0.113.7"}


def settings(tmp_path=None, **values: str):
    """Settings from exactly ``values`` (``KLARTEXT_`` + upper-case key), no .env."""
    environ = {f"KLARTEXT_{key.upper()}": value for key, value in values.items()}
    if tmp_path is not None:
        environ["KLARTEXT_VAR_DIR"] = str(tmp_path)
    return read_settings(environ)


def production(tmp_path=None, **values: str):
    base = {"mode": "production", "webchat_secret": GOOD, "action_secret": GOOD}
    return settings(tmp_path, **{**base, **values})


# --------------------------------------------------------------------------- primitives
def test_tokens_are_compared_exactly_and_empty_never_matches():
    assert security.tokens_match(GOOD, GOOD)
    for given, expected in ((GOOD + "x", GOOD), (GOOD[:-1], GOOD), ("", ""), (None, GOOD)):
        assert not security.tokens_match(given, expected)


def test_bearer_tokens_are_parsed():
    assert security.bearer_token(f"Bearer {GOOD}") == GOOD
    assert security.bearer_token(f"bearer   {GOOD} ") == GOOD
    for bad in (None, "", GOOD, f"Basic {GOOD}", "Bearer ", "Bearer"):
        assert security.bearer_token(bad) is None


@pytest.mark.parametrize("ip", ["127.0.0.1", "127.0.0.53", "::1", "::ffff:127.0.0.1"])
def test_loopback_addresses(ip):
    assert security.is_loopback(ip)
    assert security.from_this_machine(ip, {})


@pytest.mark.parametrize("ip", [FOREIGN, "10.0.0.1", "::ffff:10.0.0.1", "", None, "localhost"])
def test_other_addresses_are_foreign(ip):
    assert not security.is_loopback(ip)


@pytest.mark.parametrize(
    "header", ["X-Forwarded-For", "x-forwarded-host", "Forwarded", "X-Real-IP", "Via"]
)
def test_a_proxy_header_makes_a_loopback_request_foreign(header):
    assert not security.from_this_machine(LOOPBACK, {header: "203.0.113.7"})


@pytest.mark.parametrize(
    "origin, local",
    [
        ("http://127.0.0.1:8080", True),
        ("http://localhost:5005", True),
        ("http://[::1]:8080", True),
        ("https://evil.example", False),
        ("null", False),
        ("http://127.0.0.1.evil.example", False),
    ],
)
def test_a_page_from_elsewhere_is_foreign_even_on_this_machine(origin, local):
    assert security.from_this_machine(LOOPBACK, {"Origin": origin}) is local


# --------------------------------------------------------------------------- REST door
def test_rest_in_local_mode_without_token_only_from_this_machine():
    local = settings()
    assert security.rest_refusal(local, LOOPBACK, {}) is None
    for ip, headers in ((FOREIGN, {}), (LOOPBACK, PROXIED)):
        refusal = security.rest_refusal(local, ip, headers)
        assert refusal.status == 403 and "Local mode" in refusal.error


def test_rest_is_off_in_production_without_token():
    refusal = security.rest_refusal(production(), LOOPBACK, {})
    assert refusal.status == 403 and "KLARTEXT_REST_TOKEN" in refusal.error


@pytest.mark.parametrize("mode", ["local", "production"])
def test_rest_with_a_token_trusts_only_its_bearer(mode):
    configured = settings(mode=mode, rest_token=GOOD)
    assert security.rest_refusal(configured, FOREIGN, {"Authorization": f"Bearer {GOOD}"}) is None
    assert security.rest_refusal(configured, LOOPBACK, {}).status == 401
    assert security.rest_refusal(configured, LOOPBACK, {"authorization": GOOD}).status == 401
    wrong = security.rest_refusal(configured, LOOPBACK, {"Authorization": "Bearer nope"})
    assert wrong.status == 403 and wrong.body() == {"error": wrong.error}


# --------------------------------------------------------------------------- API door
def test_api_without_token_local_only_from_this_machine_and_off_in_production():
    assert security.api_refusal(settings(), LOOPBACK, {}, None) is None
    assert security.api_refusal(settings(), FOREIGN, {}, None).status == 403
    assert security.api_refusal(settings(), LOOPBACK, PROXIED, "x").status == 403
    off = security.api_refusal(production(), LOOPBACK, {}, "anything")
    assert off.status == 403 and "KLARTEXT_API_TOKEN" in off.error


@pytest.mark.parametrize("mode", ["local", "production"])
def test_api_with_a_token_needs_it(mode):
    configured = settings(mode=mode, api_token=GOOD)
    assert security.api_refusal(configured, FOREIGN, {}, GOOD) is None
    assert security.api_refusal(configured, LOOPBACK, {}, None).status == 401
    assert security.api_refusal(configured, LOOPBACK, {}, GOOD + "x").status == 403


def test_api_paths_are_recognised():
    for path in ("/status", "/version", "/domain", "/model", "/model/parse"):
        assert is_api_path(path), path
    assert is_api_path("/conversations/alice/tracker")
    for path in ("/", "/webhooks/rest/webhook", "/webchat/", "/socket.io/", "/models"):
        assert not is_api_path(path), path


# --------------------------------------------------------------------------- web chat door
def test_webchat_door():
    assert security.webchat_refusal(production(), GOOD, FOREIGN, {}) is None  # token checked
    assert security.webchat_refusal(settings(), "", LOOPBACK, {}) is None
    assert security.webchat_refusal(settings(), "", FOREIGN, {}) == "local_only"
    assert security.webchat_refusal(settings(), "", LOOPBACK, PROXIED) == "local_only"
    no_secret = production(webchat_secret="")
    assert security.webchat_refusal(no_secret, "", LOOPBACK, {}) == "sign_in_unavailable"


def test_session_ids_are_taken_only_when_the_server_signed_them():
    key, other = b"k" * 32, b"o" * 32
    issued = issue_session_id(key)
    assert signed_session_id(issued, key) == issued
    assert issue_session_id(key) != issued
    nonce, _, mac = issued.rpartition("-")
    tampered = f"{nonce[:-1]}{'0' if nonce[-1] != '0' else '1'}-{mac}"
    for offered in (
        "U0123SLACK",
        "dev-user",
        "3f2a9c0e1b4d4e5f",
        tampered,
        issued + "x",
        None,
        42,
    ):
        assert signed_session_id(offered, key) is None, offered
    assert signed_session_id(issued, other) is None


# --------------------------------------------------------------------------- action secret
def test_generated_secret_is_created_once_privately_and_shared(tmp_path):
    with ThreadPoolExecutor(8) as pool:
        values = set(pool.map(lambda _: security.generated_secret(tmp_path, "s"), range(16)))
    assert len(values) == 1 and len(values.pop()) == 64
    assert stat.S_IMODE((tmp_path / "s").stat().st_mode) == 0o600


def test_action_secret_configured_generated_or_refused(tmp_path):
    assert security.action_secret(settings(tmp_path, action_secret=GOOD)) == GOOD
    generated = security.action_secret(settings(tmp_path))
    assert generated == (tmp_path / security.ACTION_SECRET_FILE).read_text().strip()
    assert security.action_secret(settings(tmp_path)) == generated
    with pytest.raises(security.DoorOpen, match="KLARTEXT_ACTION_SECRET"):
        security.action_secret(settings(tmp_path, mode="production"))


def test_rasa_sends_the_action_secret_with_every_action_call(monkeypatch):
    monkeypatch.setenv("KLARTEXT_ACTION_SECRET", GOOD)
    endpoint = EndpointConfig(url="http://127.0.0.1:1/webhook", headers={"X-Other": "1"})
    guarded = GuardedActionEndpoint.wrap(endpoint)
    assert guarded.headers == {"X-Other": "1", security.ACTION_SECRET_HEADER: GOOD}
    assert endpoint.headers == {"X-Other": "1"}  # the original is not changed


def _request(path: str, headers: Dict[str, str]) -> SimpleNamespace:
    return SimpleNamespace(path=path, headers=headers, ip=FOREIGN)


async def test_the_action_server_runs_nothing_without_the_secret():
    check = auth.require_secret(GOOD)
    header = security.ACTION_SECRET_HEADER
    for headers in ({}, {header: ""}, {header: GOOD + "x"}, {"Authorization": f"Bearer {GOOD}"}):
        refused = await check(_request("/webhook", headers))
        assert refused is not None and refused.status == 401, headers
        assert header.encode() in refused.body
    assert (await check(_request("/actions", {}))).status == 401
    assert await check(_request("/webhook", {header: GOOD})) is None
    assert await check(_request("/health", {})) is None


def test_outside_rasa_sdk_the_actions_install_nothing():
    assert auth.protect_action_server() is False


def test_an_action_server_in_production_needs_its_secret(tmp_path):
    app = SimpleNamespace(ctx=SimpleNamespace(), register_middleware=lambda *a: None)
    with pytest.raises(security.DoorOpen, match="KLARTEXT_ACTION_SECRET"):
        auth.install(app, settings(tmp_path, mode="production"))


# --------------------------------------------------------------------------- production start
def test_a_closed_production_configuration_may_start():
    assert serve.check(production()) == []
    assert serve.check(production(enable_api="true", api_token=GOOD, rest_token=GOOD)) == []


@pytest.mark.parametrize(
    "changes, named",
    [
        ({"mode": "local"}, "KLARTEXT_MODE"),
        ({"mode": "prod"}, "KLARTEXT_MODE"),
        ({"webchat_secret": ""}, "KLARTEXT_WEBCHAT_SECRET"),
        ({"action_secret": ""}, "KLARTEXT_ACTION_SECRET"),
        ({"enable_api": "true"}, "KLARTEXT_API_TOKEN"),
        ({"rest_token": "short"}, "KLARTEXT_REST_TOKEN"),
        ({"webchat_secret": "short"}, "KLARTEXT_WEBCHAT_SECRET"),
    ],
)
def test_each_open_door_refuses_a_production_start_naming_the_setting(changes, named):
    problems = serve.check(production(**changes))
    assert len(problems) == 1 and named in problems[0], problems


def test_a_local_configuration_names_every_missing_setting():
    problems = " ".join(serve.check(settings(rasa_host="0.0.0.0")))
    for name in ("KLARTEXT_MODE", "KLARTEXT_WEBCHAT_SECRET", "KLARTEXT_ACTION_SECRET"):
        assert name in problems


def _launcher_env(tmp_path, **values: str) -> Dict[str, str]:
    """The environment of the launcher: every KLARTEXT_ setting given (a .env cannot add one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLARTEXT_")}
    env.update({setting.name: "" for setting in SETTINGS})
    env.update({f"KLARTEXT_{key.upper()}": value for key, value in values.items()})
    env["KLARTEXT_VAR_DIR"] = str(tmp_path)
    return env


def _launch(env: Dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "devtools.serve", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_launcher_refuses_an_open_door_with_a_clear_message(tmp_path):
    env = _launcher_env(
        tmp_path, mode="production", action_secret=GOOD, enable_api="true", api_token=""
    )
    result = _launch(env)
    assert result.returncode == 2
    assert "KLARTEXT_WEBCHAT_SECRET fehlt" in result.stderr
    assert "KLARTEXT_API_TOKEN fehlt" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "log").exists()  # no server was started


def test_the_launcher_check_passes_a_closed_configuration(tmp_path):
    env = _launcher_env(tmp_path, mode="production", action_secret=GOOD, webchat_secret=GOOD)
    result = _launch(env, "--check")
    assert result.returncode == 0, result.stderr


def test_make_shell_sends_the_action_secret(tmp_path, monkeypatch):
    """`rasa shell` loads no channel (no guard): its endpoints.yml carries the header."""
    monkeypatch.setenv("KLARTEXT_ACTION_SECRET", GOOD)
    written = shell_endpoints(tmp_path / "endpoints.yml", 16399)
    action = yaml.safe_load(written.read_text(encoding="utf-8"))["action_endpoint"]
    assert action["url"] == "http://127.0.0.1:16399/webhook"
    assert action["headers"] == {security.ACTION_SECRET_HEADER: GOOD}
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
