"""Escalation ladders: from a client's incidents (and the user's boundaries) to a level.

The ladders are data (``escalation.yml``); this module only walks them. Inputs are plain
objects with the attributes used below (``IncidentInfo`` / ``BoundaryInfo`` from the
repository, or anything alike), so the rules are tested without a database.

A behaviour no category fits is kept in the user's own words: its key is ``custom:`` plus a
digest of its content words (:func:`custom_key`), its words are the ``label``. Such a
boundary also matches incidents described with similar words (:func:`similar`), and its
incidents walk the ladder ``free_text.ladder`` of ``escalation.yml``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Protocol, Sequence

import yaml

from bot.answers import normalize

CUSTOM_PREFIX = "custom:"


class IncidentLike(Protocol):
    """What the rules read of an incident (e.g. ``IncidentInfo`` of the repository)."""

    behavior: str
    occurred_on: date
    level_hint: int | None


class BoundaryLike(Protocol):
    """What the rules read of a boundary: at most ``max_count`` times in ``period_days``.

    ``max_count`` ``None`` or 0 means the behaviour is not accepted even once.
    """

    behavior: str
    max_count: int | None
    period_days: int | None


@dataclass(frozen=True)
class Step:
    """One step of a ladder; ``summary`` steps offer a written summary of the history."""

    key: str
    summary: bool = False


@dataclass(frozen=True)
class Ladder:
    """An escalation ladder of ``escalation.yml`` for a group of behaviours."""

    key: str
    behaviors: tuple[str, ...]
    steps: tuple[Step, ...]
    first_step: dict = field(default_factory=dict)  # behavior -> index
    boundary_step: int = 0

    def index(self, step_key: str) -> int:
        """Position of the step ``step_key`` on this ladder (``StopIteration`` if absent)."""
        return next(i for i, s in enumerate(self.steps) if s.key == step_key)


@lru_cache(maxsize=1)
def config() -> dict:
    """The parsed ``escalation.yml`` (read once)."""
    return yaml.safe_load(Path(__file__).with_name("escalation.yml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def ladders() -> dict[str, Ladder]:
    """The ladders of ``escalation.yml`` by key, step names resolved to indexes."""
    result = {}
    for key, spec in config()["ladders"].items():
        steps = tuple(Step(s["key"], bool(s.get("summary"))) for s in spec["steps"])
        keys = [s.key for s in steps]
        result[key] = Ladder(
            key=key,
            behaviors=tuple(spec["behaviors"]),
            steps=steps,
            first_step={b: keys.index(k) for b, k in (spec.get("first_step") or {}).items()},
            boundary_step=keys.index(spec["boundary_step"]) if spec.get("boundary_step") else 0,
        )
    return result


@lru_cache(maxsize=1)
def behaviors() -> tuple[str, ...]:
    """All behaviour categories, in the order of the ladders."""
    return tuple(b for ladder in ladders().values() for b in ladder.behaviors)


def ladder_for(behavior: str) -> Ladder:
    """The ladder a behaviour belongs to; ``KeyError`` for an unknown behaviour."""
    if is_custom(behavior):
        return ladders()[config()["free_text"]["ladder"]]
    for ladder in ladders().values():
        if behavior in ladder.behaviors:
            return ladder
    raise KeyError(f"unknown behaviour {behavior!r}")


def behavior_for_danger(kind: str) -> str:
    """The behaviour an incident is recorded as after a safety reply about ``kind``.

    Args:
        kind: A danger kind of ``bot.safety`` (violence, threat, harassment, …).

    Returns:
        A behaviour of the safety ladder; a physical threat for an unknown kind.
    """
    mapping = config()["danger_behaviors"]
    return mapping.get(kind, mapping["threat"])


# --------------------------------------------------------------------------- own words
def is_custom(behavior: str | None) -> bool:
    """Whether ``behavior`` is a behaviour in the user's own words (``custom:…``)."""
    return isinstance(behavior, str) and behavior.startswith(CUSTOM_PREFIX)


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    return frozenset(normalize(w) for w in config()["free_text"]["stopwords"])


@lru_cache(maxsize=4096)  # called for every incident and boundary of an assessment
def content_words(text: str | None) -> tuple[str, ...]:
    """The words of ``text`` that carry its meaning: normalised, no filler words, no numbers.

    Args:
        text: A behaviour or an incident as the user described it.

    Returns:
        The distinct content words in order ("Nachrichten nach Feierabend" ->
        ("nachrichten", "feierabend")).
    """
    shortest, stop = config()["free_text"]["min_length"], _stopwords()
    words = (w for w in normalize(text or "").split() if not w.isdigit())
    return tuple(dict.fromkeys(w for w in words if len(w) >= shortest and w not in stop))


