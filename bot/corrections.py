"""Corrections of an earlier answer while the coach already asks a later question.

Staff notice a wrong answer a question later and type "moment, bei der preisfrage meinte ich
ja", "bei der ersten frage meinte ich nein" or "korrektur: das war doch öfter".
:func:`earlier_correction` recognises which answered question is meant and its new value; the
form mechanism then stores the value and asks the current question again.

A question is named

* by a question word with an ordinal ("die erste Frage", "Frage 3", "bei der letzten Frage",
  "die Frage davor") – numbers count in the order of the form's questions;
* by its ``keywords`` in ``playbooks.yml`` ("preisfrage", "bei der Frage nach dem Preis"; a
  keyword without the word "Frage" counts only together with a correction word);
* not at all, but with a clear correction word ("korrektur", "meinte ich", "vertan"): then
  the question answered last is meant – or, if the new value does not fit it, an earlier
  question the value fits by its own words: a choice naming one of its answers ("korrektur:
  das war doch öfter" after the question how often), a frequency question by a frequency
  word ("korrektur: kommt doch fast jeden Tag vor").

Weak correction words ("moment", "sorry", "das war doch") count only when the message is no
answer to the question being asked. Pure functions, no Rasa; vocabulary in ``answers.yml``
(``correction``).
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import Iterable, Mapping, NamedTuple, Sequence, Union

from bot import answers, playbooks, warning_signs
from bot.normalize import normalize_with_offsets

QuestionRef = Union[str, playbooks.Question]


class Correction(NamedTuple):
    """The corrected answer: the slot of the earlier question and its new stored value."""

    slot: str
    value: str


@lru_cache(maxsize=1)
def warning_sign_questions() -> tuple[playbooks.Question, ...]:
    """The ten warning-sign questions as :class:`~bot.playbooks.Question` (yes/no/skip).

    Returns:
        One question per warning sign, slot ``sign_<key>``, with the keywords of
        ``playbooks.yml`` (``warning_signs.keywords``), in the order they are asked.
    """
    keywords = playbooks.config()["warning_signs"].get("keywords") or {}
    return tuple(
        playbooks.Question(
            slot=warning_signs.SLOT_PREFIX + key,
            kind="yesno",
            keywords=tuple(keywords.get(key) or ()),
            allow_skip=True,
        )
        for key in warning_signs.keys()
    )


@lru_cache(maxsize=1)
def _groups() -> tuple[tuple[playbooks.Question, ...], ...]:
    """The questions of every form, each in the order they are asked."""
    return tuple(b.questions for b in playbooks.playbooks().values()) + (warning_sign_questions(),)


def question_for_slot(slot: str) -> playbooks.Question | None:
    """The question of a case flow or of the warning-sign check that fills ``slot``.

    Args:
        slot: A slot name ("fault_offer", "sign_price").

    Returns:
        The question, or None for an unknown slot.
    """
    return next((q for group in _groups() for q in group if q.slot == slot), None)


def _resolve(refs: Iterable[QuestionRef] | Mapping[str, object]) -> list[playbooks.Question]:
    if isinstance(refs, Mapping):
        refs = [slot for slot, value in refs.items() if value is not None]
    resolved = []
    for ref in refs:
        question = question_for_slot(ref) if isinstance(ref, str) else ref
        if question is not None and question not in resolved:
            resolved.append(question)
    return resolved


def _form_of(answered: Sequence[playbooks.Question]) -> tuple[playbooks.Question, ...]:
    """The form's questions in order (the group holding the answered ones), else ``answered``."""
    for group in _groups():
        if all(q in group for q in answered):
            return group
    return tuple(answered)


@lru_cache(maxsize=None)
def _vocab() -> dict:
    return answers.vocabulary("correction")


@lru_cache(maxsize=None)
def _phrases(name: str) -> tuple[tuple[str, ...], ...]:
    words = (tuple(answers.normalize(str(p)).split()) for p in _vocab()[name])
    return tuple(sorted((w for w in words if w), key=len, reverse=True))


def _phrase_at(words: Sequence[str], i: int, name: str) -> int:
    """The length of the longest phrase of list ``name`` starting at word ``i`` (0: none)."""
    return next((len(p) for p in _phrases(name) if tuple(words[i : i + len(p)]) == p), 0)


def _has(words: Sequence[str], name: str) -> bool:
    return any(_phrase_at(words, i, name) for i in range(len(words)))


@lru_cache(maxsize=None)
def _numbers(name: str) -> dict[str, int]:
    """Word -> position for ``ordinals`` ("erste") or ``numbers`` ("eins", "1")."""
    return {
        answers.normalize(str(word)): int(number)
        for number, words in _vocab()[name].items()
        for word in words
    }


