"""Role-play engine: the coach plays a difficult client, the user ends the relationship.

Pure functions over a plain, JSON-serialisable ``state`` dict (it lives in a Rasa slot).
Given the same seed, scenario and user turns, the conversation is always the same.

Phases follow the seeds' steps (000 "Schluss machen in fünf Schritten", 002):
``opening`` → ``announcing`` (the end has been announced) → ``reasons`` (a reason was given)
→ ``backlash`` (N rounds, by difficulty) → ``transition`` (handover) → ``closing``.

How the client reacts to a user turn (``analysis`` = rubric result, duck-typed: any object
with ``.scores`` / ``.flags`` / ``.overall``, or a mapping with those keys):

* blame / sarcasm / insult / counter-attack → ``escalate``: extra backlash rounds; when the
  client's patience is used up he leaves the conversation.
* hedging → ``misunderstand`` (with the level's probability; the phase does not advance).
* clear statement (with a reason) / de-escalation → progress, ``accept_closer``.
* transition offer → ``calm``: ends the backlash at once (levels 1–2) or halves it (level 3).
* anything else → ``push_back``; weak turns only make progress by chance.

The role-play always ends, at the latest after ``max_turns`` user turns, with a closing line.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
from typing import Any, Callable, Mapping

from bot import rubric
from bot.texts import load, lookup, pick, text

from .scenarios import DIFFICULTY_LEVELS, PHASES, Scenario, default_scenarios

STATE_VERSION = 1
MAX_TURNS = 12
#: turns without progress after which the client moves on (announcing) or closes (transition)
STALL_LIMIT = 3
#: cap for backlash rounds added by escalations
MAX_EXTRA_BACKLASH = 4

#: rubric criteria (CONTRACT.md); importing ``bot.rubric`` is cheap, spaCy loads on first use
CRITERIA: tuple[str, ...] = ("clarity", "reasons", "respect", "transition", "appreciation", "calm")
HOSTILE_FLAGS = frozenset({"blame", "sarcasm", "insult", "counter_attack", "generalisation"})
SOOTHING_FLAGS = frozenset({"deescalation", "thanks"})
#: criteria that only need to be met once in a conversation (best turn counts);
#: the others should hold in every turn (mean counts)
ONCE_CRITERIA = frozenset({"reasons", "transition", "appreciation"})
_RELEVANT_PHASES = {
    "clarity": ("opening", "announcing"),
    "reasons": ("announcing", "opening"),
    "respect": ("backlash", "reasons", "announcing"),
    "transition": ("transition", "backlash"),
    "appreciation": ("transition", "closing", "backlash"),
    "calm": ("backlash", "reasons"),
}


class UnknownScenario(KeyError):
    """The state or caller names a scenario that is not loaded."""


# --------------------------------------------------------------------------- helpers


def texts() -> dict[str, Any]:
    """The raw data of ``texts.yml`` (text source ``roleplay``).

    Sentences for the user are taken with ``bot.texts.text`` / ``pick``, not from here.
    """
    return load("roleplay")


def _rng(state: Mapping[str, Any], purpose: str) -> random.Random:
    # string seeds are hashed with SHA-512 by `random`: stable across runs and processes
    return random.Random(
        f"{state['seed']}|{state.get('restarts', 0)}|{state.get('turn', 0)}|{purpose}"
    )


def _scenarios(scenarios: Mapping[str, Scenario] | None) -> Mapping[str, Scenario]:
    return default_scenarios() if scenarios is None else scenarios


def _scenario(scenario_id: str, scenarios: Mapping[str, Scenario] | None) -> Scenario:
    found = _scenarios(scenarios).get(scenario_id)
    if found is None:
        raise UnknownScenario(scenario_id)
    return found


def _coach(line: str) -> str:
    return text("roleplay", "format.coach", line=line)


def _client(scenario: Scenario, line: str) -> str:
    return text("roleplay", "format.client", name=scenario.persona.name, line=line)


def _values(scenario: Scenario, state: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """The placeholder values of the coach's lines about a scenario and a running role-play."""
    p = scenario.persona
    values = {
        "title": scenario.title,
        "name": p.name,
        "company": p.company,
        "role_part": f", {p.role}" if p.role else "",
        "user_goal": scenario.user_goal,
        "history": " ".join(p.history),
    }
    values["difficulty"] = state["difficulty"]
    values["difficulty_label"] = text("roleplay", f"difficulty_labels.{state['difficulty']}")
    values.update(extra)
    return values


