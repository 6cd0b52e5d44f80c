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


# --------------------------------------------------------------------------- issue 10:
# free-text answers the way staff really type them


@pytest.mark.parametrize(
    "text,expected",
    [
        # the measured failures
        ("jaaa staendig", "yes"),
        ("ja die praxismanagerin und meine kollegin koennen sich nicht ausstehen", "yes"),
        ("fast jeden tag", "yes"),
        # a leading yes/no word decides, whatever follows
        ("nee, eher selten", "no"),
        ("nee, eher so ein, zwei mal im jahr", "no"),
        ("jo klar", "yes"),
        ("Jooo, klar!", "yes"),
        ("auf jeden fall", "yes"),
        ("absolut nicht", "no"),
        ("Nein, aber er ist immer unfreundlich", "no"),
        ("ja, aber nicht immer", "yes"),
        ("nöö", "no"),
        ("neee, nicht wirklich", "no"),
        ("JA!!!", "yes"),
        ("jep", "yes"),
        ("jap, leider", "yes"),
        ("nope", "no"),
        # negation of the answer itself
        ("eher nicht", "no"),
        ("nicht wirklich", "no"),
        ("nicht so", "no"),
        ("nicht so richtig", "no"),
        ("eigentlich nicht", "no"),
        ("ich glaube nicht", "no"),
        ("leider nicht", "no"),
        ("stimmt nicht", "no"),
        ("definitiv nicht", "no"),
        ("gar nicht", "no"),
        ("ueberhaupt nicht", "no"),
        ("sicher nicht", "no"),
        # affirmative words, also with fillers before them
        ("hm, ich glaube schon", "yes"),
        ("eigentlich schon", "yes"),
        ("ich denke ja", "yes"),
        ("leider ja", "yes"),
        ("stimmt", "yes"),
        ("das stimmt", "yes"),
        ("genau", "yes"),
        ("kann man so sagen", "yes"),
        ("kein problem", "yes"),
        ("ok", "yes"),
        ("👍", "yes"),
        ("👎", "no"),
        # frequency words (a "does it happen?" question)
        ("staendig", "yes"),
        ("ständig!", "yes"),
        ("dauernd", "yes"),
        ("immer wieder", "yes"),
        ("oft", "yes"),
        ("sehr oft", "yes"),
        ("fast immer", "yes"),
        ("leider ständig", "yes"),
        ("jede woche", "yes"),
        ("das kommt staendig vor", "yes"),
        ("er meckert staendig ueber die preise", "yes"),
        ("selten", "no"),
        ("eher selten", "no"),
        ("kaum", "no"),
        ("nie", "no"),
        ("noch nie", "no"),
        ("so gut wie nie", "no"),
        ("leider selten", "no"),
        # not understood
        ("hmm", None),
        ("manchmal", None),
        ("die praxismanagerin und meine kollegin koennen sich nicht ausstehen", None),
        ("er hat gestern angerufen und sich beschwert, dass nichts klappt", None),
    ],
)
def test_yes_no_as_staff_type_it(text, expected):
    assert parse_yes_no(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "weiß nicht so genau…",
        "weiss nicht so genau",
        "Weiß ich nicht",
        "ich weiß es nicht",
        "keine ahnung",
        "kp",
        "schwer zu sagen",
        "hm, schwer zu sagen",
        "bin mir nicht sicher",
        "kann ich nicht sagen",
        "jein",
        "überspringen",
        "naechste frage",
    ],
)
def test_unknown_is_skip_where_allowed_and_not_understood_elsewhere(text):
    assert parse_yes_no(text, allow_skip=True) == "skip"
    assert parse_yes_no(text) is None


def test_a_leading_yes_no_wins_over_a_later_unknown():
    assert parse_yes_no("ja, aber keine ahnung ob das zaehlt", allow_skip=True) == "yes"
    assert parse_yes_no("nein, glaube ich, weiss nicht genau", allow_skip=True) == "no"


@pytest.mark.parametrize(
    "text", ["staendig", "fast jeden tag", "selten", "kaum", "immer wieder", "oft"]
)
def test_frequency_words_only_for_frequency_questions(text):
    assert parse_yes_no(text, frequency=False) is None
    assert parse_yes_no(text) in ("yes", "no")


def test_frequency_questions_still_take_plain_answers():
    assert parse_yes_no("ja", frequency=False) == "yes"
    assert parse_yes_no("nie", frequency=False) == "no"
    assert parse_yes_no("eher nicht", frequency=False) == "no"


