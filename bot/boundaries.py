"""Personal boundaries (seed 003 "Definiere deine Schmerzgrenze"): understand and describe them.

A boundary is a behaviour category plus a threshold – an absolute no-go, or "the N-th time
within D days" – and an optional note. Thresholds travel through slots as canonical strings:
``absolute``, ``count:<N>:<D>`` or ``remove`` (the user wants to delete the boundary).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping

from bot import answers, escalation
from bot.texts import lookup, text

MAX_COUNT = 50
MAX_DAYS = 365
DEFAULT_DAYS = 30
NOTE_MAX = 500

ABSOLUTE = "absolute"
REMOVE = "remove"

_ABSOLUTE_WORDS = [
    "no go",
    "nogo",
    "absolut",
    "absolutes",
    "tabu",
    "rote linie",
    "null toleranz",
    "niemals",
    "nie",
    "nie wieder",
    "keinmal",
    "kein einziges mal",
    "schon einmal",
    "einmal ist zu viel",
    "ein mal ist zu viel",
    "sofort",
    "beim ersten mal",
    "ersten mal",
    "gar nicht",
    "ueberhaupt nicht",
    "auf keinen fall",
    "keine toleranz",
]
_REMOVE_WORDS = [
    "entfernen",
    "entferne",
    "entfern",
    "loeschen",
    "loesche",
    "loesch",
    "streichen",
    "streich",
    "aufheben",
    "weg damit",
    "brauche ich nicht mehr",
    "nicht mehr noetig",
]
_AT_MOST = ["hoechstens", "maximal", "max", "bis zu", "nicht mehr als", "nicht oefter als"]
_NUMBER_WORDS = {
    "ein": 1,
    "eins": 1,
    "einmal": 1,
    "zwei": 2,
    "zweimal": 2,
    "drei": 3,
    "dreimal": 3,
    "vier": 4,
    "viermal": 4,
    "fuenf": 5,
    "fuenfmal": 5,
    "sechs": 6,
    "sechsmal": 6,
    "sieben": 7,
    "siebenmal": 7,
    "acht": 8,
    "achtmal": 8,
    "neun": 9,
    "neunmal": 9,
    "zehn": 10,
    "zehnmal": 10,
    "zwoelf": 12,
    "zwanzig": 20,
    "dreissig": 30,
}
_UNITS = {
    "tag": 1,
    "tage": 1,
    "tagen": 1,
    "woche": 7,
    "wochen": 7,
    "monat": 30,
    "monate": 30,
    "monaten": 30,
    "quartal": 90,
    "quartale": 90,
    "quartalen": 90,
    "jahr": 365,
    "jahre": 365,
    "jahren": 365,
}
_ADVERBS = {
    "taeglich": 1,
    "woechentlich": 7,
    "monatlich": 30,
    "quartalsweise": 90,
    "jaehrlich": 365,
}


class ThresholdError(ValueError):
    """A threshold outside the allowed range; ``code`` selects the German message."""

    def __init__(self, code: str):
        """Remember ``code`` (e.g. ``threshold_range``) as message and attribute."""
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Threshold:
    """A parsed threshold: crossed the ``max_count``-th time within ``period_days``."""

    max_count: int | None  # None: absolute
    period_days: int | None

    @property
    def canonical(self) -> str:
        """The slot form: ``absolute`` or ``count:<N>:<D>``."""
        return ABSOLUTE if self.max_count is None else f"count:{self.max_count}:{self.period_days}"

    @classmethod
    def from_canonical(cls, value: str) -> "Threshold":
        """Parse the slot form written by :attr:`canonical`."""
        if value == ABSOLUTE:
            return cls(None, None)
        _, count, days = value.split(":")
        return cls(int(count), int(days))


def behaviors() -> tuple[str, ...]:
    """The behaviour categories a boundary can be set for (those of the escalation ladders)."""
    return escalation.behaviors()


def label(behavior: str) -> str:
    """The German label of a behaviour category."""
    return text("history", f"labels.{behavior}")


@lru_cache(maxsize=1)
def _behavior_words() -> dict[str, tuple[str, ...]]:
    words = escalation.config()["behavior_words"]
    result = {b: tuple(words.get(b, ())) for b in words}
    for behavior in behaviors():  # the German label of each category is understood too
        result[behavior] = result.get(behavior, ()) + (lookup("history", f"labels.{behavior}"),)
    return result


def parse_behavior(value: object) -> str | None:
    """The behaviour category named in an answer (canonical value, label or word), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    if value.strip() in behaviors():
        return value.strip()
    return answers.parse_choice(value, _behavior_words())


def wants_removal(value: str) -> bool:
    """Whether the answer asks to delete the boundary (e.g. "entfernen")."""
    norm = answers.normalize(value)
    return any(f" {w} " in f" {norm} " for w in _REMOVE_WORDS)


def _number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    return _NUMBER_WORDS.get(token)


_STRONG_ABSOLUTE = [
    "no go",
    "nogo",
    "absolut",
    "absolutes",
    "tabu",
    "rote linie",
    "null toleranz",
    "keine toleranz",
]
_ORDINALS = {
    "zweiten": 2,
    "dritten": 3,
    "vierten": 4,
    "fuenften": 5,
    "sechsten": 6,
    "siebten": 7,
    "siebenten": 7,
    "achten": 8,
    "neunten": 9,
    "zehnten": 10,
}
_UNIT_RE = (
    "tagen|tage|tag|wochen|woche|monaten|monate|monat|quartalen|quartale|quartal|jahren|jahre|jahr"
)