#: a stand-in reaction when a reaction's own lines and fallbacks are used up
_ALTERNATIVE = {
    "misunderstand": "push_back",
    "push_back": "misunderstand",
    "escalate": "push_back",
    "accept_closer": "calm",
    "calm": "accept_closer",
    "neutral": "push_back",
    "accept": "accept_closer",
}


def _candidates(scenario: Scenario, phase: str, reaction: str) -> list[list[tuple[str, str]]]:
    """Every line that may answer (phase, reaction).

    Returns:
        Groups of (line id, text) pairs, the best fitting group first.
    """
    fb = lookup("roleplay", "client_fallback")
    groups: list[list[tuple[str, str]]] = []

    def own(ph: str, r: str) -> None:
        groups.append([(f"{ph}.{r}[{i}]", t) for i, t in enumerate(scenario.lines(ph, r))])

    def fallback(key: str) -> None:
        lines = range(len(fb.get(key) or ()))  # a reaction may have no neutral lines
        groups.append(
            [
                (f"fallback.{key}[{i}]", text("roleplay", f"client_fallback.{key}.{i}"))
                for i in lines
            ]
        )

    own(phase, reaction)
    if phase == "closing":
        fallback(f"closing_{reaction}")
        fallback(reaction)
        return groups
    fallback(reaction)
    # the same reaction of the neighbouring phases (resistance sounds alike in every phase)
    middle = [p for p in PHASES if p not in ("closing", phase)]
    for ph in sorted(middle, key=lambda p: abs(PHASES.index(p) - PHASES.index(phase))):
        own(ph, reaction)
    alt = _ALTERNATIVE.get(reaction)
    if alt:
        own(phase, alt)
        fallback(alt)
    return groups


def _pick_line(
    state: dict, scenario: Scenario, phase: str, reaction: str, rng: random.Random
) -> tuple[str, str]:
    """A client line not used before in this session: (line id, text).

    Order: the scenario's lines for phase+reaction → the neutral fallback lines of
    ``texts.yml`` → the same reaction in neighbouring phases → a related reaction →
    (everything used up) the best-fitting line used longest ago.
    """
    used = state["used_lines"]
    used_set = set(used)
    used_texts = {
        t.get("text") for t in state.get("transcript", []) if t.get("speaker") == "client"
    }
    groups = _candidates(scenario, phase, reaction)
    for group in groups:
        fresh = [(i, t) for i, t in group if i not in used_set and t not in used_texts]
        if fresh:
            line_id, text = fresh[rng.randrange(len(fresh))]
            break
    else:
        first = next((g for g in groups if g), [("fallback.none", "…")])
        # graceful: repeat the line whose last use lies furthest back
        last_use = {u: j for j, u in enumerate(used)}
        line_id, text = min(first, key=lambda it: last_use.get(it[0], -1))
    used.append(line_id)
    return line_id, text


def _record(analysis: Any) -> dict[str, Any]:
    """Plain-data view of a rubric result (object or mapping)."""

    def get(name: str, default: Any = None) -> Any:
        if isinstance(analysis, Mapping):
            return analysis.get(name, default)
        return getattr(analysis, name, default)

    raw_scores = get("scores")
    if raw_scores is None and isinstance(analysis, Mapping):
        raw_scores = {k: analysis[k] for k in CRITERIA if k in analysis}
    scores = {}
    for k, v in dict(raw_scores or {}).items():
        try:
            scores[str(k)] = round(min(1.0, max(0.0, float(v))), 4)
        except (TypeError, ValueError):
            continue
    flags = sorted({str(f) for f in (get("flags") or ())})
    overall = get("overall")
    try:
        overall = float(overall)
    except (TypeError, ValueError):
        overall = 100.0 * sum(scores.values()) / len(scores) if scores else 0.0
    rec = {"scores": scores, "flags": flags, "overall": round(overall, 2)}
    evidence = get("evidence")
    if evidence:
        try:
            json.dumps(evidence)
            rec["evidence"] = evidence
        except (TypeError, ValueError):
            pass
    return rec


