"""Rule engine of the feedback rubric.

Mechanics only: every word list, pattern, weight and threshold lives in ``rules.yml``;
every text shown to the user (tips, suggestions, labels, messages) in ``suggestions.yml``.

The pipeline is ``bot.nlp.blank_de()`` (tokenizer + lookup lemmatizer). Each token gets a
normalised lemma in ``Token.norm_`` (lower-cased lemma; pronouns and particles keep their
lower-cased surface form, because the lookup table maps e.g. "Sie" to "ich"). Patterns from
``rules.yml`` are compiled to spaCy ``Matcher`` patterns over ``NORM`` / ``LOWER`` and phrase
lists to a ``PhraseMatcher`` over ``LOWER``. Everything is built lazily on first use.
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from bot.texts import load
from bot.texts import text as _text  # `text` is a parameter name here

HERE = Path(__file__).resolve().parent
RULES_PATH = HERE / "rules.yml"
TEXTS_PATH = HERE / "suggestions.yml"
# Pruned copy of the German lemma lookup table: only the entries the rules can match.
# Lets the command line start without loading all 355,000 entries (see load_cli_engine()).
LEMMA_CACHE_PATH = HERE / "lemmas.json"
# Bump when the pattern language (parsing / normalisation) changes.
PATTERN_LANGUAGE_VERSION = 1

CRITERIA: tuple[str, ...] = ("clarity", "reasons", "respect", "transition", "appreciation", "calm")

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_yaml(path: Path) -> dict:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_Loader) or {}


@lru_cache(maxsize=1)
def rules() -> dict:
    """The parsed ``rules.yml``: lexicon, macros, signals and scoring (read once)."""
    return _load_yaml(RULES_PATH)


def texts() -> dict:
    """The raw data of ``suggestions.yml`` (text source ``rubric`` of ``bot.texts``).

    Sentences for the user are taken with ``bot.texts.text``; this is for word lists and rules.
    """
    return load("rubric")


class RubricInputError(ValueError):
    """The text cannot be assessed (empty or whitespace only)."""


# --------------------------------------------------------------------------- result type


@dataclass(frozen=True)
class Assessment:
    """Rating of one utterance. ``scores`` 0.0–1.0 per criterion, ``overall`` 0–100."""

    scores: dict[str, float]
    overall: float
    tips: list[str]
    flags: frozenset[str]
    evidence: dict[str, list[str]]
    under_backlash: bool = False
    truncated: bool = False
    #: every signal found (internal ones included) with the words that matched it
    signals: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: hits of the lexicon (``lexicon.py``): (criterion, issue, severity, calm penalty, words)
    lexicon: tuple[tuple[str, str, float, float, str], ...] = ()

    def to_json_dict(self) -> dict[str, Any]:
        """The ``coach assess --json`` object: six criteria, ``overall``, ``tips``."""
        out: dict[str, Any] = {c: self.scores[c] for c in CRITERIA}
        out["overall"] = self.overall
        out["tips"] = list(self.tips)
        return out


# --------------------------------------------------------------------------- pattern language


def _split_alternatives(spec: str) -> list[str]:
    """Split ``a|b|~(x|y)`` at ``|`` outside parentheses/brackets."""
    parts, depth, cur = [], 0, []
    for ch in spec:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "|" and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p for p in parts if p]


@dataclass
class TokenSpec:
    """One token of a rule pattern: accepted lemmas, lower-case forms and regexes."""

    norms: set[str] = field(default_factory=set)
    lowers: set[str] = field(default_factory=set)
    regexes: list[str] = field(default_factory=list)
    optional: bool = False
    wildcard: int = 0  # >0: this spec is "*N"

    @property
    def regex(self) -> re.Pattern | None:
        """The regexes ORed into one compiled pattern, None if there are none."""
        if not self.regexes:
            return None
        return re.compile("|".join(f"(?:{r})" for r in self.regexes))

    def variants(self) -> list[dict]:
        """SpaCy token dicts, one per attribute group (ORed by pattern expansion)."""
        op = {"OP": "?"} if self.optional else {}
        out = []
        if self.norms:
            out.append({"NORM": {"IN": sorted(self.norms)}, **op})
        if self.lowers:
            out.append({"LOWER": {"IN": sorted(self.lowers)}, **op})
        if self.regexes:
            out.append({"LOWER": {"REGEX": "|".join(f"(?:{r})" for r in self.regexes)}, **op})
        return out


class Predicate:
    """A single-token test in Python (for require/unless options)."""

    def __init__(self, spec: TokenSpec):
        """Freeze the accepted forms of ``spec``."""
        self.norms = frozenset(spec.norms)
        self.lowers = frozenset(spec.lowers)
        self.rx = spec.regex

    def __call__(self, tok) -> bool:
        """Whether the spaCy token ``tok`` passes the test."""
        if tok.norm_ in self.norms or tok.lower_ in self.lowers:
            return True
        return bool(self.rx and self.rx.search(tok.lower_))


# --------------------------------------------------------------------------- engine


@dataclass
class _PatternInfo:
    signal: str
    opts: dict
    has_negator: bool


@dataclass
class _Analysis:
    doc: Any
    sent_of: list[int]
    clause_of: list[int]
    clause_start: dict[int, int]
    hits: dict[str, list[tuple[int, int]]]
    flags: set[str]
    n_tokens: int
    truncated: bool
    clause_tokens: dict[int, list] = field(default_factory=dict)
    sent_tokens: dict[int, list] = field(default_factory=dict)
    #: hits of the lexicon that count, with their token span
    lex: list = field(default_factory=list)
    #: the text as given (after whitespace and length capping); ``doc`` is made from a copy
    #: with umlauts restored and restated-date commas dropped (``_prepare``): ``to_source``
    #: maps each of its characters to its span in ``source`` (empty when nothing changed)
    source: str = ""
    to_source: list[tuple[int, int]] = field(default_factory=list)

    def span_text(self, span: tuple[int, int]) -> str:
        return self.doc[span[0] : span[1]].text

    def first(self, signal: str) -> str | None:
        spans = self.hits.get(signal) or []
        return self.span_text(spans[0]) if spans else None


class RubricEngine:
    """The compiled rules of ``rules.yml`` with the spaCy pipeline that applies them.

    Normally built on ``bot.nlp.blank_de()`` and its lemma table; the command line may pass
    ``spacy.blank("de")`` plus the pruned table from ``lemmas.json`` (identical results, see
    ``lemma_subset``).
    """

    def __init__(self, nlp=None, lemma_table=None) -> None:
        """Compile the matchers; ``nlp``/``lemma_table`` default to ``blank_de()`` and its table."""
        from bot.nlp import import_spacy

        import_spacy()  # without TensorFlow (see bot.nlp)
        from spacy.matcher import Matcher, PhraseMatcher

        self.rules = rules()
        self.texts = texts()
        if nlp is None:
            from bot.nlp import blank_de

            nlp = blank_de()
        self.nlp = nlp
        lex = self.rules["lexicon"]
        self.keep_lower = {w.lower() for w in lex["keep_lower"]}
        self.negators = {w.lower() for w in lex["negators"]}
        self.neg_exceptions = {w.lower() for w in lex["negation_exceptions_next"]}
        self.second_person = {w.lower() for w in lex["second_person"]}
        self.first_person = {w.lower() for w in lex["first_person"]}
        self.sentence_end = set(lex["sentence_end"])
        self.date_sentence_starts = {str(w).lower() for w in lex.get("date_sentence_starts", ())}
        self.breakers = {str(w).lower() for w in lex["clause_breakers"]}
        self.apposition = _apposition_re(self.rules["limits"])
        self.transliterations = {
            str(k).lower(): str(v).lower() for k, v in (lex.get("transliterations") or {}).items()
        }
        self.adversatives = {w.lower() for w in lex["adversatives"]}
        self.hedge_barriers = {w.lower() for w in lex["hedge_barriers"]}
        self.macros: dict[str, str] = self.rules.get("macros", {})
        if lemma_table is not None:
            self._table = lemma_table
        else:  # a pipeline without the lookup lemmatizer is a broken set-up: KeyError
            self._table = self.nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
        self._norm_cache: dict[str, str] = {}
        self._lemma_values: set[str] | None = None
        self.pattern_norms: set[str] = set()

        self.matcher = Matcher(self.nlp.vocab)
        self.phrase_matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.pattern_info: dict[int, _PatternInfo] = {}
        self.signal_opts: dict[str, dict] = {}
        self._predicate_cache: dict[str, Predicate] = {}
        for name, sig in self.rules["signals"].items():
            self._add_signal(name, sig or {})
        # signals derived in _derive() from several others
        for name, crit in (self.rules.get("derived") or {}).items():
            self.signal_opts.setdefault(name, {"criterion": crit})
        from bot.rubric.lexicon import get_lexicon

        self.lexicon = get_lexicon()
        for name, crit in self.lexicon.issues().items():
            self.signal_opts.setdefault(name, {"criterion": crit})
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ normalisation

    def norm(self, text: str) -> str:
        """The form a word is matched by: its lemma (lower case) or the word in lower case."""
        cached = self._norm_cache.get(text)
        if cached is not None:
            return cached
        low = text.lower()
        if low in self.keep_lower:
            result = low
        else:
            result = low
            for cand in (low, text, text[:1].upper() + text[1:].lower()):
                lemma = self._table.get(cand) if cand else None
                if lemma:
                    result = str(lemma).lower()
                    break
        if len(self._norm_cache) < 200_000:
            self._norm_cache[text] = result
        return result

    # ------------------------------------------------------------------ compiling

    def _expand_macros(self, pattern: str) -> list[str]:
        out = []
        for tok in pattern.split():
            if "@" in tok:
                optional = tok.endswith("?") and len(tok) > 1
                body = tok[:-1] if optional else tok
                alts = []
                for alt in _split_alternatives(body):
                    if alt.startswith("@"):
                        if alt[1:] not in self.macros:
                            raise KeyError(f"rules.yml: unknown macro {alt}")
                        alt = self.macros[alt[1:]]
                    alts.append(alt)
                tok = "|".join(alts) + ("?" if optional else "")
            out.append(tok)
        return out

    def _parse_token(self, tok: str) -> TokenSpec:
        m = re.fullmatch(r"\*(\d+)", tok)
        if m:
            return TokenSpec(wildcard=int(m.group(1)))
        spec = TokenSpec()
        if tok.endswith("?") and len(tok) > 1:
            spec.optional = True
            tok = tok[:-1]
        for alt in _split_alternatives(tok):
            if alt.startswith("~"):
                spec.regexes.append(alt[1:])
            elif alt.startswith("="):
                spec.lowers.add(alt[1:].lower())
            else:
                spec.norms.add(alt.lower())
                spec.norms.add(self.norm(alt))
        self.pattern_norms |= spec.norms
        return spec

    def lemma_subset(self, full: dict[str, str]) -> dict[str, str]:
        """The entries of ``full`` that can influence a match.

        ``norm()`` tries the lower-case, original and capitalised form of a word; all of them
        share ``key.lower()``. A group of keys is kept whole if any of its lemmas, or the
        lower-case form itself, is a norm used by a pattern, or if the word is one typo away
        from an insult of the lexicon (``_is_known`` tells a typo from a real word there).
        For every other word both tables give a norm that no pattern uses, so matching is
        identical.
        """
        groups: dict[str, list[str]] = {}
        for key in full:
            groups.setdefault(key.lower(), []).append(key)
        out: dict[str, str] = {}
        for low, keys in groups.items():
            if (
                low in self.pattern_norms
                or any(str(full[k]).lower() in self.pattern_norms for k in keys)
                # _is_known() tells a typo from a real word there (forms and lemmas)
                or self.lexicon.near_a_stem(low)
                or any(self.lexicon.near_a_stem(str(full[k])) for k in keys)
            ):
                for k in keys:
                    out[k] = full[k]
        return out

    def predicate(self, spec: str) -> Predicate:
        """The compiled single-token test for a pattern token of ``rules.yml`` (cached)."""
        pred = self._predicate_cache.get(spec)
        if pred is None:
            toks = self._expand_macros(spec)
            if len(toks) != 1:
                raise ValueError(f"rules.yml: token test must be one token: {spec!r}")
            pred = Predicate(self._parse_token(toks[0]))
            self._predicate_cache[spec] = pred
        return pred

    def _compile(self, pattern: str) -> tuple[list[list[dict]], bool]:
        specs = [self._parse_token(t) for t in self._expand_macros(pattern)]
        has_negator = any(s.lowers & self.negators or s.norms & self.negators for s in specs)
        per_token: list[list[list[dict]]] = []
        for s in specs:
            if s.wildcard:
                per_token.append([[{"IS_PUNCT": False, "OP": "?"}] * s.wildcard])
            else:
                per_token.append([[v] for v in s.variants()])
        variants = [sum(combo, []) for combo in itertools.product(*per_token)]
        return variants, has_negator

    def _add_signal(self, name: str, sig: dict) -> None:
        opts = {k: v for k, v in sig.items() if k not in ("patterns", "phrases")}
        self.signal_opts[name] = opts
        for i, pat in enumerate(sig.get("patterns") or []):
            p_opts = dict(opts)
            if isinstance(pat, dict):
                text = pat["p"]
                p_opts.update({k: v for k, v in pat.items() if k != "p"})
            else:
                text = pat
            variants, has_negator = self._compile(text)
            key = f"{name}#{i}"
            self.matcher.add(key, variants)
            self.pattern_info[self.nlp.vocab.strings[key]] = _PatternInfo(name, p_opts, has_negator)
            for spec in itertools.chain(
                p_opts.get("require_clause") or [],
                p_opts.get("require_sentence") or [],
                p_opts.get("unless_clause") or [],
                p_opts.get("unless_next") or [],
                p_opts.get("unless_prev") or [],
                p_opts.get("unless_sentence") or [],
            ):
                self.predicate(spec)  # validate early
        phrases = sig.get("phrases") or []
        if phrases:
            key = f"{name}#phrases"
            self.phrase_matcher.add(key, [self.nlp.make_doc(p) for p in phrases])
            self.pattern_info[self.nlp.vocab.strings[key]] = _PatternInfo(name, dict(opts), False)

    # ------------------------------------------------------------------ analysis

    def _cap(self, text: str) -> tuple[str, bool]:
        max_chars = int(self.rules["limits"]["max_chars"])
        if len(text) <= max_chars:
            return text, False
        head = text[:max_chars]
        cut = max(head.rfind(". "), head.rfind("! "), head.rfind("? "))
        if cut < max_chars // 2:
            cut = head.rfind(" ")
        if cut < max_chars // 2:
            cut = max_chars - 1
        return head[: cut + 1], True

    def _respell(self, word: str) -> str | None:
        """The umlaut spelling of a word written with "ae/oe/ue" ("kuendigen", "unfaehig").

        Only if that is a known word and ``word`` itself is not; "ss" words ("heisst") and
        small words the lemma table does not know ("fuer") come from ``transliterations``.
        """
        low = word.lower()
        fixed = self.transliterations.get(low)
        if fixed is None:
            if self._is_known(word):
                return None
            umlauts = re.sub(r"ae|oe|ue", lambda m: _UMLAUT[m.group()], low)
            # "ss" stays: the lemma table knows old spellings ("Schluß"), which no rule uses
            if umlauts != low and self._is_known(umlauts):
                fixed = umlauts
        if fixed is None:
            return None
        return fixed[:1].upper() + fixed[1:] if word[:1].isupper() else fixed

    def _prepare(self, text: str) -> tuple[str, list[tuple[int, int]]]:
        """The text the matcher sees, and for each of its characters the source span.

        * "kuendigen", "unfaehig", "heisst" are matched as "kündigen", "unfähig", "heißt";
        * the commas around a restated date are dropped: "zum Quartalsende, also zum 31.
          März, beenden" is matched as one clause.
        The user's own text stays what it is (``sentences`` and quotes use the map back).
        """
        drop: set[int] = set()
        for m in self.apposition.finditer(text):
            drop.add(m.start())
            drop.add(m.end() - 1)
        swaps: dict[int, tuple[int, str]] = {}
        if _TRANSLITERATED.search(text):
            for m in re.finditer(r"[^\W\d_]+", text):
                if _TRANSLITERATED.search(m.group()):
                    fixed = self._respell(m.group())
                    if fixed is not None:
                        swaps[m.start()] = (m.end(), fixed)
        if not drop and not swaps:
            return text, []
        out: list[str] = []
        spans: list[tuple[int, int]] = []
        i = 0
        while i < len(text):
            if i in swaps:
                end, fixed = swaps[i]
                # the new word's characters all point at the old word (a quote never cuts it)
                for ch in fixed:
                    out.append(ch)
                    spans.append((i, end))
                i = end
                continue
            if i not in drop:
                out.append(text[i])
                spans.append((i, i + 1))
            i += 1
        return "".join(out), spans

    def analyse(self, text: str) -> _Analysis:
        """Tokenise ``text`` and find every signal; ``RubricInputError`` for empty text."""
        if text is None or not str(text).strip():
            raise RubricInputError(_text("rubric", "messages.empty"))
        text = re.sub(r"\s+", " ", str(text)).strip()
        full_tokens = len(text.split())
        text, truncated = self._cap(text)
        source = text
        text, to_source = self._prepare(text)
        doc = self.nlp(text)
        for tok in doc:
            tok.norm_ = self.norm(tok.text)

        # sentences and clauses
        sent_of, clause_of, clause_start = [], [], {}
        sent = clause = 0
        new_clause = True
        for tok in doc:
            low = tok.lower_
            is_word_breaker = low in self.breakers and not tok.is_punct
            if is_word_breaker and not new_clause:
                clause += 1
                new_clause = True
            if new_clause:
                clause_start[clause] = tok.i
                new_clause = False
            sent_of.append(sent)
            clause_of.append(clause)
            if (
                tok.text in self.sentence_end
                or (tok.is_punct and tok.text[-1:] in "!?")
                or self._date_ends_sentence(doc, tok)
            ):
                sent += 1
                clause += 1
                new_clause = True
            elif tok.is_punct and low in self.breakers:
                clause += 1
                new_clause = True

        with self._lock:  # Matcher objects are not guaranteed thread-safe
            raw = list(self.matcher(doc)) + list(self.phrase_matcher(doc))
        a = _Analysis(
            doc, sent_of, clause_of, clause_start, {}, set(), max(full_tokens, len(doc)), truncated
        )
        a.source, a.to_source = source, to_source
        for tok in doc:
            a.clause_tokens.setdefault(clause_of[tok.i], []).append(tok)
            a.sent_tokens.setdefault(sent_of[tok.i], []).append(tok)

        # phase 1: per-match filters
        seen = set()
        for match_id, start, end in raw:
            if (match_id, start, end) in seen:
                continue
            seen.add((match_id, start, end))
            info = self.pattern_info[match_id]
            target = self._filter_match(a, info, start, end)
            if target:
                a.hits.setdefault(target, []).append((start, end))
        for name in list(a.hits):
            a.hits[name] = _longest_non_overlapping(a.hits[name])

        # phase 2: suppression by overlapping signals; phase 3: clause-level vetoes
        for phase_key in ("suppressed_by", "unless_signal"):
            snapshot = {k: list(v) for k, v in a.hits.items()}
            for name in list(a.hits):
                blockers = (self.signal_opts.get(name) or {}).get(phase_key) or []
                if not blockers:
                    continue
                kept = []
                for span in a.hits[name]:
                    blocked = False
                    for b in blockers:
                        for other in snapshot.get(b, []):
                            if (
                                phase_key == "suppressed_by"
                                and other[0] < span[1]
                                and span[0] < other[1]
                            ):
                                blocked = True
                            elif (
                                phase_key == "unless_signal"
                                and clause_of[other[0]] == clause_of[span[0]]
                            ):
                                blocked = True
                    if not blocked:
                        kept.append(span)
                a.hits[name] = kept

        self._derive(a)
        self._add_lexicon(a, text)
        for name, spans in a.hits.items():
            if not spans:
                continue
            opts = self.signal_opts.get(name) or {}
            if not opts.get("internal"):
                a.flags.add(name)
            for extra in opts.get("also_flag") or []:
                a.flags.add(extra)
        return a

    def _add_lexicon(self, a: _Analysis, text: str) -> None:
        """The lexicon's hits as signals; a hit with ``unless_signals`` yields to them."""
        doc = a.doc

        def span_of(start: int, end: int) -> tuple[int, int] | None:
            toks = [t.i for t in doc if t.idx < end and t.idx + len(t.text) > start]
            return (toks[0], toks[-1] + 1) if toks else None

        hits, vetoed = self.lexicon.scan(text, self._is_known)
        # quoted, reported, negated or self-directed for the lexicon: no insult in rules.yml
        # either (self-talk, reported speech of the client)
        for start, end in vetoed:
            v = span_of(start, end)
            if v is None:
                continue
            for name in ("insult", "dismissive", "blame", "sarcasm"):
                if a.hits.get(name):
                    a.hits[name] = [s for s in a.hits[name] if s[1] <= v[0] or v[1] <= s[0]]
        found = []
        for hit in hits:
            span = span_of(hit.start, hit.end)
            if span:
                found.append((hit, span))
        for pass_ in (0, 1):
            present = {k for k, v in a.hits.items() if v}
            for hit, span in found:
                if bool(hit.unless_signals) != bool(pass_):
                    continue
                if pass_ and present & set(hit.unless_signals):
                    continue
                a.lex.append((hit, span))
                spans = a.hits.setdefault(hit.issue, [])
                if span not in spans:
                    spans.append(span)
                    spans.sort()

    def _is_known(self, word: str) -> bool:
        """Whether ``word`` is in the lemma table, as a form or a lemma (a real word, no typo)."""
        if any(self._table.get(w) for w in (word, word.lower(), word.capitalize())):
            return True
        if self._lemma_values is None:
            self._lemma_values = {str(v).lower() for v in self._table.values()}
        return word.lower() in self._lemma_values

    def _date_ends_sentence(self, doc: Any, tok: Any) -> bool:
        """Whether a date token with its full stop ends the sentence ("zum 31.12. Wir …").

        The tokenizer keeps "31.12." as one token, so its dot would otherwise never end the
        sentence; it does when a typical sentence start follows in capitals.
        """
        if not _DOTTED_DATE.fullmatch(tok.text) or tok.i + 1 >= len(doc):
            return False
        nxt = doc[tok.i + 1]
        return nxt.text[:1].isupper() and nxt.lower_ in self.date_sentence_starts

    def sentences(self, text: str) -> list[str]:
        """The sentences of ``text`` as the rubric splits them ([] for empty text)."""
        if text is None or not str(text).strip():
            return []
        a = self.analyse(text)
        out = []
        for _, toks in sorted(a.sent_tokens.items()):
            if not all(t.is_punct for t in toks):
                start, end = toks[0].idx, toks[-1].idx + len(toks[-1].text)
                if a.to_source:
                    start, end = a.to_source[start][0], a.to_source[end - 1][1]
                out.append((a.source or a.doc.text)[start:end].strip())
        return out

    def _filter_match(self, a: _Analysis, info: _PatternInfo, start: int, end: int) -> str | None:
        doc, opts = a.doc, info.opts
        clause = a.clause_of[start]
        sent = a.sent_of[start]
        if opts.get("clause_initial"):
            cs = a.clause_start.get(clause, start)
            prev = doc[start - 1].lower_ if start > 0 else ""
            if not (cs == start or prev in self.breakers):
                return None
        clause_toks = a.clause_tokens[clause]
        if opts.get("require_clause") and not any(
            self.predicate(s)(t) for s in opts["require_clause"] for t in clause_toks
        ):
            return None
        if opts.get("require_sentence"):
            sent_toks = a.sent_tokens[sent]
            if not any(self.predicate(s)(t) for s in opts["require_sentence"] for t in sent_toks):
                return None
        if opts.get("unless_clause") and any(
            self.predicate(s)(t) for s in opts["unless_clause"] for t in clause_toks
        ):
            return None
        if opts.get("unless_sentence") and any(
            self.predicate(s)(t) for s in opts["unless_sentence"] for t in a.sent_tokens[sent]
        ):
            return None
        if opts.get("unless_question") and _is_question(a.sent_tokens[sent]):
            return None
        if opts.get("unless_next") and end < len(doc):
            if any(self.predicate(s)(doc[end]) for s in opts["unless_next"]):
                return None
        if opts.get("unless_prev") and start > 0:
            if any(self.predicate(s)(doc[start - 1]) for s in opts["unless_prev"]):
                return None

        mode = opts.get("negation", "veto")
        if info.has_negator and mode in ("veto",):
            mode = "ignore"
        if mode == "ignore":
            return info.signal
        negated = self._negated(
            a,
            clause_toks,
            start,
            end,
            inside=not info.has_negator,
            before_only=opts.get("negation_scope", "clause") == "before",
        )
        if mode == "veto":
            return None if negated else info.signal
        if mode == "flip":
            return opts.get("negated_flag", f"negated_{info.signal}") if negated else info.signal
        if mode == "only":
            return opts.get("negated_flag", f"negated_{info.signal}") if negated else None
        raise ValueError(f"rules.yml: unknown negation mode {mode!r}")

    def _negated(
        self,
        a: _Analysis,
        clause_toks,
        start: int,
        end: int,
        inside: bool,
        before_only: bool = False,
    ) -> bool:
        doc = a.doc
        for t in clause_toks:
            if t.lower_ not in self.negators:
                continue
            if before_only and t.i >= start:
                continue
            if not inside and start <= t.i < end:
                continue
            nxt = doc[t.i + 1].lower_ if t.i + 1 < len(doc) else ""
            if nxt in self.neg_exceptions:
                continue
            return True
        return False

    def _derive(self, a: _Analysis) -> None:
        """Signals that depend on several others: hedged end, justification, shouting."""
        doc, hits = a.doc, a.hits
        # a signal that ``counts_as`` another (a discount offered as a deal is backing down)
        # voids the signals of ``voids_in_sentence`` in its sentence: no reason, no handover
        for name, opts in self.signal_opts.items():
            spans = hits.get(name)
            if not spans:
                continue
            sents = {a.sent_of[s[0]] for s in spans}
            for other in opts.get("voids_in_sentence") or []:
                if other in hits:
                    hits[other] = [s for s in hits[other] if a.sent_of[s[0]] not in sents]
            target = opts.get("counts_as")
            if target:
                hits[target] = _longest_non_overlapping(hits.get(target, []) + spans)
        # hedged end: a clear end statement in a sentence with hedging, or in a clause with
        # a Konjunktiv / "ob", or in a question.
        clear, hedged = [], []
        weak_used = []
        for span in hits.get("clear_end", []):
            sent = a.sent_of[span[0]]
            clause = a.clause_of[span[0]]
            sent_toks = a.sent_tokens[sent]
            is_question = _is_question(sent_toks)
            strong = any(
                a.sent_of[h[0]] == sent and not self._barrier_between(a, h[0], span[0])
                for h in hits.get("hedging", []) + hits.get("backdown", [])
            )
            weak = [h for h in hits.get("weak_hedge", []) if a.clause_of[h[0]] == clause]
            if strong or weak or is_question:
                hedged.append(span)
                weak_used.extend(weak)
            else:
                clear.append(span)
        hits["clear_end"] = clear
        if hedged:
            hits["hedged_end"] = hedged
            hits["hedging"] = sorted(set(hits.get("hedging", [])) | set(weak_used))

        # justification: several "aber", several defensive phrases, or long self-defence
        jcfg = self.rules["scoring"]["justification"]
        long_tokens = int(self.rules["limits"]["long_tokens"])
        very_long = int(self.rules["limits"]["very_long_tokens"])
        n_adv = sum(1 for t in doc if t.lower_ in self.adversatives)
        n_def = len(hits.get("defensive", []))
        n_first = sum(1 for t in doc if t.lower_ in self.first_person)
        is_long = a.n_tokens >= long_tokens
        if (
            n_adv >= int(jcfg["adversatives_min"])
            or n_def >= int(jcfg["defensive_min"])
            or (is_long and n_def >= int(jcfg["defensive_long_min"]))
            or (
                is_long
                and n_first >= int(jcfg["first_person_long_min"])
                and n_adv >= int(jcfg["adversatives_long_min"])
                and (n_def or n_adv >= int(jcfg["adversatives_min"]))
            )
            or (a.n_tokens >= very_long and n_first >= int(jcfg["first_person_long_min"]))
        ):
            a.flags.add("justification")
            spans = list(hits.get("defensive", [])) + [
                (t.i, t.i + 1) for t in doc if t.lower_ in self.adversatives
            ]
            hits["justification"] = sorted(spans) or [(0, min(len(doc), 8))]
        if is_long:
            a.flags.add("long")

        # shouting: several "!" or words in capitals
        shout = self.rules["lexicon"]["shouting"]
        n_excl = sum(t.text.count("!") for t in doc if t.is_punct)
        caps = [
            t
            for t in doc
            if len(t.text) >= 3
            and t.is_alpha
            and t.text.isupper()
            and not self.lexicon.is_acronym(t.text)
        ]
        if n_excl >= int(shout["exclamations_min"]) or len(caps) >= int(shout["caps_words_min"]):
            hits["shouting"] = [(t.i, t.i + 1) for t in caps] or [(len(doc) - 1, len(doc))]

    def _barrier_between(self, a: _Analysis, hedge: int, end_statement: int) -> bool:
        """True if an "aber"/"trotzdem" … separates a preceding hedge from the end statement."""
        if hedge >= end_statement:
            return False
        return any(
            a.doc[i].lower_ in self.hedge_barriers for i in range(hedge + 1, end_statement + 1)
        )

    # ------------------------------------------------------------------ scoring

    def score(self, a: _Analysis, under_backlash: bool) -> dict[str, float]:
        """The six criteria, each 0.0–1.0, from the signals found (weights in ``rules.yml``)."""
        sc = self.rules["scoring"]
        f = a.flags
        h = a.hits

        def n(name: str) -> int:
            return len(h.get(name, []))

        lex_spans = {(hit.issue, span) for hit, span in a.lex}

        def n_rules(name: str) -> int:
            """Hits of rules.yml only (the lexicon's are priced by their severity)."""
            return sum(1 for span in h.get(name, []) if (name, span) not in lex_spans)

        # clarity
        c = sc["clarity"]
        n_hedges = min(n("hedging") + n("backdown"), int(c["max_hedges"]))
        if n("clear_end"):
            clarity = float(c["clear_end"])
            if "date" in f or "notice_period" in f:
                clarity += float(c["date_bonus"])
            elif n("end_point"):
                clarity += float(c["end_point_bonus"])
            if n("decisive"):
                clarity += float(c["decisive_bonus"])
            clarity -= float(c["hedge_penalty"]) * n_hedges
        elif n("hedged_end"):
            clarity = float(c["hedged_end"]) - float(c["hedge_penalty"]) * max(0, n_hedges - 1)
        elif "date" in f or "notice_period" in f or n("decisive"):
            clarity = float(c["partial"]) - float(c["hedge_penalty"]) * n_hedges
        else:
            clarity = float(c["none"]) - float(c["hedge_penalty"]) * n_hedges

        # reasons
        r = sc["reasons"]
        has_conn = n("reason") > 0
        has_fact = n("reason_fact") > 0
        has_spec = n("reason_specific") > 0 or "date" in f
        if has_fact:
            reasons = float(r["fact"])
            if has_conn:
                reasons += float(r["connector_with_fact"])
            if has_spec:
                reasons += float(r["specific_with_fact"])
        elif has_conn:
            reasons = float(r["connector_only"]) + (
                float(r["specific_with_connector"]) if has_spec else 0.0
            )
        else:
            reasons = 0.0
        if n("vague_reason") and not has_fact:
            reasons = min(reasons, float(r["vague_cap"]))

        # respect
        rs = sc["respect"]
        respect = float(rs["base"])
        if n("polite"):
            respect += float(rs["polite_bonus"])
        for sig, pen in rs["penalties"].items():
            k = min(n_rules(sig), int(rs["max_count"]))
            if k:
                respect -= float(pen) * (1 + float(rs["repeat_factor"]) * (k - 1))
        # the lexicon's graded severity: the worst hit caps the score
        severity = max((h.severity for h, _ in a.lex if h.criterion == "respect"), default=0.0)
        if severity:
            respect = min(respect, 1.0 - severity)

        # transition
        t = sc["transition"]
        cats = [cat for cat in t["categories"] if n(cat)]
        strong = [cat for cat in cats if cat not in t["weak_categories"]]
        if not cats:
            transition = float(t["by_categories"][0])
        elif not strong:
            transition = float(t["weak_alone"])
        else:
            steps = t["by_categories"]
            transition = float(steps[min(len(cats), len(steps) - 1)])

        # appreciation
        ap = sc["appreciation"]
        if n("thanks") and n("positive"):
            appreciation = float(ap["both"])
        elif n("thanks"):
            appreciation = float(ap["thanks"])
        elif n("positive"):
            appreciation = float(ap["positive"])
        else:
            appreciation = float(ap["none"])

        # calm
        cm = sc["calm"]["backlash" if under_backlash else "normal"]
        calm = float(cm["base"])
        if n("deescalation"):
            calm += float(cm["deescalation"])
        if n("clear_end") or n("reason_fact") or n("decisive") or "transition_offer" in f:
            calm += float(cm["factual"])
        if n("hedging"):
            calm -= float(cm.get("hedging", 0.0))
        if n("backdown"):
            calm -= float(cm.get("backdown", 0.0))
        if n("counter_attack"):
            calm -= float(cm["counter_attack"])
        if "justification" in f:
            calm -= float(cm["justification"])
        if n("insult") or n("blame") or n("sarcasm") or n("dismissive"):
            calm -= float(cm["agitation"])
        if n("shouting"):
            calm -= float(cm["shouting"])
        counted = set(cm) | {"insult", "blame", "sarcasm", "dismissive"}
        calm -= max((h.calm for h, _ in a.lex if h.issue not in counted), default=0.0)

        raw = dict(
            clarity=clarity,
            reasons=reasons,
            respect=respect,
            transition=transition,
            appreciation=appreciation,
            calm=calm,
        )
        return {k: round(min(1.0, max(0.0, v)), 2) for k, v in raw.items()}

    def overall(
        self, scores: dict[str, float], flags: Iterable[str], under_backlash: bool
    ) -> float:
        """Weighted mean of the scores as 0–100, capped by hostile flags (insult, blame, …)."""
        sc = self.rules["scoring"]
        weights = sc["weights"]["backlash" if under_backlash else "normal"]
        total = sum(float(w) for w in weights.values())
        value = 100.0 * sum(scores[k] * float(w) for k, w in weights.items()) / total
        for flag, cap in (sc.get("caps") or {}).items():
            if flag in flags:
                value = min(value, float(cap))
        return round(value, 1)

    def evidence(self, a: _Analysis) -> dict[str, list[str]]:
        """Per criterion the words of the text that led to its score."""
        ev: dict[str, list[str]] = {c: [] for c in CRITERIA}
        for name, spans in a.hits.items():
            opts = self.signal_opts.get(name) or {}
            crit = opts.get("criterion")
            if name == "negated_insult" or (opts.get("negated_flag") and crit is None):
                crit = "respect"
            if crit not in ev:
                continue
            if opts.get("internal") and name not in ("decisive",):
                continue
            for span in spans:
                text = a.span_text(span)
                if text not in ev[crit]:
                    ev[crit].append(text)
        return ev

    # ------------------------------------------------------------------ tips

    def tips(
        self, a: _Analysis, scores: dict[str, float], under_backlash: bool, text: str
    ) -> list[str]:
        """German tips for the user: the first matching rules of ``suggestions.yml``, or praise."""
        cfg = self.texts["tips"]
        out: list[str] = []
        for i, entry in enumerate(cfg["rules"]):
            if not self._when(entry.get("when") or {}, a, scores, under_backlash):
                continue
            values: dict[str, str] = {}
            if entry.get("quote"):
                q = None
                for sig in _as_list(entry["quote"]):
                    q = a.first(sig)
                    if q:
                        break
                if not q:
                    continue
                values["quote"] = q
            if entry.get("suggest"):
                values["suggestion"] = self.suggest(entry["suggest"], text, analysis=a)
            out.append(_text("rubric", f"tips.rules.{i}.text", **values).strip())
            if len(out) >= int(cfg["max"]):
                break
        if not out:
            out.append(_text("rubric", "tips.all_good"))
        return out

    def _when(self, cond: dict, a: _Analysis, scores: dict[str, float], backlash: bool) -> bool:
        f = a.flags | {k for k, v in a.hits.items() if v}
        if "backlash" in cond and bool(cond["backlash"]) != backlash:
            return False
        if cond.get("flags_any") and not any(x in f for x in cond["flags_any"]):
            return False
        if cond.get("flags_all") and not all(x in f for x in cond["flags_all"]):
            return False
        if cond.get("flags_none") and any(x in f for x in cond["flags_none"]):
            return False
        for crit, thr in (cond.get("below") or {}).items():
            if not scores[crit] < float(thr):
                return False
        for crit, thr in (cond.get("at_least") or {}).items():
            if not scores[crit] >= float(thr):
                return False
        return True

    # ------------------------------------------------------------------ public

    def assess(self, text: str, under_backlash: bool = False) -> Assessment:
        """Rate one utterance (see ``bot.rubric.assess``)."""
        a = self.analyse(text)
        scores = self.score(a, under_backlash)
        overall = self.overall(scores, a.flags, under_backlash)
        tips = self.tips(a, scores, under_backlash, text)
        return Assessment(
            scores=scores,
            overall=overall,
            tips=tips,
            flags=frozenset(a.flags),
            evidence=self.evidence(a),
            under_backlash=under_backlash,
            truncated=a.truncated,
            signals={k: tuple(a.span_text(s) for s in v) for k, v in a.hits.items() if v},
            lexicon=tuple((h.criterion, h.issue, h.severity, h.calm, h.text) for h, _ in a.lex),
        )

    # ------------------------------------------------------------------ suggestions

    def slots(self, a: _Analysis, text: str) -> dict[str, str]:
        """Pieces of the user's sentence that suggestion templates can reuse."""
        cfg = self.texts["suggestions"]["slots"]
        slots: dict[str, str] = {}
        m = re.search(cfg["name_regex"], text)
        if m:
            slots["name"] = re.sub(r"\s+", " ", m.group(0)).strip()
        name = slots.get("name")
        date = a.first("date")
        if date:
            slots["date"] = date
            slots["date_end"] = _rewrite(date, cfg["date_end"])
            slots["date_until"] = _rewrite(date, cfg["date_until"])
        slots["name_comma"] = f"{name}, " if name else ""
        slots["name_suffix"] = f", {name}" if name else ""
        slots["date_opt"] = f" {slots['date_end']}" if date else ""

        rp = self._reason_phrase(a)
        if rp:
            slots["reason_phrase"] = rp
        else:
            rm = self._reason_main(a)
            if rm:
                slots["reason_main"] = rm
                slots["reason_main_lc"] = self._lc_first(rm)
        for span in a.hits.get("reason_fact", []):
            tok = a.doc[span[0]]
            if tok.text[:1].isupper() and tok.i > 0:  # a noun such as "Rechnungen"
                slots["fact"] = a.span_text(span)
                break
        if a.hits.get("reason_specific") or a.hits.get("date"):
            slots["specific"] = "1"

        main = _text("rubric", "suggestions.slots.main_clause", **slots)
        core = self._core(a, self.texts["suggestions"]["core_signals"]["all"], main)
        if core:
            slots["core"] = core
            slots["core_lc"] = self._lc_first(core)
        core_end = self._core(a, self.texts["suggestions"]["core_signals"]["end"], main)
        if core_end:
            slots["core_end"] = core_end
            if any(self._in_kept(a, core_end, sig) for sig in ("decisive", "clear_end")):
                slots["core_decisive"] = "1"
        return slots

    def _lc_first(self, text: str) -> str:
        first = text.split(" ", 1)[0].lower()
        return text[:1].lower() + text[1:] if first in self.first_person else text

    def _in_kept(self, a: _Analysis, core: str, signal: str) -> bool:
        return any(a.span_text(s) in core for s in a.hits.get(signal, []))

    def _soften(self, a: _Analysis, start: int, end: int) -> str:
        repl = self.texts["suggestions"]["soften"]
        gens = [s for s in a.hits.get("generalisation", []) if start <= s[0] and s[1] <= end]
        parts = []
        i = start
        doc = a.doc
        while i < end:
            g = next((s for s in gens if s[0] == i), None)
            if g:
                key = doc[g[0] : g[1]].text.lower()
                parts.append(repl.get(key, repl["_default"]) + doc[g[1] - 1].whitespace_)
                i = g[1]
            else:
                parts.append(doc[i].text_with_ws)
                i += 1
        return "".join(parts).strip()

    def _bad_in(self, a: _Analysis, start: int, end: int) -> bool:
        for sig in self.texts["suggestions"]["core_signals"]["bad"]:
            for s in a.hits.get(sig, []):
                if s[0] < end and start < s[1]:
                    return True
        return False

    def _clauses(self, a: _Analysis) -> dict[int, list[int]]:
        clauses: dict[int, list[int]] = {}
        for t in a.doc:
            clauses.setdefault(a.clause_of[t.i], []).append(t.i)
        return clauses

    def _reason_phrase(self, a: _Analysis) -> str | None:
        """A subordinate reason ("weil …", "da …", "aufgrund …") that can follow a main clause."""
        doc = a.doc
        allowed = set(self.texts["suggestions"]["slots"]["reason_connectors"])
        for s, _ in a.hits.get("reason", []):
            if doc[s].lower_ not in allowed:
                continue
            if (
                doc[s].lower_ == "wegen"
                and s + 1 < len(doc)
                and doc[s + 1].lower_ in self.second_person
            ):
                continue
            end = s + 1
            while end < len(doc) and a.sent_of[end] == a.sent_of[s] and not doc[end].is_punct:
                end += 1
            if end - s < 2 or self._bad_in(a, s, end):
                continue
            phrase = self._soften(a, s, end)
            return phrase[:1].lower() + phrase[1:]
        return None

    def _reason_main(self, a: _Analysis) -> str | None:
        """A reason stated as a main clause ("Sie haben mehrfach nicht bezahlt")."""
        doc = a.doc
        subordinate = set(self.texts["suggestions"]["slots"]["subordinate"])
        clauses = self._clauses(a)
        for span in a.hits.get("reason_fact", []):
            idxs = clauses[a.clause_of[span[0]]]
            while idxs and doc[idxs[-1]].is_punct:
                idxs = idxs[:-1]
            while idxs and (doc[idxs[0]].is_punct or doc[idxs[0]].lower_ in self.adversatives):
                idxs = idxs[1:]
            if len(idxs) < 3 or doc[idxs[0]].lower_ in subordinate:
                continue
            if self._bad_in(a, idxs[0], idxs[-1] + 1) or any(
                a.clause_of[h[0]] == a.clause_of[span[0]] for h in a.hits.get("clear_end", [])
            ):
                continue
            text = self._soften(a, idxs[0], idxs[-1] + 1)
            return text[:1].upper() + text[1:]
        return None

    def _core(self, a: _Analysis, content: list[str], main_clause: str) -> str | None:
        """The substantive clauses of the utterance, without insults/blame/sarcasm, softened.

        If only subordinate clauses survive ("weil …"), ``main_clause`` is put in front.
        """
        bad = self.texts["suggestions"]["core_signals"]["bad"]
        subordinate = set(self.texts["suggestions"]["slots"]["subordinate"])
        clauses = self._clauses(a)

        def in_clause(sig: str, idxs: list[int]) -> bool:
            return any(idxs[0] <= s[0] <= idxs[-1] for s in a.hits.get(sig, []))

        keep = [
            c
            for c, idxs in clauses.items()
            if any(in_clause(s, idxs) for s in content) and not any(in_clause(s, idxs) for s in bad)
        ]
        if not keep:
            return None
        pieces = [self._soften(a, clauses[c][0], clauses[c][-1] + 1) for c in sorted(keep)]
        out = " ".join(pieces)
        out = re.sub(r"\s*,\s*(,\s*)+", ", ", out)
        out = re.sub(r"[\s,;:–—-]+$", "", out).strip()
        out = re.sub(r"^[\s,;:–—-]+", "", out)
        if not out:
            return None
        has_end = any(in_clause("clear_end", clauses[c]) for c in keep)
        first = a.doc[clauses[sorted(keep)[0]][0]]
        if not has_end and first.lower_ in subordinate:
            out = f"{main_clause}, {out[:1].lower()}{out[1:]}"
        if out[-1] not in ".!?":
            out += "."
        return out[:1].upper() + out[1:]

    def suggest(self, criterion: str, sentence: str, analysis: _Analysis | None = None) -> str:
        """A better phrasing for ``criterion`` reusing name, date and reason of ``sentence``.

        Raises ``ValueError`` for an unknown criterion.
        """
        if criterion not in CRITERIA:
            raise ValueError(
                _text(
                    "rubric",
                    "messages.unknown_criterion",
                    criterion=criterion,
                    criteria=", ".join(CRITERIA),
                )
            )
        if analysis is None:
            try:
                analysis = self.analyse(sentence)
            except RubricInputError:
                analysis = None
        slots = (
            self.slots(analysis, sentence)
            if analysis
            else {"name_comma": "", "name_suffix": "", "date_opt": ""}
        )
        for i, tpl in enumerate(self.texts["suggestions"]["templates"][criterion]):
            if all(slots.get(k) for k in tpl.get("needs") or []) and not any(
                slots.get(k) for k in tpl.get("unless") or []
            ):
                out = _text("rubric", f"suggestions.templates.{criterion}.{i}.text", **slots)
                out = re.sub(r"\s+", " ", out).strip()
                return out[:1].upper() + out[1:]
        raise LookupError(
            f"suggestions.yml: no default template for {criterion}"
        )  # pragma: no cover


