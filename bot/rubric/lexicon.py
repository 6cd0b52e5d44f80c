"""Word lists for respect and calm that cover German as people actually write it.

``respect.yml`` (insults and their compounds, contempt for the person or the concern,
sarcasm, threats, orders, condescension, insinuations, cool brush-offs) and ``calm.yml``
(typography, escalation, counter-attacks, rhetorical questions, curt answers, giving in,
being sidetracked, de-escalation) are matched on the text as :func:`bot.normalize.normalize`
folds it: lower case, ``ä`` -> ``ae``, ``ß`` -> ``ss``, stretched letters squeezed, known typos
corrected, so "BLÖÖÖD", "bloed" and "blöd" are one word. Insults match as word stems and as
the head of a compound ("Vollidiot", "Riesenarschloch").

A hit does not count when it is quoted („…“), reported ("Sie haben sie unfähig genannt"),
negated ("ich will Sie nicht beleidigen", "Sie sind kein Idiot") or self-directed ("ich
Idiot", "wie dumm von mir") – as far as its category says so. Every hit carries a graded
severity (respect: the worst one counts) and a calm penalty.

The lists are validated when loaded (:class:`LexiconError`). Pure mechanics; no Rasa, no
spaCy: :meth:`Lexicon.find` works on character offsets of the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

from bot.normalize import normalize, normalize_with_offsets

HERE = Path(__file__).resolve().parent
RESPECT_PATH = HERE / "respect.yml"
CALM_PATH = HERE / "calm.yml"

_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_SENTENCE_END = re.compile(r"[.!?…]+")
_CLAUSE_BREAK = set(",;:–—()")
_QUOTE_PAIRS = (("„", "“"), ("“", "”"), ("»", "«"), ("«", "»"), ("‚", "‘"), ('"', '"'))
_CLAUSE_WORDS = frozenset(
    {"aber", "sondern", "weil", "dass", "obwohl", "wenn", "falls", "nachdem", "jedoch"}
)
_SCOPES = ("sentence", "turn", "opening")
_DOUBLE = re.compile(r"([^\W\d_])\1+")
#: joints between the parts of a compound ("Idiot-en-verein", "Betrüger-s-…")
_LINKS = ("en", "n", "s", "es", "e", "")
#: stems of at least this many letters are also found with one typo, in unknown words only
_TYPO_MIN = 7
_RESPECT_KEYS = {
    "issue",
    "level",
    "compounds",
    "negatable",
    "person",
    "reportable",
    "needs_second",
    "entries",
    "person_only",
    "unless_words",
    "unless_next",
}
_CALM_KEYS = {
    "issue",
    "calm",
    "scope",
    "entries",
    "unless_signals",
    "negatable",
    "question",
    "max_words",
}


class LexiconError(ValueError):
    """``respect.yml`` or ``calm.yml`` is malformed."""


def fold(word: str) -> str:
    """A word as the lexicon compares it: normalised, without apostrophes and hyphens."""
    return re.sub(r"['’\-]", "", normalize(word))


def squeeze(word: str) -> str:
    """``word`` with every doubled letter written once ("idioot" -> "idiot")."""
    return _DOUBLE.sub(r"\1", word)


@dataclass(frozen=True)
class Hit:
    """One match of the lexicon in a text (character offsets into the original text)."""

    criterion: str  # "respect" or "calm"
    category: str
    issue: str
    severity: float  # respect: the sentence is worth at most 1 - severity
    calm: float  # calm penalty
    start: int
    end: int
    text: str
    unless_signals: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Alt:
    word: str
    prefix: bool


@dataclass(frozen=True)
class _Step:
    alts: tuple[_Alt, ...] = ()
    gap: int = 0  # >0: up to this many words ("..")
    one: bool = False  # exactly one word ("_")

    def accepts(self, token: str) -> bool:
        return any(token.startswith(a.word) if a.prefix else token == a.word for a in self.alts)


@dataclass
class _Entry:
    category: str
    steps: tuple[_Step, ...]
    severity: float
    calm: float
    source: str
    compound: bool = False  # a single stem that also matches compounds
    person_only: bool = False


@dataclass
class _Category:
    name: str
    criterion: str
    issue: str
    scope: str = "sentence"
    negatable: bool = False
    person: bool = False
    reportable: bool = False
    needs_second: bool = False
    question: bool = False
    max_words: int = 0
    unless_signals: tuple[str, ...] = ()
    unless_words: tuple[_Alt, ...] = ()
    unless_next: tuple[_Alt, ...] = ()
    entries: list[_Entry] = field(default_factory=list)


@dataclass
class _Token:
    word: str  # folded
    start: int  # offsets in the original text
    end: int
    sent: int
    clause: int
    quoted: bool
    index: int = 0


def _fail(path: Path, message: str) -> LexiconError:
    return LexiconError(f"{path.name}: {message}")


def _parse_steps(spec: str, path: Path, where: str) -> tuple[_Step, ...]:
    steps: list[_Step] = []
    for part in spec.split():
        if part == "..":
            steps.append(_Step(gap=3))
            continue
        if part == "_":
            steps.append(_Step(one=True))
            continue
        alts = []
        for alt in part.split("|"):
            prefix = alt.endswith("*")
            word = fold(alt[:-1] if prefix else alt)
            if not word or not re.fullmatch(r"[a-z0-9]+", word):
                raise _fail(path, f"{where}: bad word {alt!r} in {spec!r}")
            alts.append(_Alt(word, prefix))
        steps.append(_Step(alts=tuple(alts)))
    if not steps or not steps[0].alts or not steps[-1].alts:
        raise _fail(path, f"{where}: an entry must start and end with a word: {spec!r}")
    return tuple(steps)


def _bool(raw: dict, key: str, path: Path, where: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise _fail(path, f"{where}.{key} must be true or false")
    return value


class Lexicon:
    """The compiled word lists of ``respect.yml`` and ``calm.yml``."""

    def __init__(self, respect_path: Path = RESPECT_PATH, calm_path: Path = CALM_PATH) -> None:
        """Load and validate both files (``LexiconError`` when one is malformed)."""
        self.respect_data = self._read(respect_path)
        self.calm_data = self._read(calm_path)
        ctx = self.respect_data.get("context") or {}
        for key in (
            "negators",
            "negation_exceptions_next",
            "reporting_verbs",
            "self_markers",
            "self_after",
            "second_person",
            "first_person",
            "suffixes",
            "harmless",
        ):
            if not isinstance(ctx.get(key), list):
                raise _fail(respect_path, f"context.{key} must be a list")
        self.negators = {fold(str(w)) for w in ctx["negators"]}
        self.neg_exceptions = {fold(str(w)) for w in ctx["negation_exceptions_next"]}
        self.reporting = {fold(str(w)) for w in ctx["reporting_verbs"]}
        exempt = ctx.get("reporting_exempt_after", [])
        if not isinstance(exempt, list):
            raise _fail(respect_path, "context.reporting_exempt_after must be a list")
        self.reporting_exempt = {fold(str(w)) for w in exempt}
        frame = ctx.get("negated_frame_verbs", [])
        starts = ctx.get("negated_frame_clause_starts", [])
        if not isinstance(frame, list) or not isinstance(starts, list):
            raise _fail(
                respect_path,
                "context.negated_frame_verbs and negated_frame_clause_starts must be lists",
            )
        self.frame_verbs = {fold(str(w)) for w in frame}
        more = ctx.get("negated_frame_negators", [])
        if not isinstance(more, list):
            raise _fail(respect_path, "context.negated_frame_negators must be a list")
        self.frame_negators = self.negators | {fold(str(w)) for w in more}
        factive = ctx.get("negated_frame_factive", [])
        if not isinstance(factive, list):
            raise _fail(respect_path, "context.negated_frame_factive must be a list")
        self.frame_factive = {fold(str(w)) for w in factive}
        self.frame_starts = {fold(str(w)) for w in starts}
        self.self_markers = [tuple(fold(w) for w in str(m).split()) for m in ctx["self_markers"]]
        self.self_after = [tuple(fold(w) for w in str(m).split()) for m in ctx["self_after"]]
        self.second = {fold(str(w)) for w in ctx["second_person"]}
        self.first = {fold(str(w)) for w in ctx["first_person"]}
        self.suffixes = sorted({fold(str(s)) if s else "" for s in ctx["suffixes"]}, key=len)
        self.harmless = {fold(str(w)) for w in ctx["harmless"]}

        levels = self.respect_data.get("levels")
        if not isinstance(levels, dict) or not levels:
            raise _fail(respect_path, "levels must be a mapping")
        self.levels: dict[str, tuple[float, float]] = {}
        for name, lv in levels.items():
            try:
                sev, calm = float(lv["severity"]), float(lv["calm"])
            except (KeyError, TypeError, ValueError) as exc:
                raise _fail(respect_path, f"levels.{name} needs severity and calm") from exc
            if not (0.0 <= sev <= 1.0 and 0.0 <= calm <= 1.0):
                raise _fail(respect_path, f"levels.{name}: values must be within 0–1")
            self.levels[name] = (sev, calm)

        self.categories: list[_Category] = []
        for name, raw in (self.respect_data.get("categories") or {}).items():
            self.categories.append(self._respect_category(name, raw, respect_path))
        for name, raw in (self.calm_data.get("categories") or {}).items():
            self.categories.append(self._calm_category(name, raw, calm_path))
        if not self.categories:
            raise _fail(respect_path, "no categories")

        typo = self.calm_data.get("typography") or {}
        try:
            self.caps_share = float(typo["caps_share_min"])
            self.caps_words_min = int(typo["caps_words_min"])
            self.caps_single = int(typo["caps_single_min_letters"])
            self.excl_min = int(typo["exclamations_min"])
            self.question_run = int(typo["question_run_min"])
            self.typo_calm = float(typo["calm"])
            self.acronyms = {fold(str(a)) for a in typo["acronyms"]}
        except (KeyError, TypeError, ValueError) as exc:
            raise _fail(calm_path, f"typography is incomplete: {exc}") from exc

        # index: first word -> entries; prefix first words; compound stems
        self._by_first: dict[str, list[_Entry]] = {}
        self._by_prefix: dict[str, list[_Entry]] = {}
        self._compounds: dict[str, list[_Entry]] = {}
        self._cat = {c.name: c for c in self.categories}
        for cat in self.categories:
            for entry in cat.entries:
                if entry.compound:
                    self._compounds.setdefault(entry.steps[0].alts[0].word, []).append(entry)
                    continue
                for alt in entry.steps[0].alts:
                    index = self._by_prefix if alt.prefix else self._by_first
                    index.setdefault(alt.word, []).append(entry)
        self._stem_lengths = sorted({len(s) for s in self._compounds}, reverse=True)
        self._squeezed: dict[str, set[str]] = {}
        for stem in self._compounds:
            self._squeezed.setdefault(squeeze(stem), set()).add(stem)
        self._deletion_index: dict[str, set[str]] = {}
        for stem in self._compounds:
            if len(stem) >= _TYPO_MIN:
                for k in range(len(stem)):
                    self._deletion_index.setdefault(stem[:k] + stem[k + 1 :], set()).add(stem)

    # ------------------------------------------------------------------ loading

    @staticmethod
    def _read(path: Path) -> dict:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise _fail(path, f"not valid YAML: {exc}") from exc
        if not isinstance(data, dict) or data.get("version") != 1:
            raise _fail(path, "version: 1 expected")
        return data

    def _entries(
        self, cat: _Category, raw: Any, path: Path, sev: float, calm: float, compounds: bool
    ) -> list[_Entry]:
        where = f"categories.{cat.name}"
        if not isinstance(raw, list) or not raw:
            raise _fail(path, f"{where}.entries must be a non-empty list")
        out = []
        for item in raw:
            e_sev, e_calm = sev, calm
            if isinstance(item, dict):
                unknown = set(item) - {"p", "level"}
                if unknown or "p" not in item:
                    raise _fail(path, f"{where}: entry {item!r} needs p (and only level)")
                if "level" in item:
                    if item["level"] not in self.levels:
                        raise _fail(path, f"{where}: unknown level {item['level']!r}")
                    e_sev, e_calm = self.levels[item["level"]]
                specs = item["p"] if isinstance(item["p"], list) else [item["p"]]
            elif isinstance(item, (str, int)):
                specs = [item]
            else:
                raise _fail(path, f"{where}: entry {item!r} is no string")
            for spec in map(str, specs):
                steps = _parse_steps(spec, path, where)
                single = len(steps) == 1 and len(steps[0].alts) == 1 and not steps[0].alts[0].prefix
                out.append(
                    _Entry(cat.name, steps, e_sev, e_calm, spec, compound=compounds and single)
                )
        return out

    @staticmethod
    def _category_head(name: str, raw: Any, path: Path, keys: set[str]) -> str:
        """Check that a category is a mapping with only ``keys``; its place for messages."""
        where = f"categories.{name}"
        if not isinstance(raw, dict):
            raise _fail(path, f"{where} must be a mapping")
        unknown = set(raw) - keys
        if unknown:
            raise _fail(path, f"{where}: unknown keys {sorted(unknown)}")
        return where

    @staticmethod
    def _word_alternatives(raw: dict, key: str, path: Path, where: str) -> tuple[_Alt, ...]:
        """The word alternatives of the list ``raw[key]`` (empty when absent)."""
        words = raw.get(key) or []
        if not isinstance(words, list):
            raise _fail(path, f"{where}.{key} must be a list")
        return tuple(alt for w in words for alt in _parse_steps(str(w), path, where)[0].alts)

    def _respect_category(self, name: str, raw: Any, path: Path) -> _Category:
        where = self._category_head(name, raw, path, _RESPECT_KEYS)
        if not isinstance(raw.get("issue"), str) or raw.get("level") not in self.levels:
            raise _fail(path, f"{where} needs an issue and a known level")
        sev, calm = self.levels[raw["level"]]
        cat = _Category(
            name,
            "respect",
            raw["issue"],
            negatable=_bool(raw, "negatable", path, where),
            person=_bool(raw, "person", path, where),
            reportable=_bool(raw, "reportable", path, where),
            needs_second=_bool(raw, "needs_second", path, where),
        )
        cat.unless_words = self._word_alternatives(raw, "unless_words", path, where)
        cat.unless_next = self._word_alternatives(raw, "unless_next", path, where)
        compounds = _bool(raw, "compounds", path, where)
        cat.entries = self._entries(cat, raw.get("entries"), path, sev, calm, compounds)
        only = {fold(str(w)) for w in raw.get("person_only") or []}
        for entry in cat.entries:
            if entry.compound and entry.steps[0].alts[0].word in only:
                entry.compound = False
                entry.person_only = True
        return cat

    def _calm_category(self, name: str, raw: Any, path: Path) -> _Category:
        where = self._category_head(name, raw, path, _CALM_KEYS)
        if not isinstance(raw.get("issue"), str):
            raise _fail(path, f"{where} needs an issue")
        try:
            calm = float(raw.get("calm"))
        except (TypeError, ValueError) as exc:
            raise _fail(path, f"{where}.calm must be a number") from exc
        if not 0.0 <= calm <= 1.0:
            raise _fail(path, f"{where}.calm must be within 0–1")
        scope = raw.get("scope", "sentence")
        if scope not in _SCOPES:
            raise _fail(path, f"{where}.scope must be one of {_SCOPES}")
        unless = raw.get("unless_signals") or []
        if not isinstance(unless, list) or not all(isinstance(s, str) for s in unless):
            raise _fail(path, f"{where}.unless_signals must be a list of signal names")
        cat = _Category(
            name,
            "calm",
            raw["issue"],
            scope=scope,
            negatable=_bool(raw, "negatable", path, where),
            question=_bool(raw, "question", path, where),
            max_words=int(raw.get("max_words", 0) or 0),
            unless_signals=tuple(unless),
        )
        if scope == "turn" and cat.max_words <= 0:
            raise _fail(path, f"{where}: scope turn needs max_words")
        cat.entries = self._entries(cat, raw.get("entries"), path, 0.0, calm, False)
        return cat

    # ------------------------------------------------------------------ public

    def issues(self) -> dict[str, str]:
        """Every issue (signal name) of the lexicon and its criterion."""
        return {c.issue: c.criterion for c in self.categories}

    def size(self) -> int:
        """How many entries the lexicon has (alternatives not expanded)."""
        return sum(len(c.entries) for c in self.categories)

    def is_acronym(self, word: str) -> bool:
        """Whether ``word`` is a known abbreviation (no shouting)."""
        return fold(word) in self.acronyms

    def find(self, text: str, is_known: Callable[[str], bool] | None = None) -> list[Hit]:
        """Every hit in ``text`` that counts (quotes, reports, negation, self-talk left out).

        ``is_known(word)`` tells whether a word of the text is a real German word; only
        unknown words are tried as typos of a long insult ("Vollidot").
        """
        return self.scan(text, is_known)[0]

    def scan(
        self, text: str, is_known: Callable[[str], bool] | None = None
    ) -> tuple[list[Hit], list[tuple[int, int]]]:
        """The hits that count, and the places of respect entries that do not count.

        The second list (character spans) lets the rubric drop its own older word-list hits
        at the same place: what the lexicon found quoted, reported, negated or self-directed
        is no insult there either.
        """
        if not text or not text.strip():
            return [], []
        tokens = self._tokens(text)
        hits: list[Hit] = []
        vetoed: list[tuple[int, int]] = []
        if tokens:
            for cat, entry, i, j in self._matches(tokens, text, is_known):
                start, end = tokens[i].start, tokens[j - 1].end
                if not self._counts(cat, entry, tokens, i, j, text):
                    if cat.criterion == "respect":
                        vetoed.append((start, end))
                    continue
                hits.append(
                    Hit(
                        cat.criterion,
                        cat.name,
                        cat.issue,
                        entry.severity,
                        entry.calm,
                        start,
                        end,
                        text[start:end],
                        cat.unless_signals,
                    )
                )
        hits.extend(self._typography(text))
        return _dedupe(hits), vetoed

    # ------------------------------------------------------------------ tokens

    def _tokens(self, text: str) -> list[_Token]:
        norm, spans = normalize_with_offsets(text)
        quoted = _quoted_ranges(text)
        out: list[_Token] = []
        sent = clause = 0
        pos = 0
        for m in _WORD.finditer(norm):
            between = norm[pos : m.start()]
            if _SENTENCE_END.search(between):
                sent += 1
                clause += 1
            elif any(ch in _CLAUSE_BREAK for ch in between) or any(
                q in between for pair in _QUOTE_PAIRS for q in pair
            ):
                clause += 1
            word = re.sub(r"['’\-]", "", m.group())
            if word in _CLAUSE_WORDS and out and out[-1].clause == clause:
                clause += 1
            start, end = spans[m.start()][0], spans[m.end() - 1][1]
            inside = any(a <= start and end <= b for a, b in quoted)
            out.append(_Token(word, start, end, sent, clause, inside, len(out)))
            pos = m.end()
        return out

    # ------------------------------------------------------------------ matching

    def _matches(
        self, tokens: list[_Token], text: str, is_known: Callable[[str], bool] | None
    ) -> Iterable[tuple[_Category, _Entry, int, int]]:
        for i, tok in enumerate(tokens):
            w = tok.word
            candidates = list(self._by_first.get(w, ()))
            for k in range(1, len(w) + 1):
                candidates += self._by_prefix.get(w[:k], ())
            for entry in candidates:
                j = self._match_at(entry.steps, tokens, i)
                if j is not None:
                    yield self._cat[entry.category], entry, i, j
            if w in self.harmless:
                continue
            stems = self._stems_of(w)
            original = text[tok.start : tok.end]
            if not stems and _DOUBLE.search(original.lower()):  # "Idioot", "Trotttel"
                q = squeeze(w)
                stems = {s for k in range(5) for s in self._squeezed.get(q[: len(q) - k], ())}
            if not stems and len(w) >= _TYPO_MIN and is_known is not None:
                if not is_known(original):
                    stems = self._typo_of(w)
            for stem in stems:
                for entry in self._compounds[stem]:
                    yield self._cat[entry.category], entry, i, i + 1

    def near_a_stem(self, word: str) -> bool:
        """Whether ``word`` (any spelling) would be tried as a typo of an insult."""
        w = fold(word)
        return len(w) >= _TYPO_MIN and not self._stems_of(w) and bool(self._typo_of(w))

    def _typo_of(self, word: str) -> set[str]:
        """Stems one typo away from ``word`` (a letter missing, added, wrong or swapped)."""
        out = set()
        deletions = {word[:k] + word[k + 1 :] for k in range(len(word))}
        for variant in deletions | {word}:
            out |= self._deletion_index.get(variant, set())
            if variant in self._compounds:
                out.add(variant)
        return {s for s in out if len(s) >= _TYPO_MIN}

    def _stems_of(self, word: str) -> set[str]:
        """The stems of ``word``: itself inflected/derived, or the head of a compound."""
        found = {word[: len(word) - t] for t in range(0, 5)} & self._compounds.keys()
        for n in self._stem_lengths:  # the stem as the first part: "Idiotenverein"
            head = word[:n]
            if n >= 5 and head in self._compounds:
                rest = word[n:]
                for link in _LINKS:
                    if rest.startswith(link) and len(rest) - len(link) >= 3:
                        found.add(head)
                        break
        if any(word.endswith(h) for h in self.harmless):
            return found
        for suffix in self.suffixes:
            if suffix and not word.endswith(suffix):
                continue
            body = word[: len(word) - len(suffix)] if suffix else word
            for n in self._stem_lengths:
                if len(body) - n >= 3 and body[-n:] in self._compounds:
                    found.add(body[-n:])
        return found

    def _match_at(self, steps: tuple[_Step, ...], tokens: list[_Token], i: int) -> int | None:
        """End index (exclusive) of ``steps`` matched from token ``i`` in one sentence."""
        sent = tokens[i].sent

        def walk(k: int, pos: int) -> int | None:
            if k == len(steps):
                return pos
            step = steps[k]
            if step.gap:
                for skip in range(step.gap + 1):
                    if pos + skip > len(tokens) or (
                        pos + skip < len(tokens) and tokens[pos + skip].sent != sent
                    ):
                        break
                    found = walk(k + 1, pos + skip)
                    if found is not None:
                        return found
                return None
            if pos >= len(tokens) or tokens[pos].sent != sent:
                return None
            if step.one or step.accepts(tokens[pos].word):
                return walk(k + 1, pos + 1)
            return None

        return walk(0, i)

    # ------------------------------------------------------------------ context

    def _counts(
        self, cat: _Category, entry: _Entry, tokens: list[_Token], i: int, j: int, text: str
    ) -> bool:
        if any(t.quoted for t in tokens[i:j]):
            return False
        clause = [t for t in tokens if t.clause == tokens[i].clause]
        sentence = [t for t in tokens if t.sent == tokens[i].sent]
        if cat.scope == "turn":
            words = [t.word for t in tokens]
            if j - i != len(words) or len(words) > cat.max_words:
                return False
        if cat.scope == "opening":
            if i != 0:
                return False
            if j >= len(tokens) or tokens[j].clause == tokens[0].clause:
                return False  # "Klar ist: …" is part of a sentence; a bare "Okay." a receipt
        if cat.question and not _is_question(text, tokens, i):
            return False
        if (cat.needs_second or entry.person_only) and not any(
            t.word in self.second for t in clause
        ):
            return False
        if cat.unless_words and any(_Step(alts=cat.unless_words).accepts(t.word) for t in clause):
            return False
        if (
            cat.unless_next
            and j < len(tokens)
            and tokens[j].sent == tokens[i].sent
            and _Step(alts=cat.unless_next).accepts(tokens[j].word)
        ):
            return False
        if cat.negatable and self._negated(tokens, clause, i, j, cat.criterion == "calm", entry):
            return False
        if (cat.negatable or cat.reportable) and self._frame_negated(sentence, clause):
            return False
        if cat.reportable and self._reported(sentence):
            return False
        if cat.person and self._self_directed(tokens, clause, i, j):
            return False
        return True

    def _negated(self, tokens, clause, i: int, j: int, after: bool, entry=None) -> bool:
        for t in clause:
            idx = t.index
            if t.word not in self.negators:
                continue
            if i <= idx < j and (entry is None or _spelled_in(entry, t.word)):
                continue  # the negation is part of the entry ("ist mir nicht wichtig")
            if i <= idx < j:
                return True  # said in a gap of the entry: "mache ich nicht noch mal"
            nxt = tokens[idx + 1].word if idx + 1 < len(tokens) else ""
            if nxt in self.neg_exceptions:
                continue
            if idx < i or (after and j <= idx < j + 3):
                return True
        return False

    def _frame_negated(self, sentence: list[_Token], clause: list[_Token]) -> bool:
        """Whether the clause is what a negated main clause says is not so.

        "Ich sage nicht, dass Sie eine Betrügerin sind", "Ich habe nie behauptet, dass Sie
        lügen", "Das heißt nicht, dass Ihre Arbeit schlecht war": the hit stands in a
        "dass/ob"-clause under a negated verb of saying or meaning earlier in the sentence.
        """
        if not clause or clause[0].word not in self.frame_starts:
            return False
        before = {t.word for t in sentence if t.index < clause[0].index}
        if before & self.frame_factive:  # "Ich finde es nicht in Ordnung, dass Sie …"
            return False
        return bool(before & self.frame_negators) and bool(before & self.frame_verbs)

    def _reported(self, sentence: list[_Token]) -> bool:
        """Whether the sentence reports what someone said ("Sie sagten, wir seien …").

        "Ehrlich gesagt …", "offen gesagt", "wie gesagt" introduce the user's own words.
        """
        words = [t.word for t in sentence]
        for k, w in enumerate(words):
            if w not in self.reporting or "ich" in words[max(0, k - 3) : k]:
                continue
            if k and words[k - 1] in self.reporting_exempt:
                continue
            return True
        return False

    def _self_directed(self, tokens, clause, i: int, j: int) -> bool:
        if any(t.word in self.second for t in clause):
            return False
        before = [t.word for t in clause if t.index < i]
        after = [t.word for t in clause if t.index >= j]
        for marker in self.self_markers:
            n = len(marker)
            if any(tuple(before[k : k + n]) == marker for k in range(len(before) - n + 1)):
                return True
        return any(tuple(after[: len(m)]) == m for m in self.self_after)

    # ------------------------------------------------------------------ typography

    def _typography(self, text: str) -> list[Hit]:
        words = [m for m in re.finditer(r"[^\W\d_]{3,}", text)]
        caps = [
            m
            for m in words
            if m.group().isupper() and fold(m.group()) not in self.acronyms and len(m.group()) > 1
        ]
        shout = False
        if caps and (
            len(caps) >= self.caps_words_min
            and len(caps) / max(1, len(words)) >= self.caps_share
            or any(len(m.group()) >= self.caps_single for m in caps)
        ):
            shout = True
        runs = re.findall(r"[!?]{2,}", text)
        if any(r.count("?") >= self.question_run or "?" in r and "!" in r for r in runs):
            shout = True
        if text.count("!") >= self.excl_min and re.search(r"!{2,}", text):
            shout = True
        if not shout:
            return []
        where = caps[0] if caps else None
        start, end = (where.start(), where.end()) if where else (0, len(text))
        return [
            Hit("calm", "typografie", "shouting", 0.0, self.typo_calm, start, end, text[start:end])
        ]


def _spelled_in(entry: _Entry, word: str) -> bool:
    """Whether ``word`` is one of the entry's own words (not a word in one of its gaps)."""
    return any(not s.gap and not s.one and s.accepts(word) for s in entry.steps)


