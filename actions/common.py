"""Shared helpers of the Rasa actions: settings, repository, sending texts."""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from typing import Any, Callable, Iterable, TypeVar

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.config import load_settings
from bot.storage.db import STORAGE_ERRORS
from bot.storage.repository import CoachRepository

logger = logging.getLogger(__name__)
T = TypeVar("T")


@lru_cache(maxsize=1)
def repository() -> CoachRepository:
    """Created on first use, not at import: importing actions never touches a database."""
    return CoachRepository(load_settings().database_url)


async def in_thread(func: Callable[..., T], *args: Any) -> T:
    """Run blocking storage work off the event loop of the action server."""
    return await asyncio.get_running_loop().run_in_executor(None, func, *args)


async def store_quietly(func: Callable[..., T], *args: Any) -> T | None:
    """Storage that must never break the conversation: failures are logged, not raised."""
    try:
        return await in_thread(func, *args)
    except STORAGE_ERRORS:  # the coach keeps coaching even if the database hiccups
        logger.exception("storage call %s failed", getattr(func, "__name__", func))
        return None


def send(dispatcher: CollectingDispatcher, messages: Iterable[str]) -> None:
    for message in messages:
        dispatcher.utter_message(text=message)


def message_text(tracker: Tracker) -> str:
    """The text of the user's latest message ("" when there is none)."""
    return (tracker.latest_message or {}).get("text") or ""


def entity(tracker: Tracker, name: str) -> str | None:
    """The first non-empty value of entity ``name`` in the latest message, stripped."""
    for item in (tracker.latest_message or {}).get("entities") or []:
        value = item.get("value")
        if item.get("entity") == name and isinstance(value, str) and value.strip():
            return value.strip()
    return None


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message or {}).get("intent", {}).get("name")
