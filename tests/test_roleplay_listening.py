"""The client who listens: dialogue acts, answers per act, facts and concessions, the arc, levels.

Fast unit tests of ``bot.roleplay.acts``, ``bot.roleplay.lines`` and the engine; the user's
turns are rated by a fake rubric (``Fake``) unless a test says otherwise.
"""

from __future__ import annotations

import itertools
import json
import random

import pytest

from bot.roleplay import engine, session
from bot.roleplay.acts import detect
from bot.roleplay.engine import MAX_IDLE, MAX_TURNS, resistance, start, turn
from bot.roleplay.lines import PHASE_NEEDS
from bot.roleplay.scenarios import ANSWER_KINDS, ANSWER_SECTIONS, load_scenarios

SCENARIOS = load_scenarios()
IDS = sorted(SCENARIOS)
LEVELS = (1, 2, 3)


class Fake:
    """Stands in for the rubric: only .scores, .flags and .overall are used."""

    def __init__(self, flags=(), **scores):
        base = dict(
            clarity=0.4, reasons=0.0, respect=0.9, transition=0.0, appreciation=0.0, calm=0.7
        )
        base.update(scores)
        self.scores = base
        self.flags = frozenset(flags)
        self.overall = round(100 * sum(base.values()) / len(base))


ANNOUNCE = (
    "Ich habe entschieden, unsere Zusammenarbeit zum 30. Juni zu beenden.",
    Fake({"clear_end"}, clarity=0.95),
)
REASON = (
    "Der Grund ist, dass die Vereinbarungen immer wieder nicht eingehalten wurden.",
    Fake({"reason"}, reasons=0.9),
)
EMPATHY = ("Ich verstehe, dass Sie das ärgert.", Fake({"deescalation"}, calm=0.9))
FIRM = ("Ich verstehe Sie. Die Entscheidung steht.", Fake({"deescalation", "clear_end"}))
HANDOVER = (
    "Ich übergebe Ihnen bis Ende Juni alle Unterlagen und empfehle Ihnen einen Nachfolger.",
    Fake({"transition_offer"}, transition=0.9),
)
THANKS = ("Vielen Dank für die gemeinsame Zeit.", Fake({"thanks"}, appreciation=0.9))
GOOD = [ANNOUNCE, REASON, EMPATHY, HANDOVER, THANKS, FIRM, HANDOVER, THANKS] + [FIRM, THANKS] * 3
QUESTION = ("Wie sehen Sie das?", Fake())
OFFER = ("Ich kann Ihnen 10 Prozent Rabatt anbieten.", Fake())
DEADLINE = ("Können Sie bis zum 30. zahlen?", Fake())
APOLOGY = ("Das tut mir leid.", Fake())
SILENCE = ("Hm.", Fake(clarity=0.0))


def play(sid, level, seed, script):
    state, _ = start(sid, level, seed, scenarios=SCENARIOS)
    for text, analysis in script:
        state, _, finished = turn(state, text, analysis, scenarios=SCENARIOS)
        if finished:
            break
    return state


def last_line_id(state):
    return state["replies"][-1][2]


def transcript(state):
    return engine.transcript(state, scenarios=SCENARIOS)


# --------------------------------------------------------------------------- dialogue acts


@pytest.mark.parametrize(
    "text,act,kind",
    [
        ("Können Sie bis zum 30. zahlen?", "offer", "deadline"),
        ("Wir können Ihnen 20 Prozent Rabatt auf den Auftrag geben.", "offer", "discount"),
        ("Wir könnten die Summe in drei Raten aufteilen.", "offer", "payment_plan"),
        ("Es tut mir leid, dass es so gekommen ist.", "apology", None),
        ("Entschuldigen Sie bitte die späte Nachricht.", "apology", None),
        ("Hm.", "silence", None),
        ("ok", "silence", None),
        ("Wie war Ihr Urlaub?", "off_topic", None),
        ("Haben Sie noch Fragen?", "question", "next"),
        ("Wann können Sie zahlen?", "question", "when"),
        ("Wie sehen Sie das?", "question", "opinion"),
        ("Wir beenden die Zusammenarbeit zum 31. März.", "announce", None),
        ("Ich übergebe Ihnen alle Unterlagen.", "handover", None),
        ("Vielen Dank für die gemeinsamen Jahre.", "thanks", None),
        ("Sie haben zum dritten Mal 20 Prozent abgezogen.", "report", None),
    ],
)
def test_acts_of_a_turn(text, act, kind):
    found = detect(text)
    assert act in found, found
    if act == "offer":
        assert found.offer == kind
    if act == "question":
        assert found.question == kind


