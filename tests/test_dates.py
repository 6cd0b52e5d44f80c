"""German date answers: relative days, weekdays, German formats, future and typos."""

from datetime import date

import pytest

from bot.dates import DateError, find_date, format_date, parse_date

WEDNESDAY = date(2026, 3, 11)


@pytest.mark.parametrize(
    "answer,expected",
    [
        ("heute", date(2026, 3, 11)),
        ("Heute Morgen", date(2026, 3, 11)),
        ("gestern", date(2026, 3, 10)),
        ("gestern Abend", date(2026, 3, 10)),
        ("vorgestern", date(2026, 3, 9)),
        ("letzten Montag", date(2026, 3, 9)),
        ("am Montag", date(2026, 3, 9)),
        ("Mo", date(2026, 3, 9)),
        ("Mittwoch", date(2026, 3, 11)),
        ("letzten Mittwoch", date(2026, 3, 4)),
        ("vergangenen Freitag", date(2026, 3, 6)),
        ("12.03.2026", None),  # future: see below
        ("1.3.2026", date(2026, 3, 1)),
        ("01.03.26", date(2026, 3, 1)),
        ("1.3.", date(2026, 3, 1)),
        ("am 1.3", date(2026, 3, 1)),
        ("12.3.", date(2025, 3, 12)),  # without a year: the latest such day up to today
        ("3. März", date(2026, 3, 3)),
        ("3. Maerz 2025", date(2025, 3, 3)),
        ("5. Jänner", date(2026, 1, 5)),
        ("2026-02-28", date(2026, 2, 28)),
        ("vor 3 Tagen", date(2026, 3, 8)),
        ("vor einer Woche", date(2026, 3, 4)),
        ("letzte Woche", date(2026, 3, 4)),
    ],
)
def test_understood(answer, expected):
    if expected is None:
        with pytest.raises(DateError) as err:
            parse_date(answer, WEDNESDAY)
        assert err.value.code == "date_future"
    else:
        assert parse_date(answer, WEDNESDAY) == expected


@pytest.mark.parametrize(
    "answer,code",
    [
        ("morgen", "date_future"),
        ("übermorgen", "date_future"),
        ("nächsten Montag", "date_future"),
        ("20.05.2030", "date_future"),
        ("31.02.2026", "date_unknown"),
        ("irgendwann mal", "date_unknown"),
        ("", "date_unknown"),
        ("1.1.1990", "date_too_old"),
    ],
)
def test_refused_with_a_code(answer, code):
    with pytest.raises(DateError) as err:
        parse_date(answer, WEDNESDAY)
    assert err.value.code == code


def test_future_error_carries_the_date():
    with pytest.raises(DateError) as err:
        parse_date("20.05.2030", WEDNESDAY)
    assert err.value.value == date(2030, 5, 20)


def test_dates_in_sentences_ignore_short_words():
    assert find_date("Müller hat mich gestern beschimpft", WEDNESDAY) == date(2026, 3, 10)
    assert (
        find_date("Das war so schlimm, er hat mich angeschrien", WEDNESDAY) is None
    )  # "so" is no Sunday
    assert find_date("Er will morgen wieder anrufen", WEDNESDAY) is None  # future: not pre-filled
    assert find_date("Vorfall erfassen", WEDNESDAY) is None


def test_format():
    assert format_date(date(2026, 3, 1)) == "01.03.2026"


@pytest.mark.parametrize(
    "message,expected",
    [
        ("nein, am montag", date(2026, 3, 9)),
        ("Nein, vorgestern", date(2026, 3, 9)),
        ("das war gestern", date(2026, 3, 10)),
        ("ja aber das war am 3.3.", date(2026, 3, 3)),
        ("Korrektur: am 1.3.", date(2026, 3, 1)),
        ("nein", None),  # no day named
        ("nein, morgen", None),  # the future is no correction
        ("gestern", None),  # no correction word: an answer, not a correction
        ("nein, er hat mich am Montag angeschrien und dann beleidigt", None),  # a note
    ],
)
def test_a_short_correction_names_the_day(message, expected):
    from bot.dates import correction

    assert correction(message, WEDNESDAY) == expected


@pytest.mark.parametrize(
    "message,expected",
    [
        ("Ja, aber das war gestern", date(2026, 3, 10)),
        ("Ja, das war am Montag", date(2026, 3, 9)),
        ("am 3.3.", date(2026, 3, 3)),
        ("Ja", None),
    ],
)
def test_a_day_named_with_a_yes(message, expected):
    assert find_date(message, WEDNESDAY) == expected
