"""Trainer group sessions: who is a trainer, join codes in messages, results and reports.

The report is assembled here as plain data (:class:`GroupReport`); writing its files
(HTML, PNG charts, CSV) is the job of ``reporting.group_report``.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from statistics import mean
from typing import Iterable, Sequence

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
    worst: tuple[float, str] | None = None
    for r in results:
        for entry in r.transcript:
            score = (entry.get("scores") or {}).get(criterion)
            if (
                entry.get("speaker") == "user"
                and score is not None
                and (worst is None or score < worst[0])
            ):
                worst = (float(score), entry.get("text", ""))
    return worst[1] if worst else None


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


@dataclass(frozen=True)
class ReportRow:
    """One finished role-play of a participant, as a row of the session report."""

    participant: str
    finished_at: datetime
    overall: float  # 0–100
    percents: dict[str, float | None]  # criterion -> 0–100, None where it was not rated


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

    def chart(self, criterion: str) -> list[tuple[str, float]]:
        """(participant, percent) of every row rated on ``criterion``, for its bar chart."""
        return [
            (row.participant, row.percents[criterion])
            for row in self.rows
            if row.percents[criterion] is not None
        ]


def report(session: SessionInfo, title: str, results: Sequence[MemberResult]) -> GroupReport:
    """The report of a session: pseudonymised rows, the weakest criterion, German texts.

    Args:
        session: the group session.
        title: the scenario's title.
        results: the session's finished role-plays, oldest first.
    """
    names = participants(results)
    means = criterion_means(results)
    weakest = ""
    if means:
        w = min(means, key=means.get)
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
    )


def session_report(repo: GroupRepository, code: str, trainer: str) -> GroupReport | None:
    """The report of session ``code``; None unless ``trainer`` opened that session."""
    code = normalize_code(code)
    results = repo.results(trainer, code)
    if results is None:
        return None
    session = repo.find_session(code)
    title = next(
        (s["title"] for s in list_scenarios() if s["id"] == session.scenario_id),
        session.scenario_id,
    )
    return report(session, title, results)


def report_refused(code: str, trainer: str) -> str:
    """Why `coach report` writes nothing: no session ``code`` opened by ``trainer``."""
    return text("groups", "cli_not_yours", code=normalize_code(code), trainer=trainer)


def report_written(paths: Iterable[Path]) -> str:
    """What `coach report` prints after writing the report files."""
    return "\n".join([text("groups", "cli_written"), *(f"  {path}" for path in paths)])
