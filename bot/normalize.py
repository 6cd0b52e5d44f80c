"""Fold the many spellings of chat German into one form, for the NLU and the safety check.

Staff write in Slack as they type: lower case, "ae/oe/ue" instead of umlauts, Swiss "ss"
for "ß", stretched words ("jaaa", "neiiin"), swapped letters ("kudne", "rechnugn") and
English words. :func:`normalize` maps all of these onto one form, so "Büro", "buero" and
"BÜRO" compare equal:

1. Unicode NFC and case-folding (``ß`` and ``ẞ`` become ``ss``),
2. a letter repeated three or more times is squeezed to one ("jaaa" -> "ja", "neiiin" ->
   "nein"); doubles stay ("kaffee", "wetter"). German words with a legitimate triple
   letter ("Schifffahrt") lose two of it – consistently, which is all a feature needs,
3. ``ä/ö/ü`` become ``ae/oe/ue``, every other accent is stripped ("café" -> "cafe"),
4. whole words of the spelling table ``normalize.yml`` are replaced ("nich" -> "nicht",
   "wg" -> "wegen"), including the typos generated from its ``swap_typos`` words.

Punctuation is kept, runs of white space become one blank. Everything is precompiled and
cached: the functions run on every message (the NLU tokenizer calls
:func:`normalize_token` per token).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

TABLE_FILE = Path(__file__).with_name("normalize.yml")
MIN_SWAP_LENGTH = 5

# a word (letters/digits, also decomposed accents), a run of white space, or one other char
_CHUNK = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+|\s+|.", re.DOTALL)
_REPEAT = re.compile(r"([^\W\d_])\1{2,}")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


def _fold(word: str) -> str:
    """Steps 1–3 of the module docstring for one word (no table lookup)."""
    text = unicodedata.normalize("NFC", word).casefold()
    text = _REPEAT.sub(r"\1", text)
    text = text.translate(_UMLAUTS)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", text)


def swap_variants(word: str) -> List[str]:
    """Typos of ``word`` by two swapped neighbouring letters, the first letter kept.

    Args:
        word: A folded word.

    Returns:
        The distinct variants other than ``word`` itself, in order of the swapped position;
        none for words shorter than five letters.
    """
    if len(word) < MIN_SWAP_LENGTH:
        return []
    variants: List[str] = []
    for i in range(1, len(word) - 1):
        swapped = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if swapped != word and swapped not in variants:
            variants.append(swapped)
    return variants


@lru_cache(maxsize=None)
def spelling_table(path: Path = TABLE_FILE) -> Dict[str, str]:
    """The folded spelling table: variant -> canonical form.

    Explicit ``typos`` win over generated swap typos; a generated variant is skipped when it
    is a canonical word itself, one of the ``real_words`` or already a table key.

    Args:
        path: The YAML file (``normalize.yml`` next to this module).

    Returns:
        A mapping of folded words to their folded canonical form (possibly several words).

    Raises:
        ValueError: When an entry is not a non-empty string.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    table: Dict[str, str] = {}
    for variant, canonical in (data.get("typos") or {}).items():
        if not isinstance(variant, str) or not isinstance(canonical, str) or not canonical:
            raise ValueError(f"{path}: typos entry {variant!r}: {canonical!r} is no word")
        key, value = _fold(variant.strip()), " ".join(_fold(w) for w in canonical.split())
        if key != value:
            table[key] = value
    keywords = [_fold(str(w)) for w in data.get("swap_typos") or []]
    protected = set(keywords) | set(table.values())
    protected |= {_fold(str(w)) for w in data.get("real_words") or []}
    for word in keywords:
        for variant in swap_variants(word):
            if variant not in protected and variant not in table:
                table[variant] = word
    return table


@lru_cache(maxsize=65536)
def _normalize_word(word: str) -> str:
    folded = _fold(word)
    return spelling_table().get(folded, folded)


def _pieces(text: str) -> List[Tuple[str, int, int]]:
    """``(normalised piece, start, end)`` per chunk of ``text``; white space as one blank."""
    pieces: List[Tuple[str, int, int]] = []
    for match in _CHUNK.finditer(text):
        chunk = match.group()
        if chunk.isspace():
            piece = " "
        elif len(chunk) == 1 and not chunk.isalnum() and not unicodedata.combining(chunk):
            piece = chunk
        else:
            piece = _normalize_word(chunk)
        pieces.append((piece, match.start(), match.end()))
    return pieces


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """The normalised form of a message (see the module docstring).

    Args:
        text: Any user text.

    Returns:
        The text folded and spelling-corrected, white space collapsed and stripped.
    """
    if not text:
        return ""
    return "".join(piece for piece, _, _ in _pieces(text)).strip()


def normalize_with_offsets(text: str) -> Tuple[str, List[Tuple[int, int]]]:
    """Like :func:`normalize`, with the original span of every normalised character.

    Args:
        text: Any user text.

    Returns:
        The normalised text and, per character of it, ``(start, end)`` of the original chunk
        (word, white space or punctuation) it comes from; a match ``[i:j]`` of the
        normalised text covers ``text[spans[i][0]:spans[j - 1][1]]``.
    """
    out: List[str] = []
    spans: List[Tuple[int, int]] = []
    for piece, start, end in _pieces(text or ""):
        if piece == " " and (not out or out[-1] == " "):
            continue
        out.append(piece)
        spans.extend([(start, end)] * len(piece))
    if out and out[-1] == " ":
        out.pop()
        spans.pop()
    return "".join(out), spans


@lru_cache(maxsize=65536)
def normalize_token(token: str) -> str:
    """The normalised form of one token, e.g. the lemma the NLU featurizers see.

    Args:
        token: One token of the tokenizer (may contain inner punctuation: "e-mail", "z.b.").

    Returns:
        Its normalised form; the case-folded token itself if normalisation leaves nothing.
    """
    return normalize(token) or token.casefold()
