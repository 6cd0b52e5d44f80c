"""The web chat in a real browser, talking to the test Rasa server over socket.io.

Debian's headless Chromium is driven by playwright-core (web/e2e/webchat.e2e.mjs) on the
page `make run` serves (devtools/run.py), signed in with a signed token.

Needs /usr/bin/chromium (installed by `make test`), node and web/node_modules (`make setup`).
Without them the test is skipped – or fails when KLARTEXT_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest
from fakes.drivers import unique

from connectors.channel_common import section
from connectors.webchat_auth import issue_token
from devtools.run import start_page_server

ROOT = Path(__file__).resolve().parent.parent
DRIVER = ROOT / "web" / "e2e" / "webchat.e2e.mjs"
CHROMIUM = os.environ.get("KLARTEXT_CHROMIUM", "/usr/bin/chromium")
MARKUP = (
    '<img src=x onerror="window.__klartextInjected=1"><b>fett</b>'
    "<script>window.__klartextInjected=2</script>"
)


def _missing() -> List[str]:
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium; `make test` does it)")
    if not shutil.which("node"):
        missing.append("node")
    if not (ROOT / "web" / "node_modules" / "playwright-core").is_dir():
        missing.append("web/node_modules (npm ci in web/; `make setup` does it)")
    return missing


@pytest.fixture(scope="module")
def browser_ready() -> None:
    missing = _missing()
    if missing:
        message = "browser test needs " + ", ".join(missing)
        if os.environ.get("KLARTEXT_REQUIRE_SERVICES", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(message + " (KLARTEXT_REQUIRE_SERVICES=1)", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="module")
def page_url(servers, channel_fakes, browser_ready):
    server = start_page_server(0, servers.base_url, sign_in=True)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def drive(steps: List[Dict[str, Any]], tmp_path: Path) -> Dict[str, Any]:
    env = dict(
        os.environ,
        KLARTEXT_E2E_STEPS=json.dumps(steps),
        KLARTEXT_CHROMIUM=CHROMIUM,
        KLARTEXT_E2E_SCREENSHOTS=str(tmp_path),
    )
    done = subprocess.run(
        ["node", str(DRIVER)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"driver printed nothing (exit {done.returncode}): {done.stderr[-3000:]}"
    result = json.loads(lines[-1])
    assert result["ok"], f"{result.get('error')}\nsnapshots so far: {list(result['snapshots'])}"
    return result["snapshots"]


def bots(snapshot: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [m for m in snapshot["messages"] if m["from"] == "bot"]


def test_chat_in_headless_chromium(page_url, channel_fakes, channel_tracker, tmp_path):
    texts = section("webchat")
    sender = unique("browser-")
    token = issue_token(sender, channel_fakes.webchat_secret)
    shots = drive(
        [
            {"goto": f"{page_url}#token={token}"},
            {"snapshot": "start"},
            {"send": "Was kannst du alles?"},
            {"snapshot": "help"},
            {"click": "Ein Kunde ist ausfällig"},
            {"snapshot": "clicked"},
            {"send": MARKUP},
            {"snapshot": "markup"},
            {"reload": True},
            {"snapshot": "reloaded"},
            {"click": "Schon mehrmals"},
            {"snapshot": "after_reload"},
        ],
        tmp_path,
    )

    start = shots["start"]
    assert start["state"] == "connected" and start["sessionId"] == sender
    assert start["documentTitle"] == texts["page_title"]
    assert start["title"] == texts["title"] and start["status"] == texts["connected"]
    assert start["placeholder"] == texts["placeholder"] and start["sendLabel"] == texts["send"]
    assert "token=" not in start["location"]  # the token does not stay in the address bar

    help_ = shots["help"]
    assert help_["messages"][0] == {"from": "user", "text": "Was kannst du alles?", "buttons": []}
    offer = bots(help_)[-1]
    assert offer["text"] == "Womit fangen wir an?"
    assert [b["title"] for b in offer["buttons"]][0] == "Ein Kunde ist ausfällig"
    assert not any(b["disabled"] for b in offer["buttons"])
    assert help_["strongCount"] > 0 and "*" not in bots(help_)[0]["text"]  # *bold* rendered

    clicked = shots["clicked"]
    assert {"from": "user", "text": "Ein Kunde ist ausfällig", "buttons": []} in clicked["messages"]
    assert all(b["disabled"] for b in bots(clicked)[len(bots(help_)) - 1]["buttons"])
    assert "Wie oft" in bots(clicked)[-1]["text"]

    markup = shots["markup"]
    assert {"from": "user", "text": MARKUP, "buttons": []} in markup["messages"]
    assert markup["injected"] is None and markup["foreignElements"] == 0

    reloaded = shots["reloaded"]
    assert reloaded["sessionId"] == sender and reloaded["state"] == "connected"
    assert reloaded["messages"] == markup["messages"]

    after = shots["after_reload"]
    assert "Wie heftig" in " ".join(m["text"] for m in bots(after)[len(bots(reloaded)) :])
    assert channel_tracker(sender)["slots"]["case"] == "abusive"


def test_sign_in_on_the_page_served_by_rasa(servers, browser_ready, channel_fakes, tmp_path):
    """The page at /webchat/ of the Rasa server (same origin as the socket).

    Refused without or with a forged token, working with a valid one.
    """
    texts = section("webchat")
    page = f"{servers.base_url}/webchat/"
    forged = issue_token("mallory", "not-the-secret-0123456789abcdefghijkl")
    valid = issue_token(unique("rasa-page-"), channel_fakes.webchat_secret)
    shots = drive(
        [
            {"goto": page, "state": "signin-required"},
            {"snapshot": "no_token"},
            # a query string makes it a new page load (a changed #fragment alone would not)
            {"goto": f"{page}?anmeldung=2#token={forged}", "state": "signin-failed"},
            {"snapshot": "forged"},
            {"goto": f"{page}?anmeldung=3#token={valid}"},
            {"send": "Was kannst du alles?"},
            {"snapshot": "signed_in"},
        ],
        tmp_path,
    )
    assert shots["no_token"]["status"] == texts["sign_in_required"]
    assert shots["no_token"]["inputDisabled"] is True
    assert shots["forged"]["status"] == texts["sign_in_failed"]
    assert shots["forged"]["inputDisabled"] is True and shots["forged"]["messages"] == []
    assert bots(shots["signed_in"])[-1]["text"] == "Womit fangen wir an?"


@pytest.fixture(scope="module")
def open_chat_url(browser_ready, tmp_path_factory):
    """The page of `make run` without sign-in, in front of the echo stand-in of the core."""
    import socket
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path_factory.mktemp("echo-webchat") / "echo.log"
    with open(log, "wb") as sink:
        echo = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "fakes" / "echo_webchat.py"), str(port)],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(base + "/webhooks/socketio/", timeout=2).read()
            break
        except OSError:
            if echo.poll() is not None or time.monotonic() > deadline:
                echo.kill()
                pytest.fail(f"echo web chat server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.3)
    page = start_page_server(0, base, sign_in=False)
    try:
        yield f"http://127.0.0.1:{page.server_address[1]}/"
    finally:
        page.shutdown()
        page.server_close()
        echo.terminate()
        echo.wait(timeout=30)


def test_open_chat_without_sign_in_keeps_the_session_across_reload(open_chat_url, tmp_path):
    shots = drive(
        [
            {"goto": open_chat_url},
            {"send": "Hallo <i>du</i>"},
            {"snapshot": "first"},
            {"reload": True},
            {"snapshot": "reloaded"},
            {"click": "Nochmal"},
            {"snapshot": "after"},
        ],
        tmp_path,
    )
    first, reloaded, after = shots["first"], shots["reloaded"], shots["after"]
    session = first["sessionId"]
    assert session and len(session) >= 16  # a random id made by the server
    assert first["messages"][-1]["text"] == f"echo[{session}]: Hallo <i>du</i>"
    assert first["foreignElements"] == 0
    assert reloaded["sessionId"] == session and reloaded["messages"] == first["messages"]
    assert after["messages"][-1]["text"] == f"echo[{session}]: nochmal"
    assert {"from": "user", "text": "Nochmal", "buttons": []} in after["messages"]
