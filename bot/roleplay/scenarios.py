"""Role-play scenarios: loading and validation of ``data/scenarios/*.yml``.

A scenario file describes one difficult client (the persona the coach plays), the user's
goal and the client's lines per phase and reaction type. Every file is checked on its own;
a broken file is skipped (its errors are logged) so that the other scenarios keep working.

File layout (all keys required unless marked optional)::

    id: late_payer                     # lower case letters, digits, "_" or "-"
    title: Der Dauer-Spätzahler
    case: extra_requests               # optional, one of CASES
    persona:
      name: Sabine Krüger
      company: Krüger Events GmbH
      role: Geschäftsführerin          # optional
      history: [ ... ]                 # a few lines for the briefing (du-form)
    user_goal: ...                     # what the user should achieve (du-form)
    difficulty:                        # optional: overrides of DEFAULT_DIFFICULTY
      3: {backlash_rounds: 5}
    phases:                            # client lines (Sie-form) per phase and reaction
      opening: {neutral: [...], push_back: [...], misunderstand: [...], escalate: [...]}
      ...
    answers:                           # optional as a whole; if given, every section
      question: {other: [...], next: [...], when: [...], why: [...], opinion: [...]}
      offer: {other: [...], discount: [...], deadline: [...], payment_plan: [...]}
      apology: [...]
      thanks: [...]
      silence: [...]
      off_topic: [...]
    concessions:                       # optional: what the client can concede
      lawyer: "die Anwalt-Drohung war voreilig"
    reason_topics: [zahl, rechnung]    # optional: word stems that name the real reason to end
                                       # ("^" word start, "$" word end; the feedback judges a
                                       # reason that never names it as beside the point)

``PHASE_REACTIONS`` lists which reaction types every phase needs; ``ANSWER_SECTIONS`` the
sections of ``answers`` (the client's answer to what a user turn does, see ``acts.py``).

A client line is a text or a mapping with the text and conditions::

    - "Mein Anwalt prüft das."                       # always possible
    - text: "Mag sein, dass ich mit dem Anwalt etwas voreilig war."
      concedes: [lawyer]                             # said once, ...
    - text: "Mein Anwalt prüft, ob Sie überhaupt aussteigen dürfen."
      unless: [lawyer]                               # ... this is never said again
    - text: "Und dafür bedanken Sie sich auch noch?"
      needs: [announced]                             # only after the end was announced
    - text: "Sie rufen an, damit ich Ihnen Aufträge gebe, oder?"
      levels: [3]                                    # only at level 3

``needs``/``unless`` name facts of the conversation (``FACTS``) or the scenario's concessions.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

log = logging.getLogger("bot.roleplay")

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_SCENARIO_DIR = ROOT / "data" / "scenarios"

#: Conversation phases in their order (seed 000 "fünf Schritte" / seed 002).
PHASES: tuple[str, ...] = ("opening", "announcing", "reasons", "backlash", "transition", "closing")

#: Reaction types a client line can belong to.
REACTIONS: tuple[str, ...] = (
    "neutral",  # the client's own opener, before anything has happened
    "misunderstand",  # reaction to hedging: the client does not get that it is over
    "escalate",  # reaction to blame, sarcasm, insults
    "accept_closer",  # reaction to a clear statement with a reason
    "calm",  # reaction to an offer of transition help
    "push_back",  # general resistance
    "accept",  # final acceptance
)

#: Which reactions every phase must provide lines for.
PHASE_REACTIONS: dict[str, tuple[str, ...]] = {
    "opening": ("neutral", "push_back", "misunderstand", "escalate"),
    "announcing": ("push_back", "misunderstand", "escalate", "accept_closer"),
    "reasons": ("push_back", "accept_closer", "misunderstand", "escalate"),
    "backlash": ("push_back", "accept_closer", "misunderstand", "escalate", "calm"),
    "transition": ("calm", "accept_closer", "push_back", "misunderstand", "escalate"),
    "closing": ("accept", "push_back", "escalate"),
}

#: Sections of ``answers``: how the client answers what a user turn does (``acts.py``).
ANSWER_SECTIONS: tuple[str, ...] = (
    "question",
    "offer",
    "apology",
    "thanks",
    "silence",
    "off_topic",
)
#: Sections split by kind; ``other`` is required and answers every kind without own lines.
ANSWER_KINDS: dict[str, tuple[str, ...]] = {
    "question": ("other", "next", "when", "why", "opinion"),
    "offer": ("other", "discount", "deadline", "payment_plan"),
}
#: What a conversation can have established (``needs``/``unless`` of a line). ``report``: the
#: user named what the client did; ``real_reason``: a reason that names the scenario's real
#: reason to end (``reason_topics``), not a pretext; ``decision``: the client has said he
#: accepts the decision (a line that ``concedes: [decision]``);
#: ``recommendation``/``materials``/``completion``: what the handover offered (a successor,
#: data and documents, finishing the running work).
FACTS: tuple[str, ...] = (
    "announced",
    "reason",
    "real_reason",
    "handover",
    "thanks",
    "apology",
    "offer",
    "report",
    "decision",
    "recommendation",
    "materials",
    "completion",
)
#: facts a line may establish besides the scenario's own concessions
CONCEDABLE_FACTS: tuple[str, ...] = ("decision",)
_LINE_KEYS = {"text", "levels", "needs", "unless", "concedes"}

#: Values of the ``case`` slot (CONTRACT.md) a scenario may be tagged with.
CASES: tuple[str, ...] = ("our_fault", "extra_requests", "false_claims", "abusive")

DIFFICULTY_LEVELS: tuple[int, ...] = (1, 2, 3)

#: Behaviour per difficulty level. A scenario may override single values.
#: backlash_rounds      – calm, factual turns needed in the backlash phase before the client
#:                        gives in
#: push_back_chance     – chance that the client pushes back harder (weak turns then make no
#:                        progress)
#: misunderstand_chance – chance that a hedged statement is misunderstood (1.0 = always)
#: calm_on_offer        – "full": a transition offer ends the backlash at once;
#:                        "partial": it only halves the remaining backlash rounds
#: escalation_extra     – extra backlash rounds per hostile turn (blame, sarcasm, insult)
#: patience             – hostile turns the client puts up with before leaving the conversation
#: offer_exploit        – extra backlash rounds when the user offers a discount, a deadline or
#:                        a payment plan (the client smells weakness and pushes for more)
#: apology_calms        – whether an apology counts as a calming turn (else it is exploited)
DEFAULT_DIFFICULTY: dict[int, dict[str, Any]] = {
    1: {
        "backlash_rounds": 1,
        "push_back_chance": 0.15,
        "misunderstand_chance": 0.15,
        "calm_on_offer": "full",
        "escalation_extra": 1,
        "patience": 4,
        "offer_exploit": 0,
        "apology_calms": True,
    },
    2: {
        "backlash_rounds": 2,
        "push_back_chance": 0.45,
        "misunderstand_chance": 0.6,
        "calm_on_offer": "full",
        "escalation_extra": 1,
        "patience": 3,
        "offer_exploit": 1,
        "apology_calms": True,
    },
    3: {
        "backlash_rounds": 5,
        "push_back_chance": 0.9,
        "misunderstand_chance": 1.0,
        "calm_on_offer": "partial",
        "escalation_extra": 2,
        "patience": 2,
        "offer_exploit": 2,
        "apology_calms": False,
    },
}

# name -> (kind, min, max) ; kind "int" | "prob" | "choice" | "bool"
_DIFFICULTY_PARAMS: dict[str, tuple[str, Any, Any]] = {
    "backlash_rounds": ("int", 1, 6),
    "push_back_chance": ("prob", 0.0, 1.0),
    "misunderstand_chance": ("prob", 0.0, 1.0),
    "calm_on_offer": ("choice", ("full", "partial"), None),
    "escalation_extra": ("int", 0, 3),
    "patience": ("int", 1, 10),
    "offer_exploit": ("int", 0, 3),
    "apology_calms": ("bool", None, None),
}

_TOP_LEVEL = {
    "id",
    "title",
    "case",
    "persona",
    "user_goal",
    "difficulty",
    "phases",
    "answers",
    "concessions",
    "reason_topics",
}
_REQUIRED_TOP = ("id", "title", "persona", "user_goal", "phases")
_PERSONA_KEYS = {"name", "company", "role", "history"}
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,60}$")
_DU_RE = re.compile(r"\b(du|dich|dir|dein|deine|deinen|deinem|deiner|deines)\b", re.IGNORECASE)
MAX_LINE_CHARS = 400
_PARENT_RE = re.compile(r"(\[\d+\]|\.[^.\[\]]+)$")


@dataclass(frozen=True)
class ScenarioError:
    """One problem in one scenario file."""

    file: str
    field: str
    problem: str
    line: int | None = None

    def __str__(self) -> str:
        """The problem as one German line: file, line, field, problem."""
        where = f"{self.file}" + (f", Zeile {self.line}" if self.line else "")
        return f"{where}: {self.field or '(Datei)'}: {self.problem}"


@dataclass(frozen=True)
class Persona:
    """The client the coach plays: name, company, shared history, role."""

    name: str
    company: str
    history: tuple[str, ...]
    role: str = ""


@dataclass(frozen=True)
class LineMeta:
    """When a client line may be said and what saying it establishes (all optional)."""

    levels: tuple[int, ...] = ()
    needs: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    concedes: tuple[str, ...] = ()

    def allows(self, level: int, facts: set[str] | frozenset[str]) -> bool:
        """True when the line fits a conversation at ``level`` that established ``facts``."""
        if self.levels and level not in self.levels:
            return False
        return set(self.needs) <= facts and not set(self.unless) & facts


NO_META = LineMeta()


@dataclass(frozen=True)
class Scenario:
    """A validated role-play scenario: persona, goal, the client's lines, level settings.

    ``phases`` maps phase -> reaction -> the client's lines; ``answers`` maps an answer key
    (``"apology"``, ``"offer.discount"``, …) -> lines; ``meta`` maps a line id
    (``"opening.neutral[0]"``, ``"answers.offer.discount[1]"``) -> its conditions;
    ``difficulty`` maps level -> the behaviour parameters (defaults merged with overrides).
    """

    id: str
    title: str
    persona: Persona
    user_goal: str
    phases: Mapping[str, Mapping[str, tuple[str, ...]]]
    difficulty: Mapping[int, Mapping[str, Any]]
    case: str | None = None
    source: str = ""
    answers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    meta: Mapping[str, LineMeta] = field(default_factory=dict)
    concessions: Mapping[str, str] = field(default_factory=dict)
    #: word stems that name the real reason to end (``bot.rubric.conversation``)
    reason_topics: tuple[str, ...] = ()

    def params(self, level: int) -> dict[str, Any]:
        """Behaviour parameters for a difficulty level (defaults merged with overrides)."""
        if level not in DIFFICULTY_LEVELS:
            raise ValueError(f"Schwierigkeitsstufe {level!r} gibt es nicht (erlaubt: 1, 2, 3)")
        return dict(self.difficulty[level])

    def lines(self, phase: str, reaction: str) -> tuple[str, ...]:
        """The scenario's own client lines for a phase and reaction (may be empty)."""
        return tuple(self.phases.get(phase, {}).get(reaction, ()))

    def answer_lines(self, key: str) -> tuple[str, ...]:
        """The client's answers for a key like ``"apology"`` or ``"offer.discount"``."""
        return tuple(self.answers.get(key, ()))

    def line_meta(self, line_id: str) -> LineMeta:
        """The conditions of a line (none for lines without any)."""
        return self.meta.get(line_id, NO_META)

    def text_of(self, line_id: str) -> str | None:
        """The text of one of the scenario's lines by its id, or None."""
        match = _LINE_ID_RE.match(line_id)
        if not match:
            return None
        group, index = match.group(1), int(match.group(2))
        if group.startswith("answers."):
            lines = self.answer_lines(group[len("answers.") :])
        else:
            phase, _, reaction = group.partition(".")
            lines = self.lines(phase, reaction)
        return lines[index] if index < len(lines) else None


