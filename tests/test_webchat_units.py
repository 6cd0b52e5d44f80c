"""Units of the web chat: sign-in tokens, session ids, the widget's files and texts."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import jwt
import pytest
from socketio.exceptions import ConnectionRefusedError as SocketRefused

from connectors import webchat_assets
from connectors.channel_common import section
from connectors.socketio_channel import authorize, blueprint_routes, session_id_from_browser
from connectors.webchat_auth import issue_token, valid_sender_id, verify_token

ROOT = Path(__file__).resolve().parent.parent
SECRET = "unit-test-secret-0123456789abcdef"


def test_token_round_trip_and_refusals():
    token = issue_token("alice", SECRET, ttl_seconds=60)
    assert verify_token(token, SECRET) == ("alice", "")
    assert verify_token(token, "other-secret-0123456789abcdefghijkl") == (None, "token_invalid")
    assert verify_token(None, SECRET) == (None, "token_missing")
    assert verify_token("  ", SECRET) == (None, "token_missing")
    expired = issue_token("alice", SECRET, ttl_seconds=60, now=time.time() - 3600)
    assert verify_token(expired, SECRET) == (None, "token_expired")
    no_expiry = jwt.encode({"sub": "alice"}, SECRET, algorithm="HS256")
    assert verify_token(no_expiry, SECRET) == (None, "token_invalid")
    unsigned = jwt.encode({"sub": "alice", "exp": int(time.time()) + 60}, None, algorithm="none")
    assert verify_token(unsigned, SECRET) == (None, "token_invalid")
    other_claim = jwt.encode(
        {"sender_id": "bob", "exp": int(time.time()) + 60}, SECRET, algorithm="HS256"
    )
    assert verify_token(other_claim, SECRET) == ("bob", "")
    bad_sender = jwt.encode(
        {"sub": "x" * 500, "exp": int(time.time()) + 60}, SECRET, algorithm="HS256"
    )
    assert verify_token(bad_sender, SECRET) == (None, "token_invalid")
    with pytest.raises(ValueError):
        issue_token("alice", "")
    assert not valid_sender_id("a\nb") and valid_sender_id("U123ABC")


def test_authorize_open_and_signed_mode():
    assert authorize("", None) is None  # no secret: anyone may chat
    assert authorize("", {"token": "whatever"}) is None
    assert authorize(SECRET, {"token": issue_token("carol", SECRET)}) == "carol"
    foreign = issue_token("carol", "nope-0123456789abcdefghijklmnopqrstu")
    for auth in (None, {}, {"token": "forged"}, {"token": foreign}, "text"):
        with pytest.raises(SocketRefused):
            authorize(SECRET, auth)


def test_session_ids_from_the_browser_are_validated():
    assert session_id_from_browser("3f2a9c0e1b4d4e5f") == "3f2a9c0e1b4d4e5f"
    for bad in (
        None,
        42,
        "",
        "short",
        "x" * 200,
        "../../etc",
        "a b c d e f g h",
        "<script>x</script>",
    ):
        assert session_id_from_browser(bad) is None


def test_only_known_files_are_served():
    assert webchat_assets.asset("")[1].startswith("text/html")
    assert webchat_assets.asset("klartext-chat.js") is not None
    for bad in (
        "../credentials.yml",
        "package.json",
        "node_modules/socket.io-client/package.json",
        "e2e/webchat.e2e.mjs",
        "/etc/passwd",
    ):
        assert webchat_assets.asset(bad) is None


def test_config_js_carries_server_sign_in_and_texts():
    raw = webchat_assets.config_js("http://127.0.0.1:5005", "/socket.io", True).decode()
    assert raw.startswith("window.KLARTEXT_CONFIG = ")
    data = json.loads(raw.split("=", 1)[1].strip().rstrip(";"))
    assert data == {
        "server": "http://127.0.0.1:5005",
        "socketPath": "/socket.io",
        "signIn": True,
        "texts": section("webchat"),
    }
    assert "<" not in raw  # safe even if a text contained "</script>"


def test_page_headers_allow_only_own_scripts_and_the_server():
    headers = webchat_assets.page_headers("http://127.0.0.1:5005")
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "http://127.0.0.1:5005" in csp and "ws://127.0.0.1:5005" in csp


def test_every_text_the_widget_uses_is_in_yaml():
    source = (ROOT / "web" / "klartext-chat.js").read_text(encoding="utf-8")
    used = set(re.findall(r"texts\.([a-z_]+)", source))
    assert used and used <= set(section("webchat")), used - set(section("webchat"))
    # no German sentence inline in the widget or the page
    for path in ("web/klartext-chat.js", "web/index.html"):
        text = (ROOT / path).read_text(encoding="utf-8")
        assert not re.search(r"[\"'>](Bitte|Schreib|Senden|Verbind|Der Coach|Deine)\b", text), path


def test_widget_never_parses_messages_as_html():
    source = (ROOT / "web" / "klartext-chat.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in source


def test_socket_io_client_comes_from_npm_lock():
    lock = json.loads((ROOT / "web" / "package-lock.json").read_text(encoding="utf-8"))
    package = json.loads((ROOT / "web" / "package.json").read_text(encoding="utf-8"))
    version = package["dependencies"]["socket.io-client"]
    assert re.fullmatch(r"4\.\d+\.\d+", version)  # exact pin, Engine.IO 4 (python-socketio 5)
    assert lock["packages"]["node_modules/socket.io-client"]["version"] == version


def test_socketio_channel_registers_page_routes():
    from connectors.socketio_channel import KlartextSocketIOInput

    channel = KlartextSocketIOInput.from_credentials({})

    async def on_message(_):  # pragma: no cover - not called
        return None

    blueprint = channel.blueprint(on_message)
    assert "/" in blueprint_routes(blueprint)


def test_run_page_server_serves_widget_with_rasa_url():
    import urllib.request

    from devtools.run import sign_in_link, start_page_server

    server = start_page_server(0, "http://127.0.0.1:5999", sign_in=False)
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        with urllib.request.urlopen(base + "/config.js") as resp:
            config = json.loads(resp.read().decode().split("=", 1)[1].strip().rstrip(";"))
        assert config["server"] == "http://127.0.0.1:5999" and config["signIn"] is False
        with urllib.request.urlopen(base + "/") as resp:
            assert b"klartext-chat.js" in resp.read()
            assert "ws://127.0.0.1:5999" in resp.headers["Content-Security-Policy"]
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(base + "/../credentials.yml")
    finally:
        server.shutdown()
        server.server_close()
    assert sign_in_link("http://x/", "") is None
    link = sign_in_link("http://x/", SECRET)
    assert verify_token(link.split("#token=", 1)[1], SECRET) == ("dev-user", "")
