"""Understand short answers to the coach's questions: yes/no/skip and choices.

The same parser serves typed answers ("jo, schon", "eher nicht", "jaaa ständig") and button
payloads, so a button is just a pre-written answer. Vocabulary lives in ``answers.yml``.

Yes/no: the first phrase of the answer decides ("ja, die kollegin kann ihn nicht ausstehen"
is yes – the "nicht" belongs to the description). Fillers before it ("hm", "ich glaube",
"eher") are skipped; an affirmative word followed by a negation is no ("absolut nicht");
frequency words answer "does it happen?" questions ("fast jeden tag" yes, "selten" no);
"weiß nicht so genau" is *unknown* – ``"skip"`` where the question may be skipped. Only when
the first phrase decides nothing is a short answer searched further ("das kommt ständig
vor").

Choices: every choice's synonyms (``word*`` matches a stem; long words also with one typo)
are found in the answer, a negated one ("kein Rabatt") is dropped, and what is left is
returned in the order of mention – several joined by ``+`` where the question takes several.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import yaml

from bot.normalize import normalize as _fold

_VOCAB_FILE = Path(__file__).with_name("answers.yml")
MAX_TEXT_ANSWER = 500

#: how many words after the fillers an answer may have for a decisive word further inside to
#: count: bare words ("nicht", "ja" – a particle inside a sentence), other phrases, frequency
SCAN_SHORT, SCAN_MEDIUM, SCAN_LONG = 3, 5, 8
#: words of a synonym at least this long also match with one typo (swap, missing letter …)
FUZZY_MIN = 7
#: how far back a negation reaches before a choice ("keinen echten Rabatt")
NEGATION_REACH = 2

YES, NO, SKIP = "yes", "no", "skip"
_EMOJI = {"👍": YES, "👌": YES, "✅": YES, "👎": NO, "❌": NO}


def normalize(text: str) -> str:
    """The shared normalisation (:func:`bot.normalize.normalize`) without punctuation.

    Args:
        text: Any user text.

    Returns:
        Case-folded text with ß→ss, umlauts→ae/oe/ue, stretched letters squeezed and chat
        spellings corrected, every punctuation mark replaced by a blank, blanks collapsed –
        so spellings from DE/AT/CH and typed chat compare equal.
    """
    text = _fold(text or "")
    text = re.sub(r"[^\w\s]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _words(text: str) -> tuple[str, ...]:
    return tuple(normalize(text).split())


@lru_cache(maxsize=1)
def _vocab() -> dict:
    return yaml.safe_load(_VOCAB_FILE.read_text(encoding="utf-8"))


def vocabulary(section: str) -> dict:
    """One section of ``answers.yml`` ("yes_no", "choice", "correction"), as written there."""
    return _vocab()[section]


def _contains(haystack: str, phrases: Iterable[str]) -> bool:
    padded = f" {haystack} "
    return any(f" {normalize(p)} " in padded for p in phrases)


# ------------------------------------------------------------------------------ phrase tables
@lru_cache(maxsize=None)
def _phrase_set(section: str, name: str) -> frozenset[tuple[str, ...]]:
    return frozenset(w for w in (_words(str(p)) for p in _vocab()[section][name]) if w)


@lru_cache(maxsize=1)
def _yes_no_table() -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """First word -> [(phrase, category)], longest phrase first."""
    table: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    categories = ("yes_words", "no_words", "affirmative", "frequent", "rare", "unknown", "skip")
    for category in categories:
        for phrase in _phrase_set("yes_no", category):
            table.setdefault(phrase[0], []).append((phrase, category))
    for entries in table.values():
        entries.sort(key=lambda e: -len(e[0]))
    return table


def _match_at(words: Sequence[str], i: int) -> tuple[tuple[str, ...], str] | None:
    """The longest yes/no phrase starting at word ``i``."""
    for phrase, category in _yes_no_table().get(words[i], ()):
        if tuple(words[i : i + len(phrase)]) == phrase:
            return phrase, category
    return None


def _longest_at(words: Sequence[str], i: int, phrases: frozenset[tuple[str, ...]]) -> int:
    best = 0
    for phrase in phrases:
        if len(phrase) > best and tuple(words[i : i + len(phrase)]) == phrase:
            best = len(phrase)
    return best


def _skip_fillers(words: Sequence[str], i: int) -> int:
    fillers = _phrase_set("yes_no", "fillers")
    while i < len(words):
        # a decisive phrase beats a filler of the same start ("eher nicht", "das weiss ich nicht")
        match = _match_at(words, i)
        length = _longest_at(words, i, fillers)
        if not length or (match and len(match[0]) >= length):
            break
        i += length
    return i


def _scan_limit(phrase: tuple[str, ...], category: str) -> int:
    if category in ("frequent", "rare"):
        return SCAN_LONG
    if len(phrase) == 1 and category in ("yes_words", "no_words"):
        return SCAN_SHORT
    return SCAN_MEDIUM


# ------------------------------------------------------------------------------ yes / no
def parse_yes_no(text: str, *, allow_skip: bool = False, frequency: bool = True) -> str | None:
    """Understand the answer to a yes/no question.

    Args:
        text: The user's answer (typed or a button payload).
        allow_skip: True when the question may be skipped: "weiß nicht", "keine Ahnung",
            "überspringen" then give ``"skip"`` (otherwise they are not understood).
        frequency: True for questions about how often something happens ("Kommt das ständig
            vor?"): "ständig", "fast jeden Tag" then count as yes, "selten", "kaum" as no.

    Returns:
        ``"yes"``, ``"no"``, ``"skip"`` (only if allowed) or None when the answer is unclear
        or refers to another question ("bei der Preisfrage meinte ich ja").
    """
    raw = (text or "").strip()
    if raw in _EMOJI:
        return _EMOJI[raw]
    words = _words(raw)
    if not words or refers_to_other_question(raw):
        return None
    start = _skip_fillers(words, 0)
    if start >= len(words):
        return None
    decided = _decide(words, start, allow_skip, frequency)
    if decided is not None:
        return decided or None
    remaining = len(words) - start
    for i in range(start + 1, len(words)):
        match = _match_at(words, i)
        if match is None or remaining > _scan_limit(*match):
            continue
        if match[0] in _phrase_set("yes_no", "leading_only"):
            continue
        decided = _decide(words, i, allow_skip, frequency)
        if decided is not None:
            return decided or None
    return None


def _decide(words: Sequence[str], i: int, allow_skip: bool, frequency: bool) -> str | None:
    """The answer the phrase at word ``i`` gives; ``""`` decided-unclear, None no phrase."""
    match = _match_at(words, i)
    if match is None:
        return None
    phrase, category = match
    if category == "yes_words":
        return YES
    if category == "no_words":
        return NO
    if category in ("unknown", "skip"):
        return SKIP if allow_skip else ""
    if category == "frequent":
        return YES if frequency else ""
    if category == "rare":
        return NO if frequency else ""
    # affirmative: the word right after may turn it ("absolut nicht", "leider selten")
    j = i + len(phrase)
    if j < len(words):
        if (words[j],) in _phrase_set("yes_no", "negators"):
            return NO
        following = _match_at(words, j)
        if following and following[1] != "affirmative":
            turned = _decide(words, j, allow_skip, frequency)
            if turned or following[1] in ("unknown", "skip"):
                return turned
    return YES


def is_cancel(text: str) -> bool:
    """True when the whole message asks to cancel the current flow (also the button /stop).

    Args:
        text: The user's message.

    Returns:
        True for "stopp", "abbrechen", "/stop" …; False for an answer merely containing one.
    """
    raw = (text or "").strip()
    if raw.startswith("/"):
        raw = raw[1:].split("{", 1)[0]
    norm = normalize(raw)
    return bool(norm) and norm in {normalize(p) for p in _vocab()["cancel"]}


# ------------------------------------------------------------------------------ choices
@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    key: str
    negated: bool


def separator() -> str:
    """The character that joins several choices in one stored value ("redo+discount")."""
    return str(_vocab()["choice"]["separator"])


def split_choices(value: str | None) -> list[str]:
    """The choice keys of a stored value, in order ("redo+discount" -> ["redo", "discount"]).

    Args:
        value: A stored choice value, one key or several joined by :func:`separator`.

    Returns:
        The keys; empty for None or "".
    """
    return [part for part in (value or "").split(separator()) if part]


def _tokens(text: str) -> tuple[list[str], set[int]]:
    """The answer's words and the indexes of words that start a new clause."""
    words: list[str] = []
    breaks: set[int] = set()
    clause_words = {w[0] for w in _phrase_set("choice", "clause_breaks")}
    for piece in re.findall(r"\w+|[^\w\s]", _fold(text or "")):
        if re.match(r"\w", piece):
            if piece in clause_words:
                breaks.add(len(words) + 1)
            words.append(piece)
        else:
            breaks.add(len(words))
    return words, breaks


def _close(word: str, token: str) -> bool:
    """True when ``token`` is ``word`` with at most one typo (Damerau–Levenshtein ≤ 1)."""
    if word == token:
        return True
    if len(word) < FUZZY_MIN or len(token) < FUZZY_MIN - 1 or abs(len(word) - len(token)) > 1:
        return False
    if len(word) == len(token):
        diff = [k for k in range(len(word)) if word[k] != token[k]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and word[diff[0]] == token[diff[1]]
            and word[diff[1]] == token[diff[0]]
        )
    short, long_ = (word, token) if len(word) < len(token) else (token, word)
    return any(long_[:k] + long_[k + 1 :] == short for k in range(len(long_)))


@lru_cache(maxsize=65536)
def _word_matches(pattern: str, token: str) -> bool:
    if pattern.endswith("*"):
        stem = pattern[:-1]
        if token.startswith(stem):
            return True
        # a typo inside the stem: "gutschirft" for "gutschr*", "nachbesern" for "nachbess*"
        return len(stem) >= FUZZY_MIN and any(
            _close(stem, token[: len(stem) + d]) for d in (-1, 0, 1)
        )
    return _close(pattern, token)


@lru_cache(maxsize=4096)
def _patterns(phrase: str) -> tuple[str, ...]:
    """A synonym as word patterns; a trailing ``*`` (stem) survives normalisation."""
    stem = phrase.rstrip().endswith("*")
    words = list(_words(phrase.rstrip().rstrip("*")))
    if stem and words:
        words[-1] += "*"
    return tuple(words)


_Pattern = tuple[tuple[str, ...], str]  # (word patterns, choice key)


@lru_cache(maxsize=256)
def _compiled(
    choices: tuple[tuple[str, tuple[str, ...]], ...],
) -> tuple[dict[str, list[_Pattern]], list[_Pattern]]:
    """The synonyms of ``choices`` by exact first word, and those needing a stem/typo check."""
    exact: dict[str, list[_Pattern]] = {}
    loose: list[_Pattern] = []
    for key, synonyms in choices:
        for synonym in (key.replace("_", " "), *synonyms):
            pattern = _patterns(str(synonym))
            if not pattern:
                continue
            first = pattern[0]
            if first.endswith("*") or len(first) >= FUZZY_MIN:
                loose.append((pattern, key))
            else:
                exact.setdefault(first, []).append((pattern, key))
    return exact, loose


def _find(words: Sequence[str], choices: Mapping[str, Iterable[str]]) -> list[tuple[int, int, str]]:
    """``(start, end, key)`` of every synonym of every choice found in ``words``."""
    exact, loose = _compiled(tuple((k, tuple(str(v) for v in vs)) for k, vs in choices.items()))
    hits = []
    for i, token in enumerate(words):
        candidates = exact.get(token, []) + [p for p in loose if _word_matches(p[0][0], token)]
        for pattern, key in candidates:
            end = i + len(pattern)
            if end <= len(words) and all(
                _word_matches(p, words[i + k]) for k, p in enumerate(pattern[1:], 1)
            ):
                hits.append((i, end, key))
    return hits


def _negated(
    words: Sequence[str], breaks: set[int], covered: set[int], start: int, weder: bool
) -> bool:
    """True when a negation reaches the choice named from word ``start`` on.

    It reaches back over at most ``NEGATION_REACH`` words, not across a clause break and not
    across another choice ("keinen Rabatt nachbessern": the negation is Rabatt's).
    """
    negators = {w[0] for w in _phrase_set("choice", "negators")}
    if weder:
        negators.add("noch")
    for k in range(start - 1, max(start - 1 - NEGATION_REACH, -1), -1):
        if k + 1 in breaks:  # a new clause starts after word k: it does not apply
            return False
        if words[k] in negators:
            return True
        if k in covered:
            return False
    return False


def _choice_hits(text: str, choices: Mapping[str, Iterable[str]]) -> list[_Hit]:
    """Every choice mentioned in ``text``, longest phrase first at overlaps, in text order."""
    words, breaks = _tokens(text)
    found = _find(words, choices)
    # "weiß nicht so genau", "schwer zu sagen" answer nothing: they hide the words they
    # contain ("schwer") – unless the question has a choice for not knowing ("weiß nicht"),
    # which then takes the whole phrase
    unknown = _phrase_set("yes_no", "unknown")
    for i in range(len(words)):
        length = _longest_at(words, i, unknown)
        if length:
            owner = next(
                (
                    key
                    for start, end, key in found
                    if i <= start and end <= i + length and tuple(words[start:end]) in unknown
                ),
                "",
            )
            found.append((i, i + length, owner))
    found.sort(key=lambda h: (-(h[1] - h[0]), h[0], h[2] == ""))
    taken: list[tuple[int, int, str]] = []
    for hit in found:
        if all(hit[1] <= t[0] or hit[0] >= t[1] for t in taken):
            taken.append(hit)
    weder = "weder" in words
    covered = {i for s, e, _ in taken for i in range(s, e)}
    hits = [_Hit(s, e, k, _negated(words, breaks, covered, s, weder)) for s, e, k in taken if k]
    return sorted(hits, key=lambda h: h.start)


def parse_choice(
    text: str,
    choices: Mapping[str, Iterable[str]],
    *,
    multiple: bool = False,
    exclusive: Iterable[str] = (),
    negation: bool = False,
    highest: bool = False,
    if_all_negated: str | None = None,
) -> str | None:
    """The choice (or choices) an answer names.

    Args:
        text: The user's answer (typed or a button payload).
        choices: Choice key -> synonyms (``word*`` matches a stem).
        multiple: The question takes several answers: all named choices are returned, in the
            order of mention, joined by :func:`separator`; "beides"/"alles" names all.
        exclusive: Choices that stand only alone ("none", "unsure"): dropped when other
            choices are named too.
        negation: Drop a choice negated right before it ("kein Rabatt", "nicht gravierend").
        highest: Of several named choices of a one-answer question take the one listed last
            in ``choices`` (the most severe of a scale) instead of the first named.
        if_all_negated: The choice for an answer that only negates choices ("weder Bezahlung
            noch Gegenleistung" -> "none").

    Returns:
        The key(s), or None when no choice is recognised or the answer refers to another
        question ("korrektur: bei der ersten frage …").
    """
    norm = normalize(text)
    if not norm or refers_to_other_question(text):
        return None
    hits = _choice_hits(text, choices)
    exclusive = set(exclusive)
    named = [h.key for h in hits if not (negation and h.negated)]
    if negation and hits and not named and if_all_negated:
        return if_all_negated
    keys = list(dict.fromkeys(named))
    words = norm.split()
    if multiple and all(k in exclusive for k in keys):
        inclusive = [k for k in choices if k not in exclusive]
        names_all = [_phrase_set("choice", "all")]
        if len(inclusive) == 2:
            names_all.append(_phrase_set("choice", "both"))
        if any(_longest_at(words, i, p) for p in names_all for i in range(len(words))):
            keys = inclusive
    if len(keys) > 1 and any(k not in exclusive for k in keys):
        keys = [k for k in keys if k not in exclusive]
    if keys:
        if multiple:
            return separator().join(keys)
        if highest:
            order = list(choices)
            return max(keys, key=order.index)
        return keys[0]
    # A typed stem of a synonym ("mehrm" -> "mehrmals"), at least 4 letters.
    if len(norm) >= 4 and not hits:
        for key, synonyms in choices.items():
            if any(normalize(str(s).rstrip("*")).startswith(norm) for s in synonyms):
                return key
    return None


# ------------------------------------------------------------------------------ corrections
def refers_to_other_question(text: str) -> bool:
    """True when a message corrects an earlier answer instead of answering the current one.

    Args:
        text: The user's message.

    Returns:
        True when it has a clear correction word ("korrektur", "meinte ich", "vertan") or
        names a question ("bei der Preisfrage", "die erste Frage") – it is then no answer to
        the question being asked (see :mod:`bot.corrections`).
    """
    words = _words(text)
    if not words:
        return False
    strong = _phrase_set("correction", "strong")
    if any(_longest_at(words, i, strong) for i in range(len(words))):
        return True
    return names_a_question(words)


def names_a_question(words: Sequence[str]) -> bool:
    """True when the words name a question ("preisfrage", "frage 3", "bei der ersten frage").

    Args:
        words: The normalised words of a message.

    Returns:
        True for a compound ending in "frage" (not "gute frage") or a question word next to
        an ordinal, "letzte" or a preposition.
    """
    vocab = _vocab()["correction"]
    question_words = {normalize(w) for w in vocab["question_words"]}
    near = {
        normalize(str(w)) for n in ("ordinals", "numbers") for ws in vocab[n].values() for w in ws
    }
    near |= {normalize(w) for w in vocab["last"] + vocab["second_last"]}
    near |= {"bei", "zur", "zu", "nach", "nummer", "nr"}
    not_questions = {normalize(w) for w in vocab["not_questions"]}
    for i, word in enumerate(words):
        if word not in not_questions and any(
            word.endswith(q) and len(word) > len(q) + 2 for q in question_words
        ):
            return True
        if word in question_words:
            neighbours = set(words[max(i - 2, 0) : i]) | set(words[i + 1 : i + 2])
            if neighbours & near:
                return True
    return any(
        _longest_at(words, i, _phrase_set("correction", "previous_phrases"))
        for i in range(len(words))
    )


def clean_text_answer(text: str) -> str | None:
    """A free-text answer, trimmed and capped.

    Args:
        text: The user's answer.

    Returns:
        The text with white space collapsed and at most ``MAX_TEXT_ANSWER`` characters; None
        when nothing usable is left (empty, only punctuation, a ``/command``).
    """
    cleaned = re.sub(r"\s+", " ", (text or "")).strip()
    if not cleaned or not re.search(r"\w", cleaned) or cleaned.startswith("/"):
        return None
    if len(cleaned) > MAX_TEXT_ANSWER:
        cleaned = cleaned[: MAX_TEXT_ANSWER - 1].rstrip() + "…"
    return cleaned
