"""The warning-sign verdict (bot/warning_signs.py) and the follow-up question of the form.

Seeds 000/001: a breach of law or ethics (theft, harassment) decides alone; disrespect that
goes on after a clarifying talk decides alone; a clarifying talk that changed nothing weighs
the other signs more; without a single answer there is no verdict.
"""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import warning_signs as ws_actions
from bot import texts, warning_signs

KEYS = warning_signs.keys()
TALK = warning_signs.followup_key()


def answers(yes=(), skip=(), talk=None) -> dict:
    given = {k: "yes" if k in yes else "skip" if k in skip else "no" for k in KEYS}
    given[TALK] = talk
    return given


def result(name: str) -> str:
    return texts.text("knowledge", f"warning_result.{name}")


def test_one_ethics_yes_overrides_the_count():
    msgs = warning_signs.evaluate(answers(yes=["ethics"]))
    joined = "\n".join(msgs)
    assert warning_signs.assessment(answers(yes=["ethics"])) == "ethics"
    assert result("ethics") in msgs
    assert "Noch kein Grund für eine Trennung" not in joined  # never before "no compromise"
    assert result("few") not in msgs
    assert "1 von 10 Warnzeichen" in joined


@pytest.mark.parametrize("talk", ["yes", "no", "skip", None])
def test_ethics_decides_with_or_without_a_talk_and_other_signs(talk):
    given = answers(yes=["ethics", "price", "respect"], talk=talk)
    assert warning_signs.assessment(given) == "ethics"


def test_disrespect_after_a_clarifying_talk_decides_alone():
    given = answers(yes=["respect"], talk="yes")
    assert warning_signs.assessment(given) == "respect_after_talk"
    msgs = warning_signs.evaluate(given)
    assert result("respect_after_talk") in msgs and result("few") not in msgs


def test_disrespect_without_a_talk_asks_for_one_first():
    for talk in ("no", "skip", None):
        given = answers(yes=["respect"], talk=talk)
        assert warning_signs.assessment(given) == "few"
        assert "klärendes Gespräch" in result("few")


def test_a_talk_that_changed_nothing_weighs_the_signs_more():
    assert warning_signs.assessment(answers(yes=["price"], talk="yes")) == "after_talk_few"
    three = answers(yes=["price", "payment", "changes"], talk="yes")
    assert warning_signs.assessment(three) == "after_talk"
    assert warning_signs.assessment(answers(yes=["price"], talk="no")) == "few"
    assert warning_signs.assessment(answers(yes=["price", "payment", "changes"])) == "several"
    many = answers(yes=KEYS[:3] + KEYS[4:7])  # six signs, ethics not among them
    assert warning_signs.assessment(many) == "many"


def test_no_yes_no_verdict_beyond_none():
    assert warning_signs.assessment(answers()) == "none"
    assert warning_signs.assessment(answers(talk="yes")) == "none"


def test_all_questions_skipped_gives_no_assessment():
    given = answers(skip=KEYS)
    assert warning_signs.assessment(given) == "no_answers"
    msgs = warning_signs.evaluate(given)
    assert msgs == [result("no_answers")]
    assert "keine Einschätzung" in msgs[0] and "noch einmal" in msgs[0]
    assert warning_signs.evaluate({}) == msgs  # nothing answered at all


def test_some_skipped_are_named():
    joined = "\n".join(warning_signs.evaluate(answers(yes=["payment"], skip=["price"])))
    assert "Übersprungen: ständiges Preisdrücken" in joined


def test_the_follow_up_is_asked_only_after_a_yes():
    assert not warning_signs.asks_followup(answers())
    assert warning_signs.asks_followup(answers(yes=["payment"]))
    assert warning_signs.followup_slot() == "sign_clarified"
    assert warning_signs.form_slots() == warning_signs.slots() + ("sign_clarified",)
    assert warning_signs.question(TALK).startswith("Zusatzfrage · ")
    assert warning_signs.question("payment").startswith("5/10 · ")


