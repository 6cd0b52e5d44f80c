"""Knowledge topics of the coach, sized for chat (texts in bot/texts/knowledge.yml).

Every topic answers short first: at most three sentences and the one next step, with a
"Mehr dazu" button. Each "Mehr dazu" sends the next part of the details; after the last part
(and on any further "Mehr dazu") the user gets related next steps as buttons. A reply says
which topic and which part come next, the action keeps that in slots.

A stress message can also be acute: :func:`answer` asks :mod:`bot.distress` and gives a short,
calm reply with one thing to do now instead of a topic text, with help contacts in a crisis,
and the answer a cue phrase was meant for when the user repeats one the coach suggested.

No message goes out twice in a row: every message may carry a short ``variant`` that
:func:`unrepeated` sends instead when the very same text was just sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Collection, List, Optional, Sequence, Tuple

from bot import distress
from bot.normalize import normalize
from bot.texts import lookup, text, text_list

TOPICS = ("how_to_terminate", "legal", "after_termination", "stress", "help")
MORE_PAYLOAD = "/ask_more"
#: topics whose answer yields to acute distress and cue phrases (a crisis yields everywhere)
ACUTE_TOPICS = ("stress", "help")
#: below this confidence a report_stress question without any stress word is doubted
STRESS_DOUBT = 0.9
_QUESTION_START = re.compile(
    r"^(?:kann|koennen|darf|duerfen|muss|muessen|soll|sollte|sollen|ist|sind|gibt|habe|hat|"
    r"wie|was|wann|wo|wer|wem|wen|warum|wieso|weshalb|welche\w*|wozu|womit|wohin)\b"
)


@dataclass(frozen=True)
class Message:
    """One chat message of the coach.

    Attributes:
        text: The text.
        buttons: ``(title, payload)`` pairs.
        variant: What to send instead when this very text was just sent (None: send it).
    """

    text: str
    buttons: Tuple[Tuple[str, str], ...] = ()
    variant: Optional["Message"] = None


@dataclass(frozen=True)
class Reply:
    """What the coach answers, and where "Mehr dazu" goes on from there.

    Attributes:
        messages: The messages, in order.
        topic: The topic "Mehr dazu" continues (None: none).
        part: Index into :func:`parts` of the topic of the next part to send.
    """

    messages: Tuple[Message, ...]
    topic: Optional[str] = None
    part: Optional[int] = None

    @property
    def texts(self) -> List[str]:
        """The texts of the messages."""
        return [m.text for m in self.messages]


def _check(name: str) -> dict:
    if name not in TOPICS:
        raise KeyError(f"unknown topic {name!r}")
    return lookup("knowledge", f"topics.{name}")


def _topic_text(name: str, field: str) -> str:
    return text("knowledge", f"topics.{name}.{field}")


def _more_button() -> Tuple[str, str]:
    return (text("knowledge", "chat.more_button"), MORE_PAYLOAD)


def _repeat(name: str) -> Message:
    """The whole topic in one sentence, plus the next step."""
    gist, step = _topic_text(name, "gist"), _topic_text(name, "step")
    return Message(text("knowledge", "chat.repeat", gist=gist, step=step), (_more_button(),))


def parts(name: str) -> List[str]:
    """The topic as its messages: the short answer with its next step, then the details.

    Args:
        name: One of ``TOPICS``.

    Returns:
        The texts in the order "Mehr dazu" sends them (part 0 is the short answer).

    Raises:
        KeyError: The topic is unknown.
    """
    node = _check(name)
    short = text(
        "knowledge", "chat.short", answer=_topic_text(name, "short"), step=_topic_text(name, "step")
    )
    return [short] + [_topic_text(name, f"details.{i}") for i in range(len(node["details"]))]


def topic(name: str) -> List[str]:
    """All messages of a topic, short answer first.

    Args:
        name: One of ``TOPICS``.

    Returns:
        The same texts as :func:`parts`.

    Raises:
        KeyError: The topic is unknown.
    """
    return parts(name)


def _next_steps(name: str) -> Tuple[str, Tuple[Tuple[str, str], ...]]:
    """The topic's closing text and its buttons of related next steps."""
    buttons = _check(name)["next"].get("buttons") or []
    titles = [_topic_text(name, f"next.buttons.{i}.title") for i in range(len(buttons))]
    pairs = tuple((title, str(b["payload"])) for title, b in zip(titles, buttons, strict=True))
    return _topic_text(name, "next.text"), pairs


def first(name: str) -> Reply:
    """The short answer of a topic with its "Mehr dazu" button.

    Args:
        name: One of ``TOPICS``.

    Returns:
        One message; "Mehr dazu" goes on with part 1. Sent again right after itself, the
        message becomes "Das Wichtigste noch mal in einem Satz: …" (see :func:`unrepeated`).

    Raises:
        KeyError: The topic is unknown.
    """
    short = parts(name)[0]
    return Reply((Message(short, (_more_button(),), _repeat(name)),), topic=name, part=1)


