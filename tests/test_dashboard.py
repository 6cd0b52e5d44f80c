"""The trainer's dashboard: signed links, the report data behind page, CSV and `coach report`.

The HTTP answers are tested on the route functions of ``connectors/dashboard.py``; the page
in a real browser against the running servers in ``test_dashboard_browser.py``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from rasa_sdk.executor import CollectingDispatcher
from trackers import make_tracker, texts

from actions.groups import ActionSessionResults
from bot import data_rights, groups
from bot.cli import main as coach
from bot.storage.groups import GroupRepository
from connectors import dashboard
from reporting.group_report import csv_text

KEY = b"dashboard-test-secret"


@pytest.fixture
def repo(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'coach.db'}"
    monkeypatch.setenv("KLARTEXT_DATABASE_URL", url)
    monkeypatch.setenv("KLARTEXT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("KLARTEXT_PUBLIC_URL", "https://coach.example.org/")
    monkeypatch.delenv("KLARTEXT_SECRET", raising=False)
    return GroupRepository(url)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def play(repo, sender, code, overall, sentences):
    """A finished role-play: ``sentences`` are (text, clarity, respect) of the user's lines."""
    transcript = []
    for sentence, clarity, respect in sentences:
        transcript.append({"speaker": "client", "text": "Wie bitte?"})
        scores = {"clarity": clarity, "respect": respect}
        transcript.append({"speaker": "user", "text": sentence, "scores": scores})
    repo.save_roleplay(
        sender,
        scenario_id="late_payer",
        difficulty=2,
        overall=overall,
        scores={
            "clarity": min(c for _, c, _ in sentences),
            "respect": min(r for _, _, r in sentences),
        },
        group_code=code,
        transcript=transcript,
    )


@pytest.fixture
def session(repo):
    """A trainer's session with three participants (one of them twice) and an older session."""
    trainer = uid("trainer")
    older = repo.open_session(trainer, "late_payer", 1)
    play(repo, uid("old"), older.code, 30, [("Vielleicht hören wir auf.", 0.3, 0.8)])
    current = repo.open_session(trainer, "late_payer", 2)
    a, b, c = uid("slack"), uid("teams"), uid("web")
    for person in (a, b, c, uid("joined-only")):
        repo.join(person, current.code)
    play(
        repo,
        a,
        current.code,
        80,
        [("Wir beenden die Zusammenarbeit zum 30. Juni.", 0.9, 0.9), ("Das ist so.", 0.6, 0.7)],
    )
    play(repo, b, current.code, 40, [("Vielleicht sollten wir mal schauen.", 0.1, 0.9)])
    play(repo, c, current.code, 60, [("Wir hören auf, Sie nerven.", 0.7, 0.2)])
    play(repo, a, current.code, 90, [("Wir beenden die Zusammenarbeit.", 1.0, 1.0)])
    return trainer, current, older, (a, b, c)


def run(coroutine):
    return asyncio.run(coroutine)


# --------------------------------------------------------------------------- links
def test_a_link_names_one_trainer_and_one_session():
    token = groups.make_dashboard_token("slack:U1:x", "k7p2qx", now=1000, ttl=600, key=KEY)
    assert groups.verify_dashboard_token(token, now=1500, key=KEY) == ("slack:U1:x", "K7P2QX")
    with pytest.raises(data_rights.TokenExpired):
        groups.verify_dashboard_token(token, now=1601, key=KEY)


def test_forged_links_are_refused():
    token = groups.make_dashboard_token("alice", "K7P2QX", now=1000, ttl=600, key=KEY)
    payload, signature = token.split(".")
    export_token = data_rights.make_token("alice", now=1000, ttl=600, key=KEY)
    for forged in [
        f"{groups._b64(b'1600:K7P2QY:alice')}.{signature}",  # another session
        f"{groups._b64(b'1600:K7P2QX:bob')}.{signature}",  # another trainer
        f"{groups._b64(b'99999999999:K7P2QX:alice')}.{signature}",  # a longer life
        export_token,  # an export link opens no dashboard
        token + "x",
        f"{payload}.",
        "garbage",
        "",
        "a.b.c",
    ]:
        with pytest.raises(data_rights.TokenInvalid):
            groups.verify_dashboard_token(forged, now=1500, key=KEY)
    with pytest.raises(data_rights.TokenInvalid):
        groups.verify_dashboard_token(token, now=1500, key=b"another-secret")


