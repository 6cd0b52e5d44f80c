import pytest

from bot.answers import clean_text_answer, normalize, parse_choice, parse_yes_no


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Ja", "yes"),
        ("jo, schon", "yes"),
        ("Genau so war's", "yes"),
        ("Ja, leider", "yes"),
        ("Nein", "no"),
        ("nö", "no"),
        ("eher nicht", "no"),
        ("nicht wirklich", "no"),
        ("Nee", "no"),
        ("hmm", None),
        ("", None),
        ("   ", None),
        ("🤷", None),
    ],
)
def test_yes_no(text, expected):
    assert parse_yes_no(text) == expected


def test_skip_only_where_allowed():
    assert parse_yes_no("überspringen", allow_skip=True) == "skip"
    assert parse_yes_no("weiß nicht", allow_skip=True) == "skip"
    assert parse_yes_no("überspringen") is None


def test_choice_with_synonyms_and_spellings():
    choices = {"first": ["zum ersten mal"], "repeated": ["mehrmals", "schon öfter"]}
    assert parse_choice("Schon öfter, ehrlich gesagt", choices) == "repeated"
    assert parse_choice("schon oefter", choices) == "repeated"
    assert parse_choice("mehrm", choices) == "repeated"  # typed stem
    assert parse_choice("keine Ahnung", choices) is None


def test_normalize_folds_swiss_and_german_spelling():
    assert normalize("Grüße, Straße!") == normalize("gruesse strasse")


def test_text_answers_are_trimmed_and_capped():
    assert clean_text_answer("  zu   spät  ") == "zu spät"
    assert clean_text_answer("") is None
    assert clean_text_answer("!!!") is None
    assert clean_text_answer("/affirm") is None
    assert len(clean_text_answer("x" * 10_000)) <= 500


@pytest.mark.parametrize(
    "text,expected",
    [
        ("stopp", True),
        ("Abbrechen!", True),
        ("/stop", True),
        ("lass uns aufhören", True),
        ("Ich möchte die Zusammenarbeit beenden", False),
        ("price_squeezer", False),
        ("nichts", False),
        ("", False),
    ],
)
def test_cancel_is_a_whole_message(text, expected):
    from bot.answers import is_cancel

    assert is_cancel(text) is expected
