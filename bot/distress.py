"""Recognise acute distress and crisis in a user's message, and the coach's own cue phrases.

A stress message normally gets the stress topic's short answer. When a user is overwhelmed
right now ("ich heul gleich", "lieg seit stunden wach", "mir ist alles zu viel") a topic text
is the wrong answer: :func:`detect` reports the level ``distress`` (a short, calm reply with
one thing to do now) or ``crisis`` ("ich kann nicht mehr", "will nicht mehr", "halte das
nicht aus", "hat alles keinen sinn mehr" – the reply also says where to get help).

:func:`cue` recognises a sentence the coach itself suggested to the user (the abuse advice
says: write me „Das lässt mich nicht los“), so that it gets the answer it was meant for.
:func:`about_stress` tells whether a message mentions stress at all.

The phrases live in ``distress.yml`` and are matched on the text normalised by
:mod:`bot.normalize` (lower case, "ae/oe/ue", ``ß`` -> ``ss``, stretched letters, typos);
``distress.yml`` documents which messages count and which do not. No Rasa imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Pattern, Tuple

import yaml

from bot.normalize import normalize
from bot.patterns import compile_pattern

RULES_FILE = Path(__file__).with_name("distress.yml")
LEVELS = ("distress", "crisis")  # from mild to severe
MAX_TEXT = 4000  # longer messages are checked on their first MAX_TEXT characters
_SENTENCE_END = re.compile(r"[.!?…\n]")


@dataclass(frozen=True)
class Distress:
    """Acute distress found in a message.

    Attributes:
        level: ``"distress"`` or ``"crisis"`` (see ``LEVELS``).
        rule: The id of the rule in ``distress.yml`` that fired.
        phrase: The matched words in their normalised spelling.
    """

    level: str
    rule: str
    phrase: str


@dataclass(frozen=True)
class _Rule:
    id: str
    level: str
    patterns: Tuple[Pattern[str], ...]
    unless: Tuple[Pattern[str], ...]  # vetoes searched in the whole message


@dataclass(frozen=True)
class _Rules:
    rules: Tuple["_Rule", ...]  # the more severe level first
    reported: Optional[Pattern[str]]
    cues: Tuple[Tuple[str, Tuple[Pattern[str], ...]], ...]
    stress_words: Tuple[Pattern[str], ...]


def _compile(pattern: str, macros: Dict[str, str], where: str) -> Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"{where}: a pattern must be a non-empty string, not {pattern!r}")
    return compile_pattern(pattern, macros, where)


@lru_cache(maxsize=None)
def load_rules(path: Path = RULES_FILE) -> _Rules:
    """The compiled rules of ``distress.yml``.

    Args:
        path: The YAML file (``distress.yml`` next to this module).

    Returns:
        The distress rules by level, the veto for reported speech, the cue phrases and the
        stress words, all compiled.

    Raises:
        ValueError: A rule, level, macro or pattern is malformed.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    macros = {str(k): str(v) for k, v in (data.get("macros") or {}).items()}
    rules = []
    seen = set()
    for i, rule in enumerate(data.get("rules") or []):
        where = f"{path.name}: rule {i}"
        rule_id, level = rule.get("id"), rule.get("level")
        if not rule_id or rule_id in seen:
            raise ValueError(f"{where}: missing or duplicate id {rule_id!r}")
        if level not in LEVELS:
            raise ValueError(f"{where} ({rule_id}): level must be one of {LEVELS}, not {level!r}")
        seen.add(rule_id)
        patterns = tuple(
            _compile(p, macros, f"{where} ({rule_id})") for p in rule.get("patterns") or []
        )
        if not patterns:
            raise ValueError(f"{where} ({rule_id}): no patterns")
        unless = tuple(
            _compile(p, macros, f"{where} ({rule_id}) unless") for p in rule.get("unless") or []
        )
        rules.append(_Rule(rule_id, level, patterns, unless))
    # the more severe level first, the rules of one level in the order of the file
    rules.sort(key=lambda r: -LEVELS.index(r.level))
    reported = data.get("reported")
    cues = []
    for cue_id, spec in (data.get("cues") or {}).items():
        where = f"{path.name}: cue {cue_id}"
        patterns = [_compile(p, macros, where) for p in spec.get("patterns") or []]
        for phrase in spec.get("phrases") or []:
            folded = normalize(str(phrase)).strip(" .,;:!?…")
            if not folded:
                raise ValueError(f"{where}: empty phrase {phrase!r}")
            patterns.append(re.compile(r"(?<!\w)" + re.escape(folded) + r"(?!\w)"))
        if not patterns:
            raise ValueError(f"{where}: neither phrases nor patterns")
        cues.append((str(cue_id), tuple(patterns)))
    words = tuple(
        _compile(p, macros, f"{path.name}: stress_words") for p in data.get("stress_words") or []
    )
    return _Rules(
        rules=tuple(rules),
        reported=_compile(reported, macros, f"{path.name}: reported") if reported else None,
        cues=tuple(cues),
        stress_words=words,
    )


