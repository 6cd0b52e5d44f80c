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
        # a pressure threat (lawyer, review, switching): a clarifying talk first (seed 000)
        ("first", "threat", "constructive_hint"),
        ("repeated", "threat", "second_conversation"),
    ],
)
def test_abuse_ladder(frequency, severity, step):
    assert playbooks.abuse_step(frequency, severity)[0] == step


def test_pressure_threat_advice_starts_with_a_clarifying_talk():
    text = "\n".join(
        playbooks.advice("abusive", {"abuse_frequency": "first", "abuse_severity": "threat"})
    )
    assert "klärendes Gespräch" in text and "Führungskraft einschalten" not in text
    insult = "\n".join(
        playbooks.advice("abusive", {"abuse_frequency": "first", "abuse_severity": "insult"})
    )
    assert "Zur Drohung" not in insult


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
    assert "Sehr geehrte Frau Becker," in text  # the salutation follows the client (bot.clients)
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


def test_user_text_with_braces_is_neither_a_format_string_nor_quoted():
    for case, slot in (("false_claims", "false_claim"), ("extra_requests", "extra_what")):
        msgs = playbooks.advice(case, {slot: "{client} {0} }{", "false_checked": "no"})
        assert msgs and not any("{0}" in m or "}{" in m for m in msgs), case


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


# --------------------------------------------------------------------------- issue 10:
# free-text answers to the case questions


def _question(slot):
    return next(
        q for book in playbooks.playbooks().values() for q in book.questions if q.slot == slot
    )


@pytest.mark.parametrize(
    "slot,text,expected",
    [
        # our_fault
        ("fault_heard", "jaaa, hat sich ausgekotzt", "yes"),
        ("fault_heard", "nee, eher nicht, er hat gleich aufgelegt", "no"),
        ("fault_heard", "weiß nicht so genau", None),  # no skip in a case flow: buttons again
        ("fault_heard", "staendig", None),  # a frequency answers no "did he finish?" question
        ("fault_impact", "eher gering", "small"),
        ("fault_impact", "nicht so schlimm", "small"),
        ("fault_impact", "halb so wild", "small"),
        ("fault_impact", "spuerbar", "medium"),
        ("fault_impact", "Spürbar, nicht gravierend", "medium"),
        ("fault_impact", "ziemlich gravierend", "large"),
        ("fault_impact", "existenzbedrohend fuer ihn", "large"),
        ("fault_impact", "schwer zu sagen", None),
        ("fault_offer", "kostenlos neu drucken und rabatt", "redo+discount"),
        ("fault_offer", "nachliefern", "deliver"),
        ("fault_offer", "Gutschrift", "discount"),
        ("fault_offer", "gutschein und ersatzlieferung", "discount+redo"),
        ("fault_offer", "wir koennten es per express nachliefern", "speed+deliver"),
        ("fault_offer", "kein rabatt, aber wir drucken kostenlos neu", "redo"),
        ("fault_offer", "weiß nicht so genau…", "other"),
        ("fault_offer", "Preisnachlass", "discount"),
        ("fault_offer", "etwas anderes", "other"),
        # extra_requests
        ("extra_unclear", "ja war schwammig formuliert", "yes"),
        ("extra_chronic", "fast jeden tag", "yes"),
        ("extra_chronic", "jaaa staendig", "yes"),
        ("extra_chronic", "eher selten", "no"),
        ("extra_chronic", "nee, ist das erste mal", "no"),
        ("extra_effort", "jo, kein problem", "yes"),
        ("extra_effort", "eher nicht, das sind zwei tage arbeit", "no"),
        ("extra_compromise", "gegen aufpreis", "payment"),
        ("extra_compromise", "eine google bewertung waere fair", "counter"),
        ("extra_compromise", "beides", "payment+counter"),
        ("extra_compromise", "weder bezahlung noch gegenleistung", "none"),
        ("extra_compromise", "nein, aber ein link auf ihre seite", "counter"),
        ("extra_compromise", "nichts davon", "none"),
        # false_claims
        ("false_checked", "jep, alles durchgesehen", "yes"),
        ("false_checked", "noch nicht", "no"),
        ("false_evidence", "e-mails und die kollegin war dabei", "documents+witnesses"),
        ("false_evidence", "den lieferschein", "documents"),
        ("false_evidence", "keine dokumente, nur muendlich", "none"),
        ("false_evidence", "weiß nicht so genau…", "unsure"),
        ("false_evidence", "die praxismanagerin hat es mitbekommen", "witnesses"),
        ("false_evidence", "screenshots vom chatverlauf", "documents"),
        # abusive
        ("abuse_frequency", "fast jeden tag", "persistent"),
        ("abuse_frequency", "einmal", "first"),
        ("abuse_frequency", "ab und zu", "repeated"),
        ("abuse_frequency", "nicht zum ersten mal", "repeated"),
        ("abuse_frequency", "schon oefter", "repeated"),
        ("abuse_frequency", "3x diese woche", "repeated"),
        ("abuse_frequency", "staendig, trotz hinweis", "persistent"),
        ("abuse_frequency", "erst einmal, jetzt immer wieder", "persistent"),
        ("abuse_severity", "war laut und hat mich beleidigt", "insult"),
        ("abuse_severity", "hat rumgeschrien", "venting"),
        ("abuse_severity", "hat mich einen idioten genannt", "insult"),
        ("abuse_severity", "droht mit anwalt", "threat"),
        ("abuse_severity", "Dampf abgelassen", "venting"),
    ],
)
def test_case_answers_as_staff_type_them(slot, text, expected):
    assert _question(slot).parse(text) == expected