def test_a_reproach_with_a_number_is_no_offer_and_a_handover_date_no_deal():
    assert "offer" not in detect("Sie haben zum dritten Mal 20 Prozent abgezogen.")
    handover = detect("Bis zum 30. Juni übergebe ich Ihnen alle Dateien.")
    assert "handover" in handover and "offer" not in handover


def test_wie_gesagt_is_no_question():
    assert "question" not in detect("Wie gesagt, die Entscheidung steht.")
    assert "question" in detect("Wie sehen Sie das")


def test_hedging_and_hostility_come_from_the_rubric_flags():
    assert "announce" not in detect("Vielleicht beenden wir die Zusammenarbeit.", {"hedging"})
    assert "attack" in detect("Sie sind unmöglich.", {"insult"})


# --------------------------------------------------------------------------- answers per act


def test_every_scenario_has_every_answer_section_for_every_level_and_moment():
    for sid, level, announced in itertools.product(IDS, LEVELS, (False, True)):
        scenario = SCENARIOS[sid]
        facts = {"announced", "reason"} if announced else set()
        for section in ANSWER_SECTIONS:
            keys = [f"{section}.{k}" for k in ANSWER_KINDS.get(section, ())] or [section]
            for key in keys:
                lines = scenario.answer_lines(key) + scenario.answer_lines(f"{section}.other")
                ids = [f"answers.{key}[{i}]" for i in range(len(scenario.answer_lines(key)))]
                ids += [
                    f"answers.{section}.other[{i}]"
                    for i in range(len(scenario.answer_lines(f"{section}.other")))
                ]
                fitting = [i for i in ids if scenario.line_meta(i).allows(level, facts)]
                assert lines and fitting, (sid, level, announced, key)


@pytest.mark.parametrize("sid", IDS)
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    "move,section",
    [(QUESTION, "question"), (OFFER, "offer"), (DEADLINE, "offer"), (APOLOGY, "apology")],
)
def test_a_question_an_offer_and_an_apology_get_an_answer(sid, level, move, section):
    for before in ([], [ANNOUNCE], [ANNOUNCE, REASON]):
        state = play(sid, level, 3, [*before, move])
        line_id = last_line_id(state)
        assert line_id.startswith(f"answers.{section}"), (before, line_id)
        assert "fallback" not in line_id


@pytest.mark.parametrize("sid", IDS)
def test_answers_before_the_announcement_never_presuppose_it(sid):
    for level, seed in itertools.product(LEVELS, range(6)):
        state = play(sid, level, seed, [SILENCE, QUESTION, APOLOGY, THANKS, OFFER, SILENCE])
        for phase, _, line_id in state["replies"]:
            meta = SCENARIOS[sid].line_meta(line_id)
            assert phase == "opening" or state["finished"], line_id
            assert "announced" not in meta.needs, line_id


def test_a_discount_makes_the_price_squeezer_push_harder_at_every_level():
    for level in LEVELS:
        state = play("price_squeezer", level, 1, [ANNOUNCE, REASON])
        needed = state["backlash_needed"]
        state, _, _ = turn(state, *OFFER, scenarios=SCENARIOS)
        assert state["replies"][-1][1] == "push_back"
        assert state["backlash_needed"] > needed
    grown = {
        level: play("price_squeezer", level, 1, [ANNOUNCE, REASON, OFFER])["backlash_needed"]
        - play("price_squeezer", level, 1, [ANNOUNCE, REASON])["backlash_needed"]
        for level in LEVELS
    }
    assert grown[1] < grown[3]


