"""Role-play engine: the coach plays a difficult client, the user ends the relationship.

Pure functions over a plain, JSON-serialisable ``state`` dict (it lives in a Rasa slot and is
written every turn, so it holds only what is needed: the user's turns with their scores and
the ids of the client's lines – :func:`transcript` turns them back into sentences).
Given the same seed, scenario and user turns, the conversation is always the same.

Phases follow the seeds' steps (000 "Schluss machen in fünf Schritten", 002):
``opening`` → ``announcing`` (the end has been announced) → ``reasons`` (a reason was given)
→ ``backlash`` (N rounds, by difficulty) → ``transition`` (handover) → ``closing``.

The client listens: every user turn is read for what it does (``acts.py``: announce, reason,
handover, thanks, apology, question, offer, says little, off topic, attack), and the state
keeps what the conversation has established (``facts``: the end announced, a reason given,
a handover offered, an offer made, the client's own concessions). The client

* answers a question, an offer, an apology, thanks, near-silence and small talk with the
  scenario's ``answers`` lines (an offer of a discount, a deadline or a payment plan is
  exploited at higher levels: extra backlash rounds),
* reacts to blame / sarcasm / insults by escalating; when the patience is used up he leaves,
* misunderstands hedging: a vague turn always, a hedged announcement with the level's
  probability (the phase does not advance),
* otherwise moves through the phases: clear statements, reasons and calm answers make
  progress, a handover offer calms (fully at levels 1–2, half at level 3),
* never says a line whose conditions do not hold (``lines.py``): nothing about an
  announcement that has not happened, nothing that contradicts what he conceded.

The role-play ends when the client accepts (only after the end, a reason and a handover were
on the table), leaves angrily, or wraps up: after ``MAX_IDLE`` turns in a row that bring
nothing new, or at the latest after ``max_turns`` user turns.
"""

from __future__ import annotations

import copy
import math
import random
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from bot import rubric
from bot.rubric.conversation import named
from bot.texts import load, pick, text

from . import lines as client_lines
from .acts import HOSTILE_FLAGS, TurnActs, detect
from .scenarios import DIFFICULTY_LEVELS, PHASES, Scenario, default_scenarios

STATE_VERSION = 2
MAX_TURNS = 14
#: turns without progress after which the client moves on (announcing) or closes (transition)
STALL_LIMIT = 3
#: turns in a row that bring nothing new (silence, small talk, …) after which the client ends
MAX_IDLE = 5
#: cap for backlash rounds added by escalations and exploited offers
MAX_EXTRA_BACKLASH = 5

#: rubric criteria (CONTRACT.md); importing ``bot.rubric`` is cheap, spaCy loads on first use
CRITERIA: tuple[str, ...] = ("clarity", "reasons", "respect", "transition", "appreciation", "calm")
SOOTHING_FLAGS = frozenset({"deescalation", "thanks"})
#: acts the client answers from the scenario's ``answers`` lines
ANSWERED_ACTS = frozenset({"question", "offer", "silence", "off_topic", "apology", "thanks"})
#: reactions that count as resistance (push-back) of the client
RESISTANCE = frozenset({"push_back", "escalate", "misunderstand"})
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


@dataclass
class _Reply:
    """How the client answers a turn: phase, reaction, answers key (or None), outcome."""

    phase: str
    reaction: str
    answer: str | None = None
    outcome: str | None = None


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
    # no evidence (matched words): the state is written every turn and nothing reads them
    return {"scores": scores, "flags": flags, "overall": round(overall, 2)}


def analyse(text: str, state: Mapping[str, Any]) -> Any:
    """Rate a user turn with the real rubric.

    Returns:
        The rubric's ``Assessment``; turns after the opening count as answers under backlash.
    """
    return rubric.assess(text, under_backlash=state.get("phase", "opening") != "opening")


def transcript(
    state: Mapping[str, Any], scenarios: Mapping[str, Scenario] | None = None
) -> list[dict[str, Any]]:
    """The conversation so far: the client's opener, then user turn and client reply in turn.

    Returns:
        Entries ``{"speaker": "client"|"user", "phase", "text"}``; the client's also carry
        ``reaction`` and ``line_id``.
    """
    scenario = _scenario(state["scenario_id"], scenarios)
    out: list[dict[str, Any]] = []
    replies = list(state.get("replies", []))
    for i, (phase, reaction, line_id) in enumerate(replies):
        if i > 0 and i - 1 < len(state.get("turns", [])):
            user = state["turns"][i - 1]
            out.append({"speaker": "user", "phase": user["phase"], "text": user["text"]})
        out.append(
            {
                "speaker": "client",
                "phase": phase,
                "reaction": reaction,
                "text": client_lines.line_text(scenario, line_id),
                "line_id": line_id,
            }
        )
    return out