_LINE_ID_RE = re.compile(r"^(.+)\[(\d+)\]$")


class ScenarioFileError(Exception):
    """Raised by :func:`load_scenario_file` when a file is not valid."""

    def __init__(self, errors: list[ScenarioError]):
        """Keep all problems of the file; the message lists them one per line."""
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


# --------------------------------------------------------------------------- YAML helpers


def _line_map(text: str) -> tuple[dict[str, int], list[tuple[str, str, int]]]:
    """Dotted path -> 1-based line for every node; plus duplicate mapping keys found."""
    lines: dict[str, int] = {}
    dupes: list[tuple[str, str, int]] = []
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is None:
        return lines, dupes

    seen_nodes: set[int] = set()

    def walk(node: yaml.Node, path: str) -> None:
        lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in seen_nodes:  # an alias: its node was walked already (no blow-up)
            return
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = str(key_node.value)
                child = f"{path}.{key}" if path else key
                if key in seen:
                    dupes.append((path, key, key_node.start_mark.line + 1))
                seen.add(key)
                lines.setdefault(child, key_node.start_mark.line + 1)
                walk(value_node, child)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, f"{path}[{i}]")

    walk(root, "")
    return lines, dupes


def _type_name(value: Any) -> str:
    return {
        str: "Text",
        int: "Zahl",
        float: "Zahl",
        bool: "Wahrheitswert",
        list: "Liste",
        dict: "Zuordnung (Schlüssel: Wert)",
        type(None): "leer",
    }.get(type(value), type(value).__name__)


