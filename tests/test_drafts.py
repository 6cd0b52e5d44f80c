"""Drafts to the client, follow-ups after the advice, and their actions.

bot/drafts.py, bot/followups.py and actions/cases.py (action_case_followup,
action_change_draft, action_draft_variant). A draft is built only from choices and yes/no
answers: whatever the user typed never reaches a letter to the client, markers stand for the
facts, and a letter claims nothing the user did not say.
"""

from __future__ import annotations

import itertools
import re

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from trackers import DOMAIN, make_tracker, texts

from actions import cases as case_actions
from bot import drafts, escalation, followups, playbooks
from bot.texts import lookup

# --------------------------------------------------------------------------- test data
#: the raw chat text of the measured failures: none of it may reach a letter
RAW = {
    "fault_what": "QWZX nein, wir haben keinen fehler gemacht! hab ich doch grad geschrieben??",
    "extra_what": "QWZX ner zweite logo variante, umsonst natuerlich",
    "false_claim": "QWZX ne, er sagt ne lieferung fehlt, stimmt aber nich",
}
RAW_BITS = ("QWZX", "hab ich doch", "??", " ner ", " ne ", "nich ", "natuerlich")

CLIENTS = {
    "female": ("Frau Keller", "Sehr geehrte Frau Keller"),
    "male": ("Herrn Brandt", "Sehr geehrter Herr Brandt"),
    "company": ("Müller GmbH", "Sehr geehrte Damen und Herren"),
    "unknown": (None, "Guten Tag"),
}


def _values(case: str, slot: str) -> list[str | None]:
    question = playbooks.playbooks()[case].question(slot)
    if question.kind == "text":
        return [RAW[slot]]
    if question.kind == "yesno":
        return ["yes", "no"]
    keys = list(question.choices)
    if question.multiple:  # every single choice and every pair of inclusive ones
        inclusive = [k for k in keys if k not in question.exclusive]
        return keys + ["+".join(pair) for pair in itertools.combinations(inclusive, 2)]
    return keys


def all_answers(case: str) -> list[dict[str, str | None]]:
    """Every combination of the case's answers (free text: the raw chat text)."""
    slots = playbooks.playbooks()[case].slots
    return [
        dict(zip(slots, combo, strict=True))
        for combo in itertools.product(*(_values(case, s) for s in slots))
    ]


def every_draft(case: str):
    """Every draft the advice or a follow-up can make for a case, in every kind and variant."""
    for answers in all_answers(case):
        for kind in drafts.kinds(case):
            yield drafts.Draft(case, kind, answers, "Frau Keller")


def body_of(letter: str) -> str:
    """The letter without salutation, closing and name."""
    return letter.split("\n\n")[1]


# --------------------------------------------------------------------------- the letters
@pytest.mark.parametrize("case", playbooks.CASES)
def test_no_raw_free_text_in_any_draft(case):
    count = 0
    for draft in every_draft(case):
        for variant in drafts.variants():
            letter = drafts.letter(draft.with_variant(variant))
            for bit in RAW_BITS:
                assert bit not in letter, (draft, variant, bit)
            count += 1
    assert count > 0


@pytest.mark.parametrize("case", playbooks.CASES)
def test_every_draft_has_markers_only_known_ones_and_the_name_marker(case):
    for draft in every_draft(case):
        for variant in drafts.variants():
            letter = drafts.letter(draft.with_variant(variant))
            assert letter.endswith("[Ihr Name]"), letter
            assert not drafts.unknown_markers(letter), letter
            facts = [m for m in drafts.markers() if m != "[Ihr Name]" and m in body_of(letter)]
            assert facts, letter
            assert "{" not in letter and "}" not in letter


@pytest.mark.parametrize("case", playbooks.CASES)
@pytest.mark.parametrize("who", sorted(CLIENTS))
def test_salutation_by_client_kind_and_body_in_lower_case(case, who):
    client, expected = CLIENTS[who]
    answers = all_answers(case)[0]
    for kind in drafts.kinds(case):
        for variant in drafts.variants():
            draft = drafts.Draft(case, kind, answers, client, variant)
            letter = drafts.letter(draft)
            salutation, body = letter.split("\n\n")[:2]
            if variant == drafts.FORMAL and who == "unknown":
                assert salutation == "Sehr geehrte Damen und Herren,"
            else:
                assert salutation == expected + ","
            assert body[0].islower(), (kind, variant, body)  # DIN 5008: lower case after ","
            assert letter.count("\n\n") == 2


