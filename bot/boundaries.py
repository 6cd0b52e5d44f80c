"""Personal boundaries (seed 003 "Definiere deine Schmerzgrenze"): understand and describe them.

A boundary is a behaviour plus a threshold – an absolute no-go, or "the N-th time within D
days" – and an optional note. The behaviour is a category where one fits, else the user's
own words (``text:<words>`` in a slot, stored as a ``custom:…`` key with the words as
label, see bot/escalation.py). Thresholds travel through slots as canonical strings:
``absolute``, ``count:<N>:<D>`` or ``remove`` (the user wants to delete the boundary).
Vocabulary: ``boundaries.yml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

import yaml

from bot import answers, escalation
from bot.texts import lookup, text

MAX_COUNT = 50
MAX_DAYS = 365
DEFAULT_DAYS = 30
NOTE_MAX = 500
LABEL_MAX = 80  # a behaviour in own words; longer answers are descriptions, not names

ABSOLUTE = "absolute"
REMOVE = "remove"
TEXT_PREFIX = "text:"  # slot form of a behaviour in the user's own words: "text:<words>"


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


@lru_cache(maxsize=1)
def _words() -> dict:
    """The vocabulary of ``boundaries.yml``."""
    return yaml.safe_load(Path(__file__).with_name("boundaries.yml").read_text(encoding="utf-8"))


def behaviors() -> tuple[str, ...]:
    """The behaviour categories a boundary can be set for (those of the escalation ladders)."""
    return escalation.behaviors()


def label(behavior: str, own: str | None = None) -> str:
    """The German label of a behaviour: its category's, or ``own`` words for a custom one."""
    if escalation.is_custom(behavior):
        return own or text("history", "boundary.own_words")
    return text("history", f"labels.{behavior}")


def label_of(item) -> str:
    """:func:`label` of a stored boundary or incident (``behavior`` and ``label``)."""
    return label(item.behavior, getattr(item, "label", None))


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


def own_words(value: object) -> str | None:
    """A behaviour in the user's own words as it is stored and shown, or None.

    Args:
        value: The answer ("Nachrichten nach Feierabend", "meine Grenze sind Anrufe am
            Wochenende").

    Returns:
        The words without a lead-in, surrounding punctuation and extra blanks, first letter
        upper case ("Anrufe am Wochenende"); None when no content word is left, the answer
        names nothing ("keine Ahnung") or is longer than :data:`LABEL_MAX` characters.
    """
    if not isinstance(value, str):
        return None
    words = re.sub(r"\s+", " ", value).strip(" \t.,;:!?\"'„“”")
    norm = answers.normalize(words)
    for lead in sorted(_words()["lead_ins"], key=len, reverse=True):
        if norm.startswith(lead + " "):
            words = " ".join(words.split(" ")[len(lead.split()) :])
            break
    if not escalation.content_words(words) or len(words) > LABEL_MAX or "<" in words:
        return None
    if answers.normalize(words) in {answers.normalize(w) for w in _words()["non_answers"]}:
        return None
    return words[:1].upper() + words[1:]


def behavior_in_sentence(sentence: object) -> str | None:
    """A behaviour named in a request: a category, ``text:<words>``, or None.

    Args:
        sentence: The whole message ("Ich will eine Grenze für Nachrichten nach Feierabend
            festlegen").

    Returns:
        :func:`parse_behavior_answer` of the words after "Grenze für/bei/zu …" without the
        trailing verb ("text:Nachrichten nach Feierabend"); None without such words.
    """
    if not isinstance(sentence, str):
        return None
    starts = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in _words()["sentence_starts"])
    verbs = "|".join(re.escape(w) for w in _words()["sentence_verbs"])
    match = re.search(
        rf"\b(?:{starts})\s+(.+?)(?:\s+(?:{verbs}))?\W*$", sentence.strip(), re.IGNORECASE
    )
    return parse_behavior_answer(match[1]) if match else None


def parse_behavior_answer(value: object, own: Iterable = ()) -> str | None:
    """The behaviour an answer names: a category, or ``text:<words>`` in the user's words.

    Args:
        value: The answer (button payload, typed words or a ``text:…`` slot value).
        own: The user's boundaries in own words (``behavior``, ``label``); an answer with
            all their words gets that boundary's words before any category, one with half
            of them when no category fits – so both share one behaviour key.

    Returns:
        A category key, ``text:<words>``, or None when the answer names nothing.
    """
    if isinstance(value, str) and value.startswith(TEXT_PREFIX):
        value = value[len(TEXT_PREFIX) :]
    words = own_words(value)
    if words is None or value.strip() in behaviors():
        return parse_behavior(value)
    return behavior_in_text(value, own) or TEXT_PREFIX + words


def behavior_in_text(value: str, own: Iterable = ()) -> str | None:
    """The behaviour a description names: an own boundary or a category, or None.

    Args:
        value: An answer or a whole message ("Er schreibt mir Nachrichten nach Feierabend").
        own: The user's boundaries in own words (``behavior``, ``label``).

    Returns:
        ``text:<words>`` of the own boundary all of whose words occur; else the category
        named; else ``text:<words>`` of an own boundary with half of its words; else None.
    """
    scored = [(escalation.coverage(b.label, value), b.label) for b in own if b.label]
    best, words = max(scored, default=(0.0, None))
    if best == 1.0:  # every word of an own boundary: that one, before any category
        return TEXT_PREFIX + words
    category = parse_behavior(value)
    if category is not None:
        return category
    return TEXT_PREFIX + words if best >= 0.5 else None