def _count(norm: str) -> int | None:
    tokens = norm.split()
    for i, token in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if nxt == "mal" and _number(token) is not None:
            return _number(token)
        if token.endswith("mal") and token in _NUMBER_WORDS:
            return _NUMBER_WORDS[token]
        if token == "ab" and i + 2 < len(tokens) and tokens[i + 1] == "dem":
            word = tokens[i + 2]
            if word in _ORDINALS:
                return _ORDINALS[word]
            if word.isdigit():
                return int(word)
    return None


def _days(norm: str) -> int | None:
    match = re.search(rf"\b(?:in|innerhalb|binnen|von)\s+(?:von\s+)?(\w+)\s+({_UNIT_RE})\b", norm)
    if match and _number(match[1]) is not None:
        return _number(match[1]) * _UNITS[match[2]]
    match = re.search(rf"\b(\d+)\s+({_UNIT_RE})\b", norm)
    if match:
        return int(match[1]) * _UNITS[match[2]]
    match = re.search(
        r"\b(?:pro|im|je|in einem|in einer|innerhalb eines|innerhalb einer|die|der|das)\s+"
        r"(tag|woche|monat|quartal|jahr)\b",
        norm,
    )
    if match:
        return _UNITS[match[1]]
    return next((n for word, n in _ADVERBS.items() if f" {word} " in f" {norm} "), None)


def parse_threshold(
    value: object, *, allow_remove: bool = False, strict: bool = False
) -> str | None:
    """Canonical threshold for an answer, None if not understood; ThresholdError if out of range.

    ``strict`` (for a whole sentence, not an answer to the question) only takes counts and
    unmistakable no-go words, not "nie" or "sofort".
    """
    if not isinstance(value, str) or not value.strip():
        return None
    raw = value.strip()
    if raw == ABSOLUTE or (allow_remove and raw == REMOVE):
        return raw
    if re.fullmatch(r"count:\d+:\d+", raw):
        return _checked(*map(int, raw.split(":")[1:]))
    if allow_remove and wants_removal(raw):
        return REMOVE
    norm = answers.normalize(re.sub(r"(\d+)\s*[x×]", r"\1 mal ", raw))
    norm = re.sub(r"\b(\d+)mal\b", r"\1 mal", norm)
    count = _count(norm)
    if count is not None:
        if any(f" {w} " in f" {norm} " for w in _AT_MOST):
            count += 1  # "höchstens zweimal" = crossed the third time
        return _checked(count, _days(norm) or DEFAULT_DAYS)
    words = _STRONG_ABSOLUTE if strict else _ABSOLUTE_WORDS
    if any(f" {answers.normalize(w)} " in f" {norm} " for w in words):
        return ABSOLUTE
    return None


def _checked(count: int, days: int) -> str:
    if count <= 1:
        return ABSOLUTE
    if count > MAX_COUNT or not 1 <= days <= MAX_DAYS:
        raise ThresholdError("threshold_range")
    return f"count:{count}:{days}"


def describe_threshold(
    max_count: int | None, period_days: int | None, *, short: bool = False
) -> str:
    """The threshold as German text: a no-go, or from the N-th time within D days.

    ``short`` gives the compact form used in lists.
    """
    prefix = "short_" if short else ""
    if not max_count:
        return text("history", f"threshold.{prefix}absolute")
    period = plural("days", period_days or 0)  # "1 Tag", "30 Tagen"
    return text("history", f"threshold.{prefix}count", count=max_count, period=period)


def describe(
    behavior: str,
    max_count: int | None,
    period_days: int | None,
    note: str | None = None,
    *,
    short: bool = False,
) -> str:
    """One line describing a boundary: label, threshold and the note if there is one."""
    threshold = describe_threshold(max_count, period_days, short=short)
    if note:
        return text(
            "history", "boundary.line_note", label=label(behavior), threshold=threshold, note=note
        )
    return text("history", "boundary.line", label=label(behavior), threshold=threshold)


def describe_boundary(boundary, *, with_note: bool = True, short: bool = False) -> str:
    """:func:`describe` for a stored boundary (``BoundaryInfo`` or alike)."""
    return describe(
        boundary.behavior,
        boundary.max_count,
        boundary.period_days,
        boundary.note if with_note else None,
        short=short,
    )


def suggestions(existing: Iterable[str] = ()) -> list[dict]:
    """The guided set-up's suggestions the user does not have yet."""
    have = set(existing)
    return [s for s in escalation.config()["suggestions"] if s["behavior"] not in have]


def suggestion_line(suggestion: Mapping) -> str:
    """One suggested boundary of the guided set-up as a German line."""
    threshold = Threshold.from_canonical(suggestion["threshold"])
    return describe(suggestion["behavior"], threshold.max_count, threshold.period_days)


def plural(kind: str, n: int) -> str:
    """``n`` with the German noun of ``kind`` in singular or plural ("1 Vorfall", "3 Vorfälle")."""
    return text("history", f"counts.{kind}.{0 if n == 1 else 1}", n=n)  # [one, many]
