"""The ten warning signs check (seed 001): questions, evaluation, recommendation.

After the ten signs one follow-up question asks whether a clarifying talk already happened
without anything changing (seeds 000, 001); it is asked only when at least one sign is "yes".
The count of "yes" answers gives the verdict, except where one sign decides alone: a breach of
law or ethics always, disrespect once the clarifying talk changed nothing (``playbooks.yml``,
``warning_signs.overriding`` / ``overriding_after_talk``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Mapping, Pattern

from bot.normalize import normalize
from bot.playbooks import config
from bot.texts import lookup, text

SLOT_PREFIX = "sign_"
YES = "yes"


def _config() -> dict:
    return config()["warning_signs"]


def keys() -> tuple[str, ...]:
    """The keys of the ten warning signs, in the order they are asked."""
    return tuple(_config()["keys"])


def followup_key() -> str:
    """The key of the follow-up question: a clarifying talk already happened, in vain?"""
    return _config()["followup"]


def followup_slot() -> str:
    """The slot of the follow-up question (``sign_clarified``)."""
    return SLOT_PREFIX + followup_key()


def form_name() -> str:
    """Name of the Rasa form that asks the warning signs."""
    return _config()["form"]


def slots() -> tuple[str, ...]:
    """The slot of each warning sign (``sign_<key>``), in the order they are asked."""
    return tuple(SLOT_PREFIX + k for k in keys())


def form_slots() -> tuple[str, ...]:
    """Every slot the form may ask: the ten signs, then the follow-up question's."""
    return slots() + (followup_slot(),)


def asks_followup(answers: Mapping[str, str | None]) -> bool:
    """Whether the follow-up question is asked: at least one sign was answered "yes".

    Args:
        answers: The answers by sign key ('yes'/'no'/'skip'/None).

    Returns:
        True when the clarifying-talk question belongs to the check.
    """
    return any(answers.get(k) == YES for k in keys())


@lru_cache(maxsize=1)
def _positions() -> dict[str, int]:
    return {item["key"]: i for i, item in enumerate(lookup("knowledge", "warning_signs"))}


def _sign_text(key: str, part: str) -> str:
    return text("knowledge", f"warning_signs.{_positions()[key]}.{part}")


@lru_cache(maxsize=1)
def _message_patterns() -> dict[str, tuple[Pattern[str], ...]]:
    spec = _config().get("in_message") or {}
    unknown = set(spec) - set(keys())
    if unknown:
        raise ValueError(f"playbooks.yml warning_signs.in_message: unknown signs {sorted(unknown)}")
    return {key: tuple(re.compile(p) for p in spec[key]) for key in keys() if key in spec}


def signs_in(message: str | None) -> tuple[str, ...]:
    """The warning signs a message already names ("zahlt seit 3 monaten nicht" -> payment).

    Args:
        message: The user's message that started the check (a payload like "/intent" names
            nothing).

    Returns:
        The sign keys, in the order the check asks them.
    """
    if not message or message.startswith("/"):
        return ()
    norm = normalize(message)
    return tuple(
        key
        for key, patterns in _message_patterns().items()
        if any(p.search(norm) for p in patterns)
    )


def short_name(sign: str) -> str:
    """The short name of a sign ("Zahlungsausfälle"), as used in the result."""
    return text("knowledge", f"short_names.{sign}")


def question(key: str, number: int | None = None) -> str:
    """The question for one sign, numbered "n/10" (``number`` defaults to its position).

    The follow-up question is not numbered but labelled ("Zusatzfrage · …").
    """
    if key == followup_key():
        return text("knowledge", "clarifying_talk.ask")
    number = number or keys().index(key) + 1
    return f"{number}/{len(keys())} · {_sign_text(key, 'question')}"


def explanation(key: str) -> str:
    """Why the sign matters (shown when the user asks back)."""
    if key == followup_key():
        return text("knowledge", "clarifying_talk.explanation")
    return _sign_text(key, "explanation")


def verdict(yes_count: int) -> str:
    """The highest level of ``playbooks.yml`` whose threshold ``yes_count`` reaches, or "none"."""
    levels = _config()["levels"]
    chosen = "none"
    for name, threshold in sorted(levels.items(), key=lambda kv: kv[1]):
        if yes_count >= threshold:
            chosen = name
    return chosen


def assessment(answers: Mapping[str, str | None]) -> str:
    """The verdict for a whole check, with the signs that decide alone taken into account.

    Args:
        answers: The answers by key ('yes'/'no'/'skip'/None), the follow-up under
            :func:`followup_key`.

    Returns:
        ``no_answers`` (every sign skipped: no assessment), an overriding sign's verdict
        (``ethics``; ``respect_after_talk``), ``after_talk`` / ``after_talk_few`` (a clarifying
        talk changed nothing), else the level of the count (``none`` … ``many``).
    """
    answered = [k for k in keys() if answers.get(k) in (YES, "no")]
    if not answered:
        return "no_answers"
    yes = {k for k in keys() if answers.get(k) == YES}
    for key in _config().get("overriding") or ():
        if key in yes:
            return key
    talked = answers.get(followup_key()) == YES
    if talked:
        for key in _config().get("overriding_after_talk") or ():
            if key in yes:
                return f"{key}_after_talk"
    level = verdict(len(yes))
    if talked and level != "none":
        return "after_talk_few" if level == "few" else "after_talk"
    return level


def next_buttons(answers: Mapping[str, str | None]) -> list[dict[str, str]]:
    """The buttons under the last message of :func:`evaluate`: the ways on it names.

    Args:
        answers: The answers by sign key, as for :func:`evaluate`.

    Returns:
        Buttons (``title``, ``payload``) for the legal points, the termination talk and the
        role-play – none when every sign was skipped (then no way on is named).
    """
    if assessment(answers) == "no_answers":
        return []
    return [
        {"title": b["title"], "payload": b["payload"]}
        for b in lookup("knowledge", "warning_result.next_buttons")
    ]


def evaluate(answers: Mapping[str, str | None]) -> list[str]:
    """Answers by key ('yes'/'no'/'skip'/None) -> the coach's reasoned recommendation.

    Args:
        answers: The answers by sign key, the follow-up under :func:`followup_key`.

    Returns:
        The messages: how many signs apply and which, the verdict, the skipped signs, what
        comes next – or, when every sign was skipped, only that there is no assessment.
    """
    outcome = assessment(answers)
    if outcome == "no_answers":
        return [text("knowledge", "warning_result.no_answers")]
    yes = [k for k in keys() if answers.get(k) == YES]
    skipped = [k for k in keys() if answers.get(k) not in (YES, "no")]
    short = {k: short_name(k) for k in keys()}
    msgs = []
    if yes:
        msgs.append(
            text(
                "knowledge",
                "warning_result.intro",
                count=len(yes),
                total=len(keys()),
                signs=", ".join(short[k] for k in yes),
            )
        )
    msgs.append(text("knowledge", f"warning_result.{outcome}"))
    if skipped:
        msgs.append(
            text(
                "knowledge", "warning_result.skipped", skipped=", ".join(short[k] for k in skipped)
            )
        )
    msgs.append(text("knowledge", "warning_result.next"))
    return msgs
