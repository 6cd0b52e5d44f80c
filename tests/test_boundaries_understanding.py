"""Boundaries as users say them (issue 11): own words, natural thresholds, crossings named once.

Fast: the domain core only, no Rasa, no database.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Optional

import pytest

from bot import boundaries as bnd
from bot import escalation
from bot import incidents as inc

TODAY = date(2026, 11, 27)
OWN = "Nachrichten nach Feierabend"


@dataclass
class Inc:  # an incident as the repository returns it
    behavior: str
    occurred_on: date
    id: int
    client: str = "Herr Brandt"
    note: Optional[str] = None
    label: Optional[str] = None
    level_hint: Optional[int] = None


@dataclass
class B:  # a boundary as the repository returns it
    behavior: str
    max_count: Optional[int] = None
    period_days: Optional[int] = None
    note: Optional[str] = None
    label: Optional[str] = None


def ago(n: int) -> date:
    return TODAY - timedelta(days=n)


# --------------------------------------------------------------------------- thresholds
@pytest.mark.parametrize(
    "answer,expected",
    [
        ("mehr als zweimal im Monat", "count:3:30"),
        ("öfter als 2 mal im Monat", "count:3:30"),
        ("mehr als 2x pro Woche", "count:3:7"),
        ("mehr als 2 in einer Woche", "count:3:7"),
        ("ab dem zweiten Mal", "count:2:30"),
        ("ab dem 3. Mal", "count:3:30"),
        ("beim dritten Mal", "count:3:30"),
        ("zweimal pro Woche", "count:2:7"),
        ("zweimal im Monat ist ok", "count:3:30"),
        ("3", "count:3:30"),
        ("drei", "count:3:30"),
        ("3 in 30 Tagen", "count:3:30"),
        ("beim ersten Mal", "absolute"),
        ("nie", "absolute"),
        ("einmal ist schon zu viel", "absolute"),
        ("jedes Mal", "absolute"),
        ("No-Go", "absolute"),
        ("keine Ahnung", None),
        ("ein Problem", None),
        ("", None),
    ],
)
def test_thresholds_in_natural_german(answer, expected):
    assert bnd.parse_threshold(answer) == expected


def test_more_than_twice_a_month_reads_from_the_third_time():
    threshold = bnd.Threshold.from_canonical(bnd.parse_threshold("mehr als zweimal im Monat"))
    assert bnd.describe_threshold(threshold.max_count, threshold.period_days) == (
        "Grenze erreicht ab dem 3. Mal innerhalb von 30 Tagen"
    )


def test_a_whole_sentence_takes_only_clear_counts_and_no_go_words():
    assert bnd.parse_threshold("Ich lasse mich nicht mehr anschreien", strict=True) is None
    assert bnd.parse_threshold("Ich habe 3 Kunden", strict=True) is None
    assert bnd.parse_threshold("Anschreien ab dem dritten Mal", strict=True) == "count:3:30"


def test_the_word_lists_live_in_yaml():
    words = bnd._words()
    assert {"absolute", "remove", "after_count", "numbers", "ordinals", "units"} <= set(words)
    assert not hasattr(bnd, "_ABSOLUTE_WORDS") and not hasattr(bnd, "_REMOVE_WORDS")


# --------------------------------------------------------------------------- behaviours
@pytest.mark.parametrize(
    "answer,expected",
    [
        ("Anschreien", "shouting"),
        ("anschrein", "shouting"),  # typo
        ("Beleidigungen", "insult"),
        ("Zahlungsverzug", "late_payment"),
        ("Preisdrueck", "price_pressure"),  # no umlaut, typo
        ("Nachrichten nach Feierabend", "text:Nachrichten nach Feierabend"),
        ("meine Grenze sind Anrufe am Wochenende", "text:Anrufe am Wochenende"),
        ("kaffeeklatsch", "text:Kaffeeklatsch"),
        ("physical_threat", "physical_threat"),  # a pre-filled slot value
        ("!!!", None),
        ("keine Ahnung", None),
        ("weiß nicht", None),
        ("x" * 200, None),
        ("", None),
    ],
)
def test_a_behaviour_is_a_category_where_one_fits_else_own_words(answer, expected):
    assert bnd.parse_behavior_answer(answer) == expected


def test_similar_words_find_the_users_own_boundary():
    own = [B(escalation.custom_key(OWN), 3, 30, label=OWN)]
    for said in ("nachrichten nach dem feierabend", "schreibt mir Nachricht nach Feierabend"):
        assert bnd.parse_behavior_answer(said, own) == "text:" + OWN
    assert bnd.split_behavior("text:" + OWN) == (escalation.custom_key(OWN), OWN)
    assert escalation.custom_key("nachrichten nach feierabend!") == escalation.custom_key(OWN)
    assert escalation.is_custom(escalation.custom_key(OWN))
    assert not escalation.similar(OWN, "Hat mich angeschrien")


def test_an_own_boundary_is_shown_in_the_users_words():
    boundary = B(escalation.custom_key(OWN), 3, 30, label=OWN)
    assert bnd.describe_boundary(boundary) == (
        "Nachrichten nach Feierabend: Grenze erreicht ab dem 3. Mal innerhalb von 30 Tagen"
    )
    assert escalation.ladder_for(boundary.behavior).key == "personal"


# --------------------------------------------------------------------------- crossings
def _after(history, incident, limits):
    return "\n".join(inc.after_logging(incident, history, limits, TODAY))


def test_a_count_boundary_is_named_when_the_incident_crossing_it_is_saved():
    limits = [B("shouting", 3, 30)]
    history = [Inc("shouting", ago(20), 1), Inc("shouting", ago(10), 2)]
    assert "überschritten" not in _after(history, history[-1], limits)
    history.append(Inc("shouting", ago(1), 3))
    text = _after(history, history[-1], limits)
    assert "deine Grenze „Anschreien: Grenze erreicht ab dem 3. Mal" in text
    assert "(3× seit" in text and "Sprich das in einer ruhigen Situation an" in text


def test_a_backdated_incident_that_crosses_a_boundary_is_named_too():
    limits = [B("shouting", 3, 30)]
    history = [Inc("insult", ago(0), 1), Inc("shouting", ago(9), 2), Inc("shouting", ago(8), 3)]
    history.append(Inc("shouting", ago(5), 4))  # logged last, dated before the insult
    assert "Grenze „Anschreien" in _after(history, history[-1], limits)


def test_an_old_no_go_is_not_repeated_after_unrelated_incidents():
    limits = [B("insult")]
    history = [Inc("insult", ago(0), 1)]
    assert "Grenze „Beleidigung" in _after(history, history[0], limits)
    history.append(Inc("late_payment", ago(2), 2))  # unrelated, dated before the insult
    assert "überschritten" not in _after(history, history[-1], limits)
    history.append(Inc("shouting", ago(0), 3))
    assert "überschritten" not in _after(history, history[-1], limits)


def test_a_boundary_crossed_again_gets_one_short_line():
    limits = [B("insult")]
    history = [Inc("insult", ago(3), 1), Inc("insult", ago(1), 2)]
    text = _after(history, history[-1], limits)
    assert "Damit hat Herr Brandt deine Grenze „Beleidigung: No-Go“ erneut überschritten." in text
    assert "Achtung" not in text and "ruhigen Situation" not in text


def test_an_own_words_boundary_is_crossed_by_incidents_described_alike():
    key = escalation.custom_key(OWN)
    limits = [B(key, 2, 30, label=OWN)]
    history = [
        Inc(key, ago(6), 1, label=OWN),
        Inc("non_cooperation", ago(2), 2, note="wieder Nachrichten nach Feierabend geschickt"),
    ]
    text = _after(history, history[-1], limits)
    assert "deine Grenze „Nachrichten nach Feierabend: Grenze erreicht ab dem 2. Mal" in text
    new, again = escalation.announced(history[-1], history, limits, TODAY)
    assert [c.count for c in new] == [2] and again == []


def test_own_words_incidents_walk_the_personal_ladder():
    key = escalation.custom_key(OWN)
    history = [Inc(key, ago(6), 1, label=OWN)]
    text = _after(history, history[0], [])
    assert "Festgehalten: 21.11.2026 · Herr Brandt · Nachrichten nach Feierabend." in text
    assert "(Eigene Grenzen): Stufe 1 von 4 – Festhalten und beobachten" in text


def test_a_count_boundary_crossed_again_says_how_often_in_one_line():
    limits = [B("shouting", 2, 30)]
    history = [Inc("shouting", ago(6), 1), Inc("shouting", ago(4), 2), Inc("shouting", ago(0), 3)]
    text = _after(history, history[-1], limits)
    assert (
        "Damit hat Herr Brandt deine Grenze „Anschreien: ab 2× in 30 Tagen“ erneut überschritten "
        f"(3× seit {ago(6):%d.%m.%Y})." in text
    )
    assert "Achtung" not in text