def _folded(text: str) -> str:
    return normalize((text or "")[:MAX_TEXT])


def _reported(rules: _Rules, text: str, start: int) -> bool:
    """Whether the words at ``start`` are someone else's ("der kunde sagt, er will nicht mehr")."""
    if rules.reported is None:
        return False
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, start)]
    prefix = text[ends[-1] if ends else 0 : start]
    # a quotation closed before the phrase does not make the phrase reported speech
    closed = max(prefix.rfind("“"), prefix.rfind("”"), prefix.rfind("»"))
    if prefix.count('"') % 2 == 0 and '"' in prefix:
        closed = max(closed, prefix.rfind('"'))
    return bool(rules.reported.search(prefix[closed + 1 :]))


def detect(text: str, rules: Optional[_Rules] = None) -> Optional[Distress]:
    """The most severe acute distress in a message, or None.

    Args:
        text: A user message in any spelling.
        rules: The compiled rules (default: ``distress.yml``).

    Returns:
        The first match of the crisis rules, else of the distress rules (in the order of
        ``distress.yml``), unless it is someone else's words; None for ordinary messages.
    """
    rules = rules or load_rules()
    folded = _folded(text)
    if not folded:
        return None
    for rule in rules.rules:
        if any(veto.search(folded) for veto in rule.unless):
            continue
        for pattern in rule.patterns:
            for match in pattern.finditer(folded):
                if not _reported(rules, folded, match.start()):
                    return Distress(level=rule.level, rule=rule.id, phrase=match.group().strip())
    return None


def cue(text: str, rules: Optional[_Rules] = None) -> Optional[str]:
    """The id of the coach's own suggested phrase the message repeats, or None.

    Args:
        text: A user message in any spelling.
        rules: The compiled rules (default: ``distress.yml``).

    Returns:
        The cue id of ``distress.yml`` (e.g. ``"not_letting_go"``), or None.
    """
    rules = rules or load_rules()
    folded = _folded(text)
    for cue_id, patterns in rules.cues:
        if any(p.search(folded) for p in patterns):
            return cue_id
    return None


def about_stress(text: str, rules: Optional[_Rules] = None) -> bool:
    """Whether a message speaks of stress: a stress word, a distress phrase or a cue.

    Args:
        text: A user message in any spelling.
        rules: The compiled rules (default: ``distress.yml``).

    Returns:
        True when any stress word of ``distress.yml`` occurs, or :func:`detect` or
        :func:`cue` find something.
    """
    rules = rules or load_rules()
    folded = _folded(text)
    if any(p.search(folded) for p in rules.stress_words):
        return True
    return detect(text, rules) is not None or cue(text, rules) is not None


def suggested_in(path: Path = RULES_FILE) -> Dict[str, List[str]]:
    """Where the coach suggests each cue phrase: cue id -> ``"source:key"`` of bot/texts.py.

    Args:
        path: The YAML file (``distress.yml`` next to this module).

    Returns:
        The references of ``suggested_in`` per cue (for the consistency test).
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {
        str(cue_id): [str(r) for r in spec.get("suggested_in") or []]
        for cue_id, spec in (data.get("cues") or {}).items()
    }