def analyse(text: str, state: Mapping[str, Any]) -> Any:
    """Rate a user turn with the real rubric.

    Returns:
        The rubric's ``Assessment``; turns after the opening count as answers under backlash.
    """
    return rubric.assess(text, under_backlash=state.get("phase", "opening") != "opening")


# --------------------------------------------------------------------------- start / restart


def _briefing(scenario: Scenario, state: Mapping[str, Any], rng: random.Random) -> list[str]:
    values = _values(scenario, state)
    return [
        _coach(pick("roleplay", f"briefing.{part}", rng, **values))
        for part in ("intro", "background", "goal")
    ]


def _begin(scenario: Scenario, difficulty: int, seed: int, restarts: int) -> tuple[dict, list[str]]:
    if difficulty not in DIFFICULTY_LEVELS:
        raise ValueError(f"Schwierigkeitsstufe {difficulty!r} gibt es nicht (erlaubt: 1, 2, 3)")
    params = scenario.params(difficulty)
    state: dict[str, Any] = {
        "version": STATE_VERSION,
        "scenario_id": scenario.id,
        "difficulty": int(difficulty),
        "seed": int(seed),
        "restarts": int(restarts),
        "params": params,
        "max_turns": MAX_TURNS,
        "phase": "opening",
        "turn": 0,
        "announced": False,
        "reason_given": False,
        "transition_offered": False,
        "backlash_needed": int(params["backlash_rounds"]),
        "backlash_done": 0,
        "backlash_rounds": 0,
        "extra_backlash": 0,
        "escalations": 0,
        "misunderstandings": 0,
        "stalls": 0,
        "used_lines": [],
        "last_client_line": "",
        "transcript": [],
        "turns": [],
        "paused": False,
        "finished": False,
        "outcome": None,
    }
    rng = _rng(state, "start")
    messages = _briefing(scenario, state, rng)
    _, line = _pick_line(state, scenario, "opening", "neutral", rng)
    state["last_client_line"] = line
    state["transcript"].append(
        {"speaker": "client", "phase": "opening", "reaction": "neutral", "text": line}
    )
    messages.append(_client(scenario, line))
    return state, messages


def start(
    scenario_id: str, difficulty: int, seed: int, scenarios: Mapping[str, Scenario] | None = None
) -> tuple[dict, list[str]]:
    """New role-play: (state, [briefing lines…, the client's opening line])."""
    return _begin(_scenario(scenario_id, scenarios), difficulty, seed, 0)


def restart(
    state: Mapping[str, Any], scenarios: Mapping[str, Scenario] | None = None
) -> tuple[dict, list[str]]:
    """Same scenario, level and seed from the beginning; the client's lines are drawn anew."""
    scenario = _scenario(state["scenario_id"], scenarios)
    new, messages = _begin(
        scenario, state["difficulty"], state["seed"], int(state.get("restarts", 0)) + 1
    )
    line = pick("roleplay", "restart", _rng(new, "restart"))
    return new, [_coach(line)] + messages


# --------------------------------------------------------------------------- the turn


def _hostile(rec: Mapping[str, Any]) -> bool:
    flags = set(rec["flags"])
    if flags & HOSTILE_FLAGS:
        return True
    # "Ich will ja nicht sagen, dass Sie unverschämt sind" – a veiled insult, if the rubric agrees
    return "negated_insult" in flags and rec["scores"].get("respect", 1.0) < 0.6