class _Checker:
    def __init__(self, file: str, line_of: dict[str, int]):
        self.file = file
        self.line_of = line_of
        self.errors: list[ScenarioError] = []
        self.meta: dict[str, LineMeta] = {}
        self.fact_uses: list[tuple[str, str, str]] = []

    def err(self, path: str, problem: str) -> None:
        probe, line = path, None
        while probe:
            if probe in self.line_of:
                line = self.line_of[probe]
                break
            parent = _PARENT_RE.sub("", probe)
            probe = "" if parent == probe else parent
        self.errors.append(ScenarioError(self.file, path, problem, line))

    def text(self, value: Any, path: str, *, client_line: bool = False) -> str | None:
        if not isinstance(value, str):
            self.err(path, f"muss ein Text sein, ist aber {_type_name(value)}")
            return None
        if not value.strip():
            self.err(path, "ist leer")
            return None
        if len(value) > MAX_LINE_CHARS:
            self.err(path, f"ist zu lang ({len(value)} Zeichen, höchstens {MAX_LINE_CHARS})")
        if client_line and _DU_RE.search(value):
            self.err(path, "Kundenzeile duzt – der Kunde spricht mit „Sie“")
        return value.strip()

    def text_list(self, value: Any, path: str, *, client_line: bool = False) -> tuple[str, ...]:
        if isinstance(value, str) and not client_line:
            value = [value]
        if not isinstance(value, list):
            self.err(path, f"muss eine Liste von Zeilen sein, ist aber {_type_name(value)}")
            return ()
        if not value:
            self.err(path, "Liste ist leer – mindestens eine Zeile nötig")
            return ()
        out = []
        for i, item in enumerate(value):
            t = self.text(item, f"{path}[{i}]", client_line=client_line)
            if t is not None:
                out.append(t)
        return tuple(out)

    def client_lines(self, value: Any, path: str, line_id: str) -> tuple[str, ...]:
        """Client lines (a text or a mapping with ``text`` and conditions each).

        The conditions go to ``self.meta`` under ``line_id[i]``; the fact names they use are
        checked later (``check_fact_names``), when the scenario's concessions are known.
        """
        if not isinstance(value, list):
            self.err(path, f"muss eine Liste von Zeilen sein, ist aber {_type_name(value)}")
            return ()
        if not value:
            self.err(path, "Liste ist leer – mindestens eine Zeile nötig")
            return ()
        out = []
        for i, item in enumerate(value):
            ipath = f"{path}[{i}]"
            if isinstance(item, dict):
                item = self._line_mapping(item, ipath, f"{line_id}[{i}]")
            t = self.text(item, ipath, client_line=True)
            if t is not None:
                out.append(t)
        return tuple(out)

    def _line_mapping(self, item: dict, path: str, line_id: str) -> Any:
        for key in item:
            if key not in _LINE_KEYS:
                self.err(
                    f"{path}.{key}", f"unbekanntes Feld (erlaubt: {', '.join(sorted(_LINE_KEYS))})"
                )
        if "text" not in item:
            self.err(f"{path}.text", "Pflichtfeld fehlt")
            return ""
        levels = self._names(item.get("levels", []), f"{path}.levels")
        for lvl in levels:
            if lvl not in DIFFICULTY_LEVELS:
                self.err(f"{path}.levels", f"Stufe {lvl!r} gibt es nicht (erlaubt: 1, 2, 3)")
        meta = LineMeta(
            levels=tuple(lvl for lvl in levels if lvl in DIFFICULTY_LEVELS),
            needs=tuple(self._names(item.get("needs", []), f"{path}.needs")),
            unless=tuple(self._names(item.get("unless", []), f"{path}.unless")),
            concedes=tuple(self._names(item.get("concedes", []), f"{path}.concedes")),
        )
        self.meta[line_id] = meta
        for key in ("needs", "unless", "concedes"):
            for name in getattr(meta, key):
                self.fact_uses.append((f"{path}.{key}", key, name))
        return item["text"]

    def _names(self, value: Any, path: str) -> list:
        if not isinstance(value, list) or any(isinstance(v, (list, dict)) for v in value):
            self.err(path, f"muss eine Liste von Namen sein, ist aber {_type_name(value)}")
            return []
        return list(value)

    def check_fact_names(self, concessions: Mapping[str, str]) -> None:
        """Every ``needs``/``unless`` names a fact or a concession; ``concedes`` a concession."""
        for path, key, name in self.fact_uses:
            allowed = (
                [*CONCEDABLE_FACTS, *concessions] if key == "concedes" else [*FACTS, *concessions]
            )
            if name not in allowed:
                listed = ", ".join(allowed) or "keine – erst unter concessions anlegen"
                self.err(path, f"unbekannter Name „{name}“ (erlaubt: {listed})")


