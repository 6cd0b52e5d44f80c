"""Texts of the channel layer, read from ``connectors/messages.yml``.

No user-visible sentence lives in the Python code of this package: look it up here by key.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict

import yaml

MESSAGES_FILE = Path(__file__).with_name("messages.yml")


@lru_cache(maxsize=None)
def _load() -> Dict[str, Dict[str, str]]:
    with MESSAGES_FILE.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    for section in ("replies", "errors"):
        if not isinstance(data.get(section), dict):
            raise ValueError(f"{MESSAGES_FILE}: section '{section}' is missing")
    return data


def _lookup(section: str, key: str, values: Dict[str, Any]) -> str:
    try:
        template = _load()[section][key]
    except KeyError:
        raise KeyError(f"{MESSAGES_FILE}: no text '{section}.{key}'") from None
    return template.format(**values) if values else template.format()


def reply(key: str, **values: Any) -> str:
    """A German reply shown to the user (``replies.<key>``)."""
    return _lookup("replies", key, values)


def error(key: str, **values: Any) -> str:
    """An error text for an API caller (``errors.<key>``)."""
    return _lookup("errors", key, values)


def all_keys() -> Dict[str, list]:
    """Keys per section (used by the tests to check that every text exists)."""
    return {section: sorted(texts) for section, texts in _load().items()}
