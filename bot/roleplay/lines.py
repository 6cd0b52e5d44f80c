"""Which client line answers a turn: candidates, their conditions, no repeats.

A line is addressed by an id: ``"backlash.push_back[2]"`` (the scenario's ``phases``),
``"answers.offer.discount[0]"`` (the scenario's ``answers``) or ``"fallback.push_back[1]"`` /
``"fallback.answers.question[0]"`` (the neutral lines of ``texts.yml``). The role-play state
stores only ids; :func:`line_text` turns an id back into the sentence.

A line fits when its conditions (``LineMeta``: level, facts it needs, facts and concessions
that rule it out) hold. Phase lines carry implicit conditions: no line of the phases after the
opening before the end was announced, no opening line (the client's own agenda) after it, no
reaction to a reason before one was given, no "let's pause instead" once the client accepted
the decision (transition and acceptance lines accept it).
"""

from __future__ import annotations

import random
import re
from typing import Any, Iterable, Sequence

from bot.texts import lookup

from .scenarios import PHASES, LineMeta, Scenario

#: facts every line of a phase presupposes
PHASE_NEEDS: dict[str, frozenset[str]] = {
    "announcing": frozenset({"announced"}),
    "reasons": frozenset({"announced", "reason"}),
    "backlash": frozenset({"announced"}),
    "transition": frozenset({"announced"}),
}
#: (phase, reaction) whose lines take it that the decision is not accepted yet ("eine Pause?")
_UNLESS_DECIDED = frozenset(
    {("announcing", "misunderstand"), ("reasons", "misunderstand"), ("backlash", "misunderstand")}
)
#: (phase, reaction) whose lines accept the decision
_ACCEPTS = frozenset(
    {("transition", "calm"), ("transition", "accept_closer"), ("closing", "accept")}
)
#: reactions whose lines presuppose the announcement in every phase
_NEEDS_ANNOUNCEMENT = frozenset({"accept", "accept_closer", "calm"})
#: neutral fallback lines (texts.yml client_fallback) that presuppose the announcement
_FALLBACK_NEEDS = {
    "push_back": frozenset({"announced"}),
    "accept_closer": frozenset({"announced"}),
    "calm": frozenset({"announced"}),
    "accept": frozenset({"announced"}),
    "closing_accept": frozenset({"announced"}),
}
#: a stand-in reaction when a reaction's own lines and fallbacks are used up
ALTERNATIVE = {
    "misunderstand": "push_back",
    "push_back": "misunderstand",
    "escalate": "push_back",
    "accept_closer": "calm",
    "calm": "accept_closer",
    "neutral": "push_back",
    "accept": "accept_closer",
}
_ID_RE = re.compile(r"^(.+)\[(\d+)\]$")

Line = tuple[str, str, LineMeta]  # (id, text, conditions)


def _fallback_lines(key: str) -> list[str]:
    """The neutral client lines ``client_fallback.<key>`` of texts.yml (none for no such key).

    Client lines are plain sentences without placeholders, like the scenarios' own lines.
    """
    node: Any = lookup("roleplay", "client_fallback")
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return [str(line) for line in node] if isinstance(node, list) else []


def line_text(scenario: Scenario, line_id: str) -> str:
    """The sentence of a line id ("…" for an id that no longer exists)."""
    if line_id.startswith("fallback."):
        match = _ID_RE.match(line_id)
        lines = _fallback_lines(match.group(1)[len("fallback.") :]) if match else []
        index = int(match.group(2)) if match else 0
        return lines[index] if index < len(lines) else "…"
    return scenario.text_of(line_id) or "…"