def _check_concessions(data: Mapping[str, Any], chk: _Checker) -> dict[str, str]:
    value = data.get("concessions", {})
    if not isinstance(value, dict):
        chk.err(
            "concessions",
            f"muss eine Zuordnung Name → Beschreibung sein, ist aber {_type_name(value)}",
        )
        return {}
    out = {}
    for name, description in value.items():
        if not isinstance(name, str) or not _ID_RE.match(name) or name in FACTS:
            chk.err(
                f"concessions.{name}", "ungültiger Name (Kleinbuchstaben, _; keine Fakten-Namen)"
            )
            continue
        text = chk.text(description, f"concessions.{name}")
        if text is not None:
            out[name] = text
    return out


_STEM_RE = re.compile(r"^\^?[a-zäöüß]{3,}\$?$")


def _check_reason_topics(data: Mapping[str, Any], chk: _Checker) -> tuple[str, ...]:
    """The optional ``reason_topics``: lower-case word stems, "^"/"$" anchors allowed."""
    value = data.get("reason_topics", [])
    if not isinstance(value, list):
        chk.err(
            "reason_topics", f"muss eine Liste von Wortstämmen sein, ist aber {_type_name(value)}"
        )
        return ()
    out: list[str] = []
    for i, stem in enumerate(value):
        if not isinstance(stem, str) or not _STEM_RE.match(stem):
            chk.err(
                f"reason_topics[{i}]",
                "ungültiger Wortstamm (mindestens 3 Kleinbuchstaben, "
                "davor ^ oder dahinter $ erlaubt)",
            )
        elif stem in out:
            chk.err(f"reason_topics[{i}]", f"„{stem}“ steht doppelt in der Liste")
        else:
            out.append(stem)
    return tuple(out)


