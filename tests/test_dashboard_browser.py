"""The trainer's dashboard in a real browser, while three trainees play their role-plays.

The trainer gets the signed link in the chat (REST), opens it in Debian's headless Chromium
(playwright-core, web/dashboard/e2e/dashboard.e2e.mjs, as in test_webchat_browser.py), sees
the results appear without reloading, drills into one participant with the keyboard and
downloads the CSV. Forged, expired and other trainers' links are refused.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest
from conftest import TEST_TRAINER, TEST_TRAINER_CODE, http_request
from test_groups_conversations import finish_roleplay
from test_roleplay_conversations import BAD, GOOD, joined
from test_webchat_browser import CHROMIUM, _missing

from bot import groups
from bot.data_rights import SECRET_FILE
from connectors.commands import load_commands

ROOT = Path(__file__).resolve().parent.parent
DRIVER = ROOT / "web" / "dashboard" / "e2e" / "dashboard.e2e.mjs"
LINK = re.compile(r"https?://\S+/webhooks/dashboard/view/(\S+)")


@pytest.fixture(scope="module")
def browser_ready() -> None:
    missing = _missing()
    if missing:
        message = "browser test needs " + ", ".join(missing)
        if os.environ.get("KLARTEXT_REQUIRE_SERVICES", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(message + " (KLARTEXT_REQUIRE_SERVICES=1)", pytrace=False)
        pytest.skip(message)


def link_token(reply: str) -> str:
    """The token of the dashboard link in a chat reply."""
    match = LINK.search(reply)
    assert match, f"no dashboard link in {reply!r}"
    return match.group(1)


def view(servers, token: str) -> str:
    # the link names KLARTEXT_PUBLIC_URL; the test servers run on their own port
    return f"{servers.base_url}{groups.dashboard_path(token)}"


def server_key(servers) -> bytes:
    """The secret the test servers sign links with (generated into their var directory)."""
    return (Path(servers.extra_env["KLARTEXT_VAR_DIR"]) / SECRET_FILE).read_bytes().strip()


def open_session(chat) -> str:
    chat(TEST_TRAINER, "Gruppensitzung starten")
    chat(TEST_TRAINER, "late_payer")
    opened = joined(chat(TEST_TRAINER, "2"))
    return re.search(r"Beitrittscode lautet \*([A-Z0-9]{6})\*", opened).group(1)


class Driver:
    """The browser driver as a process; its snapshots are read as they are taken."""

    def __init__(self, steps: List[Dict[str, Any]]) -> None:
        env = dict(os.environ, KLARTEXT_E2E_STEPS=json.dumps(steps), KLARTEXT_CHROMIUM=CHROMIUM)
        self.process = subprocess.Popen(
            ["node", str(DRIVER)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.snapshots: Dict[str, Dict[str, Any]] = {}

    def until(self, name: str) -> Dict[str, Any]:
        """Read the driver's output up to the snapshot ``name`` (or its end)."""
        while name not in self.snapshots:
            line = self.process.stdout.readline()
            if not line:
                self.process.wait(timeout=60)
                raise AssertionError(f"driver ended before {name!r}: {self.process.stderr.read()}")
            event = json.loads(line)
            if "snapshot" in event:
                self.snapshots[event["snapshot"]] = event["data"]
            elif not event["ok"]:
                raise AssertionError(f"{event['error']}\nsnapshots: {list(self.snapshots)}")
        return self.snapshots[name]

    def finish(self) -> Dict[str, Any]:
        last = json.loads(self.process.stdout.readline() or '{"ok": false, "error": "no end"}')
        self.process.wait(timeout=60)
        assert last["ok"], last.get("error")
        return last

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def test_trainer_watches_the_session_live(servers, chat, tracker, browser_ready):
    code = open_session(chat)
    empty = joined(chat(TEST_TRAINER, f"Ergebnisse {code}"))
    assert "noch niemand" in empty
    token = link_token(empty)
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    driver = Driver(
        [
            {"goto": view(servers, token)},
            {"snapshot": "empty"},
            {"waitCount": 1},
            {"snapshot": "first"},
            {"waitCount": 3},
            {"snapshot": "three"},
            {"focus": "Teilnehmer 2"},
            {"press": "Enter"},
            {"snapshot": "detail"},
            {"press": "Escape"},
            {"snapshot": "back"},
            {"download": "#csv"},
            {"snapshot": "downloaded"},
            {"viewport": {"width": 360, "height": 740}},
            {"snapshot": "phone"},
            {"goto": view(servers, forged), "state": None},
            {"snapshot": "forged"},
        ]
    )
    try:
        empty_page = driver.until("empty")
        assert empty_page["state"] == "live" and empty_page["count"] == 0
        assert empty_page["heading"] == f"Gruppensitzung {code}: Ergebnisse"
        assert empty_page["participants"] == [] and empty_page["csvLabel"] == "CSV herunterladen"

        trainees = [f"slack-U{uuid.uuid4().hex[:8]}", f"teams-29-{uuid.uuid4().hex[:8]}"]
        trainees.append(f"web-{uuid.uuid4().hex[:8]}")
        for trainee, script in zip(trainees, (GOOD, BAD, GOOD), strict=True):
            assert "Willkommen" in joined(chat(trainee, f"Beitreten {code}"))
            finish_roleplay(chat, tracker, trainee, script)

        first, three = driver.until("first"), driver.until("three")
        assert first["count"] >= 1 and three["count"] == 3
        assert first["sameDocument"] == three["sameDocument"] == empty_page["sameDocument"]
        assert [re.match(r"Teilnehmer \d", p).group(0) for p in three["participants"]] == [
            "Teilnehmer 1",
            "Teilnehmer 2",
            "Teilnehmer 3",
        ]
        assert "Beigetreten: 3 · abgeschlossene Rollenspiele: 3" in three["statusLine"]
        assert [c["criterion"] for c in three["charts"]] == list(groups.CRITERIA)
        assert all(c["bars"] == 5 for c in three["charts"])
        assert any(c["hasMean"] for c in three["charts"])
        assert "Schnitt" in three["charts"][0]["label"]
        assert "Schwächstes Kriterium der Gruppe" in three["weakest"] and three["examples"] >= 1
        assert any(f"{code} (diese Sitzung)" in row for row in three["trendRows"])
        assert three["trendPoints"] == len(three["trendRows"])
        assert "Neues Ergebnis" in three["announce"]
        for trainee in trainees:
            assert trainee not in json.dumps(three)

        detail = driver.until("detail")
        assert detail["detailVisible"] and not detail["overviewVisible"]
        assert detail["detailTitle"] == "Teilnehmer 2" and detail["focused"] == "detail-title"
        clarity = next(s for s in detail["detailScores"] if s["criterion"] == "clarity")
        assert "Klarheit" in clarity["text"] and clarity["quotes"]
        assert any("vielleicht" in q.lower() for q in clarity["quotes"])  # BAD's first line

        back = driver.until("back")
        assert back["overviewVisible"] and back["focused"] == "Teilnehmer 2"

        download = driver.until("downloaded")["download"]
        assert download["name"] == f"klartext-{code}.csv"
        rows = download["text"].strip().splitlines()
        assert rows[0].startswith("participant,finished_at,overall,clarity") and len(rows) == 4
        assert [r.split(",")[0] for r in rows[1:]] == [
            "Teilnehmer 1",
            "Teilnehmer 2",
            "Teilnehmer 3",
        ]

        phone = driver.until("phone")
        assert phone["overflowX"] <= 0 and phone["count"] == 3

        refused = driver.until("forged")
        assert refused["status"] == 403 and "ungültig" in refused["body"]
        driver.finish()
    finally:
        driver.kill()


