"""Knowledge topics of the coach (texts in bot/texts/knowledge.yml)."""

from __future__ import annotations

from bot.texts import text_list

TOPICS = ("how_to_terminate", "legal", "after_termination", "stress", "help")


def topic(name: str) -> list[str]:
    """A topic as the list of chat messages to send one after another."""
    if name not in TOPICS:
        raise KeyError(f"unknown topic {name!r}")
    return text_list("knowledge", f"topics.{name}")
