"""A trainer writes a scenario in the dashboard (real browser); trainees play it over REST.

Issue 14's done-when: the trainer opens the signed dashboard link, creates a scenario with the
form, gets a clear error for a missing field, fixes it, previews it, starts a group session
with it, and a trainee joins over REST ("Beitreten CODE") and plays a turn that shows a line
of the new scenario. Also over HTTP on the running servers: the API refuses forged, expired
and other trainers' tokens, big, broken and incomplete bodies (storing nothing), and a trainee
of another trainer's group never gets an unpublished scenario.

The browser driver, its fixtures and the servers are those of ``test_dashboard_browser.py``
(Debian's headless Chromium through playwright-core, ``web/dashboard/e2e/dashboard.e2e.mjs``).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple

import pytest
from conftest import TEST_TRAINER, TEST_TRAINER_CODE, http_request
from test_dashboard_browser import (  # noqa: F401  (browser_ready is a fixture)
    Driver,
    browser_ready,
    link_token,
    open_session,
    server_key,
)
from test_roleplay_conversations import joined

from bot import groups
from bot.roleplay.library import form_to_yaml
from bot.roleplay.scenarios import PHASE_REACTIONS

NAME = "Bruno Brenner"
_WHERE = {
    "opening": "zum Auftakt",
    "announcing": "zu Ihrer Ankündigung",
    "reasons": "zu Ihren Gründen",
    "backlash": "im Streit",
    "transition": "zur Übergabe",
    "closing": "zum Schluss",
}
_SAYS = {
    "neutral": "Guten Morgen aus der Rösterei, ich hätte da gleich die nächste Bestellung",
    "push_back": "Das lasse ich so nicht stehen",
    "misunderstand": "Ach, Sie meinen also, wir machen einfach weiter wie bisher",
    "escalate": "Unverschämt, was Sie da sagen",
    "accept_closer": "Na gut, ich höre Ihnen zu",
    "calm": "Das klingt vernünftig",
    "accept": "Dann ist es eben so, ich akzeptiere das",
}
#: the client's lines of the test scenario, two per phase and reaction
LINES = {
    f"{phase}.{reaction}": [
        f"{_SAYS[reaction]} – {_WHERE[phase]}.",
        f"{_SAYS[reaction]}, wirklich – {_WHERE[phase]}!",
    ]
    for phase, reactions in PHASE_REACTIONS.items()
    for reaction in reactions
}
ALL_LINES = {line for lines in LINES.values() for line in lines}
TURN = "Herr Brenner, ich beende unsere Zusammenarbeit zum Monatsende."


def field(path: str) -> str:
    """The CSS selector of a form field (scenarios.js: ``f-`` + the path with dashes)."""
    return "#f-" + re.sub(r"[^a-z0-9]+", "-", path, flags=re.IGNORECASE)


def form(slug: str, *, name: str = NAME) -> Dict[str, Any]:
    """The test scenario as the dashboard form sends it."""
    return {
        "id": slug,
        "title": "Die Rösterei ruft an",
        "case": "extra_requests",
        "user_goal": "Beende die Zusammenarbeit mit Herrn Brenner klar, mit Grund und freundlich.",
        "persona": {
            "name": name,
            "company": "Brenner Kaffeerösterei",
            "role": "Inhaber",
            "history": "Du druckst seit zwei Jahren seine Etiketten.\n"
            "Er bestellt ständig in letzter Minute und will Rabatt.",
        },
        "lines": {key: "\n".join(lines) for key, lines in LINES.items()},
    }


def scenarios_url(servers, token: str) -> str:
    return f"{servers.base_url}{groups.DASHBOARD_PATH}/scenarios/{token}"


def api(
    servers,
    method: str,
    path: str,
    token: str,
    body: Optional[Any] = None,
    raw: Optional[bytes] = None,
    content_type: str = "application/json",
) -> Tuple[int, Dict[str, Any]]:
    """Call the scenario API of the running server; (status, decoded JSON)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    headers = {"X-Klartext-Token": token}
    if data is not None:
        headers["Content-Type"] = content_type
    url = f"{servers.base_url}{groups.DASHBOARD_PATH}/api/scenarios{path}"
    status, answer, _ = http_request(method, url, data, headers)
    try:
        return status, json.loads(answer)
    except ValueError:
        return status, {"raw": answer.decode("utf-8", errors="replace")}


def trainer_token(servers, chat) -> str:
    """A dashboard token of the configured trainer, from the chat as a trainer gets it."""
    code = open_session(chat)
    return link_token(joined(chat(TEST_TRAINER, f"Ergebnisse {code}")))


