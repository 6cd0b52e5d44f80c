"""connectors/commands.py: typed commands get their intent whatever the classifier thinks."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.message import Message

from connectors.commands import CommandIntentClassifier, command_intent, load_commands


@pytest.mark.parametrize(
    "text, intent",
    [
        ("Beitreten K7P2QX", "join_session"),
        ("beitreten k7p2qx", "join_session"),
        ("  Join: 8MN7BV ", "join_session"),
        ("Ergebnisse K7P2QX", "show_session_results"),
        ("ergebnisse:k7p2qx", "show_session_results"),
        ("Trainercode 1234-ABCD", "trainer_verify"),
        ("Trainer-Code: geheim", "trainer_verify"),
    ],
)
def test_commands(text: str, intent: str) -> None:
    assert command_intent(text) == intent


@pytest.mark.parametrize(
    "text",
    [
        "Ergebnisse zeigen",  # six letters, but no join code (needs letters and digits)
        "Meine Ergebnisse",
        "Beitreten",
        # not a whole-message command: the classifier decides
        "Ich will der Gruppe K7P2QX beitreten",
        "Ergebnisse K7P2QX bitte sofort",
        "",
        None,
        "Beitreten " + "K7P2QX" * 100,
    ],
)
def test_everything_else_passes_through(text) -> None:
    assert command_intent(text) is None


def test_process_puts_the_command_on_top_and_keeps_the_rest() -> None:
    component = CommandIntentClassifier()
    command = Message(data={"text": "Ergebnisse K7P2QX"})
    command.set("intent", {"name": "ask_progress", "confidence": 0.6})
    command.set(
        "intent_ranking",
        [
            {"name": "ask_progress", "confidence": 0.6},
            {"name": "show_session_results", "confidence": 0.3},
        ],
    )
    other = Message(data={"text": "Hallo"})
    other.set("intent", {"name": "greet", "confidence": 0.9})
    component.process([command, other])
    assert command.get("intent") == {"name": "show_session_results", "confidence": 1.0}
    assert [r["name"] for r in command.get("intent_ranking")] == [
        "show_session_results",
        "ask_progress",
    ]
    assert other.get("intent") == {"name": "greet", "confidence": 0.9}


def test_a_broken_commands_file_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "commands.yml"
    broken.write_text(
        "commands:\n  - intent: join_session\n    keywords: [beitreten]\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="commands.yml: command 1"):
        load_commands(broken)