def _check_answers(data: Mapping[str, Any], chk: _Checker) -> dict[str, tuple[str, ...]]:
    """The ``answers`` block: every section, ``other`` in the sections split by kind."""
    if "answers" not in data:
        return {}
    value = data["answers"]
    if not isinstance(value, dict):
        chk.err(
            "answers", f"muss eine Zuordnung Abschnitt → Zeilen sein, ist aber {_type_name(value)}"
        )
        return {}
    for name in value:
        if name not in ANSWER_SECTIONS:
            chk.err(
                f"answers.{name}",
                f"unbekannter Abschnitt (erlaubt: {', '.join(ANSWER_SECTIONS)})",
            )
    out: dict[str, tuple[str, ...]] = {}
    for section in ANSWER_SECTIONS:
        path = f"answers.{section}"
        if section not in value:
            chk.err(path, "Abschnitt fehlt")
            continue
        if section not in ANSWER_KINDS:
            out[section] = chk.client_lines(value[section], path, path)
            continue
        kinds = value[section]
        if not isinstance(kinds, dict):
            allowed = ", ".join(ANSWER_KINDS[section])
            chk.err(
                path,
                f"muss eine Zuordnung Art → Zeilen sein ({allowed}), ist aber {_type_name(kinds)}",
            )
            continue
        for kind in kinds:
            if kind not in ANSWER_KINDS[section]:
                chk.err(
                    f"{path}.{kind}",
                    f"unbekannte Art (erlaubt: {', '.join(ANSWER_KINDS[section])})",
                )
        if "other" not in kinds:
            chk.err(
                f"{path}.other", "Zeilen fehlen (other beantwortet jede Art ohne eigene Zeilen)"
            )
        for kind in ANSWER_KINDS[section]:
            if kind in kinds:
                kpath = f"{path}.{kind}"
                out[f"{section}.{kind}"] = chk.client_lines(kinds[kind], kpath, kpath)
    return out