def split_behavior(value: str) -> tuple[str, str | None]:
    """A slot value of :func:`parse_behavior_answer` as (behaviour key, own words or None)."""
    if value.startswith(TEXT_PREFIX):
        words = value[len(TEXT_PREFIX) :]
        return escalation.custom_key(words), words
    return value, None


def slot_label(value: str) -> str:
    """The label of a slot value of :func:`parse_behavior_answer`."""
    return label(*split_behavior(value))


def wants_removal(value: str) -> bool:
    """Whether the answer asks to delete the boundary (e.g. "entfernen")."""
    return _has(answers.normalize(value), _words()["remove"])


def _has(norm: str, phrases: Iterable[str]) -> bool:
    padded = f" {norm} "
    return any(f" {answers.normalize(p)} " in padded for p in phrases)


def _number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    return _words()["numbers"].get(token)


def _times(tokens: list[str]) -> int | None:
    """A count said as "<n> mal", "zweimal" or an ordinal before "mal" ("beim dritten Mal")."""
    numbers, ordinals = _words()["numbers"], _words()["ordinals"]
    for i, token in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if nxt == "mal" and _number(token) is not None:
            return _number(token)
        if nxt == "mal" and token in ordinals:
            return ordinals[token]
        if token.endswith("mal") and token in numbers:
            return numbers[token]
    return None


def _nth(tokens: list[str]) -> int | None:
    """A count said as "ab dem 3." / "ab dem dritten" / "ab 3" / "als 2" / a bare number."""
    ordinals, units = _words()["ordinals"], _words()["units"]
    for i, token in enumerate(tokens):
        rest = tokens[i + 1 :]
        if token == "ab" and rest[:1] == ["dem"] and len(rest) > 1:
            word = rest[1]
            return ordinals.get(word) or (int(word) if word.isdigit() else None)
        if token in ("ab", "als") and rest and _number(rest[0]) is not None:
            return _number(rest[0])
    for i, token in enumerate(tokens):  # "3", "drei im Monat", "3 in 30 Tagen"
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        plain = token.isdigit() or (_number(token) or 0) > 1 or token == "eins"
        if plain and nxt not in units:
            return _number(token)
    return None


def _days(norm: str) -> int | None:
    units = _words()["units"]
    unit_re = "|".join(sorted(units, key=len, reverse=True))
    match = re.search(rf"\b(?:in|innerhalb|binnen|von)\s+(?:von\s+)?(\w+)\s+({unit_re})\b", norm)
    if match and _number(match[1]) is not None:
        return _number(match[1]) * units[match[2]]
    match = re.search(rf"\b(\d+)\s+({unit_re})\b", norm)
    if match:
        return int(match[1]) * units[match[2]]
    match = re.search(
        r"\b(?:pro|im|je|in einem|in einer|innerhalb eines|innerhalb einer|die|der|das|den|"
        r"einen|eine|einem|einer|ein)\s+(tag|woche|monat|quartal|jahr)\b",
        norm,
    )
    if match:
        return units[match[1]]
    return next((n for word, n in _words()["adverbs"].items() if f" {word} " in f" {norm} "), None)


def parse_threshold(
    value: object, *, allow_remove: bool = False, strict: bool = False
) -> str | None:
    """Canonical threshold for an answer, None if not understood; ThresholdError if out of range.

    Understood are counts ("3-mal in 30 Tagen", "zweimal pro Woche", "ab dem zweiten Mal",
    "3"), counts after which the limit is reached ("mehr als zweimal im Monat", "höchstens
    zweimal" = from the 3rd time) and no-go words ("nie", "beim ersten Mal", "einmal ist
    schon zu viel"); without a period 30 days. ``strict`` (for a whole sentence, not an
    answer to the question) only takes "<n> mal" counts and unmistakable no-go words.
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
    tokens = norm.split()
    count = _times(tokens)
    if count is None and not strict:
        count = _nth(tokens)
    if count is not None:
        if _has(norm, _words()["after_count"]):
            count += 1  # "mehr als zweimal", "höchstens zweimal": crossed the third time
        return _checked(count, _days(norm) or DEFAULT_DAYS)
    if _has(norm, _words()["strong_absolute" if strict else "absolute"]):
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
    own: str | None = None,
) -> str:
    """One line describing a boundary: label, threshold and the note if there is one.

    ``own`` are the words of a behaviour in the user's own words (its label).
    """
    threshold = describe_threshold(max_count, period_days, short=short)
    name = label(behavior, own)
    if note:
        return text("history", "boundary.line_note", label=name, threshold=threshold, note=note)
    return text("history", "boundary.line", label=name, threshold=threshold)


def describe_boundary(boundary, *, with_note: bool = True, short: bool = False) -> str:
    """:func:`describe` for a stored boundary (``BoundaryInfo`` or alike)."""
    return describe(
        boundary.behavior,
        boundary.max_count,
        boundary.period_days,
        boundary.note if with_note else None,
        short=short,
        own=getattr(boundary, "label", None),
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
