"""The repository layer on SQLite and on PostgreSQL (schema created by the Alembic migration)."""

import uuid

import pytest
from sqlalchemy import inspect

from bot.storage import db
from bot.storage.repository import CoachRepository, InvalidInput


@pytest.fixture(params=["sqlite", "postgresql"])
def repo(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'coach.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    return CoachRepository(url)


def sender() -> str:
    return f"u-{uuid.uuid4().hex[:12]}"


def test_schema_comes_from_the_migration(repo):
    engine = db.get_engine(repo.url)
    tables = set(inspect(engine).get_table_names())
    assert {"users", "clients", "alembic_version"} <= tables


def test_clients_are_remembered_per_user(repo):
    a, b = sender(), sender()
    repo.remember_client(a, "Müller GmbH", "abusive")
    info = repo.remember_client(a, "  müller   gmbh ")
    assert info.name == "Müller GmbH" and info.mentions == 2 and info.last_case == "abusive"
    repo.remember_client(b, "Müller GmbH")
    assert [c.name for c in repo.clients(a)] == ["Müller GmbH"]
    assert repo.clients(b)[0].mentions == 1


def test_hostile_names_are_stored_as_plain_text(repo):
    a = sender()
    for name in [
        "Robert'); DROP TABLE clients;--",
        "<script>alert(1)</script>",
        "Bäckerei Hüber & Söhne",
    ]:
        repo.remember_client(a, name)
    names = {c.name for c in repo.clients(a)}
    assert "Robert'); DROP TABLE clients;--" in names and "<script>alert(1)</script>" in names
    assert len(repo.clients(a)) == 3


@pytest.mark.parametrize(
    "name,code",
    [
        ("", "client_name_missing"),
        ("   ", "client_name_missing"),
        ("!!!", "client_name_missing"),
        ("x" * 500, "client_name_too_long"),
    ],
)
def test_bad_client_names_are_refused_and_nothing_is_stored(repo, name, code):
    a = sender()
    repo.remember_client(a, "Becker AG")
    with pytest.raises(InvalidInput) as err:
        repo.remember_client(a, name)
    assert err.value.code == code
    assert [c.name for c in repo.clients(a)] == ["Becker AG"]


def test_export_and_delete_touch_only_one_user(repo):
    a, b = sender(), sender()
    repo.remember_client(a, "Alpha AG")
    repo.remember_client(b, "Beta AG")
    assert repo.export(a)["clients"][0]["name"] == "Alpha AG"
    repo.save_roleplay(
        a,
        scenario_id="late_payer",
        difficulty=2,
        overall=71.5,
        scores={"clarity": 0.8},
        transcript=[{"speaker": "user", "text": "Wir beenden die Zusammenarbeit."}],
    )
    exported = repo.export(a)
    assert exported["roleplays"][0]["scenario_id"] == "late_payer"
    assert exported["roleplays"][0]["transcript"][0]["text"] == "Wir beenden die Zusammenarbeit."
    assert repo.delete_user(a) == {
        "users": 1,
        "clients": 1,
        "roleplays": 1,
        "boundaries": 0,
        "incidents": 0,
    }
    assert repo.export(a) == {
        "sender_id": a,
        "user": None,
        "clients": [],
        "roleplays": [],
        "boundaries": [],
        "incidents": [],
    }
    assert repo.clients(b)[0].name == "Beta AG"


def test_bad_sender_ids(repo):
    with pytest.raises(InvalidInput):
        repo.touch_user("")
    with pytest.raises(InvalidInput):
        repo.touch_user("x" * 200)


def test_roleplays_are_kept_in_order_and_per_user(repo):
    a, b = sender(), sender()
    for score in (40.0, 55.0, 80.0):
        repo.save_roleplay(
            a,
            scenario_id="extras",
            difficulty=1,
            overall=score,
            scores={"clarity": score / 100},
            transcript=[],
            outcome="accepted",
        )
    assert [r.overall for r in repo.roleplays(a)] == [40.0, 55.0, 80.0]
    assert repo.roleplays(b) == []
    with pytest.raises(InvalidInput):
        repo.save_roleplay(
            a, scenario_id="extras", difficulty=1, overall=140, scores={}, transcript=[]
        )