def resistance(state: Mapping[str, Any]) -> int:
    """How many of the client's replies pushed back, escalated or misunderstood."""
    return sum(1 for _, reaction, _ in state.get("replies", [])[1:] if reaction in RESISTANCE)


# --------------------------------------------------------------------------- the client's line


def _say(st: dict, scenario: Scenario, reply: _Reply, rng: random.Random) -> str:
    """Pick the client's line for ``reply``, record it (id and concessions), return its text."""
    groups = []
    if reply.answer:
        groups += client_lines.answer_candidates(scenario, reply.answer)
    groups += client_lines.phase_candidates(scenario, reply.phase, reply.reaction)
    used = [line_id for _, _, line_id in st["replies"]]
    chosen = client_lines.pick(groups, st["difficulty"], st["facts"], used, rng)
    line_id, line, meta = chosen or ("fallback.none[0]", "…", None)
    if meta is not None and meta.concedes:
        st["facts"] = sorted({*st["facts"], *meta.concedes})
    st["replies"].append([reply.phase, reply.reaction, line_id])
    st["last_client_line"] = line
    return line


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
        "facts": [],
        "backlash_needed": int(params["backlash_rounds"]),
        "backlash_done": 0,
        "backlash_rounds": 0,
        "extra_backlash": 0,
        "escalations": 0,
        "misunderstandings": 0,
        "stalls": 0,
        "idle": 0,
        "replies": [],
        "last_client_line": "",
        "turns": [],
        "paused": False,
        "finished": False,
        "outcome": None,
    }
    rng = _rng(state, "start")
    messages = _briefing(scenario, state, rng)
    line = _say(state, scenario, _Reply("opening", "neutral"), rng)
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


def _add_facts(st: dict, *facts: str) -> None:
    st["facts"] = sorted({*st["facts"], *facts})


def _establish(st: dict, acts: TurnActs, hedge_understood: bool) -> None:
    """Record what the turn put on the table (announcement, reason, handover, offer, …)."""
    if "announce" in acts or hedge_understood:
        st["announced"] = True
        _add_facts(st, "announced")
    if acts.acts & {"reason", "report"} and st["announced"]:
        st["reason_given"] = True
        _add_facts(st, "reason")
    if "handover" in acts:
        st["transition_offered"] = True
        _add_facts(st, "handover", *acts.handover)
    _add_facts(st, *(a for a in ("thanks", "apology", "offer", "report") if a in acts))


def _names_real_reason(scenario: Scenario, st: Mapping[str, Any], user_text: str) -> bool:
    """Whether the user has named the scenario's real reason to end (``reason_topics``).

    A client answers "Angeschrien? Ich war nur laut" only to a user who spoke of the shouting,
    not to "wir haben keine Kapazitäten mehr"; a scenario without topics takes any reason.
    """
    if not scenario.reason_topics:
        return True
    said = " ".join([*(str(t.get("text", "")) for t in st["turns"]), user_text])
    return bool(named(said, scenario.reason_topics))


def _answer_key(st: dict, acts: TurnActs) -> str | None:
    """The ``answers`` section that answers the turn, or None (the phase lines answer it)."""
    if "silence" in acts:
        return "silence"
    if "offer" in acts:
        return f"offer.{acts.offer}"
    if acts.substantive:
        return None
    if "off_topic" in acts:
        return "off_topic"
    if "question" in acts:
        return f"question.{acts.question}"
    if "apology" in acts:
        return "apology"
    if "thanks" in acts and not (st["phase"] == "transition" and st["transition_offered"]):
        return "thanks"
    return None


def _escalate(st: dict) -> _Reply:
    p = st["params"]
    st["escalations"] += 1
    if st["escalations"] > int(p["patience"]):
        return _Reply("closing", "escalate", outcome="client_left")
    _add_backlash(st, int(p["escalation_extra"]))
    if st["phase"] == "opening":
        return _Reply("announcing" if st["announced"] else "opening", "escalate")
    if st["phase"] == "announcing":
        return _Reply("announcing", "escalate")
    return _Reply("backlash", "escalate")


def _add_backlash(st: dict, extra: int) -> None:
    st["extra_backlash"] = min(MAX_EXTRA_BACKLASH, st["extra_backlash"] + extra)
    st["backlash_needed"] = int(st["params"]["backlash_rounds"]) + st["extra_backlash"]


