"""The trainer's live dashboard of a group session, served by the Rasa server.

Registered in ``credentials.yml`` as ``connectors.dashboard.DashboardInput``; like the export
channel it receives no chat messages, it only brings these routes into the Rasa server:

* ``GET /webhooks/dashboard/view/<token>`` – the page (``web/dashboard/index.html``);
* ``GET /webhooks/dashboard/data/<token>`` – the report as JSON, polled by the page;
* ``GET /webhooks/dashboard/csv/<token>`` – the same numbers as CSV;
* ``GET /webhooks/dashboard/assets/<name>`` – the page's script and style sheet.

A token is signed for one trainer and one session and expires (:mod:`bot.groups`); the
session must still belong to that trainer on every request. Forged or damaged tokens get
HTTP 403, expired ones 410, each with a German explanation. What the page, the CSV and
``coach report`` show comes from one function, :func:`bot.groups.session_report`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import data_rights, groups
from bot.config import ROOT, load_settings
from bot.storage.db import STORAGE_ERRORS
from bot.storage.groups import GroupRepository
from bot.texts import lookup, text
from reporting.group_report import csv_text

logger = logging.getLogger(__name__)

DASHBOARD_DIR = ROOT / "web" / "dashboard"
#: URL name → (file, content type); nothing else is served.
ASSETS: Dict[str, tuple[Path, str]] = {
    "dashboard.js": (DASHBOARD_DIR / "dashboard.js", "application/javascript; charset=utf-8"),
    "dashboard.css": (DASHBOARD_DIR / "dashboard.css", "text/css; charset=utf-8"),
}
PAGE = DASHBOARD_DIR / "index.html"
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
PAGE_HEADERS = {
    **NO_STORE,
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class Refusal:
    """Why a token opens nothing: HTTP status and a German explanation."""

    status: int
    message: str


def check_token(token: str) -> tuple[str, str] | Refusal:
    """(trainer, code) of a valid token, else the refusal (403 forged, 410 expired)."""
    try:
        return groups.verify_dashboard_token(token)
    except data_rights.TokenExpired:
        return Refusal(410, text("groups", "dashboard.expired"))
    except data_rights.TokenInvalid:
        return Refusal(403, text("groups", "dashboard.invalid"))


def load_report(token: str) -> groups.GroupReport | Refusal:
    """The report the token opens; 403 as well when the session is not the trainer's (any more)."""
    checked = check_token(token)
    if isinstance(checked, Refusal):
        return checked
    trainer, code = checked
    report = groups.session_report(GroupRepository(load_settings().database_url), code, trainer)
    if report is None:
        return Refusal(403, text("groups", "dashboard.not_yours"))
    return report


# --------------------------------------------------------------------------- JSON for the page
def _round(value: float | None) -> int | None:
    return None if value is None else round(value)


def _criteria(report: groups.GroupReport) -> list[dict[str, Any]]:
    return [
        {
            "key": key,
            "label": label,
            "mean": _round(report.means.get(key)),
            "bands": report.distribution(key),
            "values": [{"participant": p, "percent": round(v)} for p, v in report.chart(key)],
        }
        for key, label in report.labels.items()
    ]


def _scores(report: groups.GroupReport, row: groups.ReportRow) -> list[dict[str, Any]]:
    return [
        {
            "key": key,
            "label": label,
            "percent": _round(row.percents.get(key)),
            "quotes": [
                {"text": q.text, "percent": round(q.percent)} for q in row.quotes.get(key, ())
            ],
        }
        for key, label in report.labels.items()
    ]


def _participants(report: groups.GroupReport) -> list[dict[str, Any]]:
    people: dict[str, list[dict[str, Any]]] = {name: [] for name in report.participants()}
    for row in report.rows:
        finished = groups.to_local(row.finished_at)
        people[row.participant].append(
            {
                "date": finished.strftime("%d.%m.%Y"),
                "time": finished.strftime("%H:%M"),
                "overall": round(row.overall),
                "scores": _scores(report, row),
            }
        )
    return [{"name": name, "roleplays": plays} for name, plays in people.items()]


