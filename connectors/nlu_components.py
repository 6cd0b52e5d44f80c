"""Rasa NLU components around the domain core's text tools (``config.yml`` uses both).

* :class:`NormalizingWhitespaceTokenizer` – Rasa's whitespace tokenizer whose tokens carry the
  normalised spelling of ``bot.normalize`` as their lemma ("Büro", "buero", "BUEROOO" ->
  "buero"; "kudne" -> "kunde"). The token text and offsets stay as typed, so entities such as
  client names keep their original spelling. The count-vector featurizers featurise
  ``token.lemma`` (their default ``use_lemma: True``): both the word and the char_wb analyzer
  join the lemmas of a message with blanks and count n-grams of that string
  (``_get_message_tokens_by_attribute`` -> ``_convert_attribute_tokens_to_texts`` in
  ``rasa/nlu/featurizers/sparse_featurizer/count_vectors_featurizer.py``), so the classifier
  only ever sees the normalised forms, in training and at run time alike.
* :class:`SafetyIntentClassifier` – runs after the trained intent classifier; when
  ``bot.safety.detect`` finds danger in the message (violence, threat, sexual harassment,
  stalking, damage to property) it sets the intent ``report_danger`` with confidence 1.0 on
  top of the ranking and adds the entity ``danger_kind`` (value = the kind, span = the matched
  phrase) for the actions. Safety comes before every flow, whatever the classifier guessed.
* :class:`DistressIntentClassifier` – likewise sets ``report_stress`` when ``bot.distress``
  finds acute distress or a crisis ("ich kann nicht mehr", "lieg seit stunden wach") or the
  user repeats one of the coach's own suggested phrases ("Das lässt mich nicht los"); placed
  before the safety classifier, so danger still wins.
* :class:`CaseSignalClassifier` – a strong signal decides the case, not the background told
  around it: when the classifier chose a case (or ``out_of_scope``, or its own guess
  ``report_danger`` – for an insult or extra work only when ``bot.safety.hint`` finds no word
  near danger in the message) and ``bot.case_signals.decisive``
  finds exactly one case's decisive fact in the message (an untrue claim, an own mistake,
  unpaid extra work, an insult), that case's intent goes on top. Placed before the distress
  and safety classifiers, so both still win.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_RANKING_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot import case_signals, distress
from bot.normalize import normalize_token
from bot.safety import detect, hint, load_rules

DANGER_INTENT = "report_danger"
STRESS_INTENT = "report_stress"
CASE_INTENTS = frozenset(
    {"report_own_fault", "report_extra_requests", "report_false_claims", "report_abuse"}
)
# the classifier's guesses a case signal may overrule; the rule-based danger intent is set only
# after this component (so a rule-detected danger always wins)
SIGNAL_OVERRULES = CASE_INTENTS | {DANGER_INTENT, "out_of_scope"}
# an untrue claim (of damage, say) or our own mistake (a wrongly adjusted brake) is not danger
# to staff; an insult or extra work overrules a danger guess only when the message has no word
# near danger (``bot.safety.hint``): no rule fired, nothing hints at a body at risk
DANGER_OVERRULED_BY = frozenset({"report_false_claims", "report_own_fault"})
DANGER_OVERRULED_WITHOUT_HINT_BY = frozenset({"report_abuse", "report_extra_requests"})
# in a long story (background first, a question at the end: "… was sagt das recht?") the
# decisive fact also overrules a knowledge question; a short question stays a question
STORY_OVERRULES = frozenset({"ask_legal", "ask_after_termination", "report_stress"})
STORY_WORDS = 25
DANGER_ENTITY = "danger_kind"
# The classifier's own guesses stay in the ranking (order and relative size), scaled down so
# that FallbackClassifier's ambiguity check (top two closer than ambiguity_threshold) can
# never turn the safety intent into nlu_fallback.
OTHER_INTENTS_SCALE = 0.5
RANKING_LENGTH = 10


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class NormalizingWhitespaceTokenizer(WhitespaceTokenizer):
    """Whitespace tokens whose lemma is the normalised spelling (text and offsets unchanged)."""

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        tokens = super().tokenize(message, attribute)
        for token in tokens:
            token.lemma = normalize_token(token.text)
        return tokens


def put_on_top(message: Message, intent: Text) -> None:
    """Make ``intent`` the message's intent (confidence 1.0), the classifier's guesses scaled.

    Every rule-based intent component uses this (also ``connectors/commands.py``).
    """
    ranking = [
        {**r, "confidence": float(r.get("confidence") or 0.0) * OTHER_INTENTS_SCALE}
        for r in (message.get(INTENT_RANKING_KEY) or [])
        if r.get("name") != intent
    ]
    top = {"name": intent, "confidence": 1.0}
    message.set(INTENT, dict(top), add_to_output=True)
    message.set(INTENT_RANKING_KEY, [top] + ranking[: RANKING_LENGTH - 1], add_to_output=True)


def _danger_entity(kind: str, start: int, end: int) -> Dict[Text, Any]:
    return {
        ENTITY_ATTRIBUTE_TYPE: DANGER_ENTITY,
        ENTITY_ATTRIBUTE_VALUE: kind,
        ENTITY_ATTRIBUTE_START: start,
        ENTITY_ATTRIBUTE_END: end,
        ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
        EXTRACTOR: SafetyIntentClassifier.__name__,
    }


class _RuleIntentClassifier(GraphComponent, IntentClassifier):
    """An untrained intent component whose rule file is checked once, at start-up."""

    @staticmethod
    def check_rules() -> None:
        """Load the component's rule file, so a broken one fails at start-up."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "_RuleIntentClassifier":
        cls.check_rules()
        return cls()


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyIntentClassifier(_RuleIntentClassifier):
    """Sets ``report_danger`` when the message describes danger; place it after the classifier."""

    check_rules = staticmethod(load_rules)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            danger = detect(text) if isinstance(text, str) else None
            if danger is None:
                continue
            put_on_top(message, DANGER_INTENT)
            entities = [
                e
                for e in (message.get(ENTITIES) or [])
                if e.get(ENTITY_ATTRIBUTE_TYPE) != DANGER_ENTITY
            ]
            entities.append(_danger_entity(danger.kind, danger.start, danger.end))
            message.set(ENTITIES, entities, add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class DistressIntentClassifier(_RuleIntentClassifier):
    """Sets ``report_stress`` for acute distress or a cue phrase; place it after the classifier."""

    check_rules = staticmethod(distress.load_rules)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str) and distressed(text):
                put_on_top(message, STRESS_INTENT)
        return messages