def test_closing_per_variant():
    draft = drafts.for_advice("our_fault", all_answers("our_fault")[0])
    assert "\nFreundliche Grüße\n[Ihr Name]" in drafts.letter(draft)
    formal = drafts.letter(draft.with_variant(drafts.FORMAL))
    assert "\nMit freundlichen Grüßen\n[Ihr Name]" in formal


@pytest.mark.parametrize("case", playbooks.CASES)
def test_variants_differ(case):
    for draft in every_draft(case):
        letters = {drafts.letter(draft.with_variant(v)) for v in drafts.variants()}
        assert len(letters) == len(drafts.variants()), draft
        short = drafts.letter(draft.with_variant(drafts.SHORT))
        assert len(short) < len(drafts.letter(draft)), draft


def test_every_variant_of_a_case_has_the_same_parts():
    letters = lookup("drafts", "letters")

    def shape(node, path=""):
        if isinstance(node, dict):
            return {k for key, v in node.items() for k in shape(v, f"{path}.{key}")}
        return {path}

    for case, by_variant in letters.items():
        assert set(by_variant) == set(drafts.variants()), case
        shapes = {variant: shape(node) for variant, node in by_variant.items()}
        assert len({frozenset(s) for s in shapes.values()}) == 1, (case, shapes)
        normal = by_variant[drafts.NORMAL]
        for key in shape(normal):  # the normal variant leaves nothing out
            node = normal
            for part in key.strip(".").split("."):
                node = node[part]
            assert node or key.rsplit(".", 1)[-1] in ("none", "unsure", "venting", "witnesses")


def test_every_text_key_of_the_source_is_a_text():
    keys = drafts.text_keys()
    assert "letter" in keys and "coach.intro.normal" in keys
    for key in keys:
        assert isinstance(lookup("drafts", key), str)


# --------------------------------------------------------------------------- what a letter says
def test_checked_internally_only_when_the_user_said_so():
    for answers in all_answers("false_claims"):
        for variant in drafts.variants():
            letter = drafts.letter(drafts.Draft("false_claims", "clarify", answers, None, variant))
            if answers["false_checked"] == "yes":
                assert "geprüft" in letter, letter
                assert "[Sachverhalt]" in letter
            else:
                assert "geprüft" not in letter and "[Sachverhalt]" not in letter, letter
                assert "[Datum]" in letter  # by when the user reports back


def test_evidence_sentences_only_for_the_evidence_the_user_has():
    base = {"false_claim": RAW["false_claim"], "false_checked": "yes"}

    def letter(evidence):
        return drafts.letter(drafts.Draft("false_claims", "clarify", {**base, **evidence}))

    with_docs = letter({"false_evidence": "documents"})
    with_people = letter({"false_evidence": "witnesses"})
    without = letter({"false_evidence": "none"})
    both = letter({"false_evidence": "witnesses+documents"})
    assert "[Unterlage]" in with_docs and "Kolleg" not in with_docs
    assert "Kolleg" in with_people and "[Unterlage]" not in with_people
    assert "[Unterlage]" not in without and "Kolleg" not in without
    assert "[Unterlage]" in both and "Kolleg" in both
    assert both.index("Kolleg") < both.index("[Unterlage]")  # in the order the user named


def test_our_fault_offers_in_order_and_a_call_only_for_a_large_impact():
    answers = {"fault_what": RAW["fault_what"], "fault_heard": "yes", "fault_impact": "small"}
    draft = drafts.Draft("our_fault", "apology", {**answers, "fault_offer": "discount+redo"})
    letter = drafts.letter(draft)
    assert letter.index("Gutschrift") < letter.index("bessern kostenlos nach")
    assert "rufe Sie" not in letter
    large = drafts.Draft("our_fault", "apology", {**answers, "fault_impact": "large"})
    assert "rufe Sie am [Datum] an" in drafts.letter(large)
    assert "[Betrag]" not in drafts.letter(large)  # no credit offered, no amount