def _react(st: dict, rec: dict, u_mis: float, u_push: float) -> tuple[str, str, str | None]:
    """Update the counters in ``st`` for one user turn.

    Returns:
        (phase, reaction, outcome) of the client's answer.
    """
    p = st["params"]
    pbc = float(p["push_back_chance"])
    flags = set(rec["flags"])
    phase = st["phase"]
    hostile = _hostile(rec)
    hedge = "hedging" in flags
    clear = "clear_end" in flags
    reason = "reason" in flags
    offer = "transition_offer" in flags
    soothing = bool(flags & SOOTHING_FLAGS)
    good = clear or reason or offer or soothing or rec["overall"] >= 60
    pushes = u_push < pbc  # the client digs in this turn

    if offer:
        st["transition_offered"] = True
    if reason and (st["announced"] or clear or hedge):
        st["reason_given"] = True

    if hostile:
        st["escalations"] += 1
        if st["escalations"] > int(p["patience"]):
            return "closing", "escalate", "client_left"
        st["extra_backlash"] = min(
            MAX_EXTRA_BACKLASH, st["extra_backlash"] + int(p["escalation_extra"])
        )
        st["backlash_needed"] = int(p["backlash_rounds"]) + st["extra_backlash"]
        if phase == "opening":
            if clear:
                st["announced"] = True
                return "announcing", "escalate", None
            return "opening", "escalate", None
        if phase == "announcing":
            return "announcing", "escalate", None
        return "backlash", "escalate", None

    if hedge and u_mis < float(p["misunderstand_chance"]):
        st["misunderstandings"] += 1
        st["stalls"] += 1
        return phase, "misunderstand", None

    if phase == "opening":
        if clear or hedge:  # a hedge that was understood still announces the end
            st["announced"] = True
            if st["reason_given"]:
                return "reasons", ("accept_closer" if not pushes else "push_back"), None
            return "announcing", ("accept_closer" if soothing and not pushes else "push_back"), None
        st["stalls"] += 1
        return "opening", "push_back", None

    if phase == "announcing":
        if st["reason_given"] and good:
            return "reasons", ("accept_closer" if not pushes else "push_back"), None
        st["stalls"] += 1
        if st["stalls"] >= STALL_LIMIT:  # the client stops asking "why" and just resists
            return _backlash_step(st, rec, good, clear or reason or soothing, pushes, offer)
        return (
            "announcing",
            ("accept_closer" if (clear or soothing) and not pushes else "push_back"),
            None,
        )

    if phase in ("reasons", "backlash"):
        return _backlash_step(st, rec, good, clear or reason or soothing, pushes, offer)

    if phase == "transition":
        if offer or (st["transition_offered"] and (good or not pushes)):
            return "closing", "accept", "accepted"
        st["stalls"] += 1
        if st["stalls"] >= STALL_LIMIT:
            return "closing", "push_back", "unresolved"
        return "transition", ("accept_closer" if good and not pushes else "push_back"), None

    return "closing", "push_back", "unresolved"  # unknown phase in an old state: end politely


def _backlash_step(
    st: dict, rec: dict, good: bool, firm: bool, pushes: bool, offer: bool
) -> tuple[str, str, str | None]:
    p = st["params"]
    needed = st["backlash_needed"]
    if offer:
        if p["calm_on_offer"] == "full":
            st["backlash_done"] = max(st["backlash_done"], needed)
            return "transition", "calm", None
        remaining = max(0, needed - st["backlash_done"])
        st["backlash_done"] += max(1, math.ceil(remaining / 2))
        if st["backlash_done"] >= needed:
            return "transition", "calm", None
        return "backlash", "calm", None
    if not good and pushes:  # weak turn, the client digs in: no progress
        st["stalls"] += 1
        return "backlash", "push_back", None
    if st["backlash_done"] >= needed:
        return "transition", ("calm" if st["transition_offered"] else "accept_closer"), None
    st["backlash_done"] += 1
    return "backlash", ("accept_closer" if firm and not pushes else "push_back"), None