def _same_word(a: str, b: str) -> bool:
    """Equal words, or words with the same stem ("nachricht" / "nachrichten")."""
    stem = config()["free_text"]["stem"]
    return a == b or (len(a) >= stem and len(b) >= stem and a[:stem] == b[:stem])


def coverage(label: str | None, text: str | None) -> float:
    """Which share of the content words of ``label`` (or their stems) occur in ``text``.

    Args:
        label: A behaviour in the user's own words ("Nachrichten nach Feierabend").
        text: An incident's description ("schreibt mir nach Feierabend Nachrichten").

    Returns:
        0.0 (none, or ``label`` has no content word) … 1.0 (all).
    """
    wanted, said = content_words(label), content_words(text)
    if not wanted:
        return 0.0
    return sum(any(_same_word(w, s) for s in said) for w in wanted) / len(wanted)


def similar(label: str | None, text: str | None) -> bool:
    """Whether ``text`` describes the behaviour ``label``: at least half of its words occur."""
    return coverage(label, text) >= 0.5


def custom_key(label: str) -> str:
    """The behaviour key of a behaviour in own words: the same for the same content words.

    Args:
        label: The behaviour as the user named it.

    Returns:
        ``custom:`` and a digest of the sorted content words, so "Nachrichten nach
        Feierabend" and "nachrichten nach feierabend!" get the same key.
    """
    words = " ".join(sorted(content_words(label))) or normalize(label)
    return CUSTOM_PREFIX + hashlib.sha1(words.encode("utf-8")).hexdigest()[:16]


def matches(boundary: "BoundaryLike", incident: "IncidentLike") -> bool:
    """Whether ``incident`` is a case of the behaviour ``boundary`` is about.

    The same behaviour key; for a boundary in own words also an incident whose label or
    note describes it with similar words.
    """
    if incident.behavior == boundary.behavior:
        return True
    label = getattr(boundary, "label", None)
    if not is_custom(boundary.behavior) or not label:
        return False
    said = " ".join(
        part for part in (getattr(incident, "label", None), getattr(incident, "note", None)) if part
    )
    return similar(label, said)


def window_days() -> int:
    """How many days back incidents count for the level (default 365)."""
    return int(config().get("window_days") or 365)


@dataclass(frozen=True)
class Crossing:
    """A boundary the client crossed: how often within its period, since when."""

    boundary: object
    count: int
    since: date
    on: date  # the incident with which it was crossed (latest one)
    latest: bool  # crossed by the client's newest incident
    incident: object = None  # the incident with which it was crossed (latest one)


@dataclass(frozen=True)
class LadderState:
    """Where a client stands on one ladder: the level reached and the incidents behind it."""

    ladder: Ladder
    level: int
    incidents: tuple
    last: date

    @property
    def step(self) -> Step:
        """The step the client's incidents call for now."""
        return self.ladder.steps[self.level]

    @property
    def next_step(self) -> Step | None:
        """The step after the current one, ``None`` on the last step."""
        return (
            self.ladder.steps[self.level + 1] if self.level + 1 < len(self.ladder.steps) else None
        )

    @property
    def urgency(self) -> float:
        """0 (first step) … 1 (last step), comparable across ladders of different length."""
        return self.level / max(len(self.ladder.steps) - 1, 1)


@dataclass(frozen=True)
class Assessment:
    """A client's escalation: one state per ladder touched and the boundaries crossed."""

    incidents: tuple
    states: tuple[LadderState, ...]  # most urgent first
    crossings: tuple[Crossing, ...]

    @property
    def primary(self) -> LadderState | None:
        """The most urgent ladder state, ``None`` without incidents."""
        return self.states[0] if self.states else None

    @property
    def urgency(self) -> tuple:
        """Sort key across clients: primary urgency, any boundary crossed, last incident."""
        p = self.primary
        return (p.urgency, bool(self.crossings), p.last) if p else (-1.0, False, date.min)


def _sorted(incidents: Iterable[IncidentLike]) -> list[IncidentLike]:
    return sorted(incidents, key=lambda i: (i.occurred_on, getattr(i, "id", 0) or 0))


