"""Trainer group sessions: who is a trainer, join codes in messages, results and reports.

The report is assembled here as plain data (:class:`GroupReport`); writing its files
(HTML, PNG charts, CSV) is the job of ``reporting.group_report``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from statistics import mean
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import data_rights
from bot.config import load_settings
from bot.roleplay.engine import CRITERIA, list_scenarios
from bot.storage.groups import (
    CODE_LENGTH,
    GroupRepository,
    MemberResult,
    SessionInfo,
    is_code,
    normalize_code,
)
from bot.texts import text, text_list

_CODE_RE = re.compile(r"\b([A-Za-z0-9]{%d})\b" % CODE_LENGTH)
_TRAINER_CODE_RE = re.compile(r"trainer[\s-]*code\s*:?\s*(\S+)", re.IGNORECASE)
_DASHBOARD_RE = re.compile(r"\s*(bericht|report|dashboard|live-bericht)\b", re.IGNORECASE)


def configured_trainers() -> set[str]:
    """Sender ids with trainer rights by configuration (``KLARTEXT_TRAINERS``)."""
    return set(load_settings().trainers)


def trainer_code_configured() -> bool:
    """Whether a trainer code is configured (``KLARTEXT_TRAINER_CODE``)."""
    return bool(load_settings().trainer_code)


def check_trainer_code(candidate: str) -> bool:
    """Whether ``candidate`` is the configured trainer code (constant-time comparison)."""
    expected = load_settings().trainer_code
    return bool(expected) and hmac.compare_digest(candidate.strip().encode(), expected.encode())


def trainer_code_in(message: str) -> str | None:
    """The code after "Trainercode" in a message, or None."""
    match = _TRAINER_CODE_RE.search(message or "")
    return match.group(1) if match else None


def join_code_in(message: str) -> str | None:
    """A join code in the user's own words (e.g. "Beitreten k7p2qx"), normalised, or None.

    A code has six letters and digits, at least one of each.
    """
    for candidate in _CODE_RE.findall(message or ""):
        if is_code(normalize_code(candidate)):
            return normalize_code(candidate)
    return None


def asks_for_dashboard(message: str) -> bool:
    """Whether the message asks for the dashboard link ("Bericht K7P2QX"), not the results."""
    return bool(_DASHBOARD_RE.match(message or ""))


def labels() -> dict[str, str]:
    """The German label of each rubric criterion, in the order of CRITERIA."""
    return {c: text("roleplay", f"feedback.labels.{c}") for c in CRITERIA}


def participants(results: Sequence[MemberResult]) -> dict[str, str]:
    """Pseudonyms in order of first result: trainers see 'Teilnehmer 1', not raw channel ids."""
    names: dict[str, str] = {}
    for r in results:
        names.setdefault(r.sender_id, text("groups", "participant", number=len(names) + 1))
    return names


def criterion_means(results: Iterable[MemberResult]) -> dict[str, float]:
    """Per criterion the mean score (0–1) over the results rated on it."""
    means = {}
    for c in CRITERIA:
        values = [float(r.scores[c]) for r in results if r.scores.get(c) is not None]
        if values:
            means[c] = mean(values)
    return means


def weakest_example(results: Sequence[MemberResult], criterion: str) -> str | None:
    """The user sentence with the lowest score on ``criterion`` across the session's transcripts."""
    rated = [quote for r in results for quote in rated_sentences(r.transcript, criterion)]
    return min(rated, key=lambda quote: quote.percent).text if rated else None


def results_messages(
    session: SessionInfo, title: str, results: Sequence[MemberResult]
) -> list[str]:
    """The session's results as one chat message for the trainer (pseudonyms, weakest point)."""
    if not results:
        return [text("groups", "results_empty", code=session.code)]
    names = participants(results)
    out = [
        text(
            "groups",
            "results_header",
            code=session.code,
            title=title,
            difficulty=session.difficulty,
            count=len(results),
            people=len(names),
        )
    ]
    for r in results:
        criteria = ", ".join(
            f"{labels()[c]} {round(100 * float(v))} %" for c, v in r.scores.items() if c in CRITERIA
        )
        out.append(
            text(
                "groups",
                "results_line",
                who=names[r.sender_id],
                overall=round(r.overall),
                criteria=criteria,
            )
        )
    means = criterion_means(results)
    if means:
        weakest = min(means, key=means.get)
        quote = weakest_example(results, weakest)
        key = "results_weakest" if quote else "results_weakest_no_quote"
        out.append(
            text(
                "groups",
                key,
                label=labels()[weakest],
                percent=round(100 * means[weakest]),
                quote=quote,
            )
        )
    return ["\n".join(out)]