def turn(
    state: Mapping[str, Any],
    user_text: str,
    analysis: Any = None,
    *,
    scenarios: Mapping[str, Scenario] | None = None,
) -> tuple[dict, list[str], bool]:
    """One user turn: (new state, [client line (+ coach's end note)], finished).

    ``analysis`` is the rubric result for ``user_text``; ``None`` rates it with the real rubric.
    The input state is not modified.
    """
    st = copy.deepcopy(dict(state))
    if st.get("finished"):
        return st, [_coach(text("roleplay", "already_finished.0"))], True
    scenario = _scenario(st["scenario_id"], scenarios)
    if not (user_text or "").strip():  # nothing said: no turn is used up
        return (
            st,
            [_coach(pick("roleplay", "empty_turn", _rng(st, "empty"), **_values(scenario, st)))],
            False,
        )
    if analysis is None:
        analysis = analyse(user_text, st)
    rec = _record(analysis)
    phase_before = st["phase"]
    answered = st["transcript"][-1].get("reaction") if st["transcript"] else None
    st["turn"] += 1
    st["paused"] = False
    rng = _rng(st, "turn")
    u_mis, u_push = rng.random(), rng.random()
    phase, reaction, outcome = _react(st, rec, u_mis, u_push)
    if outcome is None and st["turn"] >= st["max_turns"]:
        phase, reaction, outcome = (
            "closing",
            ("escalate" if reaction == "escalate" else "push_back"),
            "unresolved",
        )
    if phase != phase_before:
        st["stalls"] = 0
    line_id, line = _pick_line(st, scenario, phase, reaction, rng)
    st["phase"] = phase
    if phase == "backlash":
        st["backlash_rounds"] += 1
    st["last_client_line"] = line
    st["turns"].append(
        {
            "n": st["turn"],
            "text": user_text,
            "phase": phase_before,
            "answered": answered,
            "reaction": reaction,
            **rec,
        }
    )
    st["transcript"].append({"speaker": "user", "phase": phase_before, "text": user_text})
    st["transcript"].append(
        {
            "speaker": "client",
            "phase": phase,
            "reaction": reaction,
            "text": line,
            "line_id": line_id,
        }
    )
    messages = [_client(scenario, line)]
    if outcome is not None:
        st["finished"] = True
        st["outcome"] = outcome
        rng_end = _rng(st, "finished")
        note = pick("roleplay", f"finished.{outcome}", rng_end, **_values(scenario, st))
        messages.append(_coach(note))
    return st, messages, st["finished"]


# --------------------------------------------------------------------------- hint / pause


def hint(state: Mapping[str, Any]) -> str:
    """An out-of-character tip for the user's next turn (does not change the state)."""
    if state.get("finished"):
        key = "finished"
    else:
        last = state["turns"][-1] if state.get("turns") else None
        flags = set(last["flags"]) if last else set()
        phase = state["phase"]
        remaining = state["backlash_needed"] - state["backlash_done"]
        if last and _hostile(last):
            key = "respect"
        elif "hedging" in flags:
            key = "hedging"
        elif phase == "opening":
            key = "announce"
        elif phase == "announcing":
            key = "calm" if state.get("reason_given") else "reason"
        elif phase in ("reasons", "backlash"):
            key = (
                "transition" if (remaining <= 1 and not state.get("transition_offered")) else "calm"
            )
        elif phase == "transition":
            key = "appreciation" if state.get("transition_offered") else "transition"
        else:
            key = "finished"
    rng = _rng(state, f"hint|{len(state.get('turns', []))}")
    return _coach(pick("roleplay", f"hint.{key}", rng))


def pause(state: Mapping[str, Any]) -> tuple[dict, list[str]]:
    """Step out of the role (the state is kept and can be resumed)."""
    st = copy.deepcopy(dict(state))
    st["paused"] = True
    return st, [_coach(pick("roleplay", "pause", _rng(st, "pause")))]


def resume(
    state: Mapping[str, Any], scenarios: Mapping[str, Scenario] | None = None
) -> tuple[dict, list[str]]:
    """Back into the role: reminds the user of the client's last line."""
    st = copy.deepcopy(dict(state))
    st["paused"] = False
    scenario = _scenario(st["scenario_id"], scenarios)
    intro = text("roleplay", "resume.0", **_values(scenario, st))
    return st, [_coach(intro), _client(scenario, st["last_client_line"])]