def _react(st: dict, rec: dict, acts: TurnActs, u_mis: float, u_push: float) -> _Reply:
    """Update the counters in ``st`` for one user turn and decide how the client answers."""
    p = st["params"]
    flags = set(rec["flags"])
    if _hostile(rec):
        _establish(st, acts, False)
        return _escalate(st)
    # a hedged turn blurs the end: a vague one is never taken as the announcement, a hedged
    # announcement is understood with the level's chance; a hedged question is still a question
    hedge = "hedging" in flags and not acts.acts & ANSWERED_ACTS
    understood = "hedged_announce" in acts and u_mis >= float(p["misunderstand_chance"])
    if hedge and not understood:
        st["misunderstandings"] += 1
        st["stalls"] += 1
        return _Reply(st["phase"], "misunderstand")
    _establish(st, acts, understood)
    pushes = u_push < float(p["push_back_chance"])
    answer = _answer_key(st, acts)
    if answer is None:
        return _phase_step(st, rec, acts, pushes)
    section = answer.split(".", 1)[0]
    if section == "offer":
        return _offer_step(st, rec, acts, pushes, answer)
    if section in ("apology", "thanks") and (section == "thanks" or p["apology_calms"]):
        if st["phase"] in ("reasons", "backlash"):  # a calming turn under backlash
            reply = _backlash_step(st, True, True, pushes, False)
            return _Reply(reply.phase, reply.reaction, answer)
        return _Reply(st["phase"], "accept_closer" if st["announced"] else "neutral", answer)
    st["stalls"] += 1
    return _Reply(st["phase"], "answer" if section == "question" else "push_back", answer)


def _offer_step(st: dict, rec: dict, acts: TurnActs, pushes: bool, answer: str) -> _Reply:
    """An offer (discount, deadline, payment plan): taken at level 1, exploited above."""
    exploit = int(st["params"]["offer_exploit"])
    if exploit and st["announced"]:
        _add_backlash(st, exploit)
    if acts.substantive:
        reply = _phase_step(st, rec, acts, pushes)
        if not exploit:
            return _Reply(reply.phase, reply.reaction, answer, reply.outcome)
        if reply.outcome == "accepted":  # he takes the offer and haggles instead of closing
            return _Reply(st["phase"], "push_back", answer)
        return _Reply(reply.phase, "push_back", answer, reply.outcome)
    st["stalls"] += 1
    return _Reply(st["phase"], "push_back" if exploit else "calm", answer)


def _phase_step(st: dict, rec: dict, acts: TurnActs, pushes: bool) -> _Reply:
    """The phase machine for a turn that is not answered from the ``answers`` lines."""
    flags = set(rec["flags"])
    phase = st["phase"]
    clear = "announce" in acts
    offer = "handover" in acts
    soothing = bool(flags & SOOTHING_FLAGS) or bool(acts.acts & {"empathy", "thanks"})
    firm = clear or "reason" in acts or "report" in acts or soothing
    good = firm or offer or rec["overall"] >= 60

    if phase == "opening":
        if st["announced"]:
            if st["reason_given"]:
                return _Reply("reasons", _first_reaction_to_reason(st, pushes))
            return _Reply("announcing", "accept_closer" if soothing and not pushes else "push_back")
        st["stalls"] += 1
        return _Reply("opening", "push_back")

    if phase == "announcing":
        if st["reason_given"] and good:
            return _Reply("reasons", _first_reaction_to_reason(st, pushes))
        st["stalls"] += 1
        if st["stalls"] >= STALL_LIMIT:  # the client stops asking "why" and just resists
            return _backlash_step(st, good, firm, pushes, offer)
        return _Reply("announcing", "accept_closer" if firm and not pushes else "push_back")

    if phase in ("reasons", "backlash"):
        return _backlash_step(st, good, firm, pushes, offer)

    if phase == "transition":
        if st["transition_offered"] and (offer or good or not pushes):
            return _Reply("closing", "accept", outcome="accepted")
        st["stalls"] += 1
        if st["stalls"] >= STALL_LIMIT:
            return _Reply("closing", "push_back", outcome="unresolved")
        return _Reply("transition", "accept_closer" if good and not pushes else "push_back")

    return _Reply("closing", "push_back", outcome="unresolved")  # unknown phase: end politely


def _first_reaction_to_reason(st: dict, pushes: bool) -> str:
    """A tough client (two or more backlash rounds ahead) never takes the reason at once."""
    if pushes or st["backlash_needed"] > 1:
        return "push_back"
    return "accept_closer"