EXAMPLES = 3  # example sentences of the group's weakest criterion, one per participant
BANDS = 5  # score bands of the distribution charts: 0–19, 20–39, 40–59, 60–79, 80–100


@dataclass(frozen=True)
class Quote:
    """A sentence a participant wrote and its score (0–100) on one criterion."""

    text: str
    percent: float


@dataclass(frozen=True)
class Example:
    """A sentence behind the group's weakest criterion, with who wrote it."""

    participant: str
    text: str
    percent: float


@dataclass(frozen=True)
class TrendPoint:
    """One of the trainer's sessions in the trend: its means (0–100) over its role-plays."""

    code: str
    created_at: datetime
    count: int
    overall: float
    percents: dict[str, float]  # criterion -> mean, only criteria that were rated


@dataclass(frozen=True)
class ReportRow:
    """One finished role-play of a participant, as a row of the session report."""

    participant: str
    finished_at: datetime
    overall: float  # 0–100
    percents: dict[str, float | None]  # criterion -> 0–100, None where it was not rated
    quotes: dict[str, tuple[Quote, ...]] = field(default_factory=dict)  # lowest first


@dataclass(frozen=True)
class GroupReport:
    """What the report of a group session shows: its texts, table rows and chart values.

    Plain data; ``reporting.group_report`` renders it as HTML, PNG charts and CSV.
    """

    code: str
    heading: str
    intro: str
    weakest: str  # the group's weakest criterion as a sentence, "" without any scores
    columns: tuple[str, ...]  # headers of the participant and the overall column
    labels: dict[str, str]  # criterion -> German label, in the order of CRITERIA
    rows: tuple[ReportRow, ...]
    title: str = ""
    difficulty: int = 0
    joined: int = 0  # members who joined, finished or not
    means: dict[str, float] = field(default_factory=dict)  # criterion -> group mean (0–100)
    weakest_criterion: str | None = None
    examples: tuple[Example, ...] = ()  # sentences behind the weakest criterion, lowest first
    trend: tuple[TrendPoint, ...] = ()  # the trainer's sessions with results, oldest first

    def chart(self, criterion: str) -> list[tuple[str, float]]:
        """(participant, percent) of every row rated on ``criterion``, for its bar chart."""
        return [
            (row.participant, row.percents[criterion])
            for row in self.rows
            if row.percents[criterion] is not None
        ]

    def distribution(self, criterion: str) -> list[int]:
        """How many role-plays scored in each of the BANDS score bands on ``criterion``."""
        counts = [0] * BANDS
        for _, percent in self.chart(criterion):
            counts[min(int(percent * BANDS / 100), BANDS - 1)] += 1
        return counts

    def participants(self) -> list[str]:
        """The pseudonyms, in order of their first finished role-play."""
        return list(dict.fromkeys(row.participant for row in self.rows))


def rated_sentences(transcript: Iterable[dict], criterion: str) -> list[Quote]:
    """The user's sentences rated on ``criterion``, lowest score first."""
    rated = [
        Quote(entry.get("text", ""), 100 * float(entry["scores"][criterion]))
        for entry in transcript
        if entry.get("speaker") == "user" and (entry.get("scores") or {}).get(criterion) is not None
    ]
    return sorted(rated, key=lambda quote: quote.percent)


def row_quotes(transcript: Sequence[dict]) -> dict[str, tuple[Quote, ...]]:
    """Per criterion the sentences behind a score: the lowest- and the highest-rated one."""
    quotes = {}
    for c in CRITERIA:
        rated = rated_sentences(transcript, c)
        if rated:
            quotes[c] = (rated[0], rated[-1]) if len(rated) > 1 else (rated[0],)
    return quotes