def _count_within(
    incidents: Sequence[IncidentLike], boundary: BoundaryLike, end: date, days: int
) -> tuple[int, date | None]:
    start = end - timedelta(days=days - 1)
    hits = [
        i.occurred_on for i in incidents if start <= i.occurred_on <= end and matches(boundary, i)
    ]
    return len(hits), (min(hits) if hits else None)


def crossed_by(
    boundary: BoundaryLike, incidents_so_far: Sequence[IncidentLike], incident: IncidentLike
) -> tuple[int, date] | None:
    """Whether ``incident`` (the newest of ``incidents_so_far``) crosses ``boundary``."""
    if not matches(boundary, incident):
        return None
    if not boundary.max_count:  # absolute: once is too much
        return 1, incident.occurred_on
    count, since = _count_within(
        incidents_so_far, boundary, incident.occurred_on, int(boundary.period_days or 30)
    )
    return (count, since) if count >= boundary.max_count else None


def assess(
    incidents: Iterable[IncidentLike],
    boundaries: Iterable[BoundaryLike] = (),
    today: date | None = None,
) -> Assessment:
    """Per ladder the level the client's incidents call for, and the boundaries crossed."""
    ordered = _sorted(incidents)
    if today is not None:
        cutoff = today - timedelta(days=window_days())
        ordered = [i for i in ordered if i.occurred_on > cutoff]
    boundaries = list(boundaries)

    levels: dict[str, int] = {}
    members: dict[str, list] = {}
    crossings: dict[str, Crossing] = {}
    for n, incident in enumerate(ordered):
        ladder = ladder_for(incident.behavior)
        previous = levels.get(ladder.key)
        level = 0 if previous is None else previous + 1
        level = max(level, ladder.first_step.get(incident.behavior, 0), incident.level_hint or 0)
        for boundary in boundaries:
            hit = crossed_by(boundary, ordered[: n + 1], incident)
            if hit is not None:
                level = max(level, ladder.boundary_step)
                crossings[boundary.behavior] = Crossing(
                    boundary, hit[0], hit[1], incident.occurred_on, False, incident
                )
        levels[ladder.key] = min(level, len(ladder.steps) - 1)
        members.setdefault(ladder.key, []).append(incident)

    states = [
        LadderState(ladders()[key], level, tuple(members[key]), members[key][-1].occurred_on)
        for key, level in levels.items()
    ]
    states.sort(key=lambda s: (s.urgency, s.last, len(s.incidents)), reverse=True)
    newest = ordered[-1] if ordered else None
    final = tuple(replace(c, latest=c.incident is newest) for c in crossings.values())
    return Assessment(tuple(ordered), tuple(states), final)


def _same_incident(a: IncidentLike, b: IncidentLike) -> bool:
    return a is b or bool(getattr(a, "id", 0) and getattr(a, "id", 0) == getattr(b, "id", 0))


def announced(
    incident: IncidentLike,
    incidents: Iterable[IncidentLike],
    boundaries: Iterable[BoundaryLike] = (),
    today: date | None = None,
) -> tuple[list[Crossing], list[Crossing]]:
    """The boundaries to name when ``incident`` has just been recorded.

    Args:
        incident: The incident just recorded (one of ``incidents``, matched by id).
        incidents: All incidents of the client, ``incident`` included.
        boundaries: The user's boundaries.
        today: Reference day of the one-year window.

    Returns:
        (newly crossed, crossed again): boundaries crossed only now that ``incident`` is
        there – whatever date it has –, and boundaries crossed before that ``incident``
        itself crosses once more. A boundary crossed earlier is not repeated after an
        incident of another behaviour.
    """
    incidents, boundaries = list(incidents), list(boundaries)
    rest = [i for i in incidents if not _same_incident(i, incident)]
    before = {c.boundary.behavior for c in assess(rest, boundaries, today).crossings}
    after = assess(incidents, boundaries, today)
    position = next((n for n, i in enumerate(after.incidents) if _same_incident(i, incident)), None)
    new, again = [], []
    for crossing in after.crossings:
        if crossing.boundary.behavior not in before:
            new.append(crossing)
            continue
        if position is None:  # outside the window: nothing to repeat
            continue
        own = after.incidents[position]
        hit = crossed_by(crossing.boundary, after.incidents[: position + 1], own)
        if hit is not None:
            again.append(Crossing(crossing.boundary, hit[0], hit[1], own.occurred_on, True, own))
    return new, again


def rank(assessments: dict) -> list:
    """Client names ordered most urgent first (level, crossed boundary, most recent incident)."""
    return sorted(assessments, key=lambda name: assessments[name].urgency, reverse=True)
