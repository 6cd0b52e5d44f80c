"""The conversation around a role-play: set-up choices, out-of-character commands, progress.

The engine (``engine.py``) plays the client; this module decides what a user message
means *around* it. Vocabulary: ``session.yml``; texts: ``texts.yml``.
"""

from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import yaml

from bot import answers
from bot.answers import normalize
from bot.roleplay import engine

COMMANDS = ("hint", "pause", "resume", "restart")
MAX_TURN_CHARS = 1000


@lru_cache(maxsize=1)
def _vocab() -> dict:
    return yaml.safe_load(Path(__file__).with_name("session.yml").read_text(encoding="utf-8"))


def _core(text: str) -> str:
    words = [
        w for w in normalize(text).split() if w not in {normalize(f) for f in _vocab()["filler"]}
    ]
    return " ".join(words)


def wants_to_stop(text: str) -> bool:
    """True when the user steps out of the role-play for good ("ich will aufhören", …).

    A sentence to the client that merely contains such a word ("ich möchte die
    Zusammenarbeit beenden") is no stop: only the whole message counts, or a short one that
    names the exercise itself ("ich möchte das Rollenspiel abbrechen").
    """
    if answers.is_cancel(text):
        return True
    vocab = _vocab()
    core = _core(text)
    if core in {normalize(p) for p in vocab["stop"]}:
        return True
    words = core.split()
    return (
        len(words) <= int(vocab["stop_max_words"])
        and bool(set(words) & {normalize(w) for w in vocab["stop_topics"]})
        and bool(set(words) & {normalize(w) for w in vocab["stop_verbs"]})
    )


def command(text: str) -> str | None:
    """The out-of-character command a message is, or None for an in-character turn."""
    if wants_to_stop(text):
        return "stop"
    raw = (text or "").strip()
    if raw.startswith("/"):  # button payloads like /stop
        raw = raw[1:].split("{", 1)[0].replace("_", " ")
    core = _core(raw)
    if not core or len(core.split()) > 5:
        return None
    for name in COMMANDS:
        if core in {normalize(p) for p in _vocab()["commands"][name]}:
            return name
    return None


def parse_difficulty(text: str) -> int | None:
    """The level 1–3 named in an answer ("2", "leicht", "schwer", …), or None."""
    core = _core(text)
    for level, words in _vocab()["difficulty"].items():
        if core in {normalize(str(w)) for w in words} or any(
            f" {normalize(str(w))} " in f" {core} " for w in words if len(str(w)) > 2
        ):
            return int(level)
    return None


def parse_scenario(
    text: str,
    scenarios: Sequence[Mapping],
    suggested: str | None = None,
    rng: random.Random | None = None,
) -> str | None:
    """The scenario the user picked, or None if the answer names none.

    Understood are an id, a title, a number in the list, the persona's name, "überrasch
    mich" (random, drawn with ``rng``) and "Vorschlag" (``suggested``).
    """
    core = _core(text)
    if not core or not scenarios:
        return None
    if suggested and core in {normalize(p) for p in _vocab()["suggested"]}:
        return suggested
    if core in {normalize(p) for p in _vocab()["surprise"]}:
        return (rng or random.Random()).choice([s["id"] for s in scenarios])
    if core.isdigit() and 1 <= int(core) <= len(scenarios):
        return scenarios[int(core) - 1]["id"]
    for s in scenarios:
        if core in (normalize(s["id"]), normalize(s["title"])):
            return s["id"]
    for s in scenarios:  # a distinctive word of the title or the persona's name
        if len(core) >= 4 and (core in normalize(s["title"]) or core in normalize(s["name"])):
            return s["id"]
    return None


def clip_turn(text: str) -> str:
    """The user's turn on one line, cut to MAX_TURN_CHARS."""
    text = " ".join((text or "").split())
    return text[:MAX_TURN_CHARS]


def progress(results: Iterable[Mapping]) -> dict:
    """Per-criterion series over the user's finished role-plays (oldest first), with the trend."""
    results = list(results)
    series = {
        c: [round(100 * float(r["scores"][c])) for r in results if r["scores"].get(c) is not None]
        for c in engine.CRITERIA
    }
    overall = [round(float(r["overall"])) for r in results]
    trend = {}
    for c, values in series.items():
        if len(values) < 2:
            trend[c] = "new"
        else:
            delta = values[-1] - values[0]
            trend[c] = "up" if delta >= 5 else "down" if delta <= -5 else "flat"
    return {"count": len(results), "overall": overall, "series": series, "trend": trend}