def test_extra_requests_scope_follows_the_agreement_and_extras_follow_the_answers():
    answers = {
        "extra_what": RAW["extra_what"],
        "extra_unclear": "no",
        "extra_chronic": "no",
        "extra_effort": "no",
        "extra_compromise": "payment",
    }
    payment = drafts.letter(drafts.Draft("extra_requests", "payment", answers))
    assert "über den vereinbarten Leistungsumfang hinaus" in payment and "[Betrag]" in payment
    assert "Gegenleistung" not in payment and "vorab" not in payment
    both = {**answers, "extra_compromise": "payment+counter", "extra_chronic": "yes"}
    letter = drafts.letter(drafts.Draft("extra_requests", "payment", both))
    assert "Gegenleistung" in letter and "vorab kurz schriftlich" in letter
    unclear = {**answers, "extra_unclear": "yes"}
    assert "nicht eindeutig geregelt" in drafts.letter(
        drafts.Draft("extra_requests", "decline", unclear)
    )
    assert "Referenz" in drafts.letter(drafts.Draft("extra_requests", "counter", answers))


def test_tone_note_follows_frequency_and_severity():
    def letter(frequency, severity):
        answers = {"abuse_frequency": frequency, "abuse_severity": severity}
        return drafts.letter(drafts.Draft("abusive", "tone_note", answers))

    assert "wiederholt" in letter("persistent", "venting")
    assert "wiederholt" not in letter("first", "venting")
    assert "Beleidigungen" in letter("repeated", "insult")
    assert "Unter Druck" in letter("repeated", "threat")
    assert "Beleidigungen" not in letter("repeated", "venting")


# --------------------------------------------------------------------------- which draft
@pytest.mark.parametrize(
    "compromise,unclear,effort,chronic,kind",
    [
        ("none", "yes", "yes", "no", "fulfil"),
        ("payment", "no", "no", "no", "payment"),
        ("counter", "no", "no", "no", "counter"),
        ("none", "no", "no", "no", "decline"),
        ("none", "no", "no", "yes", "boundary"),
    ],
)
def test_extra_requests_draft_per_recommendation(compromise, unclear, effort, chronic, kind):
    answers = {
        "extra_what": "x",
        "extra_unclear": unclear,
        "extra_chronic": chronic,
        "extra_effort": effort,
        "extra_compromise": compromise,
    }
    assert drafts.kind_for_advice("extra_requests", answers) == kind


def test_abusive_draft_only_where_the_advice_recommends_writing():
    for frequency, severity in itertools.product(
        ("first", "repeated", "persistent"), ("venting", "insult", "threat")
    ):
        step, _ = playbooks.abuse_step(frequency, severity)
        answers = {"abuse_frequency": frequency, "abuse_severity": severity}
        draft = drafts.for_advice("abusive", answers)
        assert (draft is not None) == (step == "written_communication"), (frequency, severity)
        advice = "\n".join(playbooks.advice("abusive", answers))
        assert ("Entwurf" in advice) == (draft is not None)


@pytest.mark.parametrize("case", ["our_fault", "extra_requests", "false_claims"])
def test_the_advice_carries_the_draft_without_raw_text(case):
    for answers in all_answers(case)[:40]:
        messages = playbooks.advice(case, answers, "Herrn Brandt")
        draft = [m for m in messages if "Entwurf" in m]
        assert len(draft) == 1, messages
        assert "Sehr geehrter Herr Brandt," in draft[0]
        assert "QWZX" not in draft[0]


@pytest.mark.parametrize("case", playbooks.CASES)
def test_no_free_text_answer_is_quoted_anywhere_in_the_advice(case):
    """The user knows what they wrote: no advice message quotes a free-text answer."""
    for answers in all_answers(case)[:200]:
        advice = "\n".join(playbooks.advice(case, answers, "Herrn Brandt"))
        assert "QWZX" not in advice, answers
        for raw in RAW.values():
            assert raw not in advice


def test_draft_slot_round_trip_and_invalid_values():
    draft = drafts.Draft("our_fault", "apology", {"fault_offer": "redo"}, "Frau Keller", "short")
    assert drafts.Draft.from_slot(draft.to_slot()) == draft
    for bad in (None, "x", {}, {"case": "our_fault", "kind": "payment", "answers": {}},
                {"case": "nope", "kind": "apology", "answers": {}},
                {"case": "our_fault", "kind": "apology", "answers": {}, "variant": "loud"},
                {"case": "our_fault", "kind": "apology", "answers": "x"}):  # fmt: skip
        assert drafts.Draft.from_slot(bad) is None, bad