def reply_lines(replies: List[Dict[str, Any]]) -> List[str]:
    return [r.get("text") or "" for r in replies]


@pytest.mark.usefixtures("browser_ready")
def test_trainer_writes_a_scenario_and_a_trainee_plays_it(servers, chat):
    token = trainer_token(servers, chat)
    slug = f"roesterei_{uuid.uuid4().hex[:6]}"
    wanted = form(slug)
    fill = {
        field("id"): wanted["id"],
        field("title"): wanted["title"],
        field("user_goal"): wanted["user_goal"],
        field("persona.company"): wanted["persona"]["company"],
        field("persona.role"): wanted["persona"]["role"],
        field("persona.history"): wanted["persona"]["history"],
    }
    fill.update({field(f"phases.{key}"): text for key, text in wanted["lines"].items()})
    driver = Driver(
        [
            {"goto": scenarios_url(servers, token), "state": "ready"},
            {"snapshot": "empty"},
            {"fill": fill},  # everything but the client's name
            {"click": "#save"},
            {"waitFor": "#errors:not([hidden])"},
            {"snapshot": "missing"},
            {"fill": {field("persona.name"): NAME}},
            {"focusOn": "#check"},
            {"press": "Enter"},  # the keyboard works as well as the mouse
            {"waitFor": "#preview:not([hidden])"},
            {"snapshot": "preview"},
            {"click": "#save"},
            {"waitFor": '#result[data-kind="ok"]:not(:empty)'},
            {"waitFor": f'#list li[data-scenario="{slug}"]'},
            {"waitFor": "#scenarios:not([aria-busy])"},
            {"snapshot": "saved"},
            {"click": "#start-session"},
            {"waitFor": "#result[data-code]"},
            {"snapshot": "session"},
            {"viewport": {"width": 360, "height": 740}},
            {"snapshot": "phone"},
        ]
    )
    try:
        empty = driver.until("empty")
        assert empty["page"] == "scenarios" and empty["state"] == "ready"
        assert empty["heading"] == "Eigene Szenarien" and empty["unlabelled"] == []
        assert {"errors", "result", "status", "preview"} <= set(empty["liveRegions"])

        missing = driver.until("missing")
        assert missing["errorsVisible"] and missing["focused"] == "errors"
        assert missing["errors"] == ["persona.name: Pflichtfeld fehlt"]  # the checker's words
        assert missing["fieldErrors"] == [
            {
                "field": "persona.name",
                "text": "persona.name: Pflichtfeld fehlt",
                "next": "f-persona-name",
            }
        ]
        invalid = missing["invalid"]
        assert [i["id"] for i in invalid] == ["f-persona-name"]
        assert "err-0" in invalid[0]["describedBy"] and invalid[0]["label"].startswith("Name")
        assert "nichts wurde gespeichert" in missing["result"]

        preview = driver.until("preview")
        assert not preview["errorsVisible"] and preview["invalid"] == []
        assert "ist in Ordnung" in preview["result"]
        said = [line for line in preview["preview"] if line.startswith(f"{NAME}: ")]
        assert said and all(line[len(NAME) + 2 :] in ALL_LINES for line in said)
        assert any(line.startswith("Du: ") for line in preview["preview"])

        saved = driver.until("saved")
        assert "gespeichert (Version 1)" in saved["result"]
        assert any(slug in entry for entry in saved["own"])
        assert saved["versions"] and saved["versions"][0].startswith("Version 1 vom")

        session = driver.until("session")
        code = session["code"]
        assert code and f"Beitreten {code}" in session["result"]

        phone = driver.until("phone")
        assert phone["overflowX"] <= 0
        driver.finish()
    finally:
        driver.kill()

    # a trainee joins over REST and plays the new scenario
    trainee = f"rest-{uuid.uuid4().hex[:8]}"
    opened = reply_lines(chat(trainee, f"Beitreten {code}"))
    assert any("Willkommen" in line for line in opened)
    first = [line for line in opened if line.startswith(f"{NAME}: ")]
    assert first and first[-1][len(NAME) + 2 :] in LINES["opening.neutral"]
    answer = reply_lines(chat(trainee, TURN))
    played = [line for line in answer if line.startswith(f"{NAME}: ")]
    assert played and played[0][len(NAME) + 2 :] in ALL_LINES, answer


