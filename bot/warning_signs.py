"""The ten warning signs check (seed 001): questions, evaluation, recommendation."""

from __future__ import annotations

from functools import lru_cache
from typing import Mapping

from bot.playbooks import config
from bot.texts import lookup, text

SLOT_PREFIX = "sign_"


def keys() -> tuple[str, ...]:
    return tuple(config()["warning_signs"]["keys"])


def form_name() -> str:
    return config()["warning_signs"]["form"]


def slots() -> tuple[str, ...]:
    return tuple(SLOT_PREFIX + k for k in keys())


@lru_cache(maxsize=1)
def _signs() -> dict[str, dict]:
    return {item["key"]: item for item in lookup("knowledge", "warning_signs")}


def question(key: str, number: int | None = None) -> str:
    sign = _signs()[key]
    number = number or keys().index(key) + 1
    return f"{number}/{len(keys())} · {sign['question']}"


def explanation(key: str) -> str:
    return _signs()[key]["explanation"]


def verdict(yes_count: int) -> str:
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
    short = lookup("knowledge", "short_names")
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