def test_rephrase_alternates_and_others_become_alt():
    assert drafts.rephrased(drafts.NORMAL) == drafts.ALT
    assert drafts.rephrased(drafts.ALT) == drafts.NORMAL
    assert drafts.rephrased(drafts.SHORT) == drafts.ALT


OUR_FAULT = {
    "fault_what": RAW["fault_what"],
    "fault_heard": "no",
    "fault_impact": "medium",
    "fault_offer": "discount",
}


def test_last_draft_is_the_stored_one_for_the_same_case_and_answers():
    stored = drafts.Draft("our_fault", "apology", OUR_FAULT, None, "short").to_slot()
    assert drafts.last_draft(stored, "our_fault", OUR_FAULT, None).variant == "short"
    # the answers changed since (a new advice): the advice's own draft
    changed = {**OUR_FAULT, "fault_offer": "redo"}
    fresh = drafts.last_draft(stored, "our_fault", changed, None)
    assert fresh.variant == "normal" and fresh.answers["fault_offer"] == "redo"
    # a new case, not finished: still the stored draft; nothing stored: none
    assert drafts.last_draft(stored, "abusive", {}, None).case == "our_fault"
    assert drafts.last_draft(None, "abusive", {}, None) is None
    assert drafts.last_draft(None, None, {}, None) is None


# --------------------------------------------------------------------------- changes
@pytest.mark.parametrize(
    "message,value",
    [
        ("mach den entwurf mit rabatt", "discount"),
        ("aber ich will ja eigentlich neu drucken", "redo"),
        ("lieber neu drucken", "redo"),
        ("schreib rein dass wir nachliefern", "deliver"),
        ("bitte mit gutschrift statt nachbesserung", "discount"),
        ("schreib zusätzlich rein, dass wir neu drucken", "speed+redo"),
    ],
)
def test_change_reads_the_offer(message, value):
    found = drafts.change("our_fault", {**OUR_FAULT, "fault_offer": "speed"}, message)
    assert found is not None and found.slot == "fault_offer" and found.value == value
    assert (
        found.answers["fault_offer"] == value and found.answers["fault_what"] == RAW["fault_what"]
    )


def test_change_by_button_and_nothing_new():
    assert drafts.change("our_fault", OUR_FAULT, "/change_draft", "redo").value == "redo"
    assert drafts.change("our_fault", OUR_FAULT, "/change_draft", "nonsense") is None
    assert drafts.change("our_fault", OUR_FAULT, "mach mir einen entwurf") is None
    assert drafts.change("our_fault", OUR_FAULT, "mit gutschrift bitte") is None  # the same


def test_change_checked_and_evidence_for_false_claims():
    answers = {"false_claim": "x", "false_checked": "no", "false_evidence": "none"}
    checked = drafts.change("false_claims", answers, "ich hab doch schon intern geprüft")
    assert (checked.slot, checked.value) == ("false_checked", "yes")
    docs = drafts.change("false_claims", answers, "schreib rein dass wir den lieferschein haben")
    assert (docs.slot, docs.value) == ("false_evidence", "documents")
    not_yet = {**answers, "false_checked": "yes"}
    unchecked = drafts.change("false_claims", not_yet, "hab ich noch nicht geprüft")
    assert (unchecked.slot, unchecked.value) == ("false_checked", "no")


def test_every_offer_choice_has_its_own_sentence_in_every_variant():
    """Each choice of fault_offer (bot/playbooks.yml) is its own offer in the letter."""
    question = playbooks.playbooks()["our_fault"].question("fault_offer")
    for variant in drafts.variants():
        sentences = {}
        for key in question.choices:
            answers = {**OUR_FAULT, "fault_offer": key}
            letter = drafts.letter(drafts.Draft("our_fault", "apology", answers, None, variant))
            sentence = lookup("drafts", f"letters.our_fault.{variant}.offer.{key}")
            assert sentence and sentence in letter, (variant, key)
            sentences[key] = sentence
        assert len(set(sentences.values())) == len(sentences), variant  # no two alike
        for key in question.choices:  # and the labels of the change buttons
            assert drafts.say("labels", "change", "fault_offer", key)
            assert drafts.say("labels", "insist", key)


def test_delivering_the_missing_parts_is_not_rework():
    question = playbooks.playbooks()["our_fault"].question("fault_offer")
    assert question.parse("nachliefern") == "deliver"
    assert question.parse("die fehlenden teile schicken wir nach") == "deliver"
    letter = drafts.letter(
        drafts.Draft("our_fault", "apology", {**OUR_FAULT, "fault_offer": "deliver"})
    )
    assert "Die fehlenden Teile liefern wir Ihnen bis [Datum] nach." in letter
    assert "bessern" not in letter


