"""The ten warning signs check (seed 001): questions, evaluation, recommendation."""

from __future__ import annotations

from functools import lru_cache
from typing import Mapping

from bot.playbooks import config
from bot.texts import lookup, text

SLOT_PREFIX = "sign_"


def keys() -> tuple[str, ...]:
    """The keys of the ten warning signs, in the order they are asked."""
    return tuple(config()["warning_signs"]["keys"])


def form_name() -> str:
    """Name of the Rasa form that asks the warning signs."""
    return config()["warning_signs"]["form"]


def slots() -> tuple[str, ...]:
    """The slot of each warning sign (``sign_<key>``)."""
    return tuple(SLOT_PREFIX + k for k in keys())


@lru_cache(maxsize=1)
def _positions() -> dict[str, int]:
    return {item["key"]: i for i, item in enumerate(lookup("knowledge", "warning_signs"))}


def _sign_text(key: str, part: str) -> str:
    return text("knowledge", f"warning_signs.{_positions()[key]}.{part}")


def question(key: str, number: int | None = None) -> str:
    """The question for one sign, numbered "n/10" (``number`` defaults to its position)."""
    number = number or keys().index(key) + 1
    return f"{number}/{len(keys())} · {_sign_text(key, 'question')}"


def explanation(key: str) -> str:
    """Why the sign matters (shown when the user asks back)."""
    return _sign_text(key, "explanation")


def verdict(yes_count: int) -> str:
    """The highest level of ``playbooks.yml`` whose threshold ``yes_count`` reaches, or "none"."""
    levels = config()["warning_signs"]["levels"]
    chosen = "none"
    for name, threshold in sorted(levels.items(), key=lambda kv: kv[1]):
        if yes_count >= threshold:
            chosen = name
    return chosen


def evaluate(answers: Mapping[str, str | None]) -> list[str]:
    """Answers by key ('yes'/'no'/'skip'/None) -> the coach's reasoned recommendation."""
    yes = [k for k in keys() if answers.get(k) == "yes"]
    skipped = [k for k in keys() if answers.get(k) not in ("yes", "no")]
    short = {k: text("knowledge", f"short_names.{k}") for k in keys()}
    msgs = []
    if yes:
        msgs.append(
            text(
                "knowledge",
                "warning_result.intro",
                count=len(yes),
                signs=", ".join(short[k] for k in yes),
            )
        )
    msgs.append(text("knowledge", f"warning_result.{verdict(len(yes))}"))
    if "ethics" in yes:
        msgs.append(text("knowledge", "warning_result.ethics"))
    if skipped:
        msgs.append(
            text(
                "knowledge", "warning_result.skipped", skipped=", ".join(short[k] for k in skipped)
            )
        )
    msgs.append(text("knowledge", "warning_result.next"))
    return msgs
