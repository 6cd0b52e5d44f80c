"""Client names as users type them (issue 11): one client, whatever the title, article or ending."""

from datetime import date

import pytest

from bot import clients
from bot import incidents as inc
from bot.storage.repository import CoachRepository

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    "typed,stored",
    [
        ("mit Herrn Brandt", "Herr Brandt"),
        ("Herrn Brandt", "Herr Brandt"),
        ("herr brandt", "Herr Brandt"),
        ("Brandt", "Herr Brandt"),
        ("der Firma Müller", "Müller GmbH"),
        ("bei Müller", "Müller GmbH"),
        ("Firma Müller", "Müller GmbH"),
        ("mueller", "Müller GmbH"),
        ("Müller GmbH", "Firma Müller"),
    ],
)
def test_the_same_client_in_many_spellings(typed, stored):
    assert clients.same_client(typed, stored)


@pytest.mark.parametrize(
    "a,b",
    [
        ("Frau Keller", "Herr Keller"),
        ("Frau Müller", "Müller GmbH"),
        ("Müller Bau", "Müller GmbH"),
        ("", "Herr Brandt"),
        (None, None),
    ],
)
def test_different_clients_stay_apart(a, b):
    assert not clients.same_client(a, b)


@pytest.mark.parametrize(
    "typed,shown",
    [
        ("mit Herrn Brandt", "Herr Brandt"),
        ("bei Müller", "Müller"),
        ("der Firma Müller", "Firma Müller"),
        ("Zum Goldenen Hirsch", "Zum Goldenen Hirsch"),  # a name, not a preposition
        ("Bäckerei Huber", "Bäckerei Huber"),
    ],
)
def test_a_typed_name_is_stored_without_preposition_and_article(typed, shown):
    assert inc.parse_client(typed) == shown


def test_the_repository_never_creates_a_duplicate_client(tmp_path):
    repo = CoachRepository(f"sqlite:///{tmp_path / 'coach.db'}")
    for name in ("Herr Brandt", "mit Herrn Brandt", "Herrn Brandt", "brandt"):
        repo.log_incident("u", name, "shouting", TODAY, today=TODAY)
    for name in ("Müller GmbH", "der Firma Müller", "bei Müller", "mueller"):
        repo.log_incident("u", name, "late_payment", TODAY, today=TODAY)
    repo.remember_client("u", "Herrn Brandt")
    repo.log_incident("u", "Frau Brandt", "insult", TODAY, today=TODAY)
    names = sorted(c.name for c in repo.clients("u"))
    assert names == ["Frau Brandt", "Herr Brandt", "Müller GmbH"]
    assert len(repo.incidents("u", "Herr Brandt")) == 4
    assert len(repo.incidents("u", "Müller GmbH")) == 4


def test_history_lookup_finds_the_client_in_a_sentence():
    known = ["Herr Brandt", "Müller GmbH", "Frau Krüger"]
    for text in ("Verlauf mit Herrn Brandt", "Verlauf Herr Brandt", "verlauf brandt"):
        assert inc.resolve_client(None, text, known) == "Herr Brandt"
    for mentioned in ("mit Herrn Brandt", "Herrn Brandt"):
        assert inc.resolve_client(mentioned, None, known) == "Herr Brandt"
    for text in ("Verlauf der Firma Müller", "was war bei Müller", "Verlauf mueller"):
        assert inc.resolve_client(None, text, known) == "Müller GmbH"


def test_a_new_client_is_stored_as_the_coach_shows_it(tmp_path):
    repo = CoachRepository(f"sqlite:///{tmp_path / 'coach.db'}")
    repo.remember_client("u", "mit Herrn Brandt", "abusive")
    repo.log_incident("u", "der Firma Müller", "late_payment", TODAY, today=TODAY)
    assert sorted(c.name for c in repo.clients("u")) == ["Firma Müller", "Herr Brandt"]
