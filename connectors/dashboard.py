"""The trainer's live dashboard of a group session, served by the Rasa server.

Registered in ``credentials.yml`` as ``connectors.dashboard.DashboardInput``; like the export
channel it receives no chat messages, it only brings these routes into the Rasa server:

* ``GET /webhooks/dashboard/view/<token>`` – the page (``web/dashboard/index.html``);
* ``GET /webhooks/dashboard/data/<token>`` – the report as JSON, polled by the page;
* ``GET /webhooks/dashboard/csv/<token>`` – the same numbers as CSV;
* ``GET /webhooks/dashboard/assets/<name>`` – the page's script and style sheet;
* ``GET /webhooks/dashboard/scenarios/<token>`` – the trainer's scenario page
  (``web/dashboard/scenarios.html``) and its JSON API under ``/webhooks/dashboard/api/``
  (:mod:`bot.roleplay.library`): the list, one scenario with its versions, check and preview,
  save (a new version), a group session with a scenario. The API takes the signed token in
  the ``X-Klartext-Token`` header (never from a cookie, so another site cannot make the
  browser send it), POSTs only as ``application/json`` and at most ``MAX_BODY_BYTES``.

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
from bot.roleplay import library
from bot.roleplay.scenarios import MAX_SCENARIO_BYTES, ScenarioError, default_scenarios
from bot.storage.db import STORAGE_ERRORS
from bot.storage.groups import GroupRepository
from bot.storage.repository import InvalidInput
from bot.storage.scenarios import ScenarioRepository, StoredScenario
from bot.texts import lookup, text
from reporting.group_report import csv_text

logger = logging.getLogger(__name__)

DASHBOARD_DIR = ROOT / "web" / "dashboard"
#: URL name → (file, content type); nothing else is served.
ASSETS: Dict[str, tuple[Path, str]] = {
    "dashboard.js": (DASHBOARD_DIR / "dashboard.js", "application/javascript; charset=utf-8"),
    "dashboard.css": (DASHBOARD_DIR / "dashboard.css", "text/css; charset=utf-8"),
    "scenarios.js": (DASHBOARD_DIR / "scenarios.js", "application/javascript; charset=utf-8"),
}
PAGE = DASHBOARD_DIR / "index.html"
SCENARIO_PAGE = DASHBOARD_DIR / "scenarios.html"
TOKEN_HEADER = "X-Klartext-Token"
#: the largest JSON body of the scenario API: a scenario (64 KB of YAML) plus the form around it
MAX_BODY_BYTES = 4 * MAX_SCENARIO_BYTES
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
        "scenariosLink": text("scenarios", "page.open_link"),
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


# --------------------------------------------------------------------------- scenario page and API
def _is_trainer(sender: str) -> bool:
    return sender in groups.configured_trainers() or GroupRepository(
        load_settings().database_url
    ).has_trainer_grant(sender)


def check_trainer(token: str) -> str | Refusal:
    """The trainer a token was signed for, if they still are a trainer; else the refusal."""
    checked = check_token(token)
    if isinstance(checked, Refusal):
        return checked
    trainer, _ = checked
    if not _is_trainer(trainer):
        return Refusal(403, text("scenarios", "api.not_trainer"))
    return trainer


class ApiError(Exception):
    """An API request that cannot be served: HTTP status and a German message."""

    def __init__(self, status: int, message: str, **extra: Any):
        """Keep status, message and extra JSON fields (e.g. the checker's errors)."""
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def _error_data(error: ScenarioError) -> dict[str, Any]:
    return {
        "field": error.field,
        "problem": error.problem,
        "line": error.line,
        "message": str(error),
    }


def _version_data(stored: StoredScenario) -> list[dict[str, Any]]:
    return [
        {
            "number": v.number,
            "date": groups.to_local(v.created_at).strftime("%d.%m.%Y %H:%M"),
        }
        for v in stored.versions
    ]


def _summary(scenario: Any, stored: StoredScenario | None, trainer: str) -> dict[str, Any]:
    return {
        "id": scenario.id,
        "title": scenario.title,
        "name": scenario.persona.name,
        "company": scenario.persona.company,
        "own": stored is not None and stored.owner == trainer,
        "published": bool(stored and stored.published),
        "version": stored.newest.number if stored else None,
        "shipped": stored is None,
    }


def scenario_list(trainer: str) -> dict[str, Any]:
    """The page's start data: texts, form layout, the trainer's own and the published ones."""
    url = load_settings().database_url
    repo = ScenarioRepository(url)
    visible = library.visible(trainer, url=url)
    stored = {s.slug: s for s in [*repo.published(), *repo.owned_by(trainer)]}
    items = [
        _summary(scenario, stored.get(sid), trainer)
        for sid, scenario in sorted(visible.items(), key=lambda item: item[1].title.casefold())
    ]
    return {
        "trainer": True,
        "texts": library.page_texts(),
        "layout": library.form_layout(),
        "own": [i for i in items if i["own"]],
        "published": [i for i in items if i["published"] and not i["own"]],
        "shipped": [i for i in items if i["shipped"]],
        "maxBytes": MAX_SCENARIO_BYTES,
    }


def scenario_detail(trainer: str, slug: str) -> dict[str, Any]:
    """One of the trainer's own scenarios (or a published or shipped one to copy), with versions."""
    shipped = default_scenarios().get(slug)
    if shipped is not None:  # a template: its file, to be saved under an own id
        yaml_text = Path(shipped.source).read_text(encoding="utf-8")
        return {
            "id": slug,
            "own": False,
            "published": False,
            "versions": [],
            "yaml": yaml_text,
            "form": library.text_to_form(yaml_text),
        }
    url = load_settings().database_url
    repo = ScenarioRepository(url)
    stored = repo.find(slug, all_versions=True)
    if stored is None or not (stored.owner == trainer or stored.published):
        raise ApiError(404, text("scenarios", "api.unknown", id=slug))
    return {
        "id": stored.slug,
        "own": stored.owner == trainer,
        "published": stored.published,
        "versions": _version_data(stored),
        "yaml": stored.newest.yaml_text,
        "form": library.text_to_form(stored.newest.yaml_text),
    }


def _source(trainer: str, body: dict[str, Any]) -> tuple[str, str]:
    """(YAML text, name for the messages) of a request: the ``form`` or the ``yaml`` given."""
    if isinstance(body.get("form"), dict):
        return library.form_to_yaml(body["form"]), text("scenarios", "names.form")
    value = body.get("yaml")
    if isinstance(value, str):
        name = body.get("filename")
        if not isinstance(name, str) or not name.strip():
            name = text("scenarios", "names.upload")
        return value, name.strip()[:120]
    raise ApiError(400, text("scenarios", "api.no_scenario"))


def _preview_data(preview: library.Preview) -> dict[str, Any]:
    return {
        "briefing": list(preview.briefing),
        "opening": preview.opening,
        "turns": [{"user": t.user, "replies": list(t.replies)} for t in preview.turns],
    }


def _level(body: dict[str, Any]) -> int:
    value = body.get("difficulty", 2)
    try:
        level = int(value)
    except (TypeError, ValueError):
        raise ApiError(400, text("scenarios", "api.bad_level")) from None
    if isinstance(value, bool) or level not in (1, 2, 3):
        raise ApiError(400, text("scenarios", "api.bad_level"))
    return level


def scenario_check(trainer: str, body: dict[str, Any]) -> dict[str, Any]:
    """Check a form or YAML like `coach scenarios check`; when fine, the engine plays a preview."""
    yaml_text, name = _source(trainer, body)
    checked = library.check_text(trainer, yaml_text, name=name)
    if not checked.ok:
        raise ApiError(
            422,
            text("scenarios", "api.has_errors", count=len(checked.errors)),
            errors=[_error_data(e) for e in checked.errors],
            yaml=yaml_text,
        )
    preview = library.preview(checked.scenario, _level(body))
    return {
        "ok": True,
        "message": text("scenarios", "api.check_ok", title=checked.scenario.title),
        "id": checked.scenario.id,
        "yaml": yaml_text,
        "preview": _preview_data(preview),
    }


def scenario_save(trainer: str, body: dict[str, Any]) -> dict[str, Any]:
    """Store a form or YAML as a new version (nothing stored on any error)."""
    yaml_text, name = _source(trainer, body)
    publish = body.get("publish")
    if publish is not None and not isinstance(publish, bool):
        raise ApiError(400, text("scenarios", "api.bad_publish"))
    saved = library.save(trainer, yaml_text, publish=publish, name=name)
    if saved.stored is None:
        errors = saved.checked.errors
        raise ApiError(
            422,
            text("scenarios", "api.has_errors", count=len(errors)),
            errors=[_error_data(e) for e in errors],
            yaml=yaml_text,
        )
    stored = saved.stored
    key = "api.saved_published" if stored.published else "api.saved"
    return {
        "ok": True,
        "message": text(
            "scenarios", key, title=saved.checked.scenario.title, version=stored.newest.number
        ),
        "id": stored.slug,
        "version": stored.newest.number,
        "published": stored.published,
        "versions": _version_data(stored),
    }


def scenario_session(trainer: str, slug: str, body: dict[str, Any]) -> dict[str, Any]:
    """Open a group session of the trainer with scenario ``slug``: its join code."""
    level = _level(body)
    url = load_settings().database_url
    scenario = library.resolve(trainer, slug, url=url)
    session = library.open_group_session(trainer, slug, level, url=url)
    if session is None or scenario is None:
        raise ApiError(404, text("scenarios", "api.unknown", id=slug))
    return {
        "ok": True,
        "code": session.code,
        "difficulty": session.difficulty,
        "message": text(
            "scenarios", "api.session", title=scenario.title, code=session.code, difficulty=level
        ),
        "dashboard": groups.dashboard_path(groups.make_dashboard_token(trainer, session.code)),
    }


def _json(body: dict[str, Any], status: int = 200) -> HTTPResponse:
    return response.json(
        body, status=status, headers=NO_STORE, dumps=partial(json.dumps, ensure_ascii=False)
    )


def read_json_body(request: Request) -> dict[str, Any]:
    """The JSON object of a POST; ``ApiError`` for a wrong type, a big or a broken body."""
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(415, text("scenarios", "api.json_only"))
    declared = request.headers.get("content-length")
    body = request.body or b""
    if (declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES) or len(
        body
    ) > MAX_BODY_BYTES:
        raise ApiError(413, text("scenarios", "api.too_large", limit=MAX_BODY_BYTES // 1024))
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, text("scenarios", "api.bad_json")) from None
    if not isinstance(data, dict):
        raise ApiError(400, text("scenarios", "api.bad_json"))
    return data


async def api_response(
    request: Request, work: Callable[..., dict[str, Any]], *args: Any, body: bool = False
) -> HTTPResponse:
    """Authorise by the token header, read the body, run ``work(trainer, *args[, body])``."""
    token = request.headers.get(TOKEN_HEADER) or ""
    loop = asyncio.get_running_loop()
    try:
        checked = await loop.run_in_executor(None, partial(check_trainer, token))
        if isinstance(checked, Refusal):
            return _json({"ok": False, "error": checked.message, "gone": True}, checked.status)
        data = read_json_body(request) if body else None
        call_args = (*args, data) if body else args
        result = await loop.run_in_executor(None, partial(work, checked, *call_args))
    except ApiError as error:
        return _json({"ok": False, "error": error.message, **error.extra}, error.status)
    except InvalidInput:
        return _json({"ok": False, "error": text("scenarios", "api.bad_input")}, 400)
    except STORAGE_ERRORS:
        logger.exception("A scenario API call failed")
        return _json({"ok": False, "error": text("scenarios", "api.failed")}, 500)
    return _json(result)


async def scenario_page_response(token: str) -> HTTPResponse:
    """The scenario page for a valid trainer token; refused links get the German reason."""
    try:
        checked = await asyncio.get_running_loop().run_in_executor(
            None, partial(check_trainer, token)
        )
    except STORAGE_ERRORS:
        logger.exception("Checking a scenario page link failed")
        checked = Refusal(500, text("groups", "dashboard.failed"))
    if isinstance(checked, Refusal):
        return _refused_text(checked)
    return response.raw(
        SCENARIO_PAGE.read_bytes(), headers=PAGE_HEADERS, content_type="text/html; charset=utf-8"
    )


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

        @bp.route("/scenarios/<token>", methods=["GET"])
        async def scenarios_page(request: Request, token: str) -> HTTPResponse:
            return await scenario_page_response(token)

        @bp.route("/api/scenarios", methods=["GET"])
        async def scenarios_list(request: Request) -> HTTPResponse:
            return await api_response(request, scenario_list)

        @bp.route("/api/scenarios/check", methods=["POST"])
        async def scenarios_check(request: Request) -> HTTPResponse:
            return await api_response(request, scenario_check, body=True)

        @bp.route("/api/scenarios/save", methods=["POST"])
        async def scenarios_save(request: Request) -> HTTPResponse:
            return await api_response(request, scenario_save, body=True)

        @bp.route("/api/scenarios/item/<slug>", methods=["GET"])
        async def scenarios_item(request: Request, slug: str) -> HTTPResponse:
            return await api_response(request, scenario_detail, slug)

        @bp.route("/api/scenarios/item/<slug>/session", methods=["POST"])
        async def scenarios_session(request: Request, slug: str) -> HTTPResponse:
            return await api_response(request, scenario_session, slug, body=True)

        return bp

    def get_output_channel(self) -> Optional[Any]:  # pragma: no cover - no chat on this channel
        return None