def test_an_offer_is_taken_at_level_1_and_exploited_at_level_3():
    easy = play("late_payer", 1, 0, [ANNOUNCE, DEADLINE])
    hard = play("late_payer", 3, 0, [ANNOUNCE, DEADLINE])
    assert easy["replies"][-1][1] == "calm" and hard["replies"][-1][1] == "push_back"
    assert hard["backlash_needed"] > hard["params"]["backlash_rounds"]


# --------------------------------------------------------------------------- facts, concessions


def _conditions_held(sid, state):
    """The client's newest line fitted what the conversation had established when it was said."""
    line_id = state["replies"][-1][2]
    meta = SCENARIOS[sid].line_meta(line_id)
    facts = set(state["facts"]) - set(meta.concedes)  # before the line's own concession
    implicit = PHASE_NEEDS.get(line_id.split(".", 1)[0], frozenset())  # "backlash.push_back[1]"
    assert set(meta.needs) | implicit <= facts, (line_id, facts)
    assert not set(meta.unless) & facts, (line_id, facts)
    assert not meta.levels or state["difficulty"] in meta.levels, line_id


OFFER_WITH_REASON = (
    "Weil Sie so lange Kunde waren, kann ich Ihnen 10 Prozent Rabatt anbieten.",
    Fake({"reason"}),
)
MOVES = [ANNOUNCE, REASON, EMPATHY, FIRM, HANDOVER, THANKS, QUESTION, OFFER, APOLOGY, SILENCE]
MOVES += [OFFER_WITH_REASON, DEADLINE]


@pytest.mark.parametrize("sid", IDS)
def test_no_line_contradicts_a_concession_or_reacts_to_what_did_not_happen(sid):
    for level, seed in itertools.product(LEVELS, range(15)):
        rng = random.Random(f"{sid}|{level}|{seed}")
        state, _ = start(sid, level, seed, scenarios=SCENARIOS)
        for _ in range(MAX_TURNS):
            state, _, finished = turn(state, *rng.choice(MOVES), scenarios=SCENARIOS)
            _conditions_held(sid, state)
            assert (state["phase"] == "closing") == finished  # no closing without an end
            if finished:
                break


PRETEXT = ("Der Grund ist, dass wir leider keine Kapazitäten mehr haben.", Fake({"reason"}))


def _real_reason(sid):
    """A reason in the scenario's own words (its first ``reason_topics`` stem)."""
    stem = SCENARIOS[sid].reason_topics[0].strip("^$")
    return (f"Der Grund ist das Thema {stem.capitalize()}.", Fake({"reason"}, reasons=0.9))


@pytest.mark.parametrize("sid", IDS)
def test_a_pretext_is_not_answered_as_if_the_real_reason_had_been_named(sid):
    # "Angeschrien? Ich war nur laut" to "wir haben keine Kapazitäten mehr" (issue 11)
    presupposing = {
        f"{phase}.{reaction}[{i}]"
        for phase, reactions in SCENARIOS[sid].phases.items()
        for reaction, lines in reactions.items()
        for i, _ in enumerate(lines)
        if "real_reason" in SCENARIOS[sid].line_meta(f"{phase}.{reaction}[{i}]").needs
    }
    assert presupposing
    answered_pretext = set()
    for level, seed in itertools.product(LEVELS, range(10)):
        state = play(sid, level, seed, [ANNOUNCE, PRETEXT, PRETEXT])
        assert "reason" in state["facts"] and "real_reason" not in state["facts"]
        for _, _, line_id in state["replies"]:
            assert line_id not in presupposing, (level, seed, transcript(state))
            if "real_reason" in SCENARIOS[sid].line_meta(line_id).unless:
                answered_pretext.add(line_id)
        state = play(sid, level, seed, [ANNOUNCE, PRETEXT, _real_reason(sid)])
        assert "real_reason" in state["facts"], _real_reason(sid)
    assert answered_pretext  # the client questions the pretext ("Das ist doch vorgeschoben")


