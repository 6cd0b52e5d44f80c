"""The one lookup for every sentence the coach shows (no Rasa imports).

Texts live in YAML files, each registered here under a *source* name: the knowledge texts in
``bot/texts/*.yml`` (``cases``, ``clients``, ``drafts``, ``groups``, ``history``,
``knowledge``), the role-play's lines (``roleplay``), the rubric's tips and suggestions
(``rubric``); the channel layer registers its own files next to its code (``channels``,
``messages``, see :func:`register`).

``text("cases", "intro.our_fault", client=...)`` looks up a dotted key (list items by their
index, ``"briefing.intro.0"``) and fills its ``{placeholders}``. There is one behaviour for
everything that is not there: a missing source, key or placeholder value (also ``None``)
raises :class:`MissingText`, naming the file, the key and what is missing – a user never sees
an empty string or a raw ``{placeholder}``. Values are inserted as they are and never
interpreted as format strings themselves (a value ``"{x}"`` stays ``"{x}"``). ``{{`` and ``}}``
in a text stand for literal braces.

Non-text data kept in the same files (vocabularies, labels as data, numbers) is read with
:func:`lookup`.
"""

from __future__ import annotations

import random
import string
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

TEXT_DIR = Path(__file__).with_name("texts")

#: source name -> YAML file; the channel layer adds its own files with :func:`register`
SOURCES: dict[str, Path] = {
    "cases": TEXT_DIR / "cases.yml",
    "clients": TEXT_DIR / "clients.yml",
    "drafts": TEXT_DIR / "drafts.yml",
    "groups": TEXT_DIR / "groups.yml",
    "history": TEXT_DIR / "history.yml",
    "knowledge": TEXT_DIR / "knowledge.yml",
    "roleplay": Path(__file__).parent / "roleplay" / "texts.yml",
    "rubric": Path(__file__).parent / "rubric" / "suggestions.yml",
    "scenarios": TEXT_DIR / "scenarios.yml",
    "session": TEXT_DIR / "session.yml",
}

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FORMATTER = string.Formatter()


class MissingText(KeyError):
    """A text, or a value for one of its placeholders, is missing.

    Attributes:
        source: The source name (``"cases"``, ``"roleplay"``, …).
        key: The dotted key that was looked up.
        missing: What is missing: a key part, a placeholder or the source itself.
        path: The YAML file of the source (None for an unknown source).
    """

    def __init__(self, source: str, key: str, missing: str, path: Path | None = None) -> None:
        """Describe what is missing where (the message names file, key and missing part)."""
        self.source = source
        self.key = key
        self.missing = missing
        self.path = path
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The human-readable description (also ``str(exc)``)."""
        where = f" ({self.path})" if self.path else ""
        return f"text {self.source}:{self.key}{where}: {self.missing}"

    def __str__(self) -> str:
        """The message itself, not KeyError's quoted repr."""
        return self.message


def register(name: str, path: Path | str) -> None:
    """Add a YAML file as text source ``name`` (idempotent for the same file).

    Raises:
        ValueError: ``name`` is already registered for another file.
    """
    path = Path(path).resolve()
    known = SOURCES.get(name)
    if known is not None and known.resolve() != path:
        raise ValueError(f"text source {name!r} is already {known}, not {path}")
    SOURCES[name] = path
    load.cache_clear()


def source_path(name: str) -> Path:
    """The YAML file of a source.

    Raises:
        MissingText: No source of that name is registered.
    """
    try:
        return SOURCES[name]
    except KeyError:
        raise MissingText(name, "", f"no text source {name!r} (known: {sorted(SOURCES)})") from None


@lru_cache(maxsize=None)
def load(name: str) -> dict:
    """The parsed YAML of a source (a mapping at the top level).

    Raises:
        MissingText: The source is not registered.
        ValueError: The file does not hold a mapping.
    """
    path = source_path(name)
    with path.open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=_Loader)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


def lookup(source: str, key: str) -> Any:
    """The raw node at a dotted key (a text, a list, a mapping or other data).

    A part made of digits also finds an integer mapping key or a list index. An empty key is
    the whole file.

    Raises:
        MissingText: The source or a part of the key does not exist.
    """
    node: Any = load(source)
    if not key:
        return node
    done: list[str] = []
    for part in key.split("."):
        node = _child(node, part)
        if node is _ABSENT:
            at = ".".join(done) or "the top level"
            raise MissingText(source, key, f"no '{part}' under {at}", source_path(source))
        done.append(part)
    return node


_ABSENT = object()


def _child(node: Any, part: str) -> Any:
    if isinstance(node, Mapping):
        if part in node:
            return node[part]
        if part.lstrip("-").isdigit() and int(part) in node:
            return node[int(part)]
        return _ABSENT
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    return _ABSENT


@lru_cache(maxsize=4096)
def placeholders(template: str) -> tuple[str, ...]:
    """The placeholder names of a text, in order of first use.

    Raises:
        ValueError: A placeholder is not a plain name (``{}``, ``{0}``, ``{a.b}``, ``{a[0]}``)
            or its format spec holds another placeholder; or a brace is unbalanced.
    """
    names: list[str] = []
    for _, field, spec, _ in _FORMATTER.parse(template):
        if field is None:
            continue
        if not field.isidentifier():
            raise ValueError(f"placeholder {{{field}}} is not a plain name in {template!r}")
        if spec and ("{" in spec or "}" in spec):
            raise ValueError(f"nested placeholder in {{{field}:{spec}}} of {template!r}")
        if field not in names:
            names.append(field)
    return tuple(names)


def _fill(source: str, key: str, template: Any, values: Mapping[str, Any]) -> str:
    if not isinstance(template, str):
        kind = type(template).__name__
        raise MissingText(source, key, f"is a {kind}, not a text", source_path(source))
    try:
        wanted = placeholders(template)
    except ValueError as exc:
        raise MissingText(source, key, str(exc), source_path(source)) from None
    absent = [p for p in wanted if values.get(p) is None]
    if absent:
        what = ", ".join("{" + p + "}" for p in absent)
        raise MissingText(source, key, f"no value for {what}", source_path(source))
    # the values are inserted by str.format itself: they are never parsed as templates
    return template.format_map({p: values[p] for p in wanted})


def text(source: str, key: str, /, **values: Any) -> str:
    """The text at ``source:key`` with its placeholders filled from ``values``.

    Values the text does not use are ignored.

    Raises:
        MissingText: The key does not exist, is not a text, or a placeholder it uses has no
            value (or the value None).
    """
    return _fill(source, key, lookup(source, key), values)


def text_list(source: str, key: str, /, **values: Any) -> list[str]:
    """A list of texts (e.g. messages sent one after another), each one filled.

    Raises:
        MissingText: As :func:`text`, or the node is not a list.
    """
    node = lookup(source, key)
    if not isinstance(node, list):
        kind = type(node).__name__
        raise MissingText(source, key, f"is a {kind}, not a list", source_path(source))
    return [_fill(source, f"{key}.{i}", item, values) for i, item in enumerate(node)]


def pick(source: str, key: str, rng: random.Random, /, **values: Any) -> str:
    """One of the alternative texts in the list at ``source:key``, chosen by ``rng``, filled.

    Draws from ``rng`` exactly like ``rng.choice(options)``.

    Raises:
        MissingText: As :func:`text`, or the node is not a non-empty list.
    """
    node = lookup(source, key)
    if not isinstance(node, list) or not node:
        raise MissingText(source, key, "is not a non-empty list of texts", source_path(source))
    index = rng.choice(range(len(node)))
    return _fill(source, f"{key}.{index}", node[index], values)