def test_multiple_choice_questions_are_declared():
    multiple = {q.slot for b in playbooks.playbooks().values() for q in b.questions if q.multiple}
    assert multiple == {"fault_offer", "extra_compromise", "false_evidence"}
    for book in playbooks.playbooks().values():
        for q in book.questions:
            assert q.keywords, f"{q.slot} has no keywords for corrections"
            assert set(q.exclusive) <= set(q.choices)
            assert q.if_all_negated is None or q.if_all_negated in q.choices


def test_stored_values_are_taken_as_they_are():
    assert _question("fault_offer").parse("redo+discount") == "redo+discount"
    assert _question("fault_offer").parse("discount") == "discount"
    assert _question("abuse_severity").parse("insult") == "insult"


def test_our_fault_advice_uses_every_offer_in_order():
    msgs = playbooks.advice(
        "our_fault",
        {"fault_what": "Falsch gedruckt", "fault_heard": "yes", "fault_offer": "redo+discount"},
    )
    draft = next(m for m in msgs if "Entwurf" in m)
    assert "bessern kostenlos nach" in draft and "schreiben wir Ihnen einen Teil" in draft
    assert draft.index("bessern kostenlos nach") < draft.index("schreiben wir Ihnen einen Teil")


def test_false_claims_advice_uses_every_kind_of_evidence():
    text = "\n".join(
        playbooks.advice(
            "false_claims",
            {"false_claim": "x", "false_checked": "yes", "false_evidence": "documents+witnesses"},
        )
    )
    assert "Du hast Belege" in text and "Kolleginnen und Kollegen" in text


@pytest.mark.parametrize(
    "compromise,verdict",
    [("payment+counter", "negotiate_payment"), ("counter+payment", "negotiate_payment")],
)
def test_extra_requests_verdict_with_both_compromises(compromise, verdict):
    answers = {"extra_chronic": "yes", "extra_compromise": compromise}
    assert playbooks.extra_requests_verdict(answers) == verdict


def _domain_responses():
    from pathlib import Path

    import yaml

    domain = Path(__file__).resolve().parents[1] / "domain.yml"
    return yaml.safe_load(domain.read_text(encoding="utf-8"))["responses"]


def test_not_understood_names_the_kind_of_answer_without_buttons():
    """An unclear answer gets one short hint with one example – no buttons, no question.

    The form asks the question again right after, with its buttons; buttons in the hint too
    would show two button sets in one turn.
    """
    responses = _domain_responses()
    variations = {
        v["condition"][0]["value"]: v for v in responses["utter_invalid_choice"] if "condition" in v
    }
    for book in playbooks.playbooks().values():
        for q in book.questions:
            if q.kind != "choice":
                continue
            text = variations[q.slot]["text"]
            assert text.count("z. B.") == 1, q.slot
            assert "?" not in text.split("(")[0], q.slot  # no question asked again
            for button in responses[f"utter_ask_{q.slot}"][0]["buttons"]:
                assert q.parse(button["payload"]) in q.choices, (q.slot, button)
    assert any("condition" not in v for v in responses["utter_invalid_choice"])  # fallback
    for name in ("utter_invalid_yesno", "utter_invalid_yesno_skip", "utter_invalid_choice"):
        for variation in responses[name] + responses["utter_invalid_text"]:
            assert not variation.get("buttons"), (name, variation["text"])
            assert variation["text"].count("z. B.") == 1, variation["text"]


def test_not_understood_yes_no_acknowledges_uncertainty():
    responses = _domain_responses()
    (strict,) = responses["utter_invalid_yesno"]
    assert "grobe Einschätzung reicht" in strict["text"]
    (skippable,) = responses["utter_invalid_yesno_skip"]
    assert "„weiß nicht“" in skippable["text"]
