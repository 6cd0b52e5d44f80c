"""Feedback after a role-play: each criterion judged over the whole conversation.

``bot.rubric.conversation`` decides the score of each criterion and the user's sentence that
decided it; this module turns that into the summary (stored for progress reports) and the
coach's German messages: what worked, what to work on in plain words (the hedging, the
insult …) with the user's own sentence quoted, and a rewrite built from the scenario's own
facts (``conversation.scenarios`` in ``bot/rubric/suggestions.yml``), never with a
placeholder left to fill in. No Rasa imports; spaCy loads only when the rubric is used.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping, Sequence

from bot.rubric import conversation as conv
from bot.rubric.engine import CRITERIA
from bot.texts import lookup, text

from .lines import line_text
from .scenarios import Scenario

Scorer = Callable[[str, bool], Any]
#: a criterion at or above this needs no work (the progress view recommends nothing then)
GOOD_ENOUGH = conv.GOOD
_ADDRESS_RE = re.compile(r"\b(Frau|Herrn?)\s+([A-ZÄÖÜ][\wäöüß-]+)")


# --------------------------------------------------------------------------- judging


def _under_backlash(turn: Mapping[str, Any]) -> bool:
    return turn.get("phase", "opening") != "opening"


def client_line(
    state: Mapping[str, Any], turn: Mapping[str, Any], scenario: Scenario | None
) -> str:
    """The client's line that user turn ``turn`` answered ("" when it is not known).

    A turn may carry it (``client``); otherwise it is the reply before the turn in
    ``state["replies"]`` (``[phase, reaction, line_id]``; the first reply is the opener).
    """
    if turn.get("client"):
        return str(turn["client"])
    replies = state.get("replies") or []
    index = int(turn["n"]) - 1
    if scenario is None or not 0 <= index < len(replies):
        return ""
    try:
        return line_text(scenario, str(replies[index][2]))
    except (IndexError, KeyError, TypeError, ValueError):
        return ""


def rated_turns(
    state: Mapping[str, Any],
    scorer: Scorer | None | str = "auto",
    scenario: Scenario | None = None,
) -> list:
    """The user's turns of ``state`` rated for the conversation rubric.

    ``scorer``: ``"auto"`` the real rubric sentence by sentence; a callable
    ``scorer(sentence, under_backlash)`` instead of it; ``None`` the ratings stored with the
    turns (whole turns, no sentences). With ``scenario`` each turn knows the client's line it
    answered (calm: being pulled onto the client's side topic).
    """
    out = []
    for t in state.get("turns", []):
        n, said, backlash = int(t["n"]), str(t["text"]), _under_backlash(t)
        if scorer is None:
            out.append(conv.unsplit_turn(n, said, backlash, t))
            continue
        client = client_line(state, t, scenario)
        rated = conv.user_turn(n, said, backlash, None if scorer == "auto" else scorer, client)
        if rated is not None:
            out.append(rated)
    return out


def judge_state(
    state: Mapping[str, Any],
    scorer: Scorer | None | str = "auto",
    scenario: Scenario | None = None,
) -> dict[str, conv.Judgement]:
    """Every criterion of the role-play so far, judged over the whole conversation."""
    topics = scenario.reason_topics if scenario is not None else ()
    turns = rated_turns(state, scorer, scenario)
    return conv.judge(turns, topics, calibrated=scorer == "auto")


# --------------------------------------------------------------------------- rewrites


def scenario_facts(scenario: Scenario) -> dict[str, str]:
    """The scenario's facts for rewrites: its own entry, else what its persona gives."""
    own = lookup("rubric", "conversation.scenarios").get(scenario.id)
    if own:
        return {k: str(v) for k, v in own.items()}
    facts = {k: str(v) for k, v in lookup("rubric", "conversation.generic").items()}
    found = _ADDRESS_RE.search(" ".join([scenario.user_goal, *scenario.persona.history]))
    if found:
        facts["address"] = f"{'Herr' if found.group(1).startswith('Herr') else 'Frau'} {found[2]}"
    else:
        facts["address"] = scenario.persona.name
    return facts


def rewrite(criterion: str, facts: Mapping[str, str]) -> str | None:
    """A better sentence (Sie-form) for ``criterion`` from the facts; None if they lack one."""
    template = lookup("rubric", f"conversation.rewrites.{criterion}")
    needed = re.findall(r"{(\w+)}", str(template))
    if not all(facts.get(k) for k in needed):
        return None
    return text("rubric", f"conversation.rewrites.{criterion}", **facts)


# --------------------------------------------------------------------------- summary


def _label(criterion: str) -> str:
    return text("roleplay", f"feedback.labels.{criterion}")


def _words(words: Sequence[str]) -> str:
    if not words:
        return ""
    items = ", ".join(text("rubric", "conversation.word", word=w) for w in words[:3])
    return text("rubric", "conversation.words", items=items)


def _issue_text(j: conv.Judgement) -> str:
    return text("rubric", f"conversation.issues.{j.criterion}.{j.issue}", words=_words(j.words))


def _weakest(
    judged: Mapping[str, conv.Judgement], facts: Mapping[str, str] | None
) -> list[dict[str, Any]]:
    """The two weakest criteria that a sentence of the user decided (quoted)."""
    weak = sorted(
        (j for j in judged.values() if j.quote and not j.good),
        key=lambda j: (j.own_score, CRITERIA.index(j.criterion)),
    )
    return [
        {
            "criterion": j.criterion,
            "label": _label(j.criterion),
            "score": j.score,
            "turn": j.turn,
            "quote": j.quote,
            "problem": _issue_text(j),
            "tip": text("roleplay", f"feedback.tips.{j.criterion}"),
            "suggestion": rewrite(j.criterion, facts) if facts else None,
        }
        for j in weak[:2]
    ]


def summary(
    state: Mapping[str, Any],
    scorer: Scorer | None | str = "auto",
    scenario: Scenario | None = None,
) -> dict[str, Any]:
    """Evaluation of the role-play so far (JSON-serialisable).

    ``conversation`` (and ``criteria``, the same): each criterion judged over the whole
    conversation; ``overall``: 0–100, their mean. ``judgements``: per criterion the score,
    what decided it (``issue``), the user's sentence (``quote``, ``turn``) and the words that
    went wrong. ``weakest``: the two weakest criteria decided by a quoted sentence, with the
    problem in plain words and (with ``scenario``) a rewrite from the scenario's facts.
    """
    turns = list(state.get("turns", []))
    judged = judge_state(state, scorer, scenario) if turns else {}
    scores: dict[str, float | None] = {c: judged[c].score if judged else None for c in CRITERIA}
    rated = [v for v in scores.values() if v is not None]
    facts = scenario_facts(scenario) if scenario else None
    return {
        "scenario_id": state["scenario_id"],
        "difficulty": state["difficulty"],
        "finished": bool(state.get("finished")),
        "outcome": state.get("outcome"),
        "turn_count": len(turns),
        "backlash_rounds": state.get("backlash_rounds", 0),
        "escalations": state.get("escalations", 0),
        "misunderstandings": state.get("misunderstandings", 0),
        "criteria": dict(scores),
        "conversation": dict(scores),
        "overall": round(100 * sum(rated) / len(rated)) if rated else 0,
        "judgements": {
            c: {
                "score": j.score,
                "own": j.own_score,
                "issue": j.issue,
                "quote": j.quote,
                "turn": j.turn,
                "words": list(j.words),
            }
            for c, j in judged.items()
        },
        "turns": [
            {
                "n": t["n"],
                "text": t["text"],
                "phase": t["phase"],
                "reaction": t.get("reaction"),
                "scores": dict(t.get("scores", {})),
                "overall": t.get("overall"),
                "flags": list(t.get("flags", [])),
            }
            for t in turns
        ],
        "weakest": _weakest(judged, facts),
    }


# --------------------------------------------------------------------------- messages


def _item(criterion: str, comment: str, quote: str | None) -> str:
    label = _label(criterion)
    if quote:
        return text("rubric", "conversation.item_quoted", label=label, quote=quote, comment=comment)
    return text("rubric", "conversation.item", label=label, comment=comment)


def _strengths(s: Mapping[str, Any]) -> list[str]:
    lines = []
    for c in CRITERIA:
        j = s["judgements"].get(c)
        if j and _own(j) >= GOOD_ENOUGH:
            comment = text("rubric", f"conversation.good.{c}")
            lines.append(_item(c, comment, j["quote"] if c not in ("respect", "calm") else None))
    return lines


def _own(j: Mapping[str, Any] | None) -> float:
    """A stored judgement's own score (without the share of the whole conversation)."""
    return 1.0 if not j else float(j.get("own", j["score"]))


def _weaknesses(s: Mapping[str, Any], facts: Mapping[str, str]) -> list[str]:
    """Every criterion below GOOD_ENOUGH, weakest first; a sentence is quoted only once."""
    weak = sorted(
        (c for c in CRITERIA if _own(s["judgements"].get(c)) < GOOD_ENOUGH),
        key=lambda c: (_own(s["judgements"][c]), CRITERIA.index(c)),
    )
    lines, quoted = [], set()
    for c in weak:
        j = s["judgements"][c]
        judgement = conv.Judgement(c, j["score"], j["issue"], j["quote"], j["turn"], j["words"])
        comment = _issue_text(judgement)
        better = rewrite(c, facts)
        if better:
            comment += " " + text("rubric", "conversation.rewrite", rewrite=better)
        quote = j["quote"] if j["quote"] not in quoted else None
        quoted.add(j["quote"])
        lines.append(_item(c, comment, quote))
    return lines


def feedback(
    state: Mapping[str, Any], scenario: Scenario, scorer: Scorer | None | str = "auto"
) -> list[str]:
    """The evaluation as German chat messages for the user (du-form)."""
    s = summary(state, scorer=scorer, scenario=scenario)
    if not s["turns"]:
        return [text("roleplay", "feedback.no_turns")]
    values = {
        "title": scenario.title,
        "name": scenario.persona.name,
        "difficulty": state["difficulty"],
        "overall": s["overall"],
    }
    out = [text("roleplay", "feedback.header.0", **values)]
    if s["outcome"] in lookup("roleplay", "feedback.outcome"):
        out.append(text("roleplay", f"feedback.outcome.{s['outcome']}", **values))
    out.append(text("roleplay", "feedback.rounds", **s))
    out.append(
        " · ".join(
            text("roleplay", "feedback.criterion_line", label=_label(c), percent=round(100 * v))
            for c, v in s["conversation"].items()
            if v is not None
        )
    )
    strengths = _strengths(s)
    if strengths:
        out.append("\n".join([text("rubric", "conversation.strengths_intro"), *strengths]))
    weaknesses = _weaknesses(s, scenario_facts(scenario))
    if weaknesses:
        out.append("\n".join([text("roleplay", "feedback.weakest_intro"), *weaknesses]))
    return out


def focus(latest_percent: Mapping[str, float | None]) -> str | None:
    """The criterion the progress view should recommend: the weakest below GOOD_ENOUGH.

    ``latest_percent`` maps criteria to the last role-play's score in percent (0–100).
    Returns None when every criterion is good enough (nothing to recommend); ties go to the
    contract's order of the criteria.
    """
    values = {
        c: float(v) / 100.0 for c, v in latest_percent.items() if v is not None and c in CRITERIA
    }
    weak = [c for c, v in values.items() if v < GOOD_ENOUGH]
    return min(weak, key=lambda c: (values[c], CRITERIA.index(c))) if weak else None
