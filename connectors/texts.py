"""Texts of the channel layer (``connectors/messages.yml``), looked up through ``bot.texts``.

The file is registered as text source ``messages``; :func:`reply` and :func:`error` are short
names for ``bot.texts.text("messages", "replies.<key>" / "errors.<key>", …)`` with the same
behaviour: a missing key or placeholder value raises ``bot.texts.MissingText``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot import texts

MESSAGES_FILE = Path(__file__).with_name("messages.yml")
texts.register("messages", MESSAGES_FILE)
texts.register("lock_store", MESSAGES_FILE.with_name("lock_store.yml"))  # lock_store.py


def reply(key: str, **values: Any) -> str:
    """A German reply shown to the user (``replies.<key>``)."""
    return texts.text("messages", f"replies.{key}", **values)


def error(key: str, **values: Any) -> str:
    """An error text for an API caller (``errors.<key>``)."""
    return texts.text("messages", f"errors.{key}", **values)