@pytest.mark.parametrize(
    "text",
    [
        "moment, bei der preisfrage meinte ich ja",
        "bei der ersten frage meinte ich nein",
        "korrektur: ja",
        "frage 3 war nein",
        "sorry, hab mich vertan",
    ],
)
def test_a_correction_of_another_question_is_no_answer(text):
    assert parse_yes_no(text, allow_skip=True) is None


def test_gute_frage_is_unknown_not_a_correction():
    assert parse_yes_no("gute frage", allow_skip=True) == "skip"
    assert parse_yes_no("keine frage, ja") == "yes"


OFFERS = {
    "redo": ["nachbess*", "neu drucken", "nachliefern", "kostenlos"],
    "discount": ["rabatt*", "gutschr*", "preisnachlass"],
    "speed": ["schneller", "express*"],
    "other": ["etwas anderes", "weiss nicht"],
}


@pytest.mark.parametrize(
    "text,expected",
    [
        ("kostenlos neu drucken und rabatt", "redo+discount"),
        ("Rabatt und kostenlos neu drucken", "discount+redo"),  # order of mention
        ("nachliefern", "redo"),
        ("rabatt, nachbessern und express", "discount+redo+speed"),
        ("kein rabatt, lieber nachbessern", "redo"),
        ("nachbessern, keinen echten rabatt", "redo"),
        ("gutschirft", "discount"),  # typo inside the stem
        ("Rabat", "discount"),  # stem of a short word
        ("Nachbesserung", "redo"),
        ("weiß nicht, vielleicht rabatt", "discount"),  # exclusive "other" drops out
        ("weiß nicht", "other"),
        ("alles", "redo+discount+speed"),
    ],
)
def test_several_choices_in_one_answer(text, expected):
    got = parse_choice(text, OFFERS, multiple=True, exclusive=["other"], negation=True)
    assert got == expected


def test_one_answer_questions_take_the_first_named_or_the_highest():
    scale = {"small": ["gering"], "medium": ["spuerbar"], "large": ["gravierend"]}
    assert parse_choice("spuerbar, fast gravierend", scale) == "medium"
    assert parse_choice("spuerbar, fast gravierend", scale, highest=True) == "large"
    assert parse_choice("nicht gravierend, eher gering", scale, negation=True) == "small"


def test_only_negated_choices_give_the_negative_answer():
    choices = {"payment": ["bezahlung"], "counter": ["gegenleistung"], "none": ["nichts"]}
    kwargs = {"multiple": True, "exclusive": ["none"], "negation": True, "if_all_negated": "none"}
    assert parse_choice("weder bezahlung noch gegenleistung", choices, **kwargs) == "none"
    assert parse_choice("keine bezahlung", choices, **kwargs) == "none"
    assert parse_choice("beides", choices, **kwargs) == "payment+counter"


def test_unknown_phrases_hide_their_words_from_choices():
    scale = {"small": ["gering"], "large": ["schwer", "gravierend"]}
    assert parse_choice("schwer zu sagen", scale) is None
    assert parse_choice("schwer", scale) == "large"


def test_choice_stems_and_typos():
    choices = {"documents": ["dokument*", "email*"], "witnesses": ["kolleg*"]}
    assert parse_choice("die Dokumentation", choices) == "documents"
    assert parse_choice("Kolleginnen", choices) == "witnesses"
    assert parse_choice("dokumnete", choices) == "documents"  # swapped letters
    assert parse_choice("doku", choices) == "documents"  # typed stem of a synonym
    assert parse_choice("kaffee", choices) is None


def test_split_choices():
    from bot.answers import separator, split_choices

    assert separator() == "+"
    assert split_choices("redo+discount") == ["redo", "discount"]
    assert split_choices("redo") == ["redo"]
    assert split_choices(None) == [] and split_choices("") == []


def test_normalize_builds_on_the_shared_normaliser():
    assert normalize("Jaaa, STÄNDIG!!") == "ja staendig"
    assert normalize("Weiß nicht so genau…") == "weiss nicht so genau"
    assert normalize("nööö") == "noe"
    assert normalize("kp") == "kein plan"


def test_a_negation_belongs_to_the_choice_right_after_it():
    assert parse_choice("keinen rabatt nachbessern", OFFERS, multiple=True, negation=True) == "redo"
    assert parse_choice("kein rabatt. nachbessern", OFFERS, multiple=True, negation=True) == "redo"
    assert parse_choice("nachbessern ohne rabatt", OFFERS, multiple=True, negation=True) == "redo"
    assert parse_choice("kein rabatt", OFFERS, multiple=True, negation=True) is None