def test_change_labels_and_buttons():
    found = drafts.change("our_fault", OUR_FAULT, "mit nachbesserung und gutschrift")
    assert found.label() == "mit Nachbesserung und mit Gutschrift"
    buttons = drafts.choice_buttons("our_fault")
    assert {
        "title": "Gutschrift",
        "payload": '/change_draft{"draft_choice": "discount"}',
    } in buttons
    assert drafts.choice_buttons("abusive") == []


# --------------------------------------------------------------------------- follow-ups
EXTRA = {
    "extra_what": RAW["extra_what"],
    "extra_unclear": "no",
    "extra_chronic": "no",
    "extra_effort": "no",
    "extra_compromise": "payment",
}


def climb(case, answers, message="und wenn er trotzdem nicht will?", times=8):
    stored, steps, replies = None, [], []
    for _ in range(times):
        reply = followups.respond(case, answers, None, stored, message)
        stored = reply.state
        steps.append(reply.state["step"])
        replies.append(reply)
    return steps, replies


def test_followups_climb_the_payment_ladder_from_the_verdict():
    steps, replies = climb("extra_requests", EXTRA)
    assert steps[:2] == ["compromise_offer", "end_relationship"]
    assert "Kompromiss" in replies[0].messages[0]
    assert replies[1].ending and not replies[0].ending
    assert all(r.ending for r in replies[1:])  # the top stays the top


def test_followups_climb_the_abuse_ladder_with_a_tone_note_at_the_written_step():
    answers = {"abuse_frequency": "first", "abuse_severity": "venting"}
    steps, replies = climb("abusive", answers)
    ladder = [s.key for s in escalation.ladders()["abuse"].steps]
    assert steps[:5] == ladder[1:]
    written = replies[steps.index("written_communication")]
    assert written.draft is not None and written.draft.kind == "tone_note"
    assert any("Sehr geehrte" in m or "Guten Tag," in m for m in written.messages)


def test_followups_for_false_claims_and_a_confirmation_draft():
    answers = {"false_claim": RAW["false_claim"], "false_checked": "no", "false_evidence": "none"}
    steps, replies = climb("false_claims", answers)
    assert steps[:3] == ["clear_conversation", "written_agreements", "end_relationship"]
    assert replies[1].draft.kind == "confirm"
    assert "QWZX" not in "\n".join(replies[1].messages)


def test_followups_for_our_fault_and_a_client_insisting_on_a_credit():
    steps, _ = climb("our_fault", OUR_FAULT)
    assert steps[:3] == ["fair_solution", "supervisor", "end_relationship"]
    redo = {**OUR_FAULT, "fault_offer": "redo"}
    reply = followups.respond(
        "our_fault", redo, "Herrn Brandt", None, "und wenn er trotzdem auf der gutschrift besteht?"
    )
    assert reply.changed == {"fault_offer": "discount"}
    assert reply.draft.answers["fault_offer"] == "discount"
    assert "Herr Brandt auf einer Gutschrift besteht" in reply.messages[0]
    assert "Gutschrift über" in reply.messages[1] or "Teil des Betrags" in reply.messages[1]
    assert reply.state["step"] == "advice" and reply.state["answers"]["fault_offer"] == "discount"
    # the same offer again, or one negated: no insisting, the next step
    same = followups.respond("our_fault", OUR_FAULT, None, None, "und wenn er auf rabatt besteht")
    assert not same.changed and same.state["step"] == "fair_solution"


@pytest.mark.parametrize(
    "message", ["kann ich ihm kündigen?", "sollen wir uns trennen?", "kann ich den rauswerfen"]
)
def test_followup_about_ending_offers_the_ending_path(message):
    reply = followups.respond("extra_requests", EXTRA, "Frau Keller", None, message)
    assert reply.ending and "Warnzeichen" in reply.messages[0]
    payloads = [b["payload"] for b in followups.ending_buttons()]
    assert payloads == ["/ask_end_relationship", "/ask_how_to_terminate"]
    assert reply.state["step"] == "written_terms"  # where the advice stood: unchanged