def _quoted_ranges(text: str) -> list[tuple[int, int]]:
    out = []
    for open_q, close_q in _QUOTE_PAIRS:
        pos = 0
        while True:
            a = text.find(open_q, pos)
            if a < 0:
                break
            b = text.find(close_q, a + 1)
            if b < 0:
                break
            out.append((a, b + 1))
            pos = b + 1
    return out


def _is_question(text: str, tokens: list[_Token], i: int) -> bool:
    sent = tokens[i].sent
    last = max(t.end for t in tokens if t.sent == sent)
    rest = text[last:]
    m = re.match(r"[^\w]*", rest)
    return "?" in (m.group() if m else "")


def _dedupe(hits: list[Hit]) -> list[Hit]:
    """One hit per category and place: the longest of overlapping hits of a category."""
    hits = sorted(hits, key=lambda h: (h.category, -(h.end - h.start), h.start))
    kept: list[Hit] = []
    for h in hits:
        if any(k.category == h.category and k.start < h.end and h.start < k.end for k in kept):
            continue
        kept.append(h)
    return sorted(kept, key=lambda h: (h.start, h.category))


@lru_cache(maxsize=1)
def get_lexicon() -> Lexicon:
    """The lexicon of this process (loaded and validated once)."""
    return Lexicon()
