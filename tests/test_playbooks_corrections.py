"""Issue 10: correcting an earlier answer while the coach asks a later question."""

import pytest

from bot import playbooks
from bot.corrections import Correction, earlier_correction, question_for_slot

SIGNS = ["sign_expectations", "sign_respect", "sign_cooperation", "sign_ethics", "sign_payment",
         "sign_price"]  # fmt: skip
OUR_FAULT = ["fault_what", "fault_heard", "fault_impact"]
ABUSE = ["abuse_frequency"]
EXTRA = ["extra_what", "extra_unclear", "extra_chronic", "extra_effort"]


@pytest.mark.parametrize(
    "text,answered,expected",
    [
        # the measured failure and the examples of the issue
        ("moment, bei der preisfrage meinte ich ja", SIGNS, ("sign_price", "yes")),
        ("bei der ersten frage meinte ich nein", SIGNS, ("sign_expectations", "no")),
        ("korrektur: das war doch öfter", ABUSE, ("abuse_frequency", "repeated")),
        # spellings and variants
        ("Moment, bei der Preisfrage meinte ich JA", SIGNS, ("sign_price", "yes")),
        ("moment bei der preisfrage meinte ich jaaa", SIGNS, ("sign_price", "yes")),
        ("bei der frage nach dem preis meinte ich nein", SIGNS, ("sign_price", "no")),
        ("ja, meinte ich bei der preisfrage", SIGNS, ("sign_price", "yes")),
        ("preisfrage: doch eher ja", SIGNS, ("sign_price", "yes")),
        ("ich meinte bei der zahlungsfrage weiss nicht", SIGNS, ("sign_payment", "skip")),
        ("bei der zahlung hab ich mich vertan, eher nicht", SIGNS, ("sign_payment", "no")),
        ("frage 3: doch ja", SIGNS, ("sign_cooperation", "yes")),
        ("frage nummer 2 war nein", SIGNS, ("sign_respect", "no")),
        ("die zweite frage war eigentlich ja", SIGNS, ("sign_respect", "yes")),
        (
            "bei der ersten frage hab ich mich vertan, es ist nein",
            SIGNS,
            ("sign_expectations", "no"),
        ),
        ("die letzte frage war eigentlich nein", SIGNS, ("sign_price", "no")),
        ("bei der vorletzten frage meinte ich ja", SIGNS, ("sign_payment", "yes")),
        ("stimmt nicht, die frage davor war nein", SIGNS, ("sign_price", "no")),
        ("korrektur: doch nicht", SIGNS, ("sign_price", "no")),
        ("korrektur, ist eher staendig", ABUSE, ("abuse_frequency", "persistent")),
        ("korektur: das war doch oefter", ABUSE, None),  # a typo in the marker: not sure
        ("korrektur: bei der auswirkung eher gravierend", OUR_FAULT, ("fault_impact", "large")),
        (
            "bei der ersten frage meinte ich: Die Lieferung kam drei Wochen zu spät",
            OUR_FAULT,
            ("fault_what", "Die Lieferung kam drei Wochen zu spät"),
        ),  # fmt: skip
        ("moment, bei der zweiten frage meinte ich nein", OUR_FAULT, ("fault_heard", "no")),
        ("bei der frage nach dem aufwand meinte ich ja", EXTRA, ("extra_effort", "yes")),
        ("korrektur: kommt doch fast jeden tag vor", EXTRA, ("extra_chronic", "yes")),
        ("korrektur: doch nicht", EXTRA, ("extra_effort", "no")),  # the last one takes it
        ("korrektur: rabatt", OUR_FAULT, None),  # the offer is not answered yet
        # no correction
        ("ja", SIGNS, None),
        ("eher nicht", SIGNS, None),
        ("ja, beim preis auch", SIGNS, None),  # a keyword without a correction word
        ("gute frage, eher ja", SIGNS, None),
        ("bei der siebten frage ja", SIGNS, None),  # not answered yet
        ("zwei fragen zurueck", SIGNS, None),  # going back is another mechanism
        ("frage eins: nein", SIGNS, ("sign_expectations", "no")),
        ("korrektur: ja", [], None),
        ("", SIGNS, None),
    ],
)
def test_earlier_correction(text, answered, expected):
    assert earlier_correction(text, answered) == (Correction(*expected) if expected else None)


def test_weak_correction_words_count_only_when_the_current_question_does_not_take_it():
    # "das war doch öfter" is no answer to "how severe was it?" -> it corrects the frequency
    assert earlier_correction("das war doch öfter", ABUSE, current="abuse_severity") == (
        "abuse_frequency",
        "repeated",
    )
    # without knowing the current question a weak word never counts
    assert earlier_correction("das war doch öfter", ABUSE) is None
    # "moment, eher ja" answers the current yes/no question
    assert earlier_correction("moment, eher ja", SIGNS, current="sign_changes") is None
    assert earlier_correction("moment, beim preis eher ja", SIGNS, current="sign_changes") == (
        "sign_price",
        "yes",
    )


def test_answered_questions_may_be_given_as_slots_mapping_or_questions():
    slots = {"sign_expectations": "yes", "sign_respect": "no", "sign_cooperation": None}
    assert earlier_correction("bei der zweiten frage meinte ich ja", slots) == (
        "sign_respect",
        "yes",
    )
    # a slot with None is not answered
    assert earlier_correction("bei der dritten frage meinte ich ja", slots) is None
    questions = [question_for_slot(s) for s in OUR_FAULT]
    assert earlier_correction("bei der ersten frage meinte ich nein", questions) == (
        "fault_what",
        "nein",
    )
    # order does not matter: positions count in the form's order
    assert earlier_correction("bei der ersten frage meinte ich ja", reversed(SIGNS)) == (
        "sign_expectations",
        "yes",
    )


def test_a_correction_stores_what_the_question_stores():
    answered = ["fault_what", "fault_heard", "fault_impact", "fault_offer"]
    got = earlier_correction("korrektur: kostenlos neu drucken und rabatt", answered)
    assert got == ("fault_offer", "redo+discount")
    got = earlier_correction("bei der ersten frage meinte ich nein", ["abuse_frequency"])
    assert got is None  # "nein" is no frequency


def test_every_question_has_keywords_and_a_slot_lookup():
    for book in playbooks.playbooks().values():
        for q in book.questions:
            assert question_for_slot(q.slot) == q
    assert question_for_slot("sign_price").allow_skip
    assert "preisfrage" in question_for_slot("sign_price").keywords
    assert question_for_slot("nope") is None
