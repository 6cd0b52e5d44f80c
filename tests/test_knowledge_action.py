"""action_explain_topic: short first, "Mehr dazu", no block twice in a row, acute distress."""

from __future__ import annotations

from typing import List, Optional

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from trackers import DOMAIN, make_tracker, texts

from actions import knowledge as actions
from bot import knowledge
from bot.texts import lookup, text, text_list

TOPIC_INTENTS = {
    "ask_how_to_terminate": "how_to_terminate",
    "ask_legal": "legal",
    "ask_after_termination": "after_termination",
    "report_stress": "stress",
    "help": "help",
}
MORE = ("Mehr dazu", "/ask_more")


def tracker(
    intent: str,
    message: str = "",
    *,
    said: Optional[List[str]] = None,
    slots: Optional[dict] = None,
    confidence: float = 0.99,
    ranking: Optional[List[tuple]] = None,
):
    """A tracker whose previous turn had the coach say ``said``."""
    t = make_tracker(intent, message, slots=slots)
    t.latest_message["intent"]["confidence"] = confidence
    if ranking is not None:
        t.latest_message["intent_ranking"] = [{"name": n, "confidence": c} for n, c in ranking]
    if said is not None:
        t.events = (
            [{"event": "user", "text": "vorher"}]
            + [{"event": "bot", "text": s} for s in said]
            + [{"event": "user", "text": message}]
        )
    return t


async def run(t):
    dispatcher = CollectingDispatcher()
    events = await actions.ActionExplainTopic().run(dispatcher, t, DOMAIN)
    return dispatcher.messages, events