def _is_question(sent_toks) -> bool:
    return any(t.text.endswith("?") for t in sent_toks if t.is_punct)


def _as_list(x) -> list:
    return x if isinstance(x, list) else [x]


def _rewrite(text: str, rules_list: list) -> str:
    for rule in rules_list:
        pattern, repl = rule
        if re.search(pattern, text, flags=re.IGNORECASE):
            return re.sub(pattern, repl, text, count=1, flags=re.IGNORECASE).strip()
    return text


def _longest_non_overlapping(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    spans = sorted(set(spans), key=lambda s: (-(s[1] - s[0]), s[0]))
    taken: list[tuple[int, int]] = []
    for s in spans:
        if all(s[1] <= t[0] or t[1] <= s[0] for t in taken):
            taken.append(s)
    return sorted(taken)


_UMLAUT = {"ae": "ä", "oe": "ö", "ue": "ü"}
_TRANSLITERATED = re.compile(r"ae|oe|ue|ss", re.IGNORECASE)  # "ss": only the listed words


#: a day.month. date with its closing full stop as one token ("31.12.", "1.3.2027.")
_DOTTED_DATE = re.compile(r"\d{1,2}\.\d{1,2}\.(\d{2,4}\.)?")


def _apposition_re(limits: Mapping[str, Any]) -> re.Pattern[str]:
    """A date restated between commas ("zum Quartalsende, also zum 31. März, beenden").

    Also an event named again with its date ("nach dem Termin, dem Shooting am 12. Dezember,").

    Its commas are no clause boundary, so "die Betreuung … beenden" stays one statement.
    """

    def alternatives(key: str) -> str:
        words = sorted((str(w) for w in limits.get(key) or ()), key=len, reverse=True)
        return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)

    leads, preps = alternatives("apposition_leads"), alternatives("apposition_preps")
    if not leads or not preps:
        return re.compile(r"(?!)")  # matches nothing
    most = int(limits.get("apposition_max_chars", 25))
    restated = rf"(?:{leads})\s+(?:{preps})\s+[^,;!?]{{1,{most}}}?"
    articles = alternatives("apposition_articles")
    if articles:
        # "nach dem letzten Termin, dem Shooting am 12. Dezember, beenden": an event named
        # again with its date
        dated = int(limits.get("apposition_dated_max_chars", 45))
        restated += rf"|(?:{articles})\s+[^,;!?\d]{{1,{dated}}}?\d{{1,2}}\.[^,;!?]{{0,12}}?"
    return re.compile(rf", ((?:{restated})),", re.IGNORECASE)


