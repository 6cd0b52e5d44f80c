"""What a user turn in a role-play does: announce, give a reason, offer, ask, apologise.

Rule-based, from the phrase lists of ``acts.yml`` on the normalised text
(:func:`bot.normalize.normalize`), plus the rubric's flags where the rubric already knows
(a clear end, a reason, a transition offer, thanks, an attack). The engine lets the client
answer what the turn does and records what the conversation has established.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Pattern

import yaml

from bot.normalize import normalize

ACTS_FILE = Path(__file__).with_name("acts.yml")

#: the acts a turn can do (several at once)
ACTS: tuple[str, ...] = (
    "announce",
    "hedged_announce",
    "reason",
    "report",
    "handover",
    "thanks",
    "apology",
    "empathy",
    "offer",
    "question",
    "silence",
    "off_topic",
    "attack",
)
#: rubric flags that mean an act the phrase lists may miss
_FLAG_ACTS = {
    "clear_end": "announce",
    "reason": "reason",
    "transition_offer": "handover",
    "thanks": "thanks",
    "deescalation": "empathy",
}
#: kinds of question, in the order they are tried ("other" when none fits)
QUESTION_KINDS: tuple[str, ...] = ("next", "when", "why", "opinion")
HOSTILE_FLAGS = frozenset({"blame", "sarcasm", "insult", "counter_attack", "generalisation"})
_SENTENCE_END = re.compile(r"[.!?…]+")


@dataclass(frozen=True)
class TurnActs:
    """The acts of one user turn.

    ``offer``/``question`` name their kind (or None); ``handover`` what a handover offers
    (recommendation, materials, completion).
    """

    acts: frozenset[str] = field(default_factory=frozenset)
    offer: str | None = None
    question: str | None = None
    handover: frozenset[str] = field(default_factory=frozenset)

    def __contains__(self, act: object) -> bool:
        """``"offer" in acts``."""
        return act in self.acts

    @property
    def substantive(self) -> bool:
        """The turn moves the conversation on: announcement, reason or handover."""
        return bool(self.acts & {"announce", "reason", "report", "handover"})


@dataclass(frozen=True)
class _Rules:
    silence_words: frozenset[str]
    silence_max: int
    lists: dict[str, tuple[Pattern[str], ...]]
    offer_kinds: dict[str, tuple[Pattern[str], ...]]
    offer_markers: tuple[Pattern[str], ...]
    question_start: Pattern[str]
    question_kinds: dict[str, tuple[Pattern[str], ...]]
    handover_kinds: dict[str, tuple[Pattern[str], ...]]


def _compile(patterns: Iterable[str]) -> tuple[Pattern[str], ...]:
    return tuple(re.compile(rf"\b(?:{p})\b") for p in patterns)


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    data = yaml.safe_load(ACTS_FILE.read_text(encoding="utf-8"))
    simple = ("announce", "reason", "report", "handover", "thanks", "apology", "empathy")
    return _Rules(
        silence_words=frozenset(normalize(w) for w in data["silence"]["words"]),
        silence_max=int(data["silence"]["max_words"]),
        lists={name: _compile(data[name]) for name in (*simple, "off_topic")},
        offer_kinds={kind: _compile(p) for kind, p in data["offer"].items()},
        offer_markers=_compile(data["offer_markers"]),
        question_start=re.compile(data["question"]["starts"]),
        question_kinds={k: _compile(data["question"][k]) for k in QUESTION_KINDS},
        handover_kinds={k: _compile(p) for k, p in data["handover_kinds"].items()},
    )


def _any(patterns: Iterable[Pattern[str]], text: str) -> bool:
    return any(p.search(text) for p in patterns)


def _says_little(norm: str, rules: _Rules) -> bool:
    words = re.findall(r"\w+", norm)
    return len(words) <= rules.silence_max and all(w in rules.silence_words for w in words)


def _question(norm: str, rules: _Rules) -> str | None:
    sentences = [s.strip() for s in re.split(r"(?<=[.!?…])\s+", norm) if s.strip()]
    asked = [s for s in sentences if s.endswith("?") or rules.question_start.search(s)]
    if not asked:
        return None
    last = asked[-1]
    for kind, patterns in rules.question_kinds.items():
        if _any(patterns, last):
            return kind
    return "other"


def _offer(norm: str, rules: _Rules, acts: set[str]) -> str | None:
    if not _any(rules.offer_markers, norm):
        return None
    for kind in ("discount", "payment_plan", "deadline", "other"):
        if _any(rules.offer_kinds[kind], norm):
            if kind == "deadline" and "handover" in acts:
                return None  # "bis zum 30. übergebe ich alles": a handover, not a deal
            return kind
    return None


def detect(text: str, flags: Iterable[str] = ()) -> TurnActs:
    """The acts of a user turn.

    Args:
        text: What the user said (any spelling; it is normalised here).
        flags: The rubric's flags for the turn (``clear_end``, ``blame``, …), if known.

    Returns:
        The acts, with the kind of offer (discount, deadline, payment_plan, other), of
        question (next, when, why, opinion, other) and what a handover offers.
    """
    rules = _rules()
    norm = normalize(text or "")
    flags = set(flags)
    if not norm.strip():
        return TurnActs(frozenset({"silence"}))
    if _says_little(norm, rules):
        return TurnActs(frozenset({"silence"}))
    acts = {name for name, patterns in rules.lists.items() if _any(patterns, norm)}
    acts |= {act for flag, act in _FLAG_ACTS.items() if flag in flags}
    if flags & HOSTILE_FLAGS:
        acts.add("attack")
    if "hedging" in flags and "announce" in acts:
        acts.discard("announce")  # "vielleicht sollten wir uns trennen": a blurred announcement
        acts.add("hedged_announce")
    offer = _offer(norm, rules, acts)
    if offer:
        acts.add("offer")
    question = _question(norm, rules)
    if question:
        acts.add("question")
    if "off_topic" in acts and acts & {"announce", "reason", "report", "handover", "offer"}:
        acts.discard("off_topic")  # "nach dem Urlaub endet die Zusammenarbeit" is on topic
    handover = frozenset(
        kind
        for kind, patterns in rules.handover_kinds.items()
        if "handover" in acts and _any(patterns, norm)
    )
    return TurnActs(frozenset(acts), offer, question, handover)


__all__ = ["ACTS", "HOSTILE_FLAGS", "TurnActs", "detect"]
