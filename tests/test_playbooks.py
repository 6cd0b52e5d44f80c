import pytest

from bot import knowledge, playbooks, warning_signs


def test_every_case_has_a_playbook_with_questions():
    books = playbooks.playbooks()
    assert set(books) == set(playbooks.CASES)
    for book in books.values():
        assert book.questions and book.form.endswith("_form")
        assert playbooks.case_for_intent(book.intent) == book.case


@pytest.mark.parametrize(
    "frequency,severity,step",
    [
        ("first", "venting", "accept_venting"),
        ("first", "insult", "constructive_hint"),
        ("repeated", "insult", "second_conversation"),
        ("persistent", "insult", "involve_supervisor"),
        ("persistent", "threat", "end_relationship"),
        ("first", "threat", "involve_supervisor"),
    ],
)
def test_abuse_ladder(frequency, severity, step):
    assert playbooks.abuse_step(frequency, severity)[0] == step


def test_abuse_advice_names_the_next_step():
    msgs = playbooks.advice(
        "abusive", {"abuse_frequency": "repeated", "abuse_severity": "insult"}, "Müller GmbH"
    )
    assert "zweites Gespräch" in msgs[0]
    assert "schriftliche Kommunikation" in msgs[1]
    assert "Müller GmbH" in " ".join(msgs)


@pytest.mark.parametrize(
    "answers,verdict",
    [
        (
            {
                "extra_unclear": "yes",
                "extra_chronic": "no",
                "extra_effort": "yes",
                "extra_compromise": "none",
            },
            "fulfil",
        ),
        (
            {
                "extra_unclear": "no",
                "extra_chronic": "no",
                "extra_effort": "no",
                "extra_compromise": "payment",
            },
            "negotiate_payment",
        ),
        (
            {
                "extra_unclear": "no",
                "extra_chronic": "no",
                "extra_effort": "yes",
                "extra_compromise": "counter",
            },
            "negotiate_counter",
        ),
        (
            {
                "extra_unclear": "no",
                "extra_chronic": "no",
                "extra_effort": "no",
                "extra_compromise": "none",
            },
            "decline",
        ),
        (
            {
                "extra_unclear": "no",
                "extra_chronic": "yes",
                "extra_effort": "no",
                "extra_compromise": "none",
            },
            "chronic_end",
        ),
    ],
)
def test_extra_requests_verdicts(answers, verdict):
    assert playbooks.extra_requests_verdict(answers) == verdict


def test_our_fault_drafts_a_message_with_the_users_own_words():
    msgs = playbooks.advice(
        "our_fault",
        {
            "fault_what": "Die Ware kam zu spät",
            "fault_heard": "no",
            "fault_impact": "large",
            "fault_offer": "discount",
        },
        "Frau Becker",
    )
    text = "\n".join(msgs)
    assert "Lass Frau Becker ausreden" in text
    assert "Guten Tag Frau Becker, es tut mir leid: Die Ware kam zu spät." in text
    assert "Führungskraft" in text  # large impact


def test_false_claims_advice_depends_on_evidence():
    with_docs = "\n".join(
        playbooks.advice(
            "false_claims",
            {"false_claim": "nie geliefert", "false_checked": "yes", "false_evidence": "documents"},
        )
    )
    without = "\n".join(
        playbooks.advice(
            "false_claims",
            {"false_claim": "nie geliefert", "false_checked": "no", "false_evidence": "none"},
        )
    )
    assert "Belege" in with_docs and "Aussage gegen Aussage" in without
    assert "Erst intern klären" in without


def test_user_text_with_braces_is_not_a_format_string():
    msgs = playbooks.advice(
        "false_claims",
        {"false_claim": "{client} {0} }{", "false_checked": "no", "false_evidence": "none"},
    )
    assert "{client} {0} }{" in msgs[0]


def test_question_parsing():
    q = playbooks.playbooks()["abusive"].question("abuse_severity")
    assert q.parse("Das war eine üble Beleidigung") == "insult"
    assert q.parse("er hat mit dem Anwalt gedroht") == "threat"
    assert q.parse(None) is None


def test_warning_signs_evaluation():
    keys = warning_signs.keys()
    assert len(keys) == 10 and len(set(keys)) == 10
    none = warning_signs.evaluate({k: "no" for k in keys})
    many = warning_signs.evaluate({k: "yes" for k in keys})
    assert none != many
    assert any("10 von 10" in m for m in many)
    skipped = "\n".join(warning_signs.evaluate({"payment": "yes"}))
    assert "Übersprungen" in skipped
    assert warning_signs.verdict(0) == "none" and warning_signs.verdict(2) == "few"
    assert warning_signs.verdict(4) == "several" and warning_signs.verdict(7) == "many"
    assert warning_signs.question("payment").startswith("5/10")


def test_knowledge_topics():
    for name in knowledge.TOPICS:
        assert knowledge.topic(name)
    assert "Rechtsberatung" in " ".join(knowledge.topic("legal"))
    with pytest.raises(KeyError):
        knowledge.topic("nope")