def test_the_lawyer_concession_blocks_every_later_lawyer_threat():
    scenario = SCENARIOS["threatens_reviews"]
    blocked = {
        line
        for phase, reactions in scenario.phases.items()
        for reaction, lines in reactions.items()
        for i, line in enumerate(lines)
        if "lawyer" in scenario.line_meta(f"{phase}.{reaction}[{i}]").unless
    }
    assert any("Anwalt prüft" in line for line in blocked)
    for seed in range(20):
        # the apology before the announcement is answered with the lawyer concession (level 1)
        state = play("threatens_reviews", 1, seed, [APOLOGY])
        assert "lawyer" in state["facts"], transcript(state)[-1]
        for move in [ANNOUNCE, REASON, SILENCE, QUESTION, EMPATHY, OFFER, FIRM, EMPATHY]:
            state, _, finished = turn(state, *move, scenarios=SCENARIOS)
            assert state["last_client_line"] not in blocked
            if finished:
                break


def test_nine_times_hm_never_gets_an_answer_to_an_announcement():
    for sid, level in itertools.product(IDS, LEVELS):
        state = play(sid, level, 0, [SILENCE] * 9)
        assert state["finished"] and state["outcome"] == "unresolved"
        assert state["turn"] == MAX_IDLE  # the client wraps up instead of waiting forever
        assert not state["announced"]
        for phase, _, line_id in state["replies"]:
            assert phase in ("opening", "closing"), line_id
            assert "announced" not in SCENARIOS[sid].line_meta(line_id).needs, line_id


# --------------------------------------------------------------------------- the arc


def test_acceptance_needs_announcement_reason_and_handover():
    for sid, level, seed in itertools.product(IDS, LEVELS, range(4)):
        state = play(sid, level, seed, [ANNOUNCE, EMPATHY, FIRM, THANKS] * 3)
        assert state["outcome"] != "accepted", (sid, level)
        good = play(sid, level, seed, GOOD)
        assert good["outcome"] == "accepted", (sid, level, seed)
        assert {"announced", "reason", "handover"} <= set(good["facts"])


def test_every_roleplay_ends_within_the_turn_limit_with_a_clear_outcome():
    for sid, level, seed in itertools.product(IDS, LEVELS, range(5)):
        rng = random.Random(seed)
        state, _ = start(sid, level, seed, scenarios=SCENARIOS)
        finished, n = False, 0
        while not finished:
            state, msgs, finished = turn(state, *rng.choice(MOVES), scenarios=SCENARIOS)
            n += 1
            assert n <= MAX_TURNS
        assert state["outcome"] in ("accepted", "unresolved", "client_left")
        assert msgs[-1].startswith("Ende des Rollenspiels")


@pytest.mark.parametrize(
    "message",
    [
        "ich möchte das Rollenspiel abbrechen",
        "Lass uns aufhören.",
        "ich will aufhören",
        "abbrechen bitte",
        "Können wir bitte aufhören?",
    ],
)
def test_natural_abort_phrases_stop_the_roleplay(message):
    assert session.command(message) == "stop"


@pytest.mark.parametrize(
    "message",
    [
        "Ich möchte die Zusammenarbeit beenden.",
        "Ich möchte nicht mehr mit Ihnen zusammenarbeiten.",
        "Wir hören zum Monatsende mit der Betreuung auf, weil die Rechnungen offen sind.",
    ],
)
def test_sentences_to_the_client_are_no_abort(message):
    assert session.command(message) is None


# --------------------------------------------------------------------------- difficulty


def test_level_3_opens_differently_from_level_1():
    for sid in IDS:
        easy = {start(sid, 1, seed, scenarios=SCENARIOS)[0]["replies"][0][2] for seed in range(12)}
        hard = {start(sid, 3, seed, scenarios=SCENARIOS)[0]["replies"][0][2] for seed in range(12)}
        assert easy and hard and not easy & hard, sid