def test_the_chat_message_holds_a_fresh_link(repo, session):
    trainer, current, _, _ = session
    message = groups.dashboard_message(trainer, current.code.lower())
    url = next(word for word in message.split() if word.startswith("https://"))
    assert url.startswith("https://coach.example.org/webhooks/dashboard/view/")
    assert groups.verify_dashboard_token(url.rsplit("/", 1)[1]) == (trainer, current.code)
    assert f"Ergebnisse {current.code}" in message and "Uhr" in message


def test_bericht_asks_for_the_link_ergebnisse_for_the_results():
    assert groups.asks_for_dashboard("Bericht K7P2QX")
    assert groups.asks_for_dashboard("bericht: k7p2qx")
    assert not groups.asks_for_dashboard("Ergebnisse K7P2QX")
    assert not groups.asks_for_dashboard("/show_session_results")


async def ask(sender: str, message: str) -> str:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("show_session_results", message, sender=sender)
    assert await ActionSessionResults().run(dispatcher, tracker, {}) == []
    return texts(dispatcher)


async def test_results_come_with_the_link_and_bericht_gives_the_link_alone(repo, session):
    trainer, current, _, people = session
    for message, with_results in [
        (f"Ergebnisse {current.code}", True),
        (f"Bericht {current.code.lower()}", False),
    ]:
        answer = await ask(trainer, message)
        assert ("Ergebnisse der Sitzung" in answer) == with_results, message
        link = next(w for w in answer.split() if "/webhooks/dashboard/view/" in w)
        assert groups.verify_dashboard_token(link.rsplit("/", 1)[1]) == (trainer, current.code)
    for intruder in (people[0], uid("trainer")):
        refused = await ask(intruder, f"Bericht {current.code}")
        assert "nur die Person" in refused and "/webhooks/dashboard/" not in refused


# --------------------------------------------------------------------------- report data
def test_the_report_data_has_everything_the_page_shows(repo, session):
    trainer, current, older, people = session
    report = groups.session_report(repo, current.code, trainer)
    assert report.joined == 4 and len(report.rows) == 4
    assert report.participants() == ["Teilnehmer 1", "Teilnehmer 2", "Teilnehmer 3"]
    first = report.rows[0]
    assert [q.text for q in first.quotes["clarity"]] == [
        "Das ist so.",
        "Wir beenden die Zusammenarbeit zum 30. Juni.",
    ]
    assert first.quotes["clarity"][0].percent == pytest.approx(60)
    assert "reasons" not in first.quotes  # not rated: no quote
    assert report.means["clarity"] == pytest.approx(100 * (0.6 + 0.1 + 0.7 + 1.0) / 4)
    assert report.distribution("clarity") == [1, 0, 0, 2, 1]
    assert report.distribution("reasons") == [0, 0, 0, 0, 0]
    assert report.weakest_criterion == "clarity"
    assert [(e.participant, e.text) for e in report.examples] == [
        ("Teilnehmer 2", "Vielleicht sollten wir mal schauen."),
        ("Teilnehmer 1", "Das ist so."),
        ("Teilnehmer 3", "Wir hören auf, Sie nerven."),
    ]
    assert [(p.code, p.count) for p in report.trend] == [(older.code, 1), (current.code, 4)]
    assert report.trend[0].overall == pytest.approx(30)
    assert report.trend[1].overall == pytest.approx((80 + 40 + 60 + 90) / 4)
    assert not any(person in repr(report) for person in people)


