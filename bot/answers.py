"""Understand short answers to the coach's questions: yes/no/skip and choices.

The same parser serves typed answers ("jo, schon", "eher nicht") and button payloads,
so a button is just a pre-written answer. Vocabulary lives in ``answers.yml``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

import yaml

_VOCAB_FILE = Path(__file__).with_name("answers.yml")
MAX_TEXT_ANSWER = 500


def normalize(text: str) -> str:
    """Lower-case, fold ß/umlauts and strip punctuation so spellings from DE/AT/CH compare equal."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = text.replace("ß", "ss").replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    text = re.sub(r"[^\w\s]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=1)
def _vocab() -> dict:
    return yaml.safe_load(_VOCAB_FILE.read_text(encoding="utf-8"))


def _contains(haystack: str, phrases: Iterable[str]) -> bool:
    padded = f" {haystack} "
    return any(f" {normalize(p)} " in padded for p in phrases)


def parse_yes_no(text: str, *, allow_skip: bool = False) -> str | None:
    """'yes', 'no', 'skip' (if allowed) or None when the answer is unclear."""
    norm = normalize(text)
    if not norm:
        return None
    vocab = _vocab()
    if allow_skip and _contains(norm, vocab["skip"]):
        return "skip"
    # Negations first: "nicht wirklich", "eher nicht" must not count as yes.
    if _contains(norm, vocab["negative"]):
        return "no"
    if _contains(norm, vocab["affirmative"]):
        return "yes"
    return None


def is_cancel(text: str) -> bool:
    """True when the whole message asks to cancel the current flow (also the button payload /stop)."""
    raw = (text or "").strip()
    if raw.startswith("/"):
        raw = raw[1:].split("{", 1)[0]
    norm = normalize(raw)
    return bool(norm) and norm in {normalize(p) for p in _vocab()["cancel"]}


def parse_choice(text: str, choices: Mapping[str, Iterable[str]]) -> str | None:
    """The key of the first choice whose key or synonyms occur in the answer."""
    norm = normalize(text)
    if not norm:
        return None
    for key, synonyms in choices.items():
        if _contains(norm, [key.replace("_", " "), *synonyms]):
            return key
    # Prefix match for typed stems ("mehrm" -> "mehrmals"), at least 4 letters.
    if len(norm) >= 4:
        for key, synonyms in choices.items():
            if any(normalize(s).startswith(norm) for s in synonyms):
                return key
    return None


def clean_text_answer(text: str) -> str | None:
    """A free-text answer, trimmed and capped; None when nothing usable is left."""
    cleaned = re.sub(r"\s+", " ", (text or "")).strip()
    if not cleaned or not re.search(r"\w", cleaned) or cleaned.startswith("/"):
        return None
    if len(cleaned) > MAX_TEXT_ANSWER:
        cleaned = cleaned[: MAX_TEXT_ANSWER - 1].rstrip() + "…"
    return cleaned