# --------------------------------------------------------------------------- summary

_SENTENCE_RE = re.compile(r"(?<=[.!?…])\s+")


def _sentences(text: str) -> list[str]:
    parts = [s.strip() for s in _SENTENCE_RE.split(text.strip()) if s.strip()]
    return parts or [text.strip()]


def _default_scorer(sentence: str, under_backlash: bool) -> Any:
    """Rate one sentence with the real rubric (the summary's default scorer)."""
    return rubric.assess(sentence, under_backlash=under_backlash)


def _suggest(criterion: str, sentence: str) -> str | None:
    out = rubric.suggest(criterion, sentence)
    return str(out) if out else None


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _weakest_quote(turn_rec: Mapping[str, Any], criterion: str, scorer: Callable | None) -> str:
    """The user's weakest sentence of a turn for ``criterion`` (whole turn if it cannot tell)."""
    text = turn_rec["text"].strip()
    sentences = _sentences(text)
    if len(sentences) > 1 and scorer is not None:
        scored = []
        for i, s in enumerate(sentences):
            sc = _record(scorer(s, turn_rec["phase"] != "opening"))["scores"].get(criterion)
            scored.append((1.0 if sc is None else sc, i, s))
        return min(scored)[2]
    return text if len(text) <= 220 else text[:217].rstrip() + "…"


def _pool(turns: list[Mapping[str, Any]], criterion: str) -> list[Mapping[str, Any]]:
    """The turns that count for a criterion."""
    pool = [t for t in turns if criterion in t["scores"]]
    if criterion == "calm":  # calm is about answering the client's resistance
        rel = [
            t
            for t in pool
            if t["phase"] != "opening"
            and t.get("answered") in (None, "push_back", "escalate", "misunderstand")
        ]
        rel = rel or [t for t in pool if t["phase"] != "opening"]
    elif criterion == "clarity":  # the announcement, and every turn that states or blurs the end
        rel = [
            t
            for t in pool
            if t["phase"] in ("opening", "announcing") or {"hedging", "clear_end"} & set(t["flags"])
        ]
    else:
        rel = pool
    return rel or pool


def summary(
    state: Mapping[str, Any], scorer: Callable[[str, bool], Any] | None | str = "auto"
) -> dict[str, Any]:
    """Evaluation of the role-play so far.

    ``criteria``: per-criterion mean over the user's turns that count for it (``calm``: answers
    to the client's resistance after the announcement; ``clarity``: the announcement and every
    turn that states or hedges the end; others: all turns). ``conversation``: the same, except
    that reasons/transition/appreciation take the best turn (once is enough). ``overall``:
    0–100, mean of ``conversation``.
    ``weakest``: the two weakest criteria, each with the user's weakest sentence for it.
    ``scorer(sentence, under_backlash)`` rates single sentences to find that sentence
    (default: the real rubric; ``None``: quote the whole turn).
    """
    if scorer == "auto":
        scorer = _default_scorer
    turns = list(state.get("turns", []))
    criteria: dict[str, float | None] = {}
    conversation: dict[str, float | None] = {}
    for c in CRITERIA:
        vals = [t["scores"][c] for t in _pool(turns, c)]
        criteria[c] = _mean(vals)
        conversation[c] = (max(vals) if vals else None) if c in ONCE_CRITERIA else _mean(vals)
    rated = [v for v in conversation.values() if v is not None]
    overall = round(100 * sum(rated) / len(rated)) if rated else 0

    weakest = []
    order = sorted((v, CRITERIA.index(c), c) for c, v in conversation.items() if v is not None)
    for v, _, c in order[:2]:
        pool = _pool(turns, c)
        low = min(t["scores"][c] for t in pool)
        tied = [t for t in pool if t["scores"][c] == low]
        relevant = [t for t in tied if t["phase"] in _RELEVANT_PHASES.get(c, ())]
        chosen = (relevant or tied)[-1]
        quote = _weakest_quote(chosen, c, scorer if callable(scorer) else None)
        weakest.append(
            {
                "criterion": c,
                "label": text("roleplay", f"feedback.labels.{c}"),
                "score": v,
                "turn": chosen["n"],
                "quote": quote,
                "tip": text("roleplay", f"feedback.tips.{c}"),
                "suggestion": _suggest(c, quote) if callable(scorer) else None,
            }
        )

    return {
        "scenario_id": state["scenario_id"],
        "difficulty": state["difficulty"],
        "finished": bool(state.get("finished")),
        "outcome": state.get("outcome"),
        "turn_count": len(turns),
        "backlash_rounds": state.get("backlash_rounds", 0),
        "escalations": state.get("escalations", 0),
        "misunderstandings": state.get("misunderstandings", 0),
        "criteria": criteria,
        "conversation": conversation,
        "overall": overall,
        "turn_overall_mean": _mean([t["overall"] for t in turns]),
        "turns": [
            {
                "n": t["n"],
                "text": t["text"],
                "phase": t["phase"],
                "reaction": t["reaction"],
                "scores": dict(t["scores"]),
                "overall": t["overall"],
                "flags": list(t["flags"]),
            }
            for t in turns
        ],
        "weakest": weakest,
    }