def test_a_client_threatening_to_cancel_is_no_question_about_ending():
    assert not followups.wants_end("und wenn er trotzdem mit kündigung droht?")
    reply = followups.respond(
        "extra_requests", EXTRA, None, None, "und wenn er mit kündigung droht"
    )
    assert not reply.ending and reply.state["step"] == "compromise_offer"


def test_stale_followup_state_starts_again_from_the_advice():
    state = followups.respond("extra_requests", EXTRA, None, None, "und dann?").state
    assert state["step"] == "compromise_offer"
    other = {**EXTRA, "extra_compromise": "none"}  # another advice since
    assert followups.current_step("extra_requests", other, state) == "reminder"
    assert followups.current_step("abusive", {}, state) == "accept_venting"


def test_every_followup_step_text_exists():
    for case in playbooks.CASES:
        key, steps = followups.ladder(case)
        for step in steps[1:-1]:
            assert isinstance(lookup("drafts", f"followup.steps.{key}.{step}"), str), (key, step)
        assert steps[-1] == followups.end_step()


def test_no_german_sentences_inline_in_the_python():
    from bot.config import ROOT

    for rel in ("bot/drafts.py", "bot/followups.py"):
        source = (ROOT / rel).read_text(encoding="utf-8")
        code = re.sub(r'"""(.|\n)*?"""', "", source)  # docstrings may quote examples
        code = re.sub(r"#.*", "", code)
        strings = re.findall(r'"([^"\n]{20,})"', code)
        german = [s for s in strings if re.search(r"\b(und|nicht|die|der|das|Sie|du|wir)\b", s)]
        assert not german, (rel, german)


# --------------------------------------------------------------------------- the actions
def advised(case: str, answers: dict, **slots) -> dict:
    return {"case": case, **answers, **slots}


def slot_events(events) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, DOMAIN)
    return dispatcher, events


async def test_followup_action_climbs_and_keeps_its_state():
    tracker = make_tracker(
        "ask_followup",
        "und was mach ich wenn er trotzdem nicht zahlen will",
        slots=advised("extra_requests", EXTRA, client_name="Herrn Brandt"),
    )
    dispatcher, events = await run(case_actions.ActionCaseFollowup(), tracker)
    assert "Kompromiss" in texts(dispatcher) and "Herr Brandt" in texts(dispatcher)
    assert "Fünf Fragen" not in texts(dispatcher)  # not the case's questions again
    state = slot_events(events)["case_followup"]
    assert state["step"] == "compromise_offer"
    tracker = make_tracker(
        "ask_followup",
        "und wenn er das auch ablehnt?",
        slots=advised("extra_requests", EXTRA, case_followup=state),
    )
    dispatcher, events = await run(case_actions.ActionCaseFollowup(), tracker)
    assert slot_events(events)["case_followup"]["step"] == "end_relationship"
    payloads = [b["payload"] for m in dispatcher.messages for b in m.get("buttons") or []]
    assert "/ask_end_relationship" in payloads


async def test_followup_action_insisting_changes_the_offer_and_keeps_the_draft():
    tracker = make_tracker(
        "ask_followup",
        "und wenn er trotzdem auf der gutschrift besteht?",
        slots=advised("our_fault", {**OUR_FAULT, "fault_offer": "redo"}),
    )
    dispatcher, events = await run(case_actions.ActionCaseFollowup(), tracker)
    slots = slot_events(events)
    assert slots["fault_offer"] == "discount"
    assert slots["draft"]["answers"]["fault_offer"] == "discount"
    assert "[Betrag]" in texts(dispatcher)
    assert not any(m.get("response") == "utter_clarify_case" for m in dispatcher.messages)


async def test_followup_action_without_a_case_asks_which_one():
    dispatcher, events = await run(
        case_actions.ActionCaseFollowup(),
        make_tracker("ask_followup", "und wenn er trotzdem nicht zahlt?"),
    )
    assert events == []
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert "/report_extra_requests" in payloads and "/report_own_fault" in payloads


async def test_change_draft_action_rewrites_with_the_new_offer():
    tracker = make_tracker(
        "change_draft",
        "aber ich will ja eigentlich neu drucken",
        slots=advised("our_fault", OUR_FAULT, client_name="Frau Keller"),
    )
    dispatcher, events = await run(case_actions.ActionChangeDraft(), tracker)
    slots = slot_events(events)
    assert slots["fault_offer"] == "redo" and slots["draft"]["answers"]["fault_offer"] == "redo"
    said = texts(dispatcher)
    assert "mit Nachbesserung" in said and "bessern kostenlos nach" in said
    assert "Sehr geehrte Frau Keller," in said and "QWZX" not in said
    assert "halte nichts fest" not in said