_ENGINE: RubricEngine | None = None
_ENGINE_LOCK = threading.Lock()


def _rules_fingerprint() -> str:
    import hashlib

    from bot.rubric.lexicon import RESPECT_PATH

    digest = hashlib.sha256(RULES_PATH.read_bytes())
    digest.update(RESPECT_PATH.read_bytes())  # its stems decide which typos are looked up
    digest.update(f"pattern-language-{PATTERN_LANGUAGE_VERSION}".encode())
    return digest.hexdigest()


def _lookups_version() -> str:
    from spacy_lookups_data.about import __version__

    return str(__version__)


def write_lemma_cache(path: Path = LEMMA_CACHE_PATH) -> Path:
    """Regenerate ``lemmas.json``; run it after editing rules.yml.

    Command: ``python -m bot.rubric.cli --write-lemma-cache``.
    """
    import json

    import spacy_lookups_data
    import srsly

    full = srsly.read_gzip_json(spacy_lookups_data.get_file("de_lemma_lookup.json.gz"))
    engine = RubricEngine()  # always on the full blank_de() table
    subset = engine.lemma_subset(full)
    pipeline_table = engine._table
    for key, value in subset.items():  # the package data is what blank_de() loads
        if pipeline_table.get(key) != value:
            raise RuntimeError(
                f"lemma table of blank_de() differs from spacy-lookups-data at {key!r}"
            )
    payload = {
        "format": 1,
        "rules_sha256": _rules_fingerprint(),
        "spacy_lookups_data": _lookups_version(),
        "lemmas": dict(sorted(subset.items())),
    }
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    return path