def feedback(
    state: Mapping[str, Any],
    scenarios: Mapping[str, Scenario] | None = None,
    scorer: Callable[[str, bool], Any] | None | str = "auto",
) -> list[str]:
    """The summary as German chat messages for the user (du-form)."""
    scenario = _scenario(state["scenario_id"], scenarios)
    s = summary(state, scorer=scorer)
    if not s["turns"]:
        return [_coach(text("roleplay", "feedback.no_turns"))]
    values = _values(scenario, state)
    out = [text("roleplay", "feedback.header.0", **values, overall=s["overall"])]
    if s["outcome"]:
        out.append(text("roleplay", f"feedback.outcome.{s['outcome']}", **values))
    out.append(text("roleplay", "feedback.rounds", **s))
    out.append(
        " · ".join(
            text(
                "roleplay",
                "feedback.criterion_line",
                label=text("roleplay", f"feedback.labels.{c}"),
                percent=round(100 * v),
            )
            for c, v in s["conversation"].items()
            if v is not None and c in CRITERIA
        )
    )
    if s["weakest"]:
        out.append(text("roleplay", "feedback.weakest_intro"))
        for w in s["weakest"]:
            tip = w["suggestion"] or w["tip"]
            out.append(
                text("roleplay", "feedback.weakest", label=w["label"], quote=w["quote"], tip=tip)
            )
    return [_coach(x) for x in out]


# --------------------------------------------------------------------------- catalogue


def list_scenarios(scenarios: Mapping[str, Scenario] | None = None) -> list[dict[str, Any]]:
    """id, title, case and persona of every loaded scenario (sorted by id)."""
    return [
        {
            "id": s.id,
            "title": s.title,
            "case": s.case,
            "name": s.persona.name,
            "company": s.persona.company,
        }
        for s in sorted(_scenarios(scenarios).values(), key=lambda s: s.id)
    ]


def pick_scenario(
    case: str | None = None, seed: int = 0, scenarios: Mapping[str, Scenario] | None = None
) -> str:
    """A scenario id, preferring those tagged with ``case`` (deterministic for a seed)."""
    pool = sorted(_scenarios(scenarios).values(), key=lambda s: s.id)
    if not pool:
        raise UnknownScenario("(keine Szenarien geladen)")
    matching = [s for s in pool if case and s.case == case] or pool
    return random.Random(f"pick|{case}|{seed}").choice(matching).id


__all__ = [
    "CRITERIA",
    "MAX_TURNS",
    "PHASES",
    "UnknownScenario",
    "analyse",
    "feedback",
    "hint",
    "list_scenarios",
    "pause",
    "pick_scenario",
    "restart",
    "resume",
    "start",
    "summary",
    "texts",
    "turn",
]