def _check_data(data: Any, chk: _Checker) -> Scenario | None:
    if data is None:
        chk.err("", "Datei ist leer")
        return None
    if not isinstance(data, dict):
        chk.err(
            "",
            "oberste Ebene muss eine Zuordnung (Schlüssel: Wert) sein, "
            f"ist aber {_type_name(data)}",
        )
        return None

    for key in data:
        if key not in _TOP_LEVEL:
            chk.err(str(key), f"unbekanntes Feld (erlaubt: {', '.join(sorted(_TOP_LEVEL))})")
    for key in _REQUIRED_TOP:
        if key not in data:
            chk.err(key, "Pflichtfeld fehlt")

    sid = None
    if "id" in data:
        sid = chk.text(data["id"], "id")
        if sid is not None and not _ID_RE.match(sid):
            chk.err("id", f"„{sid}“ ist keine gültige Kennung (Kleinbuchstaben, Ziffern, _ oder -)")
    title = chk.text(data["title"], "title") if "title" in data else None
    user_goal = chk.text(data["user_goal"], "user_goal") if "user_goal" in data else None

    case = data.get("case")
    if case is not None and case not in CASES:
        chk.err("case", f"unbekannter Fall „{case}“ (erlaubt: {', '.join(CASES)})")
        case = None

    persona = None
    if "persona" in data:
        p = data["persona"]
        if not isinstance(p, dict):
            chk.err("persona", f"muss eine Zuordnung sein, ist aber {_type_name(p)}")
        else:
            for key in p:
                if key not in _PERSONA_KEYS:
                    chk.err(
                        f"persona.{key}",
                        f"unbekanntes Feld (erlaubt: {', '.join(sorted(_PERSONA_KEYS))})",
                    )
            vals = {}
            for key in ("name", "company", "history"):
                if key not in p:
                    chk.err(f"persona.{key}", "Pflichtfeld fehlt")
            if "name" in p:
                vals["name"] = chk.text(p["name"], "persona.name")
            if "company" in p:
                vals["company"] = chk.text(p["company"], "persona.company")
            role = chk.text(p["role"], "persona.role") if "role" in p else ""
            history = chk.text_list(p["history"], "persona.history") if "history" in p else ()
            if vals.get("name") and vals.get("company") and history:
                persona = Persona(vals["name"], vals["company"], history, role or "")

    difficulty: dict[int, dict[str, Any]] = {lvl: dict(v) for lvl, v in DEFAULT_DIFFICULTY.items()}
    if "difficulty" in data:
        d = data["difficulty"]
        if not isinstance(d, dict):
            chk.err(
                "difficulty", f"muss eine Zuordnung Stufe → Werte sein, ist aber {_type_name(d)}"
            )
        else:
            for lvl, overrides in d.items():
                path = f"difficulty.{lvl}"
                if (
                    isinstance(lvl, bool)
                    or not isinstance(lvl, int)
                    or lvl not in DIFFICULTY_LEVELS
                ):
                    chk.err(
                        path,
                        f"Schwierigkeitsstufe {lvl!r} liegt außerhalb des erlaubten Bereichs "
                        "(1, 2, 3)",
                    )
                    continue
                if not isinstance(overrides, dict):
                    chk.err(path, f"muss eine Zuordnung sein, ist aber {_type_name(overrides)}")
                    continue
                for name, value in overrides.items():
                    ppath = f"{path}.{name}"
                    spec = _DIFFICULTY_PARAMS.get(name)
                    if spec is None:
                        chk.err(
                            ppath,
                            f"unbekannter Parameter (erlaubt: {', '.join(_DIFFICULTY_PARAMS)})",
                        )
                        continue
                    kind, lo, hi = spec
                    if kind == "bool":
                        if not isinstance(value, bool):
                            chk.err(ppath, f"muss true oder false sein, ist aber {value!r}")
                            continue
                    elif kind == "choice":
                        if value not in lo:
                            chk.err(
                                ppath, f"„{value}“ ist nicht erlaubt (erlaubt: {', '.join(lo)})"
                            )
                            continue
                    elif (
                        isinstance(value, bool)
                        or not isinstance(value, (int, float))
                        or (kind == "int" and not isinstance(value, int))
                    ):
                        chk.err(
                            ppath,
                            f"muss eine {'ganze ' if kind == 'int' else ''}Zahl sein, "
                            f"ist aber {_type_name(value)}",
                        )
                        continue
                    elif not lo <= value <= hi:
                        chk.err(
                            ppath,
                            f"Wert {value} liegt außerhalb des erlaubten Bereichs ({lo} bis {hi})",
                        )
                        continue
                    difficulty[lvl][name] = value

    phases: dict[str, dict[str, tuple[str, ...]]] = {}
    if "phases" in data:
        ph = data["phases"]
        if not isinstance(ph, dict):
            chk.err(
                "phases", f"muss eine Zuordnung Phase → Reaktionen sein, ist aber {_type_name(ph)}"
            )
        else:
            for name in ph:
                if name not in PHASE_REACTIONS:
                    chk.err(f"phases.{name}", f"unbekannte Phase (erlaubt: {', '.join(PHASES)})")
            for name, needed in PHASE_REACTIONS.items():
                ppath = f"phases.{name}"
                if name not in ph:
                    chk.err(ppath, "Phase fehlt")
                    continue
                reactions = ph[name]
                if not isinstance(reactions, dict):
                    chk.err(
                        ppath,
                        "muss eine Zuordnung Reaktion → Zeilen sein, "
                        f"ist aber {_type_name(reactions)}",
                    )
                    continue
                for r in reactions:
                    if r not in needed:
                        hint = (
                            "unbekannte Reaktion"
                            if r not in REACTIONS
                            else f"Reaktion passt nicht in die Phase {name}"
                        )
                        chk.err(f"{ppath}.{r}", f"{hint} (erlaubt: {', '.join(needed)})")
                phases[name] = {}
                for r in needed:
                    if r not in reactions:
                        chk.err(f"{ppath}.{r}", "Zeilen fehlen (Reaktion nicht angegeben)")
                        continue
                    phases[name][r] = chk.client_lines(reactions[r], f"{ppath}.{r}", f"{name}.{r}")
    answers = _check_answers(data, chk)
    concessions = _check_concessions(data, chk)
    chk.check_fact_names(concessions)
    reason_topics = _check_reason_topics(data, chk)
    _check_unique_lines(phases, answers, chk)

    if chk.errors or persona is None or sid is None:
        return None
    return Scenario(
        id=sid,
        title=title or sid,
        persona=persona,
        user_goal=user_goal or "",
        phases=phases,
        difficulty=difficulty,
        case=case,
        source=chk.file,
        answers=answers,
        meta=dict(chk.meta),
        concessions=concessions,
        reason_topics=reason_topics,
    )


