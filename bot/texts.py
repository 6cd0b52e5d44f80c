"""Access to the coach's German texts, kept as YAML in ``bot/texts/``.

``text("cases", "intro.our_fault", client=...)`` looks up a dotted key and fills
``{placeholders}``. Values put into a text are user-supplied and never interpreted
as format strings themselves.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

TEXT_DIR = Path(__file__).with_name("texts")


class _Missing(dict):
    def __missing__(self, key: str) -> str:  # unknown placeholders stay visible instead of crashing
        return "{" + key + "}"


@lru_cache(maxsize=None)
def load(name: str) -> dict:
    path = TEXT_DIR / f"{name}.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


def lookup(name: str, key: str) -> Any:
    node: Any = load(name)
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"text {name}:{key} not found (missing '{part}')")
        node = node[part]
    return node


def text(name: str, key: str, **values: Any) -> str:
    template = lookup(name, key)
    if not isinstance(template, str):
        raise TypeError(f"text {name}:{key} is not a string")
    return template.format_map(
        _Missing({k: ("" if v is None else str(v)) for k, v in values.items()})
    )