def test_expired_forged_and_other_trainers_links_are_refused(servers, chat, new_sender):
    code = open_session(chat)
    token = link_token(joined(chat(TEST_TRAINER, f"Ergebnisse {code}")))
    assert http_request("GET", view(servers, token))[0] == 200
    key = server_key(servers)

    other = new_sender()
    assert "bestätigt" in joined(chat(other, f"Trainercode {TEST_TRAINER_CODE}"))
    refused_in_chat = joined(chat(other, f"Ergebnisse {code}"))
    assert "nur die Person" in refused_in_chat and "/webhooks/dashboard/" not in refused_in_chat

    expired = groups.make_dashboard_token(TEST_TRAINER, code, now=time.time() - 60, ttl=10, key=key)
    others = groups.make_dashboard_token(other, code, key=key)  # signed, but not their session
    payload, signature = token.split(".")
    retargeted = f"{groups._b64(f'9999999999:{code}:{other}'.encode())}.{signature}"
    for name, bad, status in [
        ("expired", expired, 410),
        ("another trainer's", others, 403),
        ("forged", retargeted, 403),
        ("damaged", token + "x", 403),
    ]:
        for route in ("view", "data", "csv"):
            url = f"{servers.base_url}{groups.DASHBOARD_PATH}/{route}/{urllib.parse.quote(bad)}"
            got, body, _ = http_request("GET", url)
            assert got == status, (name, route, body[:200])
            assert b"Teilnehmer" not in body, (name, route)


@pytest.mark.skipif(
    not any("bericht" in pattern.pattern for pattern, _, _ in load_commands()),
    reason="'Bericht CODE' needs the keyword in connectors/commands.yml (show_session_results)",
)
def test_bericht_gives_the_link_alone(servers, chat):
    code = open_session(chat)
    reply = joined(chat(TEST_TRAINER, f"Bericht {code}"))
    assert link_token(reply) and "Ergebnisse der Sitzung" not in reply
