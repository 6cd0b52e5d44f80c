"""What a message in the middle of a form means when it is not simply the answer.

Every form of the coach asks questions. Real users answer some of them with something else:
"stopp", a threat they just received, "zurück", "falscher Fall, der Kunde behauptet was",
a question about ending the contract. :func:`classify` decides, from the message and the
NLU's reading of it, which of these it is – in one place for every form. The Rasa side
(``actions/playbook_form.py``) then acts on the decision. Vocabulary and thresholds live in
``interrupts.yml``.

Order matters and is fixed: cancel, safety, acute distress ("ich kann nicht mehr"), back,
a corrected earlier answer ("moment, bei der Preisfrage meinte ich ja", :mod:`bot.corrections`),
a correction of the case, another case, a question. A message that is understood as the
answer to a yes/no or choice question is never taken for a case switch or a question, and
only a question (a question mark or a question word first) is taken for a question: "hmm,
schwer zu sagen" is an unclear answer, asked again with its options.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Optional, Sequence, Tuple

import yaml

from bot import answers, corrections, distress, playbooks, safety

CANCEL = "cancel"
SAFETY = "safety"
BACK = "back"
SWITCH = "switch"
CLARIFY = "clarify"
QUESTION = "question"
EARLIER = "earlier"
DISTRESS = "distress"


@dataclass(frozen=True)
class Message:
    """The user's message with the NLU's reading of it."""

    text: str
    intent: Optional[str] = None
    confidence: float = 0.0
    ranking: Tuple[Tuple[str, float], ...] = ()

    @classmethod
    def from_parse(cls, parse: Mapping) -> "Message":
        """Build from Rasa's ``latest_message`` dict (text, intent, intent_ranking)."""
        intent = parse.get("intent") or {}
        ranking = tuple(
            (str(item.get("name")), float(item.get("confidence") or 0.0))
            for item in parse.get("intent_ranking") or []
            if item.get("name")
        )
        return cls(
            text=str(parse.get("text") or ""),
            intent=intent.get("name"),
            confidence=float(intent.get("confidence") or 0.0),
            ranking=ranking,
        )


@dataclass(frozen=True)
class Context:
    """Where in which form the message arrived."""

    form: str
    slot: str
    case: Optional[str] = None
    #: the answer parses as an answer to a yes/no or choice question
    understood: bool = False
    #: the question takes free text (a description, a note)
    free_text: bool = False
    #: False inside the role-play: every message is in character except cancel and safety
    listens: bool = True
    #: the form's questions answered so far, slot -> value (for corrections of an earlier answer)
    answered: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Interruption:
    """What the message is instead of an answer."""

    kind: str
    #: SWITCH: the case to switch to; QUESTION: the intent to answer briefly;
    #: SAFETY: the kind of danger; EARLIER: the slot whose answer is corrected
    target: Optional[str] = None
    #: EARLIER: the corrected answer, as that question stores it
    value: Optional[str] = None