def _check_unique_lines(
    phases: Mapping[str, Mapping[str, tuple[str, ...]]],
    answers: Mapping[str, tuple[str, ...]],
    chk: _Checker,
) -> None:
    """Every client line once per scenario (a repeated line would sound like a loop)."""
    groups = [(f"phases.{p}.{r}", lines) for p, rs in phases.items() for r, lines in rs.items()]
    groups += [(f"answers.{key}", lines) for key, lines in answers.items()]
    seen: dict[str, str] = {}
    for path, lines in groups:
        for i, line in enumerate(lines):
            key = line.casefold()
            where = f"{path}[{i}]"
            if key in seen:
                chk.err(where, f"gleiche Zeile wie {seen[key]} – jede Kundenzeile nur einmal")
            else:
                seen[key] = where


def _yaml_error(name: str, exc: yaml.YAMLError) -> ScenarioError:
    """A syntax error with the line where the broken construct starts and where it fails."""
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    if problem_mark is None and context_mark is None:
        return ScenarioError(name, "", f"YAML-Syntaxfehler: {problem}")
    start = context_mark or problem_mark
    line = start.line + 1
    text = f"YAML-Syntaxfehler in Zeile {line}"
    if context and context_mark is not None:
        text += f" ({context})"
    if problem_mark is not None and (
        context_mark is None or problem_mark.line != context_mark.line
    ):
        text += f": {problem} in Zeile {problem_mark.line + 1}, Spalte {problem_mark.column + 1}"
    else:
        text += f": {problem}"
    return ScenarioError(name, "", text, line)


def _parse(path: Path) -> tuple[Scenario | None, list[ScenarioError]]:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [ScenarioError(name, "", f"Datei ist nicht UTF-8-kodiert ({exc.reason})")]
    except OSError as exc:
        return None, [
            ScenarioError(name, "", f"Datei lässt sich nicht lesen ({exc.strerror or exc})")
        ]
    return parse_text(name, text)


