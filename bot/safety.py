"""Recognise danger in a user's message: violence, threats, harassment, stalking, damage.

Safety comes before every flow. :func:`detect` looks for a user (or a colleague) in danger –
hit, threatened with violence, sexually harassed, stalked, or a client damaging property out
of anger – in any wording: the patterns in ``safety.yml`` are matched on the text normalised
by :mod:`bot.normalize`, so lower case, "ae/oe/ue", Swiss "ss", stretched letters and common
typos all match the same rule. Pressure threats (lawyer, bad review, competitor), insults,
figurative speech and negated statements are not danger; ``safety.yml`` documents every
choice and ``tests/data/safety_messages.yml`` is the regression set.

How one rule is checked (the fields of ``safety.yml``):

* a pattern matches the normalised text; the match is the reported phrase,
* every ``with`` pattern matches somewhere in the same sentence,
* the ``context`` pattern (reported speech: "er sagte:", quotes) matches before the phrase,
* no ``unless`` veto matches in the clauses around the phrase, no ``unless_sentence`` veto
  in its sentence,
* no negator ("nicht", "nie", "kein" …) stands in the phrase's clause (``negatable``).

Rules are tried in the order of ``safety.yml`` (specific and severe first) and the first one
that fires wins. The word gaps of a pattern match as few words as possible; when such a match
is vetoed, the longest match from the same start is tried ("nicht geschlagen, aber
geschubst"), then the search goes on after its start.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Pattern, Tuple

import yaml

from bot.normalize import normalize_with_offsets
from bot.patterns import compile_pattern, expand

RULES_FILE = Path(__file__).with_name("safety.yml")
KINDS = ("violence", "threat", "harassment", "stalking", "property")
HARASSMENT = "harassment"
MAX_TEXT = 4000  # longer messages are checked on their first MAX_TEXT characters
MAX_TRIES = 25  # vetoed matches per pattern before the pattern is given up for this text
NEGATION_REACH = 3  # words after the phrase that a negator may stand in ("schlägt mich nicht")
_LAZY_GAP = re.compile(r"(\)\{\d+,\d+\})\?")


@dataclass(frozen=True)
class Danger:
    """A danger found in a message.

    Attributes:
        kind: One of ``KINDS``.
        phrase: The matched words as the user wrote them.
        start: Offset of ``phrase`` in the original text.
        end: End offset (exclusive) of ``phrase`` in the original text.
        rule: The id of the rule in ``safety.yml`` that fired.
    """

    kind: str
    phrase: str
    start: int
    end: int
    rule: str


@dataclass(frozen=True)
class _Rule:
    id: str
    kind: str
    patterns: Tuple[Tuple[Pattern[str], Pattern[str]], ...]  # (as written, greedy gaps)
    with_: Tuple[Pattern[str], ...]
    context: Optional[Pattern[str]]
    unless: Tuple[Pattern[str], ...]
    unless_sentence: Tuple[Pattern[str], ...]
    negatable: bool


@dataclass(frozen=True)
class _Rules:
    rules: Tuple[_Rule, ...]
    negators: Pattern[str]
    not_negating: Pattern[str]
    clause: Pattern[str]
    contrast: Pattern[str]
    sentence: Pattern[str]
    hints: Pattern[str]


def _greedy(pattern: str, macros: Dict[str, str], where: str) -> str:
    """The pattern with its lazy word gaps made greedy (the longest match from a start)."""
    return _LAZY_GAP.sub(r"\1", expand(str(pattern), macros, where))


@lru_cache(maxsize=None)
def load_rules(path: Path = RULES_FILE) -> _Rules:
    """Load and compile ``safety.yml``.

    Args:
        path: The rules file.

    Returns:
        The compiled rules.

    Raises:
        ValueError: When a rule lacks an id, kind or pattern, names an unknown kind or
            macro, repeats an id, or a pattern is no valid regular expression.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    macros: Dict[str, str] = {}
    for name, value in (data.get("macros") or {}).items():
        macros[str(name)] = expand(str(value), macros, f"{path}: macro {name}")
    rules: List[_Rule] = []
    seen = set()
    for number, entry in enumerate(data.get("rules") or [], start=1):
        rule_id, kind = entry.get("id"), entry.get("kind")
        where = f"{path}: rule {rule_id or number}"
        if not rule_id or kind not in KINDS or not entry.get("patterns"):
            raise ValueError(f"{where} needs an id, a kind of {KINDS} and patterns")
        if rule_id in seen:
            raise ValueError(f"{where}: id used twice")
        seen.add(rule_id)
        context = entry.get("context")
        rules.append(
            _Rule(
                id=str(rule_id),
                kind=str(kind),
                patterns=tuple(
                    (
                        compile_pattern(p, macros, where),
                        compile_pattern(_greedy(p, macros, where), {}, where),
                    )
                    for p in entry["patterns"]
                ),
                with_=tuple(compile_pattern(p, macros, where) for p in entry.get("with") or []),
                context=compile_pattern(context, macros, where) if context else None,
                unless=tuple(compile_pattern(p, macros, where) for p in entry.get("unless") or []),
                unless_sentence=tuple(
                    compile_pattern(p, macros, where) for p in entry.get("unless_sentence") or []
                ),
                negatable=bool(entry.get("negatable", True)),
            )
        )
    negation = data.get("negation") or {}
    boundaries = data.get("boundaries") or {}
    not_negating = "|".join(f"(?:{p})" for p in negation.get("not_negating") or []) or r"(?!x)x"
    return _Rules(
        rules=tuple(rules),
        negators=compile_pattern(negation["negators"], macros, f"{path}: negators"),
        not_negating=compile_pattern(rf"\b(?:{not_negating})", macros, f"{path}: not_negating"),
        clause=compile_pattern(boundaries["clause"], macros, f"{path}: clause boundaries"),
        contrast=compile_pattern(boundaries["contrast"], macros, f"{path}: contrast boundaries"),
        sentence=compile_pattern(boundaries["sentence"], macros, f"{path}: sentence boundaries"),
        hints=compile_pattern(
            "|".join(f"(?:{p})" for p in data.get("hints") or []) or r"(?!x)x",
            macros,
            f"{path}: hints",
        ),
    )