def test_the_api_refuses_bad_tokens_and_bad_bodies_over_http(servers, chat, new_sender):
    token = trainer_token(servers, chat)
    key = server_key(servers)
    slug = f"nie_{uuid.uuid4().hex[:6]}"
    code = groups.verify_dashboard_token(token, key=key)[1]
    expired = groups.make_dashboard_token(TEST_TRAINER, code, now=time.time() - 60, ttl=10, key=key)
    payload, signature = token.split(".")
    retargeted = f"{groups._b64(f'9999999999:{code}:{new_sender()}'.encode())}.{signature}"
    not_trainer = groups.make_dashboard_token(new_sender(), code, key=key)
    for bad, status in [
        ("", 403),
        (token + "x", 403),
        (retargeted, 403),
        (expired, 410),
        (not_trainer, 403),
    ]:
        got, data = api(servers, "POST", "/save", bad, {"form": form(slug)})
        assert got == status and data["gone"], (bad, data)
        assert api(servers, "GET", "", bad)[0] == status

    too_big = {"form": form(slug), "padding": "x" * 300_000}
    got, data = api(servers, "POST", "/save", token, too_big)
    assert got == 413 and "zu groß" in data["error"]
    got, data = api(servers, "POST", "/save", token, raw=b'{"form": ')
    assert got == 400 and "JSON" in data["error"]
    got, data = api(servers, "POST", "/save", token, raw=b"yaml=x", content_type="text/plain")
    assert got == 415
    got, data = api(servers, "POST", "/save", token, {"form": form(slug, name="")})
    assert got == 422 and [e["field"] for e in data["errors"]] == ["persona.name"]
    got, data = api(servers, "POST", "/save", token, {"yaml": "id: [kaputt"})
    assert got == 422 and "YAML-Syntaxfehler" in data["errors"][0]["message"]
    assert api(servers, "GET", f"/item/{slug}", token)[0] == 404  # nothing was stored
    got, listed = api(servers, "GET", "", token)
    assert got == 200 and slug not in json.dumps(listed["own"])


def test_a_trainee_of_another_trainers_group_never_gets_an_unpublished_scenario(
    servers, chat, new_sender
):
    token = trainer_token(servers, chat)
    secret = f"geheim_{uuid.uuid4().hex[:6]}"
    secret_form = form(secret, name="Gerda Geheim")
    got, data = api(
        servers, "POST", "/save", token, {"yaml": form_to_yaml(secret_form), "publish": False}
    )
    assert got == 200 and not data["published"]
    got, data = api(servers, "POST", f"/item/{secret}/session", token, {"difficulty": 2})
    assert got == 200
    own_code = data["code"]

    other = new_sender()  # another trainer with a session of a shipped scenario
    assert "bestätigt" in joined(chat(other, f"Trainercode {TEST_TRAINER_CODE}"))
    other_token = groups.make_dashboard_token(other, own_code, key=server_key(servers))
    assert api(servers, "GET", f"/item/{secret}", other_token)[0] == 404
    got, _ = api(servers, "POST", f"/item/{secret}/session", other_token, {"difficulty": 2})
    assert got == 404
    asked = chat(other, "Gruppensitzung starten")
    buttons = [b.get("payload") for r in asked for b in r.get("buttons") or []]
    assert "late_payer" in buttons and secret not in buttons
    chat(other, "stopp")
    chat(other, "Gruppensitzung starten")
    chat(other, "late_payer")
    opened = joined(chat(other, "2"))
    other_code = re.search(r"Beitrittscode lautet \*([A-Z0-9]{6})\*", opened).group(1)

    trainee = new_sender()
    seen = reply_lines(chat(trainee, f"Beitreten {other_code}"))
    seen += reply_lines(chat(trainee, "stopp"))
    seen += reply_lines(chat(trainee, "Rollenspiel starten"))
    seen += reply_lines(chat(trainee, secret))  # its id: not among the trainee's choices
    seen += reply_lines(chat(trainee, "stopp"))
    assert not [line for line in seen if "Gerda Geheim" in line], seen
    assert not any(line in ALL_LINES for line in seen)


def test_the_trainer_opens_a_session_with_an_own_scenario_in_the_chat(servers, chat, new_sender):
    token = trainer_token(servers, chat)
    slug = f"chat_{uuid.uuid4().hex[:6]}"
    got, _ = api(servers, "POST", "/save", token, {"form": form(slug)})
    assert got == 200
    asked = chat(TEST_TRAINER, "Gruppensitzung starten")
    assert slug in [b.get("payload") for r in asked for b in r.get("buttons") or []]
    chat(TEST_TRAINER, slug)
    opened = joined(chat(TEST_TRAINER, "1"))
    assert "Die Rösterei ruft an" in opened, opened
    code = re.search(r"Beitrittscode lautet \*([A-Z0-9]{6})\*", opened).group(1)
    trainee = new_sender()
    first = [line for line in reply_lines(chat(trainee, f"Beitreten {code}")) if NAME in line]
    assert first and first[-1][len(NAME) + 2 :] in LINES["opening.neutral"]