async def test_change_draft_action_by_button_and_a_changed_recommendation():
    tracker = make_tracker(
        "change_draft",
        '/change_draft{"draft_choice": "counter"}',
        slots=advised("extra_requests", EXTRA),
        entities=[{"entity": "draft_choice", "value": "counter"}],
    )
    dispatcher, events = await run(case_actions.ActionChangeDraft(), tracker)
    assert slot_events(events)["extra_compromise"] == "counter"
    assert slot_events(events)["draft"]["kind"] == "counter"
    assert "Empfehlung" in dispatcher.messages[0]["text"]
    assert "Referenz" in texts(dispatcher)


async def test_change_draft_action_without_a_new_choice_shows_the_draft_and_the_options():
    tracker = make_tracker(
        "change_draft", "mach mir einen entwurf", slots=advised("our_fault", OUR_FAULT)
    )
    dispatcher, events = await run(case_actions.ActionChangeDraft(), tracker)
    assert "Entwurf" in dispatcher.messages[0]["text"]
    assert [b["title"] for b in dispatcher.messages[1]["buttons"]][:2] == [
        "Nachbesserung",
        "Gutschrift",
    ]
    assert slot_events(events)["draft"]["kind"] == "apology"


async def test_change_draft_action_for_a_talk_step_says_why_there_is_no_draft():
    answers = {"abuse_frequency": "first", "abuse_severity": "insult"}
    tracker = make_tracker(
        "change_draft", "mach mir einen entwurf", slots=advised("abusive", answers)
    )
    dispatcher, events = await run(case_actions.ActionChangeDraft(), tracker)
    assert events == [] and "Gespräch" in texts(dispatcher)


@pytest.mark.parametrize(
    "intent,variant,closing",
    [
        ("ask_shorter", "short", "Viele Grüße"),
        ("ask_formal", "formal", "Mit freundlichen Grüßen"),
        ("ask_rephrase", "alt", "Viele Grüße"),
    ],
)
async def test_variant_action_rewrites_the_last_draft(intent, variant, closing):
    tracker = make_tracker(intent, "x", slots=advised("false_claims", {
        "false_claim": RAW["false_claim"], "false_checked": "no", "false_evidence": "documents",
    }))  # fmt: skip
    dispatcher, events = await run(case_actions.ActionDraftVariant(), tracker)
    assert slot_events(events)["draft"]["variant"] == variant
    said = texts(dispatcher)
    assert closing in said and "geprüft" not in said and "QWZX" not in said


async def test_variant_action_keeps_a_changed_draft_and_alternates_rephrasing():
    changed = {**OUR_FAULT, "fault_offer": "redo"}
    stored = drafts.Draft("our_fault", "apology", changed, None, "alt").to_slot()
    tracker = make_tracker(
        "ask_rephrase", "anders formulieren", slots=advised("our_fault", changed, draft=stored)
    )
    dispatcher, events = await run(case_actions.ActionDraftVariant(), tracker)
    assert slot_events(events)["draft"]["variant"] == "normal"
    assert "bessern kostenlos nach" in texts(dispatcher)


async def test_variant_action_without_any_draft():
    dispatcher, events = await run(
        case_actions.ActionDraftVariant(), make_tracker("ask_shorter", "kürzer")
    )
    assert events == [] and dispatcher.messages[0]["buttons"]
    answers = {"abuse_frequency": "first", "abuse_severity": "venting"}
    dispatcher, events = await run(
        case_actions.ActionDraftVariant(),
        make_tracker("ask_formal", "förmlicher", slots=advised("abusive", answers)),
    )
    assert events == [] and "keinen Entwurf" in texts(dispatcher)


def test_new_actions_and_slots_are_in_the_domain():
    for action in ("action_case_followup", "action_change_draft", "action_draft_variant"):
        assert action in DOMAIN["actions"]
    for slot in ("draft", "case_followup"):
        assert slot in DOMAIN["slots"]
    for intent in ("ask_followup", "change_draft"):
        assert intent in DOMAIN["intents"]
    assert "draft_choice" in DOMAIN["entities"]
    assert SlotSet("draft", None)  # the slot event the actions return exists