@lru_cache(maxsize=1)
def vocabulary() -> dict:
    """The phrases and thresholds of ``interrupts.yml``."""
    return yaml.safe_load(Path(__file__).with_name("interrupts.yml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _phrases(name: str) -> Tuple[str, ...]:
    return tuple(answers.normalize(p) for p in vocabulary()[name])


def case_for_intent(intent: Optional[str]) -> Optional[str]:
    """The case an intent reports (``report_abuse`` -> ``abusive``), or None."""
    return playbooks.case_for_intent(intent)


def is_back(text: str) -> bool:
    """True when the whole message asks for the previous question."""
    return answers.normalize(text) in _phrases("back")


def is_hesitation(text: str) -> bool:
    """True when the whole message only hesitates ("Hm.", "naja …", "puh, keine ahnung")."""
    norm = answers.normalize(text)
    return norm in _phrases("hesitation") or (not norm and bool(text.strip()))


def has_correction(text: str, case: Optional[str] = None) -> bool:
    """True when the message says the coach understood the situation (or ``case``) wrongly."""
    norm = f" {answers.normalize(text)} "
    phrases = _phrases("correction") + _case_phrases(case or "")
    return any(f" {phrase} " in norm for phrase in phrases)


@lru_cache(maxsize=None)
def _case_phrases(case: str) -> Tuple[str, ...]:
    return tuple(answers.normalize(p) for p in vocabulary()["correction_by_case"].get(case, ()))


def is_question(text: str) -> bool:
    """True for a question: a question mark or a question word at the start."""
    if "?" in text:
        return True
    words = answers.normalize(text).split()
    return bool(words) and words[0] in vocabulary()["question_starts"]


def best_other_case(
    message: Message, current: Optional[str], minimum: float, lead: float = 1.0
) -> Optional[str]:
    """The case (not ``current``) the NLU ranks highest and clearly above the next case.

    Its confidence must reach ``minimum`` and ``lead`` times that of the next other case.
    """
    candidates: Sequence[Tuple[str, float]] = message.ranking or (
        ((message.intent or ""), message.confidence),
    )
    ranked = [
        (case_for_intent(intent), confidence)
        for intent, confidence in sorted(candidates, key=lambda item: -item[1])
        if case_for_intent(intent) and case_for_intent(intent) != current
    ]
    if not ranked or ranked[0][1] < minimum:
        return None
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    return ranked[0][0] if ranked[0][1] >= lead * runner_up else None


def named_case(text: str, current: Optional[str]) -> Optional[str]:
    """The case (not ``current``) a correction names by its words, or None."""
    norm = f" {answers.normalize(text)} "
    for case, words in vocabulary()["case_words"].items():
        if case != current and any(f" {answers.normalize(w)} " in norm for w in words):
            return case
    return None


def corrected_case(message: Message, current: Optional[str]) -> Optional[str]:
    """The case a correction switches to: named by its words, else clearly ranked by the NLU."""
    limits = vocabulary()["thresholds"]
    return named_case(message.text, current) or best_other_case(
        message, current, limits["correction_case"], limits["correction_lead"]
    )


def classify(message: Message, context: Context) -> Optional[Interruption]:
    """What the message is if it is not the answer to the question asked, else None."""
    text = message.text or ""
    if answers.is_cancel(text):
        return Interruption(CANCEL)
    danger = safety.detect(text)
    if danger is not None:
        return Interruption(SAFETY, danger.kind)
    if not context.listens:
        return None
    if distress.detect(text) is not None:
        return Interruption(DISTRESS)
    limits = vocabulary()["thresholds"]
    intent, confidence = message.intent, message.confidence
    if is_back(text) or (
        intent == "go_back"
        and confidence >= limits["correct_intent"]
        and len(text.split()) <= 6
        and not context.understood
    ):
        return Interruption(BACK)
    if context.answered:
        earlier = corrections.earlier_correction(text, context.answered, current=context.slot)
        if earlier is not None and earlier.slot != context.slot:
            return Interruption(EARLIER, earlier.slot, value=str(earlier.value))
    # in a free-text answer only a correction phrase counts: "falsche farbe" describes the fault
    corrected = has_correction(text, context.case) or (
        intent == "correct_case"
        and confidence >= limits["correct_intent"]
        and not context.free_text
    )
    if corrected:
        target = corrected_case(message, context.case)
        return Interruption(SWITCH, target) if target else Interruption(CLARIFY)
    if context.understood:
        return None
    other = case_for_intent(intent)
    if (
        other
        and other != context.case
        and confidence >= limits["switch"]
        and len(text.split()) >= limits["switch_min_words"]
    ):
        return Interruption(SWITCH, other)
    if (
        intent in vocabulary()["question_intents"]
        and confidence >= limits["question"]
        and is_question(text)
    ):
        return Interruption(QUESTION, intent)
    return None