def weakest_examples(
    results: Sequence[MemberResult], criterion: str, names: dict[str, str]
) -> tuple[Example, ...]:
    """The lowest-rated sentence on ``criterion`` of each participant, the EXAMPLES lowest."""
    worst: dict[str, Example] = {}
    for r in results:
        rated = rated_sentences(r.transcript, criterion)
        known = worst.get(r.sender_id)
        if rated and (known is None or rated[0].percent < known.percent):
            worst[r.sender_id] = Example(names[r.sender_id], rated[0].text, rated[0].percent)
    return tuple(sorted(worst.values(), key=lambda e: e.percent)[:EXAMPLES])


def trend_point(session: SessionInfo, results: Sequence[MemberResult]) -> TrendPoint:
    """The means of one session's results (which must not be empty)."""
    return TrendPoint(
        code=session.code,
        created_at=session.created_at,
        count=len(results),
        overall=mean(float(r.overall) for r in results),
        percents={c: 100 * m for c, m in criterion_means(results).items()},
    )


def trainer_trend(repo: GroupRepository, trainer: str) -> tuple[TrendPoint, ...]:
    """The trainer's sessions with at least one finished role-play, oldest first."""
    points = []
    for session in reversed(repo.sessions_of(trainer)):
        results = repo.results(trainer, session.code)
        if results:
            points.append(trend_point(session, results))
    return tuple(points)


def report(
    session: SessionInfo,
    title: str,
    results: Sequence[MemberResult],
    *,
    joined: int = 0,
    trend: Sequence[TrendPoint] = (),
) -> GroupReport:
    """The report of a session: pseudonymised rows, the weakest criterion, German texts.

    Args:
        session: the group session.
        title: the scenario's title.
        results: the session's finished role-plays, oldest first.
        joined: how many joined the session.
        trend: the trainer's sessions with results, oldest first.
    """
    names = participants(results)
    means = criterion_means(results)
    weakest = ""
    w = min(means, key=means.get) if means else None
    if w is not None:
        weakest = text("groups", "report_weakest", label=labels()[w], percent=round(100 * means[w]))
    intro = text(
        "groups",
        "report_intro",
        title=title,
        difficulty=session.difficulty,
        created=session.created_at.strftime("%d.%m.%Y"),
        count=len(results),
    )
    rows = tuple(
        ReportRow(
            participant=names[r.sender_id],
            finished_at=r.finished_at,
            overall=float(r.overall),
            percents={
                c: None if r.scores.get(c) is None else 100 * float(r.scores[c]) for c in CRITERIA
            },
            quotes=row_quotes(r.transcript),
        )
        for r in results
    )
    return GroupReport(
        code=session.code,
        heading=text("groups", "report_title", code=session.code),
        intro=intro,
        weakest=weakest,
        columns=tuple(text_list("groups", "report_columns")),
        labels=labels(),
        rows=rows,
        title=title,
        difficulty=session.difficulty,
        joined=joined,
        means={c: 100 * m for c, m in means.items()},
        weakest_criterion=w,
        examples=weakest_examples(results, w, names) if w is not None else (),
        trend=tuple(trend),
    )


def scenario_title(scenario_id: str, trainer: str, url: str) -> str:
    """The title of a shipped scenario or one ``trainer`` may use (else the id itself)."""
    shipped = next((s["title"] for s in list_scenarios() if s["id"] == scenario_id), None)
    if shipped is not None:
        return shipped
    from bot.roleplay.library import resolve  # the trainer scenarios: only when needed

    found = resolve(trainer, scenario_id, url=url)
    return found.title if found is not None else scenario_id


def session_report(repo: GroupRepository, code: str, trainer: str) -> GroupReport | None:
    """The report of session ``code``; None unless ``trainer`` opened that session."""
    code = normalize_code(code)
    results = repo.results(trainer, code)
    if results is None:
        return None
    session = repo.find_session(code)
    title = scenario_title(session.scenario_id, trainer, repo.url)
    return report(
        session,
        title,
        results,
        joined=repo.member_count(trainer, code) or 0,
        trend=trainer_trend(repo, trainer),
    )


