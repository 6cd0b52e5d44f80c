"""Trainer group sessions: rights, join codes, results only for the session's trainer, reports.

The report's content is tested on ``bot.groups.report``; its files through `coach report`.
"""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

import pytest

from bot import groups
from bot.cli import main as coach
from bot.storage.groups import GroupRepository, is_code, new_code
from bot.storage.repository import InvalidInput


@pytest.fixture
def repo(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'coach.db'}"
    monkeypatch.setenv("KLARTEXT_DATABASE_URL", url)
    monkeypatch.setenv("KLARTEXT_VAR_DIR", str(tmp_path / "var"))
    return GroupRepository(url)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def result(repo, sender, code, overall, clarity, quote):
    repo.save_roleplay(
        sender,
        scenario_id="late_payer",
        difficulty=2,
        overall=overall,
        scores={"clarity": clarity, "respect": 0.9},
        group_code=code,
        transcript=[
            {"speaker": "user", "text": quote, "scores": {"clarity": clarity, "respect": 0.9}},
            {"speaker": "client", "text": "Wie bitte?"},
        ],
    )


def test_codes_are_recognised_in_messages_and_never_ambiguous():
    for _ in range(200):
        code = new_code()
        assert is_code(code)
        assert groups.join_code_in(f"Beitreten {code.lower()}") == code
    assert groups.join_code_in("Ich möchte der Gruppe beitreten") is None
    assert groups.join_code_in("Gruppe ABCDEF") is None


def test_trainer_code(monkeypatch):
    monkeypatch.setenv("KLARTEXT_TRAINER_CODE", "KLAR-2026")
    assert groups.trainer_code_in("Mein Trainercode: KLAR-2026") == "KLAR-2026"
    assert groups.check_trainer_code("KLAR-2026") and not groups.check_trainer_code("KLAR-2027")
    monkeypatch.setenv("KLARTEXT_TRAINER_CODE", "")
    assert not groups.check_trainer_code("")


def test_results_only_for_the_sessions_trainer(repo):
    trainer, other_trainer = uid("trainer"), uid("trainer")
    session = repo.open_session(trainer, "late_payer", 2)
    a, b, c = uid("slack"), uid("teams"), uid("web")
    for person in (a, b, c):
        assert repo.join(person, session.code.lower()) is not None
    assert repo.join(a, "ZZZZ99") is None
    result(repo, a, session.code, 80, 0.8, "Wir beenden die Zusammenarbeit zum 30. Juni.")
    result(repo, b, session.code, 40, 0.2, "Vielleicht sollten wir mal schauen, ob das noch passt.")
    result(repo, c, session.code, 60, 0.5, "Wir hören auf.")
    result(repo, a, None, 99, 1.0, "Not in the session")
    assert repo.results(other_trainer, session.code) is None
    assert repo.results(a, session.code) is None
    results = repo.results(trainer, session.code)
    assert len(results) == 3
    text = "\n".join(groups.results_messages(session, "Der Dauer-Zuspätzahler", results))
    assert (
        "Teilnehmer 1: 80 von 100 Punkten" in text
        and "abgeschlossene Rollenspiele: 3, Teilnehmende: 3" in text
    )
    assert "Klarheit" in text and "Vielleicht sollten wir mal schauen" in text
    assert a not in text  # trainers see pseudonyms, not channel ids
    with pytest.raises(InvalidInput):
        repo.open_session(trainer, "late_payer", 7)


def test_report_data_is_pseudonymised_and_complete(repo):
    trainer = uid("trainer")
    session = repo.open_session(trainer, "late_payer", 2)
    a, b = uid("slack"), uid("teams")
    result(repo, a, session.code, 80, 0.8, "Wir beenden die Zusammenarbeit zum 30. Juni.")
    result(repo, b, session.code, 40, 0.2, "Vielleicht sollten wir mal schauen.")
    report = groups.session_report(repo, session.code.lower(), trainer)
    assert groups.session_report(repo, session.code, uid("intruder")) is None
    assert report.code == session.code and session.code in report.heading
    assert "Die Rechnung kommt später" in report.intro  # the scenario's title
    assert [row.participant for row in report.rows] == ["Teilnehmer 1", "Teilnehmer 2"]
    assert a not in repr(report) and b not in repr(report)
    assert report.rows[0].percents["clarity"] == pytest.approx(80)
    assert report.rows[0].percents["reasons"] is None  # not rated: an empty cell, no bar
    assert report.chart("clarity") == [
        ("Teilnehmer 1", pytest.approx(80)),
        ("Teilnehmer 2", pytest.approx(20)),
    ]
    assert report.chart("reasons") == []
    assert "Klarheit" in report.weakest and "50 %" in report.weakest
    assert list(report.labels) == list(groups.CRITERIA) and len(report.columns) == 2


def test_the_domain_core_renders_no_files():
    """HTML, charts and CSV are written by reporting/, never by bot/ (no matplotlib there)."""
    core = Path(groups.__file__).resolve().parent
    assert not [p for p in core.rglob("*.py") if "matplotlib" in p.read_text(encoding="utf-8")]


def test_coach_report_writes_html_png_and_csv(repo, tmp_path, capsys):
    trainer = uid("trainer")
    session = repo.open_session(trainer, "extras", 1)
    for i, person in enumerate((uid("a"), uid("b"))):
        repo.join(person, session.code)
        result(repo, person, session.code, 50 + 10 * i, 0.4 + 0.2 * i, f"Satz {i}")
    out = tmp_path / "report"
    assert coach(["report", session.code, "--trainer", trainer, "--out", str(out)]) == 0
    html = (out / f"{session.code}.html").read_text(encoding="utf-8")
    assert "<img" in html and "Klarheit" in html
    assert (out / f"{session.code}_clarity.png").read_bytes()[:4] == b"\x89PNG"
    rows = list(csv.reader((out / f"{session.code}.csv").open(encoding="utf-8")))
    assert rows[0][:3] == ["participant", "finished_at", "overall"] and len(rows) == 3
    assert (
        coach(["report", session.code, "--trainer", uid("intruder"), "--out", str(tmp_path / "x")])
        == 2
    )
    assert not (tmp_path / "x").exists()
