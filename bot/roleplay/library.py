"""Scenarios a trainer writes: checking, saving, the dashboard form, who sees what, preview.

The shipped scenarios in ``data/scenarios/`` stay the defaults. A trainer adds own ones
(dashboard form, YAML upload or `coach scenarios import`); they are checked with exactly the
checks and messages of `coach scenarios check` (:func:`bot.roleplay.scenarios.parse_text`)
plus two of their own: the id must not be a shipped scenario's nor another trainer's. Every
save is a new version (``bot.storage.scenarios``); the newest version that passes the
checks is the one played.

Who sees which scenario (:func:`visible`, :func:`catalog`): everybody the shipped and the
published ones; a trainer also their own; a member of a group session the session's
scenario. Stored scenarios are read from the database per call (never at import) and parsed
once per version (``_COMPILED``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Mapping

import yaml

from bot.config import load_settings
from bot.storage.groups import GroupRepository, SessionInfo
from bot.storage.scenarios import ScenarioRepository, ScenarioTaken, StoredScenario
from bot.texts import lookup, text, text_list

from . import engine
from .scenarios import (
    CASES,
    DIFFICULTY_LEVELS,
    MAX_SCENARIO_BYTES,
    PHASE_REACTIONS,
    Scenario,
    ScenarioError,
    default_scenarios,
    parse_text,
)

#: form fields of the persona and the scenario itself (the checker's field names)
PERSONA_FIELDS: tuple[str, ...] = ("name", "company", "role", "history")
TOP_FIELDS: tuple[str, ...] = ("id", "title", "case", "user_goal")
#: what the form does not show but keeps from a loaded scenario (sent back unchanged)
KEPT_FIELDS: tuple[str, ...] = ("answers", "concessions", "difficulty", "reason_topics")
_CONDITION_KEYS: tuple[str, ...] = ("levels", "needs", "unless", "concedes")
MAX_PREVIEW_SAMPLES = 3


def _url(url: str | None) -> str:
    return url or load_settings().database_url


# --------------------------------------------------------------------------- checking
@dataclass(frozen=True)
class Checked:
    """The result of checking a scenario text: the scenario (None on error) and the problems."""

    scenario: Scenario | None
    errors: tuple[ScenarioError, ...]
    text: str = ""

    @property
    def ok(self) -> bool:
        """Whether the text can be stored and played."""
        return self.scenario is not None and not self.errors


def check_text(
    trainer: str | None, yaml_text: str, *, name: str | None = None, url: str | None = None
) -> Checked:
    """Check ``yaml_text`` as ``trainer``'s scenario: the checker's rules, size, id collisions.

    Args:
        trainer: who wants to store it (None: only the checker's rules and shipped ids).
        yaml_text: the scenario as YAML.
        name: what the messages call the text (default: "Szenario").
        url: the coach database (default: the configured one).
    """
    name = name or text("scenarios", "names.text")
    if not isinstance(yaml_text, str):
        return Checked(None, (ScenarioError(name, "", text("scenarios", "errors.not_text")),))
    scenario, errors = parse_text(name, yaml_text, max_bytes=MAX_SCENARIO_BYTES)
    errors = list(errors)
    if scenario is not None and not errors:
        if scenario.id in default_scenarios():
            errors.append(
                ScenarioError(name, "id", text("scenarios", "errors.id_shipped", id=scenario.id))
            )
        elif trainer is not None:
            stored = ScenarioRepository(_url(url)).find(scenario.id)
            if stored is not None and stored.owner != trainer:
                errors.append(
                    ScenarioError(name, "id", text("scenarios", "errors.id_taken", id=scenario.id))
                )
    return Checked(None if errors else scenario, tuple(errors), yaml_text)


@dataclass(frozen=True)
class Saved:
    """A stored version, or why nothing was stored."""

    checked: Checked
    stored: StoredScenario | None = None


def save(
    trainer: str,
    yaml_text: str,
    *,
    publish: bool | None = None,
    name: str | None = None,
    url: str | None = None,
) -> Saved:
    """Check and store ``yaml_text`` as the next version of ``trainer``'s scenario.

    Nothing is stored when the check finds a problem. ``publish`` None keeps the flag.
    """
    checked = check_text(trainer, yaml_text, name=name, url=url)
    if not checked.ok:
        return Saved(checked)
    try:
        stored = ScenarioRepository(_url(url)).save_version(
            trainer, checked.scenario.id, yaml_text, published=publish
        )
    except ScenarioTaken:  # claimed by another trainer in the meantime
        error = ScenarioError(
            name or text("scenarios", "names.text"),
            "id",
            text("scenarios", "errors.id_taken", id=checked.scenario.id),
        )
        return Saved(Checked(None, (error,), yaml_text))
    _forget(checked.scenario.id)
    return Saved(checked, stored)


# --------------------------------------------------------------------------- the form
def _rows(value: Any) -> list[str] | Any:
    """The non-empty lines of a textarea; anything that is no text is passed on as it is."""
    if not isinstance(value, str):
        return value
    return [row.strip() for row in value.splitlines() if row.strip()]


def form_to_data(form: Mapping[str, Any]) -> dict[str, Any]:
    """The scenario mapping of a dashboard form (empty fields left out: the checker names them).

    ``form`` holds ``id``, ``title``, ``case``, ``user_goal``, ``persona`` (``name``,
    ``company``, ``role``, ``history`` one line per row), ``lines`` (``"phase.reaction"`` ->
    one client line per row) and ``extra`` (what a loaded scenario had beyond the form:
    ``answers``, ``concessions``, ``difficulty``, ``reason_topics`` and the ``conditions`` of
    lines by their text).
    """
    data: dict[str, Any] = {}
    for key in TOP_FIELDS:
        value = form.get(key)
        if isinstance(value, str):
            value = value.strip()
        if value not in (None, ""):
            data[key] = value
    persona: dict[str, Any] = {}
    given = form.get("persona")
    given = given if isinstance(given, Mapping) else {}
    for key in PERSONA_FIELDS:
        value = _rows(given.get(key)) if key == "history" else given.get(key)
        if isinstance(value, str):
            value = value.strip()
        if value not in (None, "", []):
            persona[key] = value
    data["persona"] = persona
    extra = form.get("extra")
    extra = extra if isinstance(extra, Mapping) else {}
    conditions = extra.get("conditions")
    conditions = conditions if isinstance(conditions, Mapping) else {}
    lines = form.get("lines")
    lines = lines if isinstance(lines, Mapping) else {}
    phases: dict[str, dict[str, Any]] = {}
    for phase, reactions in PHASE_REACTIONS.items():
        for reaction in reactions:
            rows = _rows(lines.get(f"{phase}.{reaction}"))
            if rows in (None, []):
                continue
            if isinstance(rows, list):
                rows = [_with_conditions(row, conditions.get(row)) for row in rows]
            phases.setdefault(phase, {})[reaction] = rows
    data["phases"] = phases
    for key in KEPT_FIELDS:
        if extra.get(key) not in (None, {}, []):
            data[key] = extra[key]
    return data


def _with_conditions(row: str, condition: Any) -> Any:
    if not isinstance(condition, Mapping):
        return row
    kept = {k: condition[k] for k in _CONDITION_KEYS if condition.get(k)}
    return {"text": row, **kept} if kept else row


def form_to_yaml(form: Mapping[str, Any]) -> str:
    """The dashboard form as scenario YAML (what is checked and stored)."""
    return yaml.safe_dump(
        form_to_data(form), allow_unicode=True, sort_keys=False, width=10_000, indent=2
    )


def data_to_form(data: Mapping[str, Any]) -> dict[str, Any]:
    """The form fields of a scenario mapping (the inverse of :func:`form_to_data`)."""
    form: dict[str, Any] = {key: str(data.get(key) or "") for key in TOP_FIELDS}
    persona = data.get("persona") if isinstance(data.get("persona"), Mapping) else {}
    form["persona"] = {}
    for key in PERSONA_FIELDS:
        value = persona.get(key)
        if isinstance(value, list):
            value = "\n".join(str(v) for v in value)
        form["persona"][key] = "" if value is None else str(value)
    phases = data.get("phases") if isinstance(data.get("phases"), Mapping) else {}
    lines: dict[str, str] = {}
    conditions: dict[str, dict[str, Any]] = {}
    for phase, reactions in PHASE_REACTIONS.items():
        given = phases.get(phase) if isinstance(phases.get(phase), Mapping) else {}
        for reaction in reactions:
            rows = []
            for item in given.get(reaction) or []:
                if isinstance(item, Mapping):
                    line = str(item.get("text", ""))
                    kept = {k: item[k] for k in _CONDITION_KEYS if item.get(k)}
                    if kept:
                        conditions[line] = kept
                    rows.append(line)
                else:
                    rows.append(str(item))
            lines[f"{phase}.{reaction}"] = "\n".join(rows)
    form["lines"] = lines
    extra = {key: data[key] for key in KEPT_FIELDS if key in data}
    if conditions:
        extra["conditions"] = conditions
    form["extra"] = extra
    return form


def text_to_form(yaml_text: str) -> dict[str, Any] | None:
    """The form fields of a stored scenario text (None if it is no YAML mapping)."""
    try:
        data = yaml.safe_load(yaml_text)
    except (yaml.YAMLError, RecursionError):
        return None
    return data_to_form(data) if isinstance(data, Mapping) else None


def form_layout() -> dict[str, Any]:
    """What the dashboard form shows: phases with their reactions, cases, levels."""
    return {
        "phases": [
            {"phase": phase, "reactions": list(reactions)}
            for phase, reactions in PHASE_REACTIONS.items()
        ],
        "cases": list(CASES),
        "levels": list(DIFFICULTY_LEVELS),
    }


# --------------------------------------------------------------------------- who sees what
_COMPILED: dict[tuple[str, int, int], Scenario | None] = {}
_LOCK = threading.Lock()
_MAX_COMPILED = 512


def _forget(slug: str) -> None:
    with _LOCK:
        for key in [k for k in _COMPILED if k[0] == slug]:
            del _COMPILED[key]


def _compile(slug: str, number: int, yaml_text: str) -> Scenario | None:
    """The scenario of one stored version (parsed once per version; None if it fails now)."""
    key = (slug, number, hash(yaml_text))
    with _LOCK:
        if key in _COMPILED:
            return _COMPILED[key]
    scenario, errors = parse_text(f"{slug} (Version {number})", yaml_text)
    found = scenario if scenario is not None and not errors and scenario.id == slug else None
    with _LOCK:
        if len(_COMPILED) >= _MAX_COMPILED:
            _COMPILED.clear()
        _COMPILED[key] = found
    return found


def used_version(stored: StoredScenario) -> int | None:
    """The number of the newest of ``stored``'s versions that passes the checks (played one)."""
    for version in stored.versions:
        if _compile(stored.slug, version.number, version.yaml_text) is not None:
            return version.number
    return None


def newest_valid(stored: StoredScenario, repo: ScenarioRepository) -> Scenario | None:
    """The newest version of ``stored`` that passes the checks (older ones if needed)."""
    found = _compile(stored.slug, stored.newest.number, stored.newest.yaml_text)
    if found is not None:
        return found
    full = repo.find(stored.slug, all_versions=True)
    for version in (full.versions if full else ())[1:]:
        found = _compile(stored.slug, version.number, version.yaml_text)
        if found is not None:
            return found
    return None


def _session_scenario(
    sender: str, group_code: str, url: str
) -> tuple[SessionInfo, StoredScenario] | None:
    """The stored scenario of group session ``group_code`` if ``sender`` may play it."""
    groups = GroupRepository(url)
    session = groups.find_session(group_code)
    if session is None or session.scenario_id in default_scenarios():
        return None
    stored = ScenarioRepository(url).find(session.scenario_id)
    if stored is None:
        return None
    runs_it = groups.member_count(stored.owner, session.code) is not None
    if not runs_it:  # the session is not the scenario owner's: only published ones count
        return (session, stored) if stored.published else None
    if sender == stored.owner or groups.is_member(sender, session.code):
        return session, stored
    return None


def may_play(sender: str | None, stored: StoredScenario, group_code: str | None, url: str) -> bool:
    """Whether ``sender`` may play ``stored``: published, own, or their group session's."""
    if stored.published or (sender is not None and stored.owner == sender):
        return True
    if sender is None or not group_code:
        return False
    found = _session_scenario(sender, group_code, url)
    return found is not None and found[1].slug == stored.slug


def visible(
    sender: str | None, group_code: str | None = None, *, url: str | None = None
) -> dict[str, Scenario]:
    """Every scenario ``sender`` can play: shipped, published, own, their group session's."""
    url = _url(url)
    shipped = default_scenarios()
    out: dict[str, Scenario] = dict(shipped)
    repo = ScenarioRepository(url)
    stored = list(repo.published())
    if sender:
        stored += repo.owned_by(sender)
        if group_code:
            found = _session_scenario(sender, group_code, url)
            if found is not None:
                stored.append(found[1])
    for item in stored:
        if item.slug in out or not item.versions:
            continue
        scenario = newest_valid(item, repo)
        if scenario is not None:
            out[item.slug] = scenario
    return out


def resolve(
    sender: str | None, scenario_id: str, group_code: str | None = None, *, url: str | None = None
) -> Scenario | None:
    """The scenario ``scenario_id`` if ``sender`` may play it (shipped ones without a query)."""
    shipped = default_scenarios()
    if scenario_id in shipped:
        return shipped[scenario_id]
    if not isinstance(scenario_id, str) or not scenario_id:
        return None
    url = _url(url)
    repo = ScenarioRepository(url)
    stored = repo.find(scenario_id)
    if stored is None or not stored.versions or not may_play(sender, stored, group_code, url):
        return None
    return newest_valid(stored, repo)


def catalog(
    sender: str | None,
    group_code: str | None = None,
    scenario_id: str | None = None,
    *,
    url: str | None = None,
) -> dict[str, Scenario]:
    """The scenarios a role-play of ``sender`` may use, keyed by id.

    With ``scenario_id`` (a running role-play): the shipped ones plus that one if allowed –
    no database query at all for a shipped id. Without: everything :func:`visible`.
    """
    if scenario_id is None:
        return visible(sender, group_code, url=url)
    shipped = default_scenarios()
    if scenario_id in shipped:
        return shipped
    found = resolve(sender, scenario_id, group_code, url=url)
    return {**shipped, scenario_id: found} if found is not None else dict(shipped)


# --------------------------------------------------------------------------- group sessions
def open_group_session(
    trainer: str, scenario_id: str, difficulty: int, *, url: str | None = None
) -> SessionInfo | None:
    """A group session of ``trainer`` with a scenario they may use; None if they may not."""
    url = _url(url)
    if resolve(trainer, scenario_id, url=url) is None:
        return None
    return GroupRepository(url).open_session(trainer, scenario_id, difficulty)


# --------------------------------------------------------------------------- preview
@dataclass(frozen=True)
class PreviewTurn:
    """One exchange of the preview: the sample sentence and the client's answer."""

    user: str
    replies: tuple[str, ...]


@dataclass(frozen=True)
class Preview:
    """What the preview plays: the briefing, the opening line and a few sample turns."""

    briefing: tuple[str, ...]
    opening: str
    turns: tuple[PreviewTurn, ...] = field(default_factory=tuple)


def preview(scenario: Scenario, difficulty: int = 2, samples: list[str] | None = None) -> Preview:
    """Play ``scenario`` with the engine: its opening and its answers to sample sentences."""
    if difficulty not in DIFFICULTY_LEVELS:
        difficulty = 2
    scenarios = {scenario.id: scenario}
    state, messages = engine.start(scenario.id, difficulty, 1, scenarios)
    samples = list(samples or text_list("scenarios", "preview.samples"))[:MAX_PREVIEW_SAMPLES]
    turns = []
    for sample in samples:
        state, replies, finished = engine.turn(state, sample, scenarios=scenarios)
        turns.append(PreviewTurn(sample, tuple(replies)))
        if finished:
            break
    return Preview(tuple(messages[:-1]), messages[-1] if messages else "", tuple(turns))


def page_texts() -> dict[str, Any]:
    """The texts of the dashboard's scenario page (filled in by the page itself)."""
    return lookup("scenarios", "page")