def report_refused(code: str, trainer: str) -> str:
    """Why `coach report` writes nothing: no session ``code`` opened by ``trainer``."""
    return text("groups", "cli_not_yours", code=normalize_code(code), trainer=trainer)


def report_written(paths: Iterable[Path]) -> str:
    """What `coach report` prints after writing the report files."""
    return "\n".join([text("groups", "cli_written"), *(f"  {path}" for path in paths)])


# --------------------------------------------------------------------------- dashboard links
DASHBOARD_PATH = "/webhooks/dashboard"
_DASHBOARD_CONTEXT = b"klartext-dashboard-link-v1\n"  # an export token is no dashboard token


def dashboard_ttl() -> int:
    """Lifetime of a dashboard link in seconds (``KLARTEXT_DASHBOARD_TTL``, at least 10)."""
    return max(load_settings().dashboard_ttl, data_rights.MIN_TTL_SECONDS)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def _dashboard_signature(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, _DASHBOARD_CONTEXT + payload, hashlib.sha256).digest()


def make_dashboard_token(
    trainer: str,
    code: str,
    *,
    now: float | None = None,
    ttl: int | None = None,
    key: bytes | None = None,
) -> str:
    """A signed token for ``trainer``'s view of session ``code``, valid for ``ttl`` seconds."""
    expires = int((time.time() if now is None else now) + (dashboard_ttl() if ttl is None else ttl))
    payload = f"{expires}:{normalize_code(code)}:{trainer}".encode("utf-8")
    signature = _dashboard_signature(key or data_rights.secret(), payload)
    return f"{_b64(payload)}.{_b64(signature)}"


def verify_dashboard_token(
    token: str, *, now: float | None = None, key: bytes | None = None
) -> tuple[str, str]:
    """(trainer, session code) the token was signed for.

    Raises:
        data_rights.TokenInvalid: forged, damaged or no dashboard token (HTTP 403).
        data_rights.TokenExpired: signed, but too old (HTTP 410).
    """
    try:
        encoded, signature = token.split(".")
        payload, given = _unb64(encoded), _unb64(signature)
        expires_raw, code, trainer = payload.decode("utf-8").split(":", 2)
        expires = int(expires_raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise data_rights.TokenInvalid("malformed") from None
    if not hmac.compare_digest(given, _dashboard_signature(key or data_rights.secret(), payload)):
        raise data_rights.TokenInvalid("signature")
    if not trainer or not is_code(code):
        raise data_rights.TokenInvalid("content")
    if (time.time() if now is None else now) > expires:
        raise data_rights.TokenExpired(str(expires))
    return trainer, code


def dashboard_path(token: str) -> str:
    """The path of the dashboard page for ``token`` on the Rasa server."""
    return f"{DASHBOARD_PATH}/view/{token}"


def dashboard_url(trainer: str, code: str) -> str:
    """A fresh, signed link to the dashboard of session ``code`` for ``trainer``."""
    return data_rights.public_url() + dashboard_path(make_dashboard_token(trainer, code))


def to_local(moment: datetime) -> datetime:
    """A stored time (UTC without tzinfo) in the coach's time zone (unknown zone: the server's)."""
    try:
        zone = ZoneInfo(load_settings().timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    return moment.replace(tzinfo=timezone.utc).astimezone(zone)


def _local_time(timestamp: float) -> str:
    """``HH:MM`` of ``timestamp`` in the coach's time zone."""
    return to_local(datetime.fromtimestamp(timestamp, timezone.utc).replace(tzinfo=None)).strftime(
        "%H:%M"
    )


def dashboard_message(trainer: str, code: str) -> str:
    """The chat message with a fresh dashboard link and until when it is valid."""
    return text(
        "groups",
        "dashboard_link",
        code=normalize_code(code),
        url=dashboard_url(trainer, code),
        until=_local_time(time.time() + dashboard_ttl()),
    )
