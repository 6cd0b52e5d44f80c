"""Boundaries and incidents in the repository, on SQLite and PostgreSQL.

Covers validation, isolation between users and retention.
"""

import json
import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import inspect, text

from bot.storage import db
from bot.storage.repository import CoachRepository, InvalidInput

TODAY = date(2026, 3, 11)


@pytest.fixture(params=["sqlite", "postgresql"])
def repo(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'coach.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    return CoachRepository(url)


def sender() -> str:
    return f"u-{uuid.uuid4().hex[:12]}"


def test_migration_0003_creates_the_tables(repo):
    inspector = inspect(db.get_engine(repo.url))
    assert {"boundaries", "incidents"} <= set(inspector.get_table_names())
    assert {c["name"] for c in inspector.get_columns("incidents")} >= {
        "user_id",
        "client_id",
        "behavior",
        "occurred_on",
        "note",
        "source",
        "case",
        "level_hint",
    }


def test_boundaries_are_set_replaced_listed_and_removed(repo):
    a = sender()
    info, previous = repo.set_boundary(a, "insult")
    assert (info.behavior, info.max_count, previous) == ("insult", None, None)
    repo.set_boundary(a, "shouting", 3, 30, "dann lege ich auf")
    info, previous = repo.set_boundary(a, "shouting", 2, 14)
    assert (
        previous.max_count == 3
        and info.max_count == 2
        and info.period_days == 14
        and info.note is None
    )
    assert [(b.behavior, b.max_count) for b in repo.boundaries(a)] == [
        ("insult", None),
        ("shouting", 2),
    ]
    assert repo.remove_boundary(a, "insult").behavior == "insult"
    assert repo.remove_boundary(a, "insult") is None
    assert [b.behavior for b in repo.boundaries(a)] == ["shouting"]
    assert repo.set_boundary(a, "late_payment", 1, 30)[0].max_count is None  # once = absolute


@pytest.mark.parametrize(
    "kwargs,code",
    [
        ({"behavior": "coffee"}, "behavior_unknown"),
        ({"behavior": "insult", "max_count": 500, "period_days": 30}, "threshold_range"),
        ({"behavior": "insult", "max_count": 3, "period_days": 9999}, "threshold_range"),
        ({"behavior": "insult", "note": "x" * 2000}, "note_too_long"),
    ],
)
def test_bad_boundaries_store_nothing(repo, kwargs, code):
    a = sender()
    with pytest.raises(InvalidInput) as err:
        repo.set_boundary(a, **kwargs)
    assert err.value.code == code
    assert repo.boundaries(a) == []


def test_incidents_per_client_in_date_order(repo):
    a = sender()
    repo.log_incident(a, "Müller GmbH", "shouting", TODAY - timedelta(days=2), today=TODAY)
    repo.log_incident(
        a, "müller gmbh", "insult", TODAY - timedelta(days=5), "„Versager“", today=TODAY
    )
    repo.log_incident(
        a,
        "Becker AG",
        "late_payment",
        TODAY,
        today=TODAY,
        source="case",
        case="extra_requests",
        level_hint=1,
    )
    mueller = repo.incidents(a, "MÜLLER GMBH")
    assert [(i.client, i.behavior, i.occurred_on) for i in mueller] == [
        ("Müller GmbH", "insult", TODAY - timedelta(days=5)),
        ("Müller GmbH", "shouting", TODAY - timedelta(days=2)),
    ]
    assert mueller[0].note == "„Versager“"
    assert [i.client for i in repo.incidents(a)] == ["Müller GmbH", "Müller GmbH", "Becker AG"]
    becker = repo.incidents(a, "Becker AG")[0]
    assert (becker.source, becker.case, becker.level_hint) == ("case", "extra_requests", 1)
    assert repo.find_client(a, "becker ag").name == "Becker AG"
    assert repo.find_client(a, "Schulz") is None


@pytest.mark.parametrize(
    "client,behavior,when,note,code",
    [
        ("", "insult", TODAY, None, "client_name_missing"),
        ("   ", "insult", TODAY, None, "client_name_missing"),
        ("<b>Müller</b>", "insult", TODAY, None, "client_name_markup"),
        ("x" * 300, "insult", TODAY, None, "client_name_too_long"),
        ("Müller GmbH", "coffee", TODAY, None, "behavior_unknown"),
        ("Müller GmbH", "insult", TODAY + timedelta(days=1), None, "date_future"),
        ("Müller GmbH", "insult", date(1990, 1, 1), None, "date_too_old"),
        ("Müller GmbH", "insult", TODAY, "x" * 2000, "note_too_long"),
    ],
)
def test_bad_incidents_store_nothing(repo, client, behavior, when, note, code):
    a = sender()
    with pytest.raises(InvalidInput) as err:
        repo.log_incident(a, client, behavior, when, note, today=TODAY)
    assert err.value.code == code
    assert repo.incidents(a) == [] and repo.clients(a) == []


def test_sql_and_quotes_in_names_and_notes_are_plain_text(repo):
    a = sender()
    name = "Robert'); DROP TABLE incidents;--"
    repo.log_incident(a, name, "insult", TODAY, "'; DELETE FROM boundaries; --", today=TODAY)
    assert repo.incidents(a)[0].client == name and repo.incidents(a)[0].note.startswith("';")
    assert {"incidents", "boundaries"} <= set(inspect(db.get_engine(repo.url)).get_table_names())


def test_two_users_are_isolated_even_with_the_same_client_name(repo):
    a, b = sender(), sender()
    repo.set_boundary(a, "insult")
    repo.log_incident(a, "Müller GmbH", "insult", TODAY, "A's note", today=TODAY)
    repo.save_roleplay(
        a, scenario_id="late_payer", difficulty=1, overall=50.0, scores={}, transcript=[]
    )
    repo.log_incident(b, "Müller GmbH", "late_payment", TODAY, "B's note", today=TODAY)

    assert [i.note for i in repo.incidents(b, "Müller GmbH")] == ["B's note"]
    assert repo.boundaries(b) == [] and repo.roleplays(b) == []
    assert repo.remove_boundary(b, "insult") is None  # cannot remove A's
    repo.set_boundary(b, "insult", 3, 30)  # B's own, A's untouched
    assert repo.boundaries(a)[0].max_count is None

    exported = repo.export(b)
    assert [i["note"] for i in exported["incidents"]] == ["B's note"]
    assert exported["roleplays"] == [] and len(exported["boundaries"]) == 1
    json.dumps(exported)  # JSON-ready

    assert repo.delete_user(b) == {
        "users": 1,
        "clients": 1,
        "roleplays": 0,
        "boundaries": 1,
        "incidents": 1,
    }
    assert [i.note for i in repo.incidents(a)] == ["A's note"]
    assert len(repo.boundaries(a)) == 1 and len(repo.roleplays(a)) == 1
    assert repo.counts(a) == {"boundaries": 1, "clients": 1, "incidents": 1, "roleplays": 1}
    assert repo.counts(b) == {"boundaries": 0, "clients": 0, "incidents": 0, "roleplays": 0}


def test_retention_purge(repo):
    a = sender()
    old, recent = TODAY - timedelta(days=400), TODAY - timedelta(days=10)
    repo.log_incident(a, "Alt GmbH", "insult", old, today=TODAY)
    repo.log_incident(a, "Neu GmbH", "insult", old, today=TODAY)
    repo.log_incident(a, "Neu GmbH", "insult", recent, today=TODAY)
    repo.save_roleplay(
        a,
        scenario_id="s",
        difficulty=1,
        overall=60,
        scores={"clarity": 0.5},
        transcript=[{"speaker": "user", "text": "alt"}],
    )
    repo.save_roleplay(
        a,
        scenario_id="s",
        difficulty=1,
        overall=70,
        scores={},
        transcript=[{"speaker": "user", "text": "neu"}],
    )
    with db.session_scope(repo.url) as session:  # age the first role-play and the clients
        session.execute(
            text(
                "UPDATE roleplay_results SET finished_at = :t WHERE overall = 60 AND user_id = "
                "(SELECT id FROM users WHERE sender_id = :s)"
            ),
            {"t": datetime(2024, 1, 1), "s": a},
        )
        session.execute(
            text(
                "UPDATE clients SET last_mentioned_at = :t WHERE user_id = "
                "(SELECT id FROM users WHERE sender_id = :s)"
            ),
            {"t": datetime(2024, 1, 1), "s": a},
        )
    cutoff = TODAY - timedelta(days=365)
    dry = repo.purge_older_than(cutoff, dry_run=True)
    assert dry["incidents"] >= 2 and dry["transcripts"] >= 1 and dry["clients"] >= 1
    assert len(repo.incidents(a)) == 3  # dry run changed nothing
    repo.purge_older_than(cutoff)
    assert [(i.client, i.occurred_on) for i in repo.incidents(a)] == [("Neu GmbH", recent)]
    assert [c.name for c in repo.clients(a)] == ["Neu GmbH"]  # "Alt GmbH" had nothing left
    runs = repo.roleplays(a)
    assert [r.transcript for r in runs] == [[], [{"speaker": "user", "text": "neu"}]]
    assert runs[0].scores == {"clarity": 0.5}  # scores stay, only the transcript goes


def test_boundaries_and_incidents_in_own_words_keep_their_words(repo):
    from bot import escalation

    a, words = sender(), "Nachrichten nach Feierabend"
    key = escalation.custom_key(words)
    info, _ = repo.set_boundary(a, key, 3, 30, label=words)
    assert (info.behavior, info.label) == (key, words)
    saved = repo.log_incident(a, "Herr Brandt", key, TODAY, label=words, today=TODAY)
    assert (saved.behavior, saved.label) == (key, words)
    assert repo.log_incident(a, "Herr Brandt", "insult", TODAY, today=TODAY).label is None
    with pytest.raises(InvalidInput):  # a behaviour in own words needs its words
        repo.set_boundary(a, escalation.custom_key("x"))
    with pytest.raises(InvalidInput):
        repo.log_incident(a, "Herr Brandt", "custom:not-a-key", TODAY, label="x", today=TODAY)
    assert [b.label for b in repo.boundaries(a)] == [words]


def test_migration_0005_keeps_the_stored_data(tmp_path):
    """Rows written before 0005 survive it (and a downgrade and upgrade again)."""
    from alembic import command

    url = f"sqlite:///{tmp_path / 'old.db'}"
    cfg = db.alembic_config(url)
    command.upgrade(cfg, "0004")
    stamp = "'2026-01-01 00:00:00.000000'"
    with db.get_engine(url).begin() as con:
        con.execute(text(f"INSERT INTO users VALUES (1, 'old', {stamp}, {stamp})"))
        con.execute(
            text(
                "INSERT INTO clients (id, user_id, name, name_key, mentions,"
                " first_mentioned_at, last_mentioned_at)"
                f" VALUES (1, 1, 'Herr Brandt', 'herr brandt', 1, {stamp}, {stamp})"
            )
        )
        con.execute(
            text(
                "INSERT INTO boundaries (user_id, behavior, created_at, updated_at)"
                f" VALUES (1, 'insult', {stamp}, {stamp})"
            )
        )
        con.execute(
            text(
                "INSERT INTO incidents (user_id, client_id, behavior, occurred_on, source,"
                f" created_at) VALUES (1, 1, 'insult', '2026-03-01', 'chat', {stamp})"
            )
        )
    db.get_engine(url).dispose()
    command.upgrade(cfg, "head")
    repo = CoachRepository(url)
    assert [(b.behavior, b.label) for b in repo.boundaries("old")] == [("insult", None)]
    assert [(i.client, i.behavior) for i in repo.incidents("old")] == [("Herr Brandt", "insult")]
    repo.log_incident("old", "mit Herrn Brandt", "shouting", TODAY, today=TODAY)
    assert [c.name for c in repo.clients("old")] == ["Herr Brandt"]