def _tracker(slots: dict) -> Tracker:
    return Tracker(
        "tester",
        {"requested_slot": None, **slots},
        {"text": "Nein", "intent": {"name": "deny", "confidence": 1.0}, "entities": []},
        [],
        False,
        None,
        {"name": "warning_signs_form"},
        "action_listen",
    )


async def test_the_form_skips_the_follow_up_without_a_yes():
    form = ws_actions.ValidateWarningSignsForm()
    domain_slots = list(warning_signs.form_slots())
    none_yes = _tracker({f"sign_{k}": "no" for k in KEYS})
    order = await form.required_slots(domain_slots, CollectingDispatcher(), none_yes, {})
    assert "sign_clarified" not in order
    one_yes = _tracker({**{f"sign_{k}": "no" for k in KEYS}, "sign_payment": "yes"})
    order = await form.required_slots(domain_slots, CollectingDispatcher(), one_yes, {})
    assert order[-1] == "sign_clarified"
    assert form.handles("sign_clarified")
    assert form.parse_answer("sign_clarified", "überspringen") == "skip"


async def test_the_result_action_reads_the_follow_up():
    slots = {f"sign_{k}": "no" for k in KEYS}
    slots.update(sign_respect="yes", sign_clarified="yes")
    dispatcher = CollectingDispatcher()
    await ws_actions.ActionWarningSignsResult().run(dispatcher, _tracker(slots), {})
    said = "\n".join(m.get("text") or "" for m in dispatcher.messages)
    assert result("respect_after_talk") in said


async def test_the_verdict_offers_the_ways_on_as_buttons():
    slots = {f"sign_{k}": "no" for k in KEYS}
    slots.update(sign_payment="yes")
    dispatcher = CollectingDispatcher()
    await ws_actions.ActionWarningSignsResult().run(dispatcher, _tracker(slots), {})
    last = dispatcher.messages[-1]
    assert last["text"] == result("next")
    assert [b["payload"] for b in last["buttons"]] == [
        "/ask_legal",
        "/ask_how_to_terminate",
        "/start_roleplay",
    ]
    assert all(b["title"] for b in last["buttons"])
    assert not any(m.get("buttons") for m in dispatcher.messages[:-1])  # one button set
    # every sign skipped: no verdict, no way on named, no buttons
    dispatcher = CollectingDispatcher()
    skipped = {f"sign_{k}": "skip" for k in KEYS}
    await ws_actions.ActionWarningSignsResult().run(dispatcher, _tracker(skipped), {})
    assert [m["text"] for m in dispatcher.messages] == [result("no_answers")]
    assert not dispatcher.messages[0].get("buttons")


async def test_the_follow_up_question_is_asked_with_the_buttons():
    ask = next(c() for c in ws_actions.ASK_ACTIONS if c().name() == "action_ask_sign_clarified")
    dispatcher = CollectingDispatcher()
    domain = {"responses": {"utter_warning_buttons": [{"buttons": [{"title": "Ja"}]}]}}
    await ask.run(dispatcher, _tracker({}), domain)
    assert dispatcher.messages[0]["text"] == warning_signs.question(TALK)
    assert dispatcher.messages[0]["buttons"] == [{"title": "Ja"}]


@pytest.mark.parametrize(
    ("message", "signs"),
    [
        ("unser kunde zahlt seit 3 monaten seine rechnungen nicht", ("payment",)),
        ("Der Kunde zahlt immer zu spät und drückt ständig die Preise", ("payment", "price")),
        ("er will staendig gratis extras und beschimpft uns", ("expectations", "respect")),
        ("ob es sich noch lohnt mit denen", ()),
        ("der kunde zahlt seit jahren puenktlich", ()),
        ("/ask_end_relationship", ()),
        ("", ()),
    ],
)
def test_signs_named_in_the_starting_message(message, signs):
    assert warning_signs.signs_in(message) == signs


def test_every_sign_has_a_short_name():
    for key in warning_signs.keys():
        assert warning_signs.short_name(key)
