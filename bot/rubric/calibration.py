"""The rule-based conversation scores calibrated to trainers' labels (a small linear model).

The rules (``conversation.py``) decide what a criterion's verdict is and which sentence it
quotes; they are explainable, but each writer has their own images and wordings that no rule
anticipates (docs/roleplay.md, rows 15–21). So the score of a criterion is moved by a linear
model fitted to the hand-labelled role-play transcripts (``tests/data/roleplay_labels``):

    score = rule score + clamp(b + w · features, ±max_shift)

The features are what the rules found in the conversation (each criterion's own score, the
sentence scores of the criterion, the respect signals, tone markers such as modal particles
and exclamation marks) plus the words the user used. The weights live in ``calibration.json``,
written by ``devtools/train_calibration.py`` (which also reports the leave-one-group-out
agreement that decides whether a criterion is calibrated at all). The verdict, the quote, the
issue and whether the criterion needs work stay the rules' (``Judgement.own``).

No Rasa and no numpy here: one dot product per criterion on a few hundred numbers.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

MODEL_PATH = Path(__file__).with_name("calibration.json")

#: the signals of the rules, counted over the user's sentences
SIGNALS = (
    "insult",
    "threat",
    "dismissive",
    "blame",
    "sarcasm",
    "command",
    "counter_attack",
    "condescension",
    "generalisation",
    "cool",
    "shouting",
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
    out["turns"] = float(len(turns))
    out["sentences"] = float(len(units))
    text = " ".join(t.text for t in turns)
    words = [_fold(w) for w in _WORD.findall(text)]
    n = max(1, len(words))
    counts = Counter(words)
    out["exclamations"] = 100.0 * text.count("!") / n
    out["questions"] = 100.0 * text.count("?") / n
    out["capitals"] = float(sum(1 for w in _WORD.findall(text) if len(w) > 2 and w.isupper()))
    out["quotes"] = float(sum(text.count(q) for q in ('"', "„", "“", "»")))
    out["ellipses"] = float(text.count("...") + text.count("…"))
    out["log_words"] = math.log(n)
    for p in PARTICLES:
        out[f"p_{p}"] = 100.0 * counts[p] / n
    return out


def dense_features(
    turns: Sequence[Any],
    own: Mapping[str, Any],
    criterion: str,
    common: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """The numeric features of a conversation for ``criterion`` (names are the model's keys).

    ``own``: the rules' judgements of every criterion (their ``own_score`` is used);
    ``common``: :func:`common_features` of ``turns`` when already computed.
    """
    out: dict[str, float] = {f"own_{c}": float(j.own_score) for c, j in own.items()}
    out["score"] = float(own[criterion].score)
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


def words_of(turns: Sequence[Any]) -> set[str]:
    """The user's words (folded, lower case), each once."""
    return {_fold(w) for t in turns for w in _WORD.findall(t.text)}


@lru_cache(maxsize=1)
def model(path: Path = MODEL_PATH) -> Mapping[str, Any]:
    """The fitted weights (``{}`` when the file is missing: no calibration)."""
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def shift(
    criterion: str,
    dense: Mapping[str, float],
    words: set[str],
    weights: Mapping[str, Any],
) -> float:
    """The model's correction of ``criterion`` (bounded by the model's ``max_shift``)."""
    value = float(weights["intercept"])
    for key, (mean, scale, weight) in weights["dense"].items():
        value += weight * (float(dense.get(key, 0.0)) - mean) / scale
    value += sum(float(weights["words"].get(w, 0.0)) for w in words)
    most = float(weights["max_shift"])
    return max(-most, min(most, value))


def calibrate(turns: Sequence[Any], judged: Mapping[str, Any]) -> dict[str, Any]:
    """``judged`` with each calibrated criterion's score moved by the model.

    The rules' own score stays in ``own`` (verdict, quote and issue are the rules'); a
    criterion the model does not cover is returned as it is.
    """
    fitted = model().get("criteria", {})
    if not turns or not fitted:
        return dict(judged)
    words, common = words_of(turns), common_features(turns)
    out: dict[str, Any] = {}
    for c, j in judged.items():
        weights = fitted.get(c)
        if not weights:
            out[c] = j
            continue
        moved = shift(c, dense_features(turns, judged, c, common), words, weights)
        score = round(min(1.0, max(0.0, j.score + moved)), 4)
        out[c] = replace(j, score=score, own=j.own_score)
    return out