def more(name: Optional[str], part: Optional[int]) -> Reply:
    """The next part of the last topic ("Mehr dazu").

    Args:
        name: The topic of the last knowledge answer (None or unknown: none).
        part: Index of the part to send (see :func:`parts`); None counts as 0.

    Returns:
        The part with a "Mehr dazu" button; the last part followed by the related next steps;
        when everything was shown, a short note with the next steps. Without a topic: a
        question what the user wants to know more about.
    """
    if name not in TOPICS:
        return Reply((Message(text("knowledge", "chat.no_topic")),))
    texts = parts(name)
    index = max(int(part or 0), 0)
    closing, buttons = _next_steps(name)
    if index >= len(texts):
        note = text("knowledge", "chat.all_shown")
        return Reply((Message(note, buttons),), topic=name, part=len(texts))
    message = Message(texts[index], variant=_repeat(name))
    if index + 1 < len(texts):
        message = replace(message, buttons=(_more_button(),))
        return Reply((message,), topic=name, part=index + 1)
    return Reply((message, Message(closing, buttons)), topic=name, part=index + 1)


def _acute(name: str, message: str, previous: Collection[str]) -> Optional[Reply]:
    """The reply to acute distress, a crisis or a cue phrase in ``message``, or None."""
    found = distress.detect(message)
    if found is not None and found.level == "crisis":
        crisis = Message(
            text("knowledge", "stress_now.crisis"),
            variant=Message(text("knowledge", "stress_now.crisis_repeat")),
        )
        return Reply((crisis,), topic="stress", part=0)
    if name not in ACUTE_TOPICS:
        return None
    if found is not None:
        options = text_list("knowledge", "stress_now.distress")
        fresh = [o for o in options if o not in previous] or options
        return Reply((Message(fresh[0], (_more_button(),)),), topic="stress", part=0)
    cue_id = distress.cue(message)
    if cue_id is not None:
        reply = Message(text("knowledge", f"stress_now.cues.{cue_id}"), (_more_button(),))
        # the cue reply stands for the short answer: "Mehr dazu" goes on with the details
        return Reply((reply,), topic="stress", part=1)
    return None


def answer(name: str, message: str = "", previous: Collection[str] = ()) -> Reply:
    """The answer to a question about a topic.

    Args:
        name: One of ``TOPICS`` (the topic of the current message's intent).
        message: The user's message (checked for acute distress, a crisis and cue phrases).
        previous: The coach's messages of the turn before (a distress reply picks another
            exercise than the one just given).

    Returns:
        In a crisis (any topic): a short, calm reply with one thing to do now and where to get
        help. For stress and help: a distress reply with one thing to do now, or the answer a
        cue phrase of the coach was meant for. Otherwise the topic's short answer.

    Raises:
        KeyError: The topic is unknown.
    """
    _check(name)
    return _acute(name, message, previous) or first(name)


def doubtful_stress(message: str, confidence: Optional[float]) -> bool:
    """Whether a message taken for report_stress is rather a question about something else.

    Args:
        message: The user's message.
        confidence: The NLU's confidence in report_stress (None: unknown, not doubted).

    Returns:
        True for a question ("?" or a question word first) without any stress word, distress
        or cue phrase, classified with less than ``STRESS_DOUBT`` confidence – e.g. "kann ich
        dem autohaus kuendigen?".
    """
    if confidence is None or confidence >= STRESS_DOUBT:
        return False
    folded = normalize(message or "")
    if not folded or ("?" not in folded and not _QUESTION_START.match(folded)):
        return False
    return not distress.about_stress(message)


def unrepeated(reply: Reply, previous: Collection[str]) -> Reply:
    """The reply without a message that repeats one of ``previous`` word for word.

    Args:
        reply: The reply about to be sent.
        previous: The coach's messages of the turn before.

    Returns:
        The reply with each repeated message replaced by its short variant (a repeated message
        without one stays); a variant already sent in this reply is not sent twice.
    """
    sent: List[Message] = []
    for message in reply.messages:
        if message.text in previous and message.variant is not None:
            message = message.variant
        if all(message.text != m.text for m in sent):
            sent.append(message)
    return replace(reply, messages=tuple(sent))


def previous_texts(events: Sequence[dict]) -> List[str]:
    """The coach's messages of the turn before the current user message.

    Args:
        events: The tracker's events as dicts (Rasa's ``{"event": "bot", "text": …}``).

    Returns:
        The texts of the ``bot`` events between the last two ``user`` events (all bot texts
        before the only user event; none without one).
    """
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    if not users:
        return []
    start = users[-2] + 1 if len(users) > 1 else 0
    return [
        e["text"]
        for e in events[start : users[-1]]
        if e.get("event") == "bot" and isinstance(e.get("text"), str)
    ]