def _backlash_step(st: dict, good: bool, firm: bool, pushes: bool, offer: bool) -> _Reply:
    p = st["params"]
    needed = st["backlash_needed"]
    if offer:
        if p["calm_on_offer"] == "full":
            st["backlash_done"] = max(st["backlash_done"], needed)
            return _Reply("transition", "calm")
        remaining = max(0, needed - st["backlash_done"])
        st["backlash_done"] += max(1, math.ceil(remaining / 2))
        if st["backlash_done"] >= needed:
            return _Reply("transition", "calm")
        return _Reply("backlash", "calm")
    if not good and pushes:  # weak turn, the client digs in: no progress
        st["stalls"] += 1
        return _Reply("backlash", "push_back")
    if st["backlash_done"] >= needed:
        return _Reply("transition", "calm" if st["transition_offered"] else "accept_closer")
    st["backlash_done"] += 1
    # the client gives ground only in the second half of the backlash: resistance first
    yielding = 2 * st["backlash_done"] >= needed
    return _Reply("backlash", "accept_closer" if firm and not pushes and yielding else "push_back")


def _upgrade(st: dict) -> dict:
    """A state of version 1 (a role-play running across an update) gets the new fields."""
    if st.get("version", 1) < STATE_VERSION:
        facts = [
            f
            for f, key in (
                ("announced", "announced"),
                ("reason", "reason_given"),
                ("handover", "transition_offered"),
            )
            if st.get(key)
        ]
        st.setdefault("facts", facts)
        st.setdefault("idle", 0)
        st.setdefault("replies", [])
        st.pop("transcript", None)
        st.pop("used_lines", None)
        st["version"] = STATE_VERSION
    return st


def _progress(st: Mapping[str, Any]) -> tuple:
    """What counts as the conversation moving on: new facts, backlash rounds worked off."""
    return (tuple(st["facts"]), st["backlash_done"])


def _wrap_up(st: dict, reply: _Reply) -> _Reply:
    """The client ends a conversation that goes nowhere (or has gone on too long)."""
    if reply.outcome is not None:
        return reply
    if st["turn"] >= st["max_turns"] or st["idle"] >= MAX_IDLE:
        return _Reply(
            "closing",
            "escalate" if reply.reaction == "escalate" else "push_back",
            None,
            "unresolved",
        )
    return reply


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
    st = _upgrade(copy.deepcopy(dict(state)))
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
    acts = detect(user_text, rec["flags"])
    phase_before = st["phase"]
    progress_before = _progress(st)
    answered = st["replies"][-1][1] if st["replies"] else None
    st["turn"] += 1
    st["paused"] = False
    rng = _rng(st, "turn")
    u_mis, u_push = rng.random(), rng.random()
    reply = _react(st, rec, acts, u_mis, u_push)
    moved = reply.phase != phase_before or _progress(st) != progress_before
    st["idle"] = 0 if moved or reply.reaction == "escalate" else st["idle"] + 1
    reply = _wrap_up(st, reply)
    facts = st["facts"]
    if (
        "reason" in facts
        and "real_reason" not in facts
        and _names_real_reason(scenario, st, user_text)
    ):
        _add_facts(st, "real_reason")
    if reply.phase != phase_before:
        st["stalls"] = 0
    line = _say(st, scenario, reply, rng)
    st["phase"] = reply.phase
    if reply.phase == "backlash":
        st["backlash_rounds"] += 1
    st["turns"].append(
        {
            "n": st["turn"],
            "text": user_text,
            "phase": phase_before,
            "answered": answered,
            "reaction": reply.reaction,
            "acts": sorted(acts.acts),
            **rec,
        }
    )
    messages = [_client(scenario, line)]
    if reply.outcome is not None:
        st["finished"] = True
        st["outcome"] = reply.outcome
        rng_end = _rng(st, "finished")
        note = pick("roleplay", f"finished.{reply.outcome}", rng_end, **_values(scenario, st))
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
        elif last and "offer" in last.get("acts", ()):
            key = "offer"
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


def summary(
    state: Mapping[str, Any], scorer: Callable[[str, bool], Any] | None | str = "auto"
) -> dict[str, Any]:
    """Evaluation of the role-play so far (see :func:`bot.roleplay.evaluation.summary`).

    ``scorer(sentence, under_backlash)`` rates the user's sentences (default ``"auto"``: the
    real rubric; ``None``: the ratings stored with the turns).
    """
    from .evaluation import summary as judged_summary

    scenario = _scenarios(None).get(state["scenario_id"])
    return judged_summary(state, scorer=scorer, scenario=scenario)


def feedback(
    state: Mapping[str, Any],
    scenarios: Mapping[str, Scenario] | None = None,
    scorer: Callable[[str, bool], Any] | None | str = "auto",
) -> list[str]:
    """The evaluation as German chat messages for the user (see ``bot.roleplay.evaluation``)."""
    from .evaluation import feedback as judged_feedback

    scenario = _scenario(state["scenario_id"], scenarios)
    return [_coach(x) for x in judged_feedback(state, scenario, scorer)]


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