def _tokens(text: str) -> tuple[list[str], list[int]]:
    """The normalised words of ``text`` and where each starts in ``text``."""
    folded, spans = normalize_with_offsets(text or "")
    words, starts = [], []
    for match in re.finditer(r"\w+", folded):
        words.append(match.group())
        starts.append(spans[match.start()][0])
    return words, starts


def _question_words(words: Sequence[str]) -> list[tuple[int, str]]:
    """``(index, prefix)`` of every word naming a question: "frage" ("") or "preisfrage"."""
    names = [answers.normalize(w) for w in _vocab()["question_words"]]
    not_questions = {answers.normalize(w) for w in _vocab()["not_questions"]}
    found = []
    for i, word in enumerate(words):
        if word in names:
            found.append((i, ""))
            continue
        if word in not_questions:
            continue
        for name in names:
            if word.endswith(name) and len(word) > len(name) + 2:
                found.append((i, word[: -len(name)]))
                break
    return found


def _by_position(
    words: Sequence[str], form: Sequence[playbooks.Question], answered: list[playbooks.Question]
) -> tuple[playbooks.Question | None, int, int] | None:
    """A question named by position: "die erste Frage", "Frage 3", "die Frage davor"."""
    ordinals, numbers = _numbers("ordinals"), _numbers("numbers")
    last = {answers.normalize(w) for w in _vocab()["last"]}
    second_last = {answers.normalize(w) for w in _vocab()["second_last"]}
    for i, prefix in _question_words(words):
        if prefix:
            continue
        before = list(range(max(i - 2, 0), i))
        after = [k for k in range(i + 1, min(i + 3, len(words)))]
        for k in reversed(before):
            if words[k] in last:
                return answered[-1], k, i + 1
            if words[k] in second_last:
                return (answered[-2] if len(answered) > 1 else None), k, i + 1
            if words[k] in ordinals:
                return _nth(form, answered, ordinals[words[k]]), k, i + 1
        for k in after:
            if words[k] in numbers:
                return _nth(form, answered, numbers[words[k]]), i, k + 1
            if words[k] not in ("nummer", "nr"):
                break
    for i in range(len(words)):
        length = _phrase_at(words, i, "previous_phrases")
        if length:
            return answered[-1], i, i + length
    return None


def _nth(
    form: Sequence[playbooks.Question], answered: list[playbooks.Question], number: int
) -> playbooks.Question | None:
    if 1 <= number <= len(form) and form[number - 1] in answered:
        return form[number - 1]
    return None


def _keyword_matches(words: Sequence[str], question: playbooks.Question) -> list[tuple[int, int]]:
    """``(start, end)`` of each keyword of ``question`` in ``words`` ("preis" also in "preise")."""
    found = []
    for keyword in question.keywords:
        pattern = answers.normalize(keyword).split()
        if not pattern:
            continue
        for i in range(len(words) - len(pattern) + 1):
            head = all(words[i + k] == w for k, w in enumerate(pattern[:-1]))
            tail = words[i + len(pattern) - 1]
            stem = pattern[-1]
            if head and (tail == stem or (len(stem) >= 4 and tail.startswith(stem))):
                found.append((i, i + len(pattern)))
    return found


def _by_keyword(
    words: Sequence[str], answered: list[playbooks.Question]
) -> tuple[playbooks.Question, int, int, bool] | None:
    """The answered question whose keyword names it best, the span, and whether "frage" was said."""
    compounds = {i: prefix for i, prefix in _question_words(words) if prefix}
    best: list[tuple[int, playbooks.Question, int, int]] = []
    for question in answered:
        for i, prefix in compounds.items():  # "preisfrage": the part before "frage"
            if _keyword_matches([prefix], question):
                best.append((len(prefix) + 100, question, i, i + 1))
        for start, end in _keyword_matches(words, question):
            best.append((sum(len(w) for w in words[start:end]), question, start, end))
    if not best:
        return None
    best.sort(key=lambda b: -b[0])
    top = [b for b in best if b[0] == best[0][0]]
    if len({b[1].slot for b in top}) > 1:
        return None  # two questions named equally well: ambiguous
    _, question, start, end = top[0]
    said_question = bool(compounds) or any(not p for _, p in _question_words(words))
    return question, start, end, said_question