def distressed(text: Text) -> bool:
    """Whether :class:`DistressIntentClassifier` sets ``report_stress`` for the message."""
    return bool(text.strip()) and (
        distress.detect(text) is not None or distress.cue(text) is not None
    )


def _overrulable(top: Text | None, text: Text) -> bool:
    if top in SIGNAL_OVERRULES:
        return True
    return top in STORY_OVERRULES and len(text.split()) >= STORY_WORDS


def _overrules_danger(intent: Text, text: Text) -> bool:
    if intent in DANGER_OVERRULED_BY:
        return True
    return intent in DANGER_OVERRULED_WITHOUT_HINT_BY and not hint(text)


def signalled_intent(top: Text | None, text: Text) -> Text | None:
    """The case intent :class:`CaseSignalClassifier` puts on top of ``top``, or None."""
    if not _overrulable(top, text):
        return None
    intent = case_signals.decisive(text)
    if intent is None or intent == top:
        return None
    if top == DANGER_INTENT and not _overrules_danger(intent, text):
        return None
    return intent


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class CaseSignalClassifier(_RuleIntentClassifier):
    """Puts the one signalled case on top of a case guess; place it after the classifier."""

    check_rules = staticmethod(case_signals.load_cases)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            top = (message.get(INTENT) or {}).get("name")
            intent = signalled_intent(top, text) if isinstance(text, str) else None
            if intent is not None:
                put_on_top(message, intent)
        return messages