class _Text:
    """The normalised text with its clause and sentence boundaries."""

    def __init__(self, text: str, rules: _Rules) -> None:
        self.text = text
        self.clause_starts, self.clause_ends = self._bounds(rules.clause)
        self.sentence_starts, self.sentence_ends = self._bounds(rules.sentence)
        self.contrast_ends = [m.end() for m in rules.contrast.finditer(text)]

    def _bounds(self, pattern: Pattern[str]) -> Tuple[List[int], List[int]]:
        found = list(pattern.finditer(self.text))
        return [m.start() for m in found], [m.end() for m in found]

    @staticmethod
    def _before(ends: List[int], pos: int) -> int:
        """The last boundary end at or before ``pos`` (0 if none)."""
        i = bisect.bisect_right(ends, pos) - 1
        return ends[i] if i >= 0 else 0

    def _after(self, starts: List[int], pos: int) -> int:
        """The first boundary start at or after ``pos`` (the text's end if none)."""
        i = bisect.bisect_left(starts, pos)
        return starts[i] if i < len(starts) else len(self.text)

    def clauses_around(self, start: int, end: int) -> str:
        return self.text[
            self._before(self.clause_ends, start) : self._after(self.clause_starts, end)
        ].strip()

    def negation_scope(self, start: int, end: int) -> str:
        begin = max(self._before(self.clause_ends, start), self._before(self.contrast_ends, end))
        after = self.text[end : self._after(self.clause_starts, end)].split()
        return self.text[begin:end] + " " + " ".join(after[:NEGATION_REACH])

    def sentence(self, start: int, end: int) -> str:
        return self.text[
            self._before(self.sentence_ends, start) : self._after(self.sentence_starts, end)
        ]


def _negated(scope: str, rules: _Rules) -> bool:
    return bool(rules.negators.search(rules.not_negating.sub(" ", scope)))


def _fires(rule: _Rule, match: re.Match, text: _Text, rules: _Rules) -> bool:
    start, end = match.span()
    if rule.with_ or rule.unless_sentence:
        sentence = text.sentence(start, end)
        if not all(p.search(sentence) for p in rule.with_):
            return False
        if any(p.search(sentence) for p in rule.unless_sentence):
            return False
    if rule.context is not None and not rule.context.search(text.text, 0, start):
        return False
    if rule.unless:
        around = text.clauses_around(start, end)
        if any(p.search(around) for p in rule.unless):
            return False
    if rule.negatable and _negated(text.negation_scope(start, end), rules):
        return False
    return True


def _first_match(rule: _Rule, text: _Text, rules: _Rules) -> Optional[re.Match]:
    best: Optional[re.Match] = None
    for pattern, greedy in rule.patterns:
        pos = 0
        for _ in range(MAX_TRIES):
            match = pattern.search(text.text, pos)
            if match is None or (best is not None and match.start() >= best.start()):
                break
            if not _fires(rule, match, text, rules):
                longest = greedy.match(text.text, match.start())
                if longest is None or longest.end() == match.end():
                    pos = match.start() + 1
                    continue
                if not _fires(rule, longest, text, rules):
                    pos = match.start() + 1
                    continue
                match = longest
            best = match
            break
    return best


@lru_cache(maxsize=2048)
def detect(text: Optional[str]) -> Optional[Danger]:
    """The danger a message describes, if any.

    Args:
        text: The user's message as typed.

    Returns:
        The danger of the first rule that fires (see the module docstring) – except that
        harassment anywhere in the message wins, since it names the whole situation – with
        the matched phrase and its span in ``text``; None when the message describes no danger.
    """
    if not text or not text.strip():
        return None
    original = text[:MAX_TEXT]
    normalized, spans = normalize_with_offsets(original)
    if not normalized:
        return None
    rules = load_rules()
    prepared = _Text(normalized, rules)
    for rule in rules.rules:
        match = _first_match(rule, prepared, rules)
        if match is not None:
            break
    else:
        return None
    if rule.kind != HARASSMENT:  # harassment names the whole situation (and the employer's duty)
        for other in rules.rules:
            found = _first_match(other, prepared, rules) if other.kind == HARASSMENT else None
            if found is not None:
                rule, match = other, found
                break
    start, end = match.span()
    while end > start and normalized[end - 1] == " ":
        end -= 1
    original_start, original_end = spans[start][0], spans[end - 1][1]
    return Danger(
        kind=rule.kind,
        phrase=original[original_start:original_end],
        start=original_start,
        end=original_end,
        rule=rule.id,
    )


def hint(text: Optional[str]) -> bool:
    """Whether the message has a word near danger, even where no rule fires.

    A statistical ``report_danger`` guess is left alone when the message has such a word
    (``hints`` in ``safety.yml``: a blow, a weapon, fear, the police, touching …); without
    one, the decisive fact of a case may overrule the guess (see
    ``connectors.nlu_components.CaseSignalClassifier``).

    Args:
        text: The user's message as typed.

    Returns:
        True when a hint word is in the message.
    """
    if not text or not text.strip():
        return False
    normalized, _ = normalize_with_offsets(text[:MAX_TEXT])
    return bool(load_rules().hints.search(normalized))