def parse_text(
    name: str, text: str, *, max_bytes: int | None = None
) -> tuple[Scenario | None, list[ScenarioError]]:
    """The scenario in YAML ``text`` and every problem, checked exactly like a file.

    ``name`` stands where the file name stands in the messages. With ``max_bytes`` a longer
    text (UTF-8) is refused before it is parsed.
    """
    if max_bytes is not None:
        size = len(text.encode("utf-8", errors="replace"))
        if size > max_bytes:
            return None, [
                ScenarioError(name, "", f"Datei ist zu groß ({size} Bytes, höchstens {max_bytes})")
            ]
    try:
        data = yaml.safe_load(text)
        line_of, dupes = _line_map(text)
    except yaml.YAMLError as exc:
        return None, [_yaml_error(name, exc)]
    except RecursionError:
        return None, [ScenarioError(name, "", "YAML-Syntaxfehler: zu tief verschachtelt")]
    chk = _Checker(name, line_of)
    for parent, key, line in dupes:
        chk.errors.append(
            ScenarioError(
                name, f"{parent}.{key}" if parent else key, "Schlüssel kommt doppelt vor", line
            )
        )
    scenario = _check_data(data, chk)
    return (None if chk.errors else scenario), chk.errors


def validate_file(path: str | Path) -> list[ScenarioError]:
    """All problems of one scenario file (empty list = file is fine)."""
    return _parse(Path(path))[1]


#: the largest scenario text accepted from a trainer (dashboard, upload, `coach scenarios import`)
MAX_SCENARIO_BYTES = 64 * 1024


def validate_text(
    name: str, text: str, *, max_bytes: int | None = MAX_SCENARIO_BYTES
) -> list[ScenarioError]:
    """All problems of a scenario given as YAML text (the checks of `coach scenarios check`)."""
    return parse_text(name, text, max_bytes=max_bytes)[1]


def load_scenario_file(path: str | Path) -> Scenario:
    """One scenario; raises :class:`ScenarioFileError` if the file is not valid."""
    scenario, errors = _parse(Path(path))
    if errors or scenario is None:
        raise ScenarioFileError(errors)
    return scenario


def scenario_files(paths: str | Path | Iterable[str | Path] | None = None) -> list[Path]:
    """The ``*.yml``/``*.yaml`` files in the given files/folders (sorted per folder)."""
    if paths is None:
        paths = [DEFAULT_SCENARIO_DIR]
    elif isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend(
                sorted(f for f in p.iterdir() if f.suffix in (".yml", ".yaml") and f.is_file())
            )
        else:
            files.append(p)
    return files


def check_scenarios(
    paths: str | Path | Iterable[str | Path] | None = None,
) -> tuple[dict[str, Scenario], list[ScenarioError]]:
    """Load every valid scenario and collect the errors of all others.

    Includes checks across files (duplicate ids). Never raises for bad files.
    """
    scenarios: dict[str, Scenario] = {}
    errors: list[ScenarioError] = []
    files = scenario_files(paths)
    for f in files:
        if not f.exists():
            errors.append(ScenarioError(str(f), "", "Datei oder Ordner gibt es nicht"))
            continue
        scenario, errs = _parse(f)
        errors.extend(errs)
        if scenario is None:
            continue
        if scenario.id in scenarios:
            errors.append(
                ScenarioError(
                    str(f),
                    "id",
                    f"doppelte id „{scenario.id}“ – "
                    f"schon vergeben in {scenarios[scenario.id].source}",
                    None,
                )
            )
            continue
        scenarios[scenario.id] = scenario
    return scenarios, errors


def load_scenarios(path: str | Path | Iterable[str | Path] | None = None) -> dict[str, Scenario]:
    """All valid scenarios by id. Broken files are skipped and their errors logged."""
    scenarios, errors = check_scenarios(path)
    for e in errors:
        log.error("Szenario übersprungen: %s", e)
    return scenarios


_CACHE: dict[str, tuple[tuple, dict[str, Scenario]]] = {}


def default_scenarios(path: str | Path | None = None) -> dict[str, Scenario]:
    """Scenarios of ``data/scenarios`` (or *path*), cached until a file changes."""
    folder = Path(path) if path else DEFAULT_SCENARIO_DIR
    files = scenario_files(folder) if folder.exists() else []
    stamp = tuple((str(f), f.stat().st_mtime_ns) for f in files if f.exists())
    key = str(folder)
    cached = _CACHE.get(key)
    if cached is None or cached[0] != stamp:
        _CACHE[key] = (stamp, load_scenarios(folder) if files else {})
    return _CACHE[key][1]
