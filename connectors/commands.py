"""Typed commands as intents, independent of the statistical classifier (Rasa NLU component).

"Beitreten K7P2QX", "Ergebnisse K7P2QX" and "Trainercode …" are commands printed by the
coach itself (``bot/texts/groups.yml``); a trainer who types one must get that function
every time, not whatever the logistic regression makes of a random code. This component runs
after the intent classifier (``config.yml``) and, when the *whole* message is such a command
(``connectors/commands.yml``), sets its intent with confidence 1.0 and puts it at the top of
the ranking. Every other message passes through unchanged.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Pattern, Text, Tuple

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.storage.groups import is_code, normalize_code
from connectors.nlu_components import put_on_top

COMMANDS_FILE = Path(__file__).with_name("commands.yml")
ARGUMENTS = ("join_code", "any")


@lru_cache(maxsize=None)
def load_commands(path: Path = COMMANDS_FILE) -> Tuple[Tuple[Pattern[str], str, str], ...]:
    """(pattern, intent, argument kind) per command; ``ValueError`` names a broken entry."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    commands = []
    for number, entry in enumerate(data.get("commands") or [], start=1):
        intent, keywords, argument = (
            entry.get("intent"),
            entry.get("keywords"),
            entry.get("argument"),
        )
        if not intent or not keywords or argument not in ARGUMENTS:
            raise ValueError(
                f"{path}: command {number} needs intent, keywords and argument {ARGUMENTS}"
            )
        words = "|".join(re.escape(str(k)).replace(r"\ ", r"\s+") for k in keywords)
        pattern = re.compile(
            rf"^\s*(?:{words})\s*:?\s+(\S+)\s*$|^\s*(?:{words}):(\S+)\s*$", re.IGNORECASE
        )
        commands.append((pattern, str(intent), str(argument)))
    return tuple(commands)


def command_intent(text: Optional[str]) -> Optional[str]:
    """The intent of a typed command, or None when the message is no command."""
    if not text or len(text) > 200:
        return None
    for pattern, intent, argument in load_commands():
        match = pattern.match(text)
        if not match:
            continue
        value = match.group(1) or match.group(2)
        if argument == "any" or is_code(normalize_code(value)):
            return intent
    return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CommandIntentClassifier(GraphComponent, IntentClassifier):
    """Sets the intent of whole-message commands; place it after the trained classifier."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CommandIntentClassifier":
        load_commands()  # a broken commands.yml fails at start-up, not on the first message
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = command_intent(message.get(TEXT))
            if intent is None:
                continue
            put_on_top(message, intent)
        return messages