def lemma_cache_is_fresh(path: Path = LEMMA_CACHE_PATH) -> bool:
    """Whether ``lemmas.json`` was made from the current rules and lookup tables."""
    import json

    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        payload.get("format") == 1
        and payload.get("rules_sha256") == _rules_fingerprint()
        and payload.get("spacy_lookups_data") == _lookups_version()
        and isinstance(payload.get("lemmas"), dict)
    )


def load_cli_engine() -> RubricEngine:
    """Engine for short-lived processes (``coach assess``).

    With a fresh ``lemmas.json`` it runs on ``spacy.blank("de")`` plus the pruned lemma table,
    which saves loading the full table (about a second); otherwise it is ``get_engine()``.
    """
    global _ENGINE
    if _ENGINE is not None:
        return _ENGINE
    if lemma_cache_is_fresh():
        import json

        import spacy

        payload = json.loads(LEMMA_CACHE_PATH.read_text(encoding="utf-8"))
        with _ENGINE_LOCK:
            if _ENGINE is None:
                _ENGINE = RubricEngine(nlp=spacy.blank("de"), lemma_table=payload["lemmas"])
        return _ENGINE
    return get_engine()


def get_engine() -> RubricEngine:
    """The engine of this process, built on first use."""
    global _ENGINE
    if _ENGINE is None:
        with _ENGINE_LOCK:
            if _ENGINE is None:
                _ENGINE = RubricEngine()
    return _ENGINE