def _strip(
    words: Sequence[str], start: int, end: int, lists: Sequence[str] = ("fillers", "strong", "weak")
) -> tuple[int, int]:
    """Narrow ``[start, end)`` by phrases of ``lists`` at both ends ("meinte ich ja" -> "ja")."""
    changed = True
    while changed and start < end:
        changed = False
        length = max(_phrase_at(words[:end], start, n) for n in lists)
        if length:
            start, changed = start + length, True
            continue
        for n in lists:
            for phrase in _phrases(n):
                if end - len(phrase) >= start and tuple(words[end - len(phrase) : end]) == phrase:
                    end, changed = end - len(phrase), True
                    break
            if changed:
                break
    return start, end


def _value(
    question: playbooks.Question,
    text: str,
    words: Sequence[str],
    starts: Sequence[int],
    span: tuple[int, int],
) -> str | None:
    """The new value of ``question`` from the words in ``span``.

    The value follows the last correction word ("hab mich vertan, es ist nein"), or precedes
    the first one ("ja, meinte ich"); correction fillers around it are dropped.
    """
    start, end = span
    marks = []
    for i in range(start, end):
        length = max(_phrase_at(words[:end], i, n) for n in ("strong", "weak"))
        if length:
            marks.append((i, i + length))
    parts = [(marks[-1][1], end), (start, marks[0][0])] if marks else [(start, end)]
    lists = ("text_fillers",) if question.kind == "text" else ("fillers", "strong", "weak")
    for part in parts:
        first, stop = _strip(words, *part, lists=lists)
        if first >= stop:
            continue
        if question.kind == "text":
            until = starts[stop] if stop < len(words) else len(text)
            value = answers.clean_text_answer(text[starts[first] : until].strip(" :,-–"))
        else:
            value = question.parse(" ".join(words[first:stop]))
        if value is not None:
            return value
    return None


def earlier_correction(
    text: str,
    questions_answered: Iterable[QuestionRef] | Mapping[str, object],
    *,
    current: QuestionRef | None = None,
) -> Correction | None:
    """The earlier answer a message corrects, if it corrects one.

    Args:
        text: The user's message while a later question is being asked.
        questions_answered: The questions already answered in this form: slot names
            ("fault_heard", "sign_price"), :class:`~bot.playbooks.Question` objects, or a
            mapping slot -> value (slots with value None count as unanswered). Their order
            does not matter: positions ("die erste Frage") count in the form's order.
        current: The question being asked now (slot or Question). With it, weak correction
            words ("moment", "sorry", "das war doch") count only when the message is no answer
            to it; without it they never count.

    Returns:
        ``Correction(slot, value)`` – the slot of the corrected question and its new value
        as that question stores it ("yes", "repeated", "redo+discount", cleaned text) – or
        None when the message corrects nothing, names a question not answered yet, names two
        equally well, or its new value is not understood.
    """
    answered = _resolve(questions_answered)
    words, starts = _tokens(text)
    if not answered or not words:
        return None
    form = _form_of(answered)
    answered.sort(key=lambda q: form.index(q) if q in form else len(form))
    strong = _has(words, "strong")
    weak = _has(words, "weak")
    current_q = question_for_slot(current) if isinstance(current, str) else current
    if weak and not strong:
        weak = current_q is not None and current_q.parse(text) is None

    by_position = _by_position(words, form, answered)
    if by_position is not None:
        question, start, end = by_position
        if question is None:
            return None
        return _pick(question, text, words, starts, start, end)
    keyword = _by_keyword(words, answered)
    if keyword is not None:
        question, start, end, said_question = keyword
        if not (said_question or strong or weak):
            return None
        return _pick(question, text, words, starts, start, end)
    if not (strong or weak):
        return None
    # no question named: the one answered last, else an earlier one the value clearly fits
    for k, question in enumerate(reversed(answered)):
        if k and not _specific(question, text, words, starts):
            continue
        value = _value(question, text, words, starts, (0, len(words)))
        if value is not None:
            return Correction(question.slot, value)
    return None


def _specific(
    question: playbooks.Question, text: str, words: Sequence[str], starts: Sequence[int]
) -> bool:
    """True when the value fits ``question`` by its own words, not as a mere yes/no.

    A choice is named by its synonyms; a frequency question by a frequency word ("fast jeden
    Tag") that plain yes/no questions would not take.
    """
    if question.kind == "choice":
        return True
    if question.kind != "yesno" or not question.frequency:
        return False
    plain = replace(question, frequency=False)
    return _value(plain, text, words, starts, (0, len(words))) is None


def _pick(
    question: playbooks.Question,
    text: str,
    words: Sequence[str],
    starts: Sequence[int],
    start: int,
    end: int,
) -> Correction | None:
    """The new value after the reference ("… meinte ich ja"), else before it ("ja, bei …")."""
    for span in ((end, len(words)), (0, start)):
        value = _value(question, text, words, starts, span)
        if value is not None:
            return Correction(question.slot, value)
    return None