def test_the_json_of_the_page_is_pseudonymised_and_complete(repo, session):
    trainer, current, _, people = session
    data = dashboard.report_data(groups.session_report(repo, current.code, trainer))
    text = json.dumps(data, ensure_ascii=False)
    assert not any(person in text for person in people)
    assert data["code"] == current.code and data["joined"] == 4 and data["count"] == 4
    assert [c["key"] for c in data["criteria"]] == list(groups.CRITERIA)
    clarity = data["criteria"][0]
    assert clarity["label"] == "Klarheit" and clarity["bands"] == [1, 0, 0, 2, 1]
    assert clarity["mean"] == 60
    assert [p["name"] for p in data["participants"]] == [
        "Teilnehmer 1",
        "Teilnehmer 2",
        "Teilnehmer 3",
    ]
    assert len(data["participants"][0]["roleplays"]) == 2
    score = data["participants"][0]["roleplays"][0]["scores"][0]
    assert score["key"] == "clarity" and score["percent"] == 60
    assert score["quotes"][1]["text"] == "Wir beenden die Zusammenarbeit zum 30. Juni."
    assert data["weakest"]["label"] == "Klarheit" and len(data["weakest"]["examples"]) == 3
    assert [p["current"] for p in data["trend"]] == [False, True]
    assert data["texts"]["csv"] == "CSV herunterladen"


def test_page_csv_and_coach_report_show_the_same_numbers(repo, session, tmp_path):
    trainer, current, _, _ = session
    token = groups.make_dashboard_token(trainer, current.code)
    download = run(dashboard.csv_response(token))
    assert download.status == 200
    assert "attachment" in download.headers["Content-Disposition"]
    assert coach(["report", current.code, "--trainer", trainer, "--out", str(tmp_path)]) == 0
    on_disk = (tmp_path / f"{current.code}.csv").read_bytes().decode("utf-8")
    assert download.body.decode("utf-8") == on_disk
    assert on_disk == csv_text(groups.session_report(repo, current.code, trainer))
    rows = on_disk.splitlines()
    assert rows[0].startswith("participant,finished_at,overall,clarity") and len(rows) == 5
    data = json.loads(run(dashboard.data_response(token)).body)
    assert [line.split(",")[2] for line in rows[1:]] == ["80.0", "40.0", "60.0", "90.0"]
    assert [p["roleplays"][0]["overall"] for p in data["participants"]] == [80, 40, 60]


# --------------------------------------------------------------------------- HTTP answers
def test_the_page_is_served_only_for_a_valid_link_of_the_sessions_trainer(repo, session):
    trainer, current, _, _ = session
    page = run(dashboard.page_response(groups.make_dashboard_token(trainer, current.code)))
    assert page.status == 200 and b'<html lang="de">' in page.body
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"

    other_trainer = uid("trainer")
    repo.open_session(other_trainer, "late_payer", 2)
    refused = {
        "forged": ("x" + groups.make_dashboard_token(trainer, current.code), 403),
        "expired": (
            groups.make_dashboard_token(trainer, current.code, now=time.time() - 100, ttl=10),
            410,
        ),
        "other trainer": (groups.make_dashboard_token(other_trainer, current.code), 403),
        "export link": (data_rights.make_token(trainer), 403),
    }
    for name, (token, status) in refused.items():
        for answer in (
            run(dashboard.page_response(token)),
            run(dashboard.data_response(token)),
            run(dashboard.csv_response(token)),
        ):
            assert answer.status == status, name
            assert "Teilnehmer" not in answer.body.decode("utf-8"), name
    expired = run(dashboard.data_response(refused["expired"][0]))
    assert json.loads(expired.body) == {
        "error": groups.text("groups", "dashboard.expired"),
        "gone": True,
    }
    assert "abgelaufen" in run(dashboard.page_response(refused["expired"][0])).body.decode()


def test_only_the_pages_own_files_are_served():
    assert dashboard.asset_response("dashboard.js").status == 200
    assert dashboard.asset_response("dashboard.css").content_type.startswith("text/css")
    for name in ("index.html", "../dashboard.py", "secret", ""):
        assert dashboard.asset_response(name).status == 404


def test_the_page_loads_nothing_from_elsewhere():
    for path in dashboard.DASHBOARD_DIR.glob("*.*"):
        content = path.read_text(encoding="utf-8")
        assert "http://" not in content.replace("http://www.w3.org/2000/svg", ""), path
        assert "https://" not in content and "innerHTML" not in content, path
