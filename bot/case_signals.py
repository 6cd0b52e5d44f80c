"""Strong signals of the four cases: the decisive fact of a story decides its case.

Staff tell a case with the background first ("seit zwei jahren kunde, immer nett, jetzt …")
and the decisive fact somewhere in the middle: an untrue claim about us, an own mistake, unpaid
extra work, an insult. A story told as settled and then turning ("war unser Fehler, haben uns
entschuldigt. Seitdem …") is decided by what comes after the turn. A statistical classifier
weighs all words alike, so a long background can outvote the one sentence that matters.
This module finds those decisive facts with the patterns of ``case_signals.yml`` (matched on
the normalised text, see :mod:`bot.normalize`).

:func:`signalled` returns the cases whose signals fire; :func:`decisive` returns the intent of
the one case signalled, or ``None`` when none or several are. The NLU component
``connectors.nlu_components.CaseSignalClassifier`` uses :func:`decisive`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Pattern

import yaml

from bot.normalize import normalize
from bot.patterns import compile_pattern

SIGNALS_FILE = Path(__file__).with_name("case_signals.yml")
_SENTENCE_END = re.compile(r"[.!?;\n]+")


class CaseSignalError(ValueError):
    """``case_signals.yml`` is malformed (the message names the case and the pattern)."""


@dataclass(frozen=True)
class _Case:
    name: str
    intent: str
    signals: tuple[Pattern[str], ...]
    unless: tuple[Pattern[str], ...]


def _patterns(entry: dict, key: str, macros: dict[str, str], where: str) -> tuple:
    values = entry.get(key) or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise CaseSignalError(f"{where}: '{key}' must be a list of strings")
    try:
        return tuple(compile_pattern(v, macros, f"{where}.{key}") for v in values)
    except ValueError as error:
        raise CaseSignalError(str(error)) from error


def _read(path: Path) -> tuple[dict, dict[str, str]]:
    """The parsed file and its macros (for :func:`load_cases` and :func:`load_background`)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return data, {str(k): str(v) for k, v in (data.get("macros") or {}).items()}


@dataclass(frozen=True)
class _Background:
    settled: tuple[Pattern[str], ...]
    turn: tuple[Pattern[str], ...]


@lru_cache(maxsize=None)
def load_background(path: Path = SIGNALS_FILE) -> _Background:
    """Read the patterns of a settled story (``background`` in ``case_signals.yml``).

    Args:
        path: The YAML file (default ``bot/case_signals.yml``).

    Returns:
        The compiled ``settled`` and ``turn`` patterns (empty when the section is missing).

    Raises:
        CaseSignalError: When the section is malformed.
    """
    data, macros = _read(path)
    entry = data.get("background") or {}
    if not isinstance(entry, dict):
        raise CaseSignalError(f"{path.name}: 'background' must be a mapping")
    where = f"{path.name}: background"
    return _Background(
        _patterns(entry, "settled", macros, where), _patterns(entry, "turn", macros, where)
    )


@lru_cache(maxsize=None)
def load_cases(path: Path = SIGNALS_FILE) -> tuple[_Case, ...]:
    """Read and compile the signal patterns.

    Args:
        path: The YAML file (default ``bot/case_signals.yml``).

    Returns:
        One compiled entry per case, in file order.

    Raises:
        CaseSignalError: When the file is malformed, naming the case and pattern.
    """
    data, macros = _read(path)
    cases = data.get("cases")
    if not isinstance(cases, dict) or not cases:
        raise CaseSignalError(f"{path.name}: 'cases' must be a non-empty mapping")
    compiled = []
    for name, entry in cases.items():
        where = f"{path.name}: cases.{name}"
        if not isinstance(entry, dict) or not isinstance(entry.get("intent"), str):
            raise CaseSignalError(f"{where}: needs an 'intent' (string)")
        signals = _patterns(entry, "signals", macros, where)
        if not signals:
            raise CaseSignalError(f"{where}: needs at least one signal")
        unless = _patterns(entry, "unless", macros, where)
        compiled.append(_Case(str(name), entry["intent"], signals, unless))
    return tuple(compiled)


def _sentences(norm: str) -> list[str]:
    return [part for part in _SENTENCE_END.split(norm) if part.strip()]


def _fires(case: _Case, sentence: str) -> bool:
    if not any(p.search(sentence) for p in case.signals):
        return False
    return not any(p.search(sentence) for p in case.unless)


def signalled(text: str | None) -> list[str]:
    """Name the cases whose strong signals fire somewhere in the message.

    Args:
        text: The user's message as typed.

    Returns:
        Case names (``own_fault``, ``extra_requests``, ``false_claims``, ``abusive``) in the
        order of ``case_signals.yml``; empty when nothing decisive was said.
    """
    if not text or not text.strip():
        return []
    sentences = _sentences(normalize(text))
    cases = load_cases()
    turn = _turn(sentences)
    if turn is not None:
        after = [c.name for c in cases if any(_fires(c, s) for s in sentences[turn:])]
        if after:
            return after
    return [c.name for c in cases if any(_fires(c, s) for s in sentences)]


def _turn(sentences: list[str]) -> int | None:
    """The index of the sentence where a settled story turns, or None."""
    background = load_background()
    for index, sentence in enumerate(sentences):
        if index and any(p.search(sentence) for p in background.turn):
            before = sentences[:index]
            if any(p.search(s) for s in before for p in background.settled):
                return index
            return None
    return None


def decisive(text: str | None) -> str | None:
    """The intent of the one case the message signals, ``None`` for none or several.

    Args:
        text: The user's message as typed.

    Returns:
        An intent name such as ``report_false_claims``, or ``None``.
    """
    names = signalled(text)
    if len(names) != 1:
        return None
    return next(c.intent for c in load_cases() if c.name == names[0])
