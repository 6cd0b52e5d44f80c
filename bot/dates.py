"""German dates in answers.

Understood are e.g. "heute", "gestern", "letzten Montag", "vor drei Tagen", "12.3." and
"3. März 2026".

``parse_date(text, today)`` returns a :class:`datetime.date` or raises :class:`DateError` whose
``code`` names the problem (``date_unknown``, ``date_future``, ``date_too_old``) for a German
message. A date without a year is the most recent such day up to today ("12.12." said in
January is last December). Vocabulary: ``dates.yml``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.answers import normalize
from bot.config import load_settings

MAX_AGE_DAYS = 3650  # older than ten years: almost certainly a typo


class DateError(ValueError):
    """A date answer that cannot be used; ``code`` selects the German message."""

    def __init__(self, code: str, value: date | None = None):
        """Keep ``code`` and the date that was understood but cannot be used (if any)."""
        super().__init__(code)
        self.code = code
        self.value = value


@lru_cache(maxsize=1)
def _vocab() -> dict:
    return yaml.safe_load(Path(__file__).with_name("dates.yml").read_text(encoding="utf-8"))


def today() -> date:
    """Today in the coach's time zone (``KLARTEXT_TIMEZONE``, default Europe/Berlin)."""
    zone = load_settings().timezone
    try:
        return datetime.now(ZoneInfo(zone)).date()
    except (ZoneInfoNotFoundError, ValueError):  # unknown zone, malformed name, no tz data
        return date.today()  # the server's local date


def _has(norm: str, phrases) -> bool:
    padded = f" {norm} "
    return any(f" {normalize(p)} " in padded for p in phrases)


def _year(raw: str | None, ref: date) -> int | None:
    if not raw:
        return None
    value = int(raw)
    return value + 2000 if value < 100 else value


def _recent(day: int, month: int, year: int | None, ref: date) -> date:
    """The date; without a year the latest such day on or before ``ref``."""
    if year is not None:
        return date(year, month, day)
    candidate = date(ref.year, month, day) if _valid(ref.year, month, day) else None
    if candidate is None or candidate > ref:
        return date(ref.year - 1, month, day)
    return candidate


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
        return True
    except ValueError:
        return False


def _number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    return _vocab()["numbers"].get(token)


def _find(text: str, ref: date, strict: bool) -> date | None:
    raw = (text or "").strip().lower()
    norm = normalize(text)
    vocab = _vocab()

    match = re.search(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", raw)
    if match:
        return date(int(match[1]), int(match[2]), int(match[3]))
    match = re.search(r"(?<![\d.])(\d{1,2})\.\s?(\d{1,2})(?:\.\s?(\d{4}|\d{2})?)?(?!\d)", raw)
    if match:
        return _recent(int(match[1]), int(match[2]), _year(match[3], ref), ref)
    match = re.search(r"(?<![\d.])(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b", raw)
    if match:  # 12/03/2026 is day/month in German-speaking countries
        return date(_year(match[3], ref), int(match[2]), int(match[1]))

    tokens = norm.split()
    for month, names in vocab["months"].items():
        for name in names:
            found = re.search(rf"\b(\d{{1,2}})\s+{name}\b(?:\s+(\d{{4}}))?", norm)
            if found:
                return _recent(int(found[1]), int(month), _year(found[2], ref), ref)

    if _has(norm, vocab["day_before_yesterday"]):
        return ref - timedelta(days=2)
    if _has(norm, vocab["yesterday"]):
        return ref - timedelta(days=1)
    if _has(norm, vocab["today"]):
        return ref

    match = re.search(r"\bvor\s+(\w+)\s+(\w+)\b", norm)
    if match:
        count, unit = _number(match[1]), vocab["units"].get(match[2])
        if count is not None and unit is not None:
            return ref - timedelta(days=count * unit)

    if _has(norm, vocab["future"]):
        raise DateError("date_future")
    short_ok = not strict and len(tokens) <= 3
    last = _has(norm, vocab["last_markers"])
    for weekday, names in vocab["weekdays"].items():
        for name in names:
            if len(name) <= 2 and not short_ok:
                continue
            if f" {name} " in f" {norm} ":
                back = (ref.weekday() - int(weekday)) % 7
                if back == 0 and last:
                    back = 7
                return ref - timedelta(days=back)

    if _has(norm, vocab["last_week"]):
        return ref - timedelta(days=7)
    return None


def parse_date(text: str, ref: date | None = None, *, strict: bool = False) -> date:
    """The date named in ``text`` (relative to ``ref``, default today) or :class:`DateError`.

    ``strict`` (for whole sentences, not answers) ignores two-letter weekday abbreviations
    like "so" or "do" that are also ordinary words.
    """
    ref = ref or today()
    if isinstance(text, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        found = date.fromisoformat(text.strip())  # canonical value (slot already validated)
    else:
        try:
            found = _find(text if isinstance(text, str) else "", ref, strict)
        except (ValueError, OverflowError) as exc:  # 31.02., month 13 …
            if isinstance(exc, DateError):
                raise
            raise DateError("date_unknown") from None
    if found is None:
        raise DateError("date_unknown")
    if found > ref:
        raise DateError("date_future", found)
    if (ref - found).days > MAX_AGE_DAYS:
        raise DateError("date_too_old", found)
    return found


def find_date(text: str, ref: date | None = None) -> date | None:
    """A date mentioned somewhere in a sentence, or None (never raises)."""
    try:
        return parse_date(text, ref, strict=True)
    except DateError:
        return None


def correction(text: str, ref: date | None = None) -> date | None:
    """The day a short correction names ("nein, am Montag", "das war gestern"), or None.

    Args:
        text: A message given where something else was asked (e.g. the note of an incident).
        ref: Reference day (default today).

    Returns:
        The date when the message is short (at most ``correction_max_words`` words), starts
        with a correction word of ``dates.yml`` and names a usable date; None otherwise –
        never raises.
    """
    norm = normalize(text)
    vocab = _vocab()
    if not norm or len(text.split()) > vocab["correction_max_words"]:
        return None
    if not any(norm.startswith(normalize(w) + " ") for w in vocab["correction_starts"]):
        return None
    try:
        return parse_date(text, ref)
    except DateError:
        return None


def format_date(value: date) -> str:
    """The date the German way, e.g. 03.04.2026."""
    return value.strftime("%d.%m.%Y")