def _weakest(report: groups.GroupReport) -> dict[str, Any] | None:
    key = report.weakest_criterion
    if key is None:
        return None
    return {
        "key": key,
        "label": report.labels[key],
        "mean": round(report.means[key]),
        "sentence": report.weakest,
        "examples": [
            {"participant": e.participant, "text": e.text, "percent": round(e.percent)}
            for e in report.examples
        ],
    }


def _trend(report: groups.GroupReport) -> list[dict[str, Any]]:
    return [
        {
            "code": point.code,
            "date": groups.to_local(point.created_at).strftime("%d.%m.%Y"),
            "count": point.count,
            "overall": round(point.overall),
            "percents": {key: round(value) for key, value in point.percents.items()},
            "current": point.code == report.code,
        }
        for point in report.trend
    ]


def report_data(report: groups.GroupReport) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data (numbers rounded to whole percent)."""
    return {
        "code": report.code,
        "heading": report.heading,
        "intro": report.intro,
        "joined": report.joined,
        "count": len(report.rows),
        "criteria": _criteria(report),
        "participants": _participants(report),
        "weakest": _weakest(report),
        "trend": _trend(report),
        "trendColumns": lookup("groups", "dashboard.page.trend_columns"),
        "texts": lookup("groups", "dashboard.page"),
    }


# --------------------------------------------------------------------------- responses
def _refused_text(refusal: Refusal) -> HTTPResponse:
    return response.text(
        refusal.message,
        status=refusal.status,
        headers=NO_STORE,
        content_type="text/plain; charset=utf-8",
    )


async def _report_or_refusal(token: str) -> groups.GroupReport | Refusal:
    try:
        return await asyncio.get_running_loop().run_in_executor(None, partial(load_report, token))
    except STORAGE_ERRORS:  # a database down answers 500 with a German message
        logger.exception("Building a dashboard report failed")
        return Refusal(500, text("groups", "dashboard.failed"))


async def page_response(token: str) -> HTTPResponse:
    """The page for ``token``; refused links get the German reason instead."""
    checked = await _report_or_refusal(token)
    if isinstance(checked, Refusal):
        return _refused_text(checked)
    return response.raw(
        PAGE.read_bytes(), headers=PAGE_HEADERS, content_type="text/html; charset=utf-8"
    )


async def data_response(token: str) -> HTTPResponse:
    """The report as JSON; refused: ``{"error": …, "gone": true}`` with the status."""
    checked = await _report_or_refusal(token)
    if isinstance(checked, Refusal):
        body = {"error": checked.message, "gone": checked.status in (403, 410)}
        return response.json(body, status=checked.status, headers=NO_STORE)
    return response.json(
        report_data(checked), headers=NO_STORE, dumps=partial(json.dumps, ensure_ascii=False)
    )


async def csv_response(token: str) -> HTTPResponse:
    """The report's CSV as a download."""
    checked = await _report_or_refusal(token)
    if isinstance(checked, Refusal):
        return _refused_text(checked)
    return response.text(
        csv_text(checked),
        headers={
            **NO_STORE,
            "Content-Disposition": f'attachment; filename="klartext-{checked.code}.csv"',
        },
        content_type="text/csv; charset=utf-8",
    )


def asset_response(name: str) -> HTTPResponse:
    """One of the page's named files; 404 for anything else."""
    entry = ASSETS.get(name)
    if entry is None:
        return response.text("", status=404, headers=NO_STORE)
    path, content_type = entry
    return response.raw(path.read_bytes(), headers=NO_STORE, content_type=content_type)


class DashboardInput(InputChannel):
    """Serves the trainer's dashboard pages; receives no chat messages."""

    @classmethod
    def name(cls) -> Text:
        return "dashboard"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("klartext_dashboard", __name__)

        @bp.route("/view/<token>", methods=["GET"])
        async def view(request: Request, token: str) -> HTTPResponse:
            return await page_response(token)

        @bp.route("/data/<token>", methods=["GET"])
        async def data(request: Request, token: str) -> HTTPResponse:
            return await data_response(token)

        @bp.route("/csv/<token>", methods=["GET"])
        async def download(request: Request, token: str) -> HTTPResponse:
            return await csv_response(token)

        @bp.route("/assets/<name>", methods=["GET"])
        async def assets(request: Request, name: str) -> HTTPResponse:
            return asset_response(name)

        return bp

    def get_output_channel(self) -> Optional[Any]:  # pragma: no cover - no chat on this channel
        return None