@pytest.mark.parametrize("sid", IDS)
def test_the_same_good_user_meets_more_push_back_at_level_3(sid):
    totals = {1: 0, 3: 0}
    for seed in range(8):
        easy = play(sid, 1, seed, GOOD)
        hard = play(sid, 3, seed, GOOD)
        assert easy["outcome"] == hard["outcome"] == "accepted", (seed, sid)
        assert resistance(hard) > resistance(easy), (seed, resistance(easy), resistance(hard))
        assert hard["turn"] > easy["turn"], seed
        totals[1] += resistance(easy)
        totals[3] += resistance(hard)
    assert totals[3] >= 2 * totals[1]


# --------------------------------------------------------------------------- the state


def test_the_state_stays_small_and_keeps_no_client_sentences():
    state = play("extras", 3, 1, [*GOOD[:3], QUESTION, OFFER, *GOOD[3:]])
    dumped = json.dumps(state, ensure_ascii=False)
    for entry in transcript(state)[:-1]:
        if entry["speaker"] == "client":
            assert entry["text"] not in dumped
    assert "transcript" not in state and "used_lines" not in state
    assert len(dumped) < 600 * max(1, state["turn"])


def test_an_old_state_keeps_working():
    state = play("extras", 2, 1, [ANNOUNCE])
    old = {k: v for k, v in state.items() if k not in ("facts", "idle", "replies")}
    old.update(version=1, transcript=[], used_lines=[])
    new, msgs, _ = turn(old, *REASON, scenarios=SCENARIOS)
    assert new["version"] == engine.STATE_VERSION and "reason" in new["facts"] and msgs


def test_once_the_client_accepts_the_decision_he_does_not_ask_for_a_pause():
    vague = ("Naja, mal sehen, vielleicht auch nicht.", Fake({"hedging"}, clarity=0.1))
    for sid, seed in itertools.product(IDS, range(6)):
        state = play(sid, 1, seed, [ANNOUNCE, REASON, HANDOVER])
        assert "decision" in state["facts"], (sid, transcript(state)[-1])
        for _ in range(3):
            state, _, finished = turn(state, *vague, scenarios=SCENARIOS)
            line_id = last_line_id(state)  # transition misunderstandings are about the handover
            phase, reaction = line_id.split("[")[0].rsplit(".", 1)
            assert not (reaction == "misunderstand" and phase != "transition"), (sid, line_id)
            if finished:
                break


def test_an_offer_in_the_handover_phase_is_haggled_over_not_a_silent_end():
    for level in (2, 3):
        state = play("extras", level, 0, [ANNOUNCE, REASON, HANDOVER])
        for _ in range(6):
            if state["phase"] == "transition":
                break
            state, _, _ = turn(state, *HANDOVER, scenarios=SCENARIOS)
        assert state["phase"] == "transition"
        state, _, finished = turn(state, *OFFER_WITH_REASON, scenarios=SCENARIOS)
        assert not finished and state["phase"] == "transition"
        assert state["replies"][-1][1] == "push_back"


def test_the_hint_after_an_offer_warns_against_haggling():
    state = play("price_squeezer", 3, 0, [ANNOUNCE, OFFER])
    assert engine.hint(state) in engine.texts()["hint"]["offer"]


def test_the_client_answers_the_handover_that_was_offered():
    materials = ("Sie bekommen alle Unterlagen und Dateien bis Ende Juni.", Fake())
    for sid, level, seed in itertools.product(IDS, LEVELS, range(4)):
        state = play(sid, level, seed, [ANNOUNCE, REASON, FIRM, materials])
        assert {"handover", "materials"} <= set(state["facts"])
        assert "recommendation" not in state["facts"]
        for entry in transcript(state)[-1:]:
            assert "mpfehl" not in entry["text"], (sid, level, entry["text"])
