"""The strong case signals (bot/case_signals.py): the decisive fact decides the case."""

from pathlib import Path

import pytest

from bot import case_signals

LONG_FALSE_CLAIM = (
    "also wir betreuen die praxis seit zwei jahren, eigentlich immer nett dort. letzte woche "
    "war unser techniker da wegen dem drucker. jetzt schreibt die praxismanagerin, er haette "
    "den monitor runtergeworfen, aber das teil war schon vorher kaputt, das sieht man auf den "
    "fotos. was mach ich da"
)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        (LONG_FALSE_CLAIM, "report_false_claims"),
        ("kunde behauptet wir haetten nie geliefert, stimmt aber nicht", "report_false_claims"),
        ("er wirft uns vor, wir haetten ihn abgezockt", "report_false_claims"),
        ("die sagt wir haetten das so zugesagt, haben wir nie gesagt", "report_false_claims"),
        (
            "sorry, das war echt unser fehler, die lieferung ging an die falsche adresse",
            "report_own_fault",
        ),
        (
            "wir haben leider die frist verpasst und der kunde ist zu recht sauer",
            "report_own_fault",
        ),
        ("der will dauernd noch extra sachen die nicht im angebot sind", "report_extra_requests"),
        ("kunde erwartet dass wir das logo gratis noch mal machen", "report_extra_requests"),
        ("hat mich am telefon angeschrien und als inkompetente idiotin bezeichnet", "report_abuse"),
        ("der typ beleidigt meine kollegin jeden tag", "report_abuse"),
        # a free remedy for our own mistake is not unpaid extra work
        (
            "wir liefern die neue version kostenlos nach, weil der fehler bei uns lag",
            "report_own_fault",
        ),
    ],
)
def test_one_decisive_fact_names_its_case(text: str, intent: str) -> None:
    assert case_signals.decisive(text) == intent


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "hallo",
        "wie kuendige ich einem kunden",
        "nein, das war nicht unser fehler",
        "er hat uns nicht beleidigt, aber er ist schwierig",
        # two cases at once: the classifier decides
        "er beschimpft uns und behauptet wir haetten nie geliefert",
    ],
)
def test_no_single_decisive_fact_decides_nothing(text: str) -> None:
    assert case_signals.decisive(text) is None


def test_signalled_names_all_cases_in_file_order() -> None:
    text = "er beschimpft uns und behauptet wir haetten nie geliefert"
    assert case_signals.signalled(text) == ["false_claims", "abusive"]


def test_umlauts_and_capitals_are_normalised() -> None:
    assert case_signals.decisive("Der Kunde BEHAUPTET, das Gerät sei von uns beschädigt.") == (
        "report_false_claims"
    )


def test_malformed_file_names_case_and_pattern(tmp_path: Path) -> None:
    bad = tmp_path / "signals.yml"
    bad.write_text("cases:\n  own_fault:\n    intent: x\n    signals: ['(unclosed']\n")
    with pytest.raises(case_signals.CaseSignalError, match="own_fault.*unclosed"):
        case_signals.load_cases(bad)
    bad.write_text("cases:\n  own_fault:\n    intent: x\n    signals: ['{nope}']\n")
    with pytest.raises(case_signals.CaseSignalError, match="unknown macro"):
        case_signals.load_cases(bad)
    bad.write_text("cases: {}\n")
    with pytest.raises(case_signals.CaseSignalError, match="non-empty"):
        case_signals.load_cases(bad)
