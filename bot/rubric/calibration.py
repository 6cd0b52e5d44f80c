"""The rule-based conversation scores calibrated to trainers' labels (a small linear model).

The rules (``conversation.py``) decide what a criterion's verdict is and which sentence it
quotes; they are explainable, but each writer has their own images and wordings that no rule
anticipates (docs/roleplay.md, rows 15–21). So the score of a criterion is moved by a linear
model fitted to the hand-labelled role-play transcripts (``tests/data/roleplay_labels``):

    score = rule score + clamp(b + w · features, ±max_shift), on the rules' side of GOOD

The features are what the rules found in the conversation (the criterion's score, its
sentence scores, the signals of every rule) and tone markers (modal particles, exclamation
marks, quotation marks) – no words: a model of words learns "immer" or a quoted insult as
disrespect, the very keyword traps the rules were built to avoid. The weights live in
``calibration.json``, written by ``devtools/train_calibration.py`` (which also reports the
leave-one-group-out agreement that decides whether a criterion is calibrated at all). The
verdict, the quote and the flaw named stay the rules' (``Judgement.own`` keeps their score).

No Rasa and no numpy here: one dot product per criterion on about eighty numbers.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

from bot.rubric.conversation import _RESPECT_ISSUES, GOOD

MODEL_PATH = Path(__file__).with_name("calibration.json")

#: the signals of the rules, counted over the user's sentences: the respect issues of
#: ``conversation.py`` and the rest
SIGNALS = (
    *_RESPECT_ISSUES,
    "curt",
    "rhetorical",
    "escalation",
    "defensive",
    "justification",
    "negated_insult",
    "polite",
    "deescalation",
    "repair",
    "hedging",
    "weak_hedge",
    "hedged_end",
    "backdown",
    "gives_in",
    "distancing",
    "concession",
    "deal_offer",
    "accommodation_offer",
    "clear_end",
    "decisive",
    "end_point",
    "dated",
    "date",
    "notice_period",
    "reason",
    "reason_fact",
    "reason_specific",
    "vague_reason",
    "rebuttal",
    "sidetracked",
    "transition_docs",
    "transition_tasks",
    "transition_alternative",
    "transition_timeline",
    "transition_support",
    "thanks",
    "positive",
    "courtesy",
)
#: modal particles and markers of tone (folded spelling), as shares of the user's words
PARTICLES = (
    "ja",
    "wohl",
    "doch",
    "mal",
    "halt",
    "eben",
    "eigentlich",
    "ueberhaupt",
    "bitte",
    "nun",
    "ehrlich",
    "schon",
    "nur",
    "einfach",
    "natuerlich",
    "klar",
    "vielleicht",
    "wirklich",
    "sogar",
    "etwa",
)
_WORD = re.compile(r"[^\W\d_]+")


def _fold(word: str) -> str:
    from bot.rubric.lexicon import fold

    return fold(word.lower())


def _sentences(turns: Sequence[Any]) -> list[Any]:
    return [s for t in turns for s in t.sentences] or [t.whole for t in turns]


def common_features(turns: Sequence[Any]) -> dict[str, float]:
    """The features of a conversation that are the same for every criterion."""
    units = _sentences(turns)
    out: dict[str, float] = {}
    for name in SIGNALS:
        out[f"sig_{name}"] = float(sum(1 for s in units if s.has(name)))
    text = " ".join(t.text for t in turns)
    words = [_fold(w) for w in _WORD.findall(text)]
    n = max(1, len(words))
    counts = Counter(words)
    out["exclamations"] = 100.0 * text.count("!") / n
    out["questions"] = 100.0 * text.count("?") / n
    out["capitals"] = float(sum(1 for w in _WORD.findall(text) if len(w) > 2 and w.isupper()))
    out["quotes"] = float(sum(text.count(q) for q in ('"', "„", "“", "»")))
    out["ellipses"] = float(text.count("...") + text.count("…"))
    for p in PARTICLES:
        out[f"p_{p}"] = 100.0 * counts[p] / n
    return out


def dense_features(
    turns: Sequence[Any],
    judgement: Any,
    criterion: str,
    common: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """The features of a conversation for ``criterion`` (names are the model's keys).

    ``judgement``: the rules' judgement of ``criterion``; ``common``: :func:`common_features`
    of ``turns`` when already computed. No words and no other criterion's score: the model
    reads what the rules found and the tone, never a keyword (the traps of issue 11).
    """
    out: dict[str, float] = {"own": float(judgement.own_score), "score": float(judgement.score)}
    units = _sentences(turns)
    values = [float(s.scores.get(criterion, 0.0)) for s in units] or [0.0]
    out["s_min"] = min(values)
    out["s_max"] = max(values)
    out["s_mean"] = sum(values) / len(values)
    out["s_below_07"] = float(sum(v < 0.7 for v in values))
    out["s_below_05"] = float(sum(v < 0.5 for v in values))
    out["lexicon"] = float(sum(1 for s in units for h in s.lexicon if h[0] == criterion))
    out.update(common if common is not None else common_features(turns))
    return out


@lru_cache(maxsize=1)
def model(path: Path = MODEL_PATH) -> Mapping[str, Any]:
    """The fitted weights (``{}`` when the file is missing: no calibration)."""
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def shift(dense: Mapping[str, float], weights: Mapping[str, Any]) -> float:
    """The model's correction of a criterion (bounded by the model's ``max_shift``)."""
    value = float(weights["intercept"])
    for key, (mean, scale, weight) in weights["dense"].items():
        value += weight * (float(dense.get(key, 0.0)) - mean) / scale
    most = float(weights["max_shift"])
    return max(-most, min(most, value))


def within_verdict(moved: float, good: bool) -> float:
    """A moved score kept on the rules' side of ``GOOD`` (and within 0–1)."""
    return min(1.0, max(GOOD, moved)) if good else max(0.0, min(GOOD - 0.01, moved))


def calibrate(turns: Sequence[Any], judged: Mapping[str, Any]) -> dict[str, Any]:
    """``judged`` with each calibrated criterion's score moved by the model.

    The model ranks within the rules' verdict, it never overturns it: a criterion the rules
    found good stays at or above ``GOOD``, one they found weak stays below it, and one with
    nothing said for it (``missing``) keeps its score – so the percentages, the strengths and
    the flaws named in the feedback always agree. The rules' score stays in ``own``; a
    criterion the model does not cover is returned as it is.
    """
    fitted = model().get("criteria", {})
    if not turns or not fitted:
        return dict(judged)
    common = common_features(turns)
    out: dict[str, Any] = {}
    for c, j in judged.items():
        weights = fitted.get(c)
        if not weights or j.issue == "missing":
            out[c] = j
            continue
        moved = j.score + shift(dense_features(turns, j, c, common), weights)
        score = within_verdict(moved, j.own_score >= GOOD)
        out[c] = replace(j, score=round(score, 4), own=j.own_score)
    return out