def slots(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def buttons(message):
    return [(b["title"], b["payload"]) for b in message.get("buttons") or []]


# --------------------------------------------------------------------------- short first
@pytest.mark.parametrize("intent,topic", sorted(TOPIC_INTENTS.items()))
async def test_every_topic_answers_short_first_with_more_button(intent, topic):
    messages, events = await run(tracker(intent))
    assert len(messages) == 1
    answer = messages[0]["text"]
    assert answer == knowledge.parts(topic)[0]
    assert text("knowledge", f"topics.{topic}.short") in answer
    assert text("knowledge", f"topics.{topic}.step") in answer  # the one next step
    assert len(answer) <= 650 and "•" not in answer
    assert buttons(messages[0]) == [MORE]
    assert slots(events) == {"topic": topic, "topic_part": 1}


async def test_more_continues_with_the_next_part_of_the_last_topic():
    details = text_list("knowledge", "topics.legal.details")
    messages, events = await run(
        tracker("ask_more", "mehr dazu", slots={"topic": "legal", "topic_part": 1})
    )
    assert [m["text"] for m in messages] == [details[0]]
    assert buttons(messages[0]) == [MORE]
    assert slots(events) == {"topic": "legal", "topic_part": 2}


async def test_more_walks_through_all_parts_then_offers_next_steps():
    part, seen = 1, []
    last = None
    for _ in range(len(knowledge.parts("how_to_terminate")) - 1):
        messages, events = await run(
            tracker(
                "ask_more", "mehr dazu", slots={"topic": "how_to_terminate", "topic_part": part}
            )
        )
        seen += [m["text"] for m in messages]
        part = slots(events)["topic_part"]
        last = messages
    details = text_list("knowledge", "topics.how_to_terminate.details")
    assert seen[: len(details)] == details
    # the last part is followed by the related next steps: the role-play first
    closing = last[-1]
    assert closing["text"] == text("knowledge", "topics.how_to_terminate.next.text")
    assert ("Gespräch üben", "/start_roleplay") in buttons(closing)
    assert MORE not in buttons(closing)
    # once everything was shown: said briefly, with the next steps again
    messages, events = await run(
        tracker("ask_more", "mehr dazu", slots={"topic": "how_to_terminate", "topic_part": part})
    )
    assert len(messages) == 1
    assert messages[0]["text"] == text("knowledge", "chat.all_shown")
    assert ("Gespräch üben", "/start_roleplay") in buttons(messages[0])
    assert slots(events)["topic_part"] == part


async def test_after_legal_the_next_step_is_the_termination_conversation():
    end = len(knowledge.parts("legal"))
    messages, _ = await run(tracker("ask_more", slots={"topic": "legal", "topic_part": end}))
    assert "/ask_how_to_terminate" in [p for _, p in buttons(messages[0])]


async def test_more_without_a_topic_asks_what_about():
    messages, events = await run(tracker("ask_more", "mehr dazu"))
    assert [m["text"] for m in messages] == [text("knowledge", "chat.no_topic")]
    assert slots(events) == {"topic": None, "topic_part": None}


async def test_the_topic_follows_the_current_intent_not_the_slot():
    messages, events = await run(
        tracker("ask_legal", "und rechtlich?", slots={"topic": "stress", "topic_part": 3})
    )
    assert messages[0]["text"] == knowledge.parts("legal")[0]
    assert slots(events) == {"topic": "legal", "topic_part": 1}


# --------------------------------------------------------------------------- no repeats
async def test_the_same_block_is_not_sent_twice_in_a_row():
    stress = knowledge.parts("stress")[0]
    messages, _ = await run(tracker("report_stress", "schon wieder der kunde", said=[stress]))
    assert len(messages) == 1
    again = messages[0]["text"]
    assert again != stress
    assert again.startswith("Das Wichtigste noch mal in einem Satz:")
    assert text("knowledge", "topics.stress.gist") in again
    assert text("knowledge", "topics.stress.step") in again
    assert len(again) < len(stress)


async def test_a_block_of_an_earlier_turn_may_come_again():
    stress = knowledge.parts("stress")[0]
    t = tracker("report_stress", "der kunde schon wieder")
    t.events = [
        {"event": "user", "text": "a"},
        {"event": "bot", "text": stress},
        {"event": "user", "text": "b"},
        {"event": "bot", "text": "etwas anderes"},
        {"event": "user", "text": "der kunde schon wieder"},
    ]
    messages, _ = await run(t)
    assert messages[0]["text"] == stress


async def test_repeated_part_becomes_the_short_variant():
    details = text_list("knowledge", "topics.legal.details")
    messages, _ = await run(
        tracker(
            "ask_more", "mehr dazu", said=[details[0]], slots={"topic": "legal", "topic_part": 1}
        )
    )
    assert messages[0]["text"].startswith("Das Wichtigste noch mal in einem Satz:")


def test_previous_texts_are_the_bot_messages_of_the_turn_before():
    events = [
        {"event": "user", "text": "1"},
        {"event": "bot", "text": "alt"},
        {"event": "user", "text": "2"},
        {"event": "action", "name": "action_listen"},
        {"event": "bot", "text": "A"},
        {"event": "bot", "text": "B", "data": {"buttons": []}},
        {"event": "user", "text": "3"},
    ]
    assert knowledge.previous_texts(events) == ["A", "B"]
    assert knowledge.previous_texts([{"event": "bot", "text": "x"}]) == []
    assert knowledge.previous_texts([]) == []
    assert knowledge.previous_texts(events[:3]) == ["alt"]


# --------------------------------------------------------------------------- acute distress
async def test_the_measured_conversation_gets_three_different_short_replies():
    """The stress text, then "zu viel text …", then "ich kann echt nicht mehr"."""
    first, _ = await run(tracker("report_stress", "der kunde macht mich fertig"))
    stress = first[0]["text"]
    assert stress == knowledge.parts("stress")[0]

    second, events = await run(
        tracker("report_stress", "zu viel text, wie krieg ich JETZT den kopf frei?", said=[stress])
    )
    assert len(second) == 1
    calm = second[0]["text"]
    assert calm in text_list("knowledge", "stress_now.distress")
    assert len(calm) <= 300 and "•" not in calm and calm != stress
    assert "Nur eins" in calm  # ONE thing to do now
    assert slots(events) == {"topic": "stress", "topic_part": 0}

    third, _ = await run(tracker("report_stress", "ich kann echt nicht mehr", said=[calm]))
    assert len(third) == 1
    crisis = third[0]["text"]
    assert "Telefonseelsorge" in crisis and "0800 111 0 111" in crisis
    assert "Betriebsarzt" in crisis
    assert crisis not in (stress, calm)


@pytest.mark.parametrize(
    "message",
    ["ich heul gleich", "lieg seit stunden wach", "mir ist alles zu viel", "ich bin total am ende"],
)
async def test_distress_gets_a_short_calm_reply_with_one_thing_to_do(message):
    messages, _ = await run(tracker("report_stress", message))
    assert len(messages) == 1
    reply = messages[0]["text"]
    assert reply == text_list("knowledge", "stress_now.distress")[0]
    assert "Telefonseelsorge" not in reply
    assert buttons(messages[0]) == [MORE]  # more only on request


async def test_distress_twice_in_a_row_gets_another_exercise():
    options = text_list("knowledge", "stress_now.distress")
    messages, _ = await run(tracker("report_stress", "ich heul gleich", said=[options[0]]))
    assert messages[0]["text"] == options[1]


@pytest.mark.parametrize(
    "message",
    [
        "ich kann nicht mehr",
        "will nicht mehr",
        "ich halte das nicht aus",
        "hat alles keinen sinn mehr",
    ],
)
async def test_crisis_names_where_to_get_help(message):
    messages, events = await run(tracker("report_stress", message))
    assert len(messages) == 1
    reply = messages[0]["text"]
    assert "Telefonseelsorge" in reply and "0800 111 0 111" in reply
    assert "Sozialberatung" in reply and "EAP" in reply
    assert "Tag und Nacht" in reply and "anonym" in reply and "kostenlos" in reply
    assert slots(events) == {"topic": "stress", "topic_part": 0}


async def test_crisis_repeated_is_short_and_still_names_the_number():
    crisis = text("knowledge", "stress_now.crisis")
    messages, _ = await run(tracker("report_stress", "ich kann nicht mehr", said=[crisis]))
    assert messages[0]["text"] == text("knowledge", "stress_now.crisis_repeat")
    assert "0800 111 0 111" in messages[0]["text"]


async def test_crisis_comes_first_in_any_topic():
    messages, _ = await run(tracker("ask_legal", "ich kann nicht mehr. was muss ich beachten?"))
    assert "0800 111 0 111" in messages[0]["text"]


async def test_distress_words_in_a_legal_question_get_the_legal_answer():
    messages, _ = await run(tracker("ask_legal", "mir ist alles zu viel, was gilt rechtlich?"))
    assert messages[0]["text"] == knowledge.parts("legal")[0]


# --------------------------------------------------------------------------- cue phrases
async def test_the_coachs_own_phrase_gets_the_answer_it_was_meant_for():
    messages, events = await run(tracker("report_stress", "Das lässt mich nicht los"))
    assert len(messages) == 1
    reply = messages[0]["text"]
    assert reply == text("knowledge", "stress_now.cues.not_letting_go")
    assert "kein Problem" not in reply
    assert buttons(messages[0]) == [MORE]
    # "Mehr dazu" goes on with the stress details, not the short answer again
    assert slots(events) == {"topic": "stress", "topic_part": 1}
    more, _ = await run(tracker("ask_more", "mehr dazu", slots=slots(events)))
    assert more[0]["text"] == text_list("knowledge", "topics.stress.details")[0]


# --------------------------------------------------------------------------- off topic
async def test_a_doubtful_stress_question_about_something_else_gets_its_own_topic():
    messages, events = await run(
        tracker(
            "report_stress",
            "kann ich dem autohaus kuendigen?",
            said=[knowledge.parts("stress")[0]],
            confidence=0.58,
            ranking=[("report_stress", 0.58), ("ask_legal", 0.08), ("out_of_scope", 0.08)],
        )
    )
    assert messages[0]["text"] == knowledge.parts("legal")[0]
    assert slots(events)["topic"] == "legal"


async def test_without_another_topic_intent_the_doubtful_question_gets_help():
    messages, _ = await run(
        tracker(
            "report_stress",
            "kann ich dem autohaus kuendigen?",
            confidence=0.6,
            ranking=[("report_stress", 0.6), ("out_of_scope", 0.3)],
        )
    )
    assert messages[0]["text"] == knowledge.parts("help")[0]


@pytest.mark.parametrize(
    "message,confidence",
    [
        ("kann ich dem autohaus kuendigen?", 0.95),  # the NLU is sure
        ("wie schalte ich nach feierabend ab?", 0.5),  # a stress question
        ("der kunde ist so anstrengend", 0.5),  # no question
    ],
)
async def test_stress_messages_keep_the_stress_topic(message, confidence):
    t = tracker("report_stress", message, confidence=confidence, ranking=[("ask_legal", 0.1)])
    assert actions.topic_of(t) == "stress"


def test_every_next_step_button_payload_is_a_domain_intent():
    intents = set(DOMAIN["intents"])
    for topic in knowledge.TOPICS:
        for button in lookup("knowledge", f"topics.{topic}.next")["buttons"]:
            assert button["payload"][1:] in intents, (topic, button)


async def test_domain_knows_the_slots_and_the_intent():
    assert {"topic", "topic_part"} <= set(DOMAIN["slots"])
    for name in ("topic", "topic_part"):
        assert DOMAIN["slots"][name]["influence_conversation"] is False
        assert DOMAIN["slots"][name]["mappings"] == [{"type": "custom"}]
    assert "ask_more" in DOMAIN["intents"]
    messages, _ = await run(tracker("help"))
    assert "Gespräch üben" in texts_of(messages)
    assert SlotSet("topic", "help") in (await run(tracker("help")))[1]


def texts_of(messages):
    dispatcher = CollectingDispatcher()
    dispatcher.messages = messages
    return texts(dispatcher)
