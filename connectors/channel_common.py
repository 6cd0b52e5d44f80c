"""Shared helpers of the web chat, Slack and Teams channels (no Rasa imports).

* :func:`setting` reads a channel setting: credentials.yml wins, then Klartext's settings
  (``bot/config.py``: environment, ``.env`` in the repository root), so a channel is
  enabled by putting its secrets into ``.env``.
* :func:`text` / :func:`section` / :func:`error` look up the texts of ``connectors/channels.yml``
  (text source ``channels`` of ``bot.texts``).
* :func:`split_text` cuts a long text into parts a channel can show (at paragraph, line,
  sentence or word boundaries).
* :func:`normalize_buttons` turns Rasa's button dicts into ``(title, payload)`` pairs.
* :class:`Deduplicator` remembers recently seen ids (Slack retries, double deliveries).
* :class:`BackgroundTasks` keeps references to fire-and-forget tasks (acknowledge a
  webhook at once, answer in the background).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Awaitable, Dict, Iterable, List, Optional, Set, Tuple

from bot import texts
from bot.config import load_settings

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
TEXTS_FILE = Path(__file__).with_name("channels.yml")
SECURITY_TEXTS_FILE = Path(__file__).with_name("security.yml")


def setting(
    name: str,
    default: str = "",
    credentials: Optional[Dict[str, Any]] = None,
    key: Optional[str] = None,
) -> str:
    """A channel setting: ``credentials[key]`` (credentials.yml) wins, then the settings.

    ``name`` must be declared in ``bot/config.py`` (environment / ``.env``); its text is
    used unless empty, then ``default``.
    """
    if credentials and key and credentials.get(key) not in (None, ""):
        return str(credentials[key]).strip()
    return load_settings().text(name) or default


# --------------------------------------------------------------------------- texts
texts.register("channels", TEXTS_FILE)
texts.register("security", SECURITY_TEXTS_FILE)  # looked up by connectors/security.py


def text(section: str, key: str, **values: Any) -> str:
    """A user-visible text of ``channels.yml`` (``<section>.<key>``, via ``bot.texts``)."""
    return texts.text("channels", f"{section}.{key}", **values)


def section(name: str) -> Dict[str, str]:
    """All texts of one section (the web chat gets its whole section as JSON).

    Each is a finished text: a placeholder in one of them raises ``bot.texts.MissingText``.
    """
    return {key: text(name, key) for key in texts.lookup("channels", name)}


def error(key: str, **values: Any) -> str:
    """An error text for an API caller (``errors.<key>``)."""
    return text("errors", key, **values)


# --------------------------------------------------------------------------- rendering
_BREAKS = ("\n\n", "\n", ". ", "! ", "? ", "; ", ", ", " ")


def split_text(value: str, limit: int) -> List[str]:
    """Cut ``value`` into parts of at most ``limit`` characters, at natural boundaries.

    Paragraph breaks are preferred, then line breaks, sentence ends, commas and spaces;
    a word longer than ``limit`` is cut hard. Joining the parts with whitespace gives the
    original words in the original order.
    """
    value = value.strip()
    if limit <= 0 or len(value) <= limit:
        return [value] if value else []
    parts: List[str] = []
    rest = value
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for mark in _BREAKS:
            position = window.rfind(mark)
            if position > limit // 3:
                cut = position + (len(mark.rstrip()) if mark.strip() else 0)
                break
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return [part for part in parts if part]


def normalize_buttons(buttons: Optional[Iterable[Dict[str, Any]]]) -> List[Tuple[str, str]]:
    """Rasa buttons → ``(title, payload)``; a button without payload sends its title."""
    result = []
    for button in buttons or []:
        if not isinstance(button, dict):
            continue
        title = str(button.get("title") or "").strip()
        payload = str(button.get("payload") or title).strip()
        if title or payload:
            result.append((title or payload, payload))
    return result


def shorten(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters with an ellipsis."""
    return value if len(value) <= limit else value[: max(0, limit - 1)].rstrip() + "…"


_WHITESPACE = re.compile(r"\s+")
_EMPHASIS = re.compile(r"\*([^*\n]+)\*")


def strip_emphasis(value: str) -> str:
    """``*bold*`` (Slack style, used by the coach's texts) → ``bold`` for plain-text channels."""
    return _EMPHASIS.sub(r"\1", value)


def squash(value: str) -> str:
    """Collapse whitespace (for comparisons and log lines)."""
    return _WHITESPACE.sub(" ", value).strip()


# --------------------------------------------------------------------------- dedup
class Deduplicator:
    """Remembers ids for ``ttl`` seconds (at most ``size``); ``seen(id)`` marks and tells."""

    def __init__(self, ttl: float = 3600.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._seen: "OrderedDict[str, float]" = OrderedDict()

    def seen(self, key: Optional[str]) -> bool:
        """Whether ``key`` was seen before (and remember it now). ``None`` is never seen."""
        if not key:
            return False
        now = time.monotonic()
        while self._seen:
            oldest, stamp = next(iter(self._seen.items()))
            if now - stamp <= self.ttl and len(self._seen) < self.size:
                break
            self._seen.popitem(last=False)
        if key in self._seen:
            return True
        self._seen[key] = now
        return False

    def __contains__(self, key: str) -> bool:
        return key in self._seen


class BackgroundTasks:
    """Fire-and-forget tasks that are kept referenced until done and logged on failure."""

    def __init__(self) -> None:
        self._tasks: Set["asyncio.Task[Any]"] = set()

    def start(self, coroutine: Awaitable[Any], name: str = "") -> "asyncio.Task[Any]":
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)

        def _done(finished: "asyncio.Task[Any]") -> None:
            self._tasks.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                logger.error("Background task %s failed", name, exc_info=finished.exception())

        task.add_done_callback(_done)
        return task

    async def wait(self, timeout: float = 10.0) -> None:
        """Wait for running tasks (server stop, tests)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)

    def __len__(self) -> int:
        return len(self._tasks)