def _own(scenario: Scenario, phase: str, reaction: str) -> list[Line]:
    implicit = PHASE_NEEDS.get(phase, frozenset())
    if reaction in _NEEDS_ANNOUNCEMENT:
        implicit = implicit | {"announced"}
    unless = {"decision"} if (phase, reaction) in _UNLESS_DECIDED else set()
    if phase == "opening" and reaction != "escalate":
        unless.add("announced")  # the client's own agenda: only before the end was announced
    concedes = {"decision"} if (phase, reaction) in _ACCEPTS else set()
    out = []
    for i, line in enumerate(scenario.lines(phase, reaction)):
        line_id = f"{phase}.{reaction}[{i}]"
        meta = scenario.line_meta(line_id)
        meta = LineMeta(
            meta.levels,
            tuple(sorted({*meta.needs, *implicit})),
            tuple(sorted({*meta.unless, *unless})),
            tuple(sorted({*meta.concedes, *concedes})),
        )
        out.append((line_id, line, meta))
    return out


def _answers(scenario: Scenario, key: str) -> list[Line]:
    return [
        (f"answers.{key}[{i}]", line, scenario.line_meta(f"answers.{key}[{i}]"))
        for i, line in enumerate(scenario.answer_lines(key))
    ]


def _fallback(key: str) -> list[Line]:
    last = key.rsplit(".", 1)[-1]
    meta = LineMeta(
        needs=tuple(_FALLBACK_NEEDS.get(last, ())),
        unless=("decision",) if last == "misunderstand" else (),
    )
    return [(f"fallback.{key}[{i}]", line, meta) for i, line in enumerate(_fallback_lines(key))]


def phase_candidates(scenario: Scenario, phase: str, reaction: str) -> list[list[Line]]:
    """Every line that may answer (phase, reaction), the best fitting group first.

    Order: the scenario's lines → the neutral fallback lines of ``texts.yml`` → the same
    reaction in the neighbouring phases → a related reaction.
    """
    groups = [_own(scenario, phase, reaction)]
    if phase == "closing":
        return groups + [_fallback(f"closing_{reaction}"), _fallback(reaction)]
    groups.append(_fallback(reaction))
    middle = [p for p in PHASES if p not in ("closing", phase)]
    for ph in sorted(middle, key=lambda p: abs(PHASES.index(p) - PHASES.index(phase))):
        groups.append(_own(scenario, ph, reaction))
    alternative = ALTERNATIVE.get(reaction)
    if alternative:
        groups += [_own(scenario, phase, alternative), _fallback(alternative)]
    return groups


def answer_candidates(scenario: Scenario, key: str) -> list[list[Line]]:
    """The lines that answer what a turn did (``"offer.discount"``, ``"apology"`` …).

    Order: the scenario's lines for the key → its ``other`` lines of the section → the neutral
    answers of ``texts.yml`` for the section.
    """
    section = key.split(".", 1)[0]
    groups = [_answers(scenario, key)]
    if "." in key:
        groups.append(_answers(scenario, f"{section}.other"))
    groups.append(_fallback(f"answers.{section}"))
    return groups


def pick(
    groups: Sequence[Sequence[Line]],
    level: int,
    facts: Iterable[str],
    used: Sequence[str],
    rng: random.Random,
) -> Line | None:
    """A fitting line not used before (ids in ``used``), from the first group that has one.

    When every fitting line was used, the one used longest ago is repeated; None when no line
    of any group fits the conversation at all.
    """
    facts = frozenset(facts)
    used_set = set(used)
    fitting = [[ln for ln in g if ln[2].allows(level, facts)] for g in groups]
    used_texts = {ln[1] for g in groups for ln in g if ln[0] in used_set}
    for group in fitting:
        fresh = [ln for ln in group if ln[0] not in used_set and ln[1] not in used_texts]
        if fresh:
            return fresh[rng.randrange(len(fresh))]
    first = next((g for g in fitting if g), None)
    if first is None:
        return None
    last_use = {u: j for j, u in enumerate(used)}
    return min(first, key=lambda ln: last_use.get(ln[0], -1))


__all__ = [
    "ALTERNATIVE",
    "PHASE_NEEDS",
    "answer_candidates",
    "line_text",
    "phase_candidates",
    "pick",
]
