"""Role-play engine: scripted conversations with fake rubric results and with the real rubric."""

from __future__ import annotations

import copy
import itertools
import json
import random
import subprocess
import sys

import pytest

from bot.roleplay import engine
from bot.roleplay.engine import (
    MAX_TURNS,
    UnknownScenario,
    feedback,
    hint,
    list_scenarios,
    pause,
    pick_scenario,
    restart,
    resume,
    start,
    summary,
    turn,
)
from bot.roleplay.scenarios import load_scenarios

SCENARIOS = load_scenarios()
IDS = sorted(SCENARIOS)
LEVELS = (1, 2, 3)


class Fake:
    """Stands in for ``bot.rubric.assess(...)``: only .scores, .flags and .overall are used."""

    def __init__(self, flags=(), **scores):
        base = dict(
            clarity=0.3, reasons=0.0, respect=0.9, transition=0.0, appreciation=0.0, calm=0.6
        )
        base.update(scores)
        self.scores = base
        self.flags = frozenset(flags)
        self.overall = round(100 * sum(base.values()) / len(base))


ANNOUNCE = (
    "Ich beende unsere Zusammenarbeit zum 30. Juni, weil die Zusatzleistungen "
    "nicht bezahlt werden.",
    Fake({"clear_end", "reason"}, clarity=0.95, reasons=0.9, calm=0.8),
)
FIRM = (
    "Ich verstehe Ihren Ärger. Die Entscheidung steht.",
    Fake({"deescalation", "clear_end"}, clarity=0.8, calm=0.9),
)
CALM = (
    "Ich kann nachvollziehen, dass Sie das trifft.",
    Fake({"deescalation"}, calm=0.9, clarity=0.4),
)
OFFER = (
    "Ich schicke Ihnen alle Unterlagen und empfehle Ihnen einen anderen Anbieter.",
    Fake({"transition_offer"}, transition=0.9, calm=0.7),
)
THANKS = ("Danke für die gemeinsamen Jahre.", Fake({"thanks"}, appreciation=0.8, calm=0.7))
HEDGE = (
    "Vielleicht sollten wir eventuell die Zusammenarbeit beenden.",
    Fake({"hedging"}, clarity=0.05),
)
BLAME = (
    "Sie zahlen nie pünktlich, das ist allein Ihre Schuld.",
    Fake({"blame", "generalisation"}, respect=0.2, calm=0.2, clarity=0.1),
)
SARCASM = ("Na toll, wie immer.", Fake({"sarcasm"}, respect=0.3, calm=0.1, clarity=0.1))
WEAK = ("Hm, ja, also, das ist alles nicht so einfach.", Fake((), clarity=0.1, calm=0.4))

GOOD_SCRIPT = [ANNOUNCE, FIRM, CALM, FIRM, CALM, OFFER, THANKS, FIRM, CALM, OFFER, THANKS, CALM]
BAD_SCRIPT = [HEDGE, HEDGE, BLAME, HEDGE, SARCASM, WEAK, BLAME, HEDGE, WEAK, HEDGE, SARCASM, WEAK]


def play(scenario_id, level, seed, script, **kw):
    state, messages = start(scenario_id, level, seed, scenarios=SCENARIOS)
    for text, analysis in script:
        state, msgs, finished = turn(state, text, analysis, scenarios=SCENARIOS)
        assert msgs
        if finished:
            break
    return state


def transcript(state):
    return engine.transcript(state, scenarios=SCENARIOS)


def client_lines(state):
    return [t["text"] for t in transcript(state) if t["speaker"] == "client"]


# --------------------------------------------------------------------------- start


def test_start_gives_briefing_and_opening_line():
    state, messages = start("extras", 2, 42, scenarios=SCENARIOS)
    assert 3 <= len(messages) <= 4  # 2–3 briefing lines + the client's opener
    briefing, opener = messages[:-1], messages[-1]
    assert "Frank Albers" in briefing[0] and "Stufe 2" in briefing[0]
    assert any("Ziel" in m or "Aufgabe" in m for m in briefing)
    assert opener.startswith("Frank Albers: ")
    assert opener.split(": ", 1)[1] in SCENARIOS["extras"].lines("opening", "neutral")
    assert state["phase"] == "opening" and state["turn"] == 0 and not state["finished"]
    assert json.loads(json.dumps(state)) == state  # fits into a Rasa slot


def test_start_is_deterministic_per_seed():
    a = start("late_payer", 1, 7, scenarios=SCENARIOS)
    b = start("late_payer", 1, 7, scenarios=SCENARIOS)
    assert a == b
    openers = {start("late_payer", 1, s, scenarios=SCENARIOS)[1][-1] for s in range(20)}
    assert len(openers) > 1  # the seed changes the lines


def test_start_rejects_unknown_scenario_and_level():
    with pytest.raises(UnknownScenario):
        start("does_not_exist", 1, 0, scenarios=SCENARIOS)
    for bad in (0, 4):
        with pytest.raises(ValueError):
            start("extras", bad, 0, scenarios=SCENARIOS)


def test_start_uses_shipped_scenarios_by_default():
    state, _ = start("hurt_polite", 1, 0)
    assert state["scenario_id"] == "hurt_polite"


# --------------------------------------------------------------------------- the course of the talk


def test_good_script_walks_through_all_phases_in_order():
    state = play("extras", 2, 3, GOOD_SCRIPT)
    assert state["outcome"] == "accepted"
    phases = [t["phase"] for t in transcript(state) if t["speaker"] == "client"]
    order = [p for p, _ in itertools.groupby(phases)]
    assert order == ["opening", "reasons", "backlash", "transition", "closing"]
    assert transcript(state)[-1]["reaction"] == "accept"


def test_clear_announcement_without_reason_goes_to_announcing_first():
    announce_only = (
        "Ich beende die Zusammenarbeit zum Monatsende.",
        Fake({"clear_end"}, clarity=0.9),
    )
    state, _ = start("late_payer", 1, 1, scenarios=SCENARIOS)
    state, _, _ = turn(state, *announce_only, scenarios=SCENARIOS)
    assert state["phase"] == "announcing" and state["announced"]
    state, _, _ = turn(state, ANNOUNCE[0], ANNOUNCE[1], scenarios=SCENARIOS)
    assert state["phase"] == "reasons" and state["reason_given"]


def test_well_prepared_user_scores_higher_than_hedging_and_blaming_user():
    for sid, level in itertools.product(IDS, LEVELS):
        good = summary(play(sid, level, 11, GOOD_SCRIPT), scorer=None)
        bad = summary(play(sid, level, 11, BAD_SCRIPT), scorer=None)
        assert good["overall"] >= bad["overall"] + 25, (sid, level, good["overall"], bad["overall"])
        assert good["outcome"] == "accepted"
        assert bad["outcome"] != "accepted"


@pytest.mark.parametrize("sid", IDS)
def test_more_backlash_rounds_at_higher_difficulty(sid):
    for seed in range(5):
        rounds = {lvl: play(sid, lvl, seed, GOOD_SCRIPT)["backlash_rounds"] for lvl in LEVELS}
        assert rounds[1] < rounds[3], rounds
        assert rounds[1] <= rounds[2] <= rounds[3], rounds
    mixed = [ANNOUNCE, FIRM, BLAME, CALM, FIRM, CALM, FIRM, CALM, OFFER, THANKS, CALM, CALM]
    assert play(sid, 1, 0, mixed)["backlash_rounds"] < play(sid, 3, 0, mixed)["backlash_rounds"]


def test_hedging_is_always_misunderstood_at_level_3_and_rarely_at_level_1():
    for sid in IDS:
        state, _ = start(sid, 3, 5, scenarios=SCENARIOS)
        for _ in range(3):
            state, msgs, _ = turn(state, *HEDGE, scenarios=SCENARIOS)
            assert state["phase"] == "opening"  # no progress
            assert transcript(state)[-1]["reaction"] == "misunderstand"
    misunderstood = 0
    for seed in range(60):
        state, _ = start("extras", 1, seed, scenarios=SCENARIOS)
        state, _, _ = turn(state, *HEDGE, scenarios=SCENARIOS)
        misunderstood += transcript(state)[-1]["reaction"] == "misunderstand"
    assert misunderstood < 25


def test_misunderstanding_line_is_taken_from_the_scenario():
    state, _ = start("extras", 3, 0, scenarios=SCENARIOS)
    state, msgs, _ = turn(state, *HEDGE, scenarios=SCENARIOS)
    assert msgs[0].split(": ", 1)[1] in SCENARIOS["extras"].lines("opening", "misunderstand")


def test_blame_escalates_and_adds_backlash_rounds():
    state = play("insults_staff", 2, 0, [ANNOUNCE, FIRM])
    assert state["phase"] == "backlash"
    needed = state["backlash_needed"]
    state, msgs, _ = turn(state, *BLAME, scenarios=SCENARIOS)
    assert transcript(state)[-1]["reaction"] == "escalate"
    assert state["backlash_needed"] == needed + state["params"]["escalation_extra"]
    assert state["escalations"] == 1
    assert msgs[0].split(": ", 1)[1] in SCENARIOS["insults_staff"].lines("backlash", "escalate")


def test_client_leaves_when_patience_is_used_up():
    for level in LEVELS:
        state, _ = start("threatens_reviews", level, 0, scenarios=SCENARIOS)
        patience = state["params"]["patience"]
        for _ in range(patience + 1):
            state, msgs, finished = turn(state, *BLAME, scenarios=SCENARIOS)
        assert finished and state["outcome"] == "client_left"
        assert state["turn"] == patience + 1
        assert transcript(state)[-1]["phase"] == "closing"
        assert len(msgs) == 2  # closing line + the coach's note


def test_transition_offer_calms_fully_at_level_1_and_partially_at_level_3():
    s1 = play("extras", 1, 0, [ANNOUNCE])
    s1, _, _ = turn(s1, *OFFER, scenarios=SCENARIOS)
    assert (s1["phase"], transcript(s1)[-1]["reaction"]) == ("transition", "calm")

    s3 = play("extras", 3, 0, [ANNOUNCE])
    s3, _, _ = turn(s3, *OFFER, scenarios=SCENARIOS)
    assert (s3["phase"], transcript(s3)[-1]["reaction"]) == ("backlash", "calm")
    assert 0 < s3["backlash_done"] < s3["backlash_needed"]


def test_never_the_same_client_line_twice():
    kinds = [ANNOUNCE, FIRM, CALM, OFFER, THANKS, HEDGE, BLAME, SARCASM, WEAK]
    for sid, level, seed in itertools.product(IDS, LEVELS, range(12)):
        rng = random.Random(f"{sid}{level}{seed}")
        script = [rng.choice(kinds) for _ in range(MAX_TURNS)]
        lines = client_lines(play(sid, level, seed, script))
        assert len(lines) == len(set(lines)), (sid, level, seed)


@pytest.mark.parametrize("script_name", ["hedge", "weak", "blame", "hedge_weak", "calm_only"])
def test_no_repeats_even_in_worst_case_loops(script_name):
    script = {
        "hedge": [HEDGE] * MAX_TURNS,
        "weak": [ANNOUNCE] + [WEAK] * MAX_TURNS,
        "blame": [BLAME] * MAX_TURNS,
        "hedge_weak": [HEDGE, WEAK] * MAX_TURNS,
        "calm_only": [ANNOUNCE] + [CALM] * MAX_TURNS,
    }[script_name]
    for sid, level in itertools.product(IDS, LEVELS):
        state = play(sid, level, 1, script)
        lines = client_lines(state)
        assert len(lines) == len(set(lines)), (sid, level)
        assert state["finished"]


def test_roleplay_always_finishes_with_a_closing_line():
    kinds = [ANNOUNCE, FIRM, CALM, OFFER, THANKS, HEDGE, BLAME, SARCASM, WEAK]
    for sid, level, seed in itertools.product(IDS, LEVELS, range(10)):
        rng = random.Random(seed * 31 + level)
        state, _ = start(sid, level, seed, scenarios=SCENARIOS)
        n = 0
        finished = False
        while not finished:
            state, msgs, finished = turn(state, *rng.choice(kinds), scenarios=SCENARIOS)
            n += 1
            assert n <= MAX_TURNS
        assert transcript(state)[-1]["phase"] == "closing"
        assert state["outcome"] in ("accepted", "unresolved", "client_left")


@pytest.mark.parametrize("sid", IDS)
@pytest.mark.parametrize("level", LEVELS)
def test_every_scenario_can_be_completed_at_every_level(sid, level):
    for seed in range(8):
        state = play(sid, level, seed, GOOD_SCRIPT)
        assert state["finished"] and state["outcome"] == "accepted", (seed, state["phase"])
        assert state["turn"] <= MAX_TURNS
        assert transcript(state)[-1]["reaction"] == "accept"
        assert client_lines(state)[-1] in SCENARIOS[sid].lines("closing", "accept")


def test_same_seed_same_conversation_and_input_state_untouched():
    a = play("price_squeezer", 2, 99, GOOD_SCRIPT)
    b = play("price_squeezer", 2, 99, GOOD_SCRIPT)
    assert a == b
    state, _ = start("price_squeezer", 2, 99, scenarios=SCENARIOS)
    before = copy.deepcopy(state)
    turn(state, *ANNOUNCE, scenarios=SCENARIOS)
    assert state == before


def test_state_survives_a_json_round_trip_between_turns():
    state, _ = start("false_claims", 3, 4, scenarios=SCENARIOS)
    direct = state
    for text, a in GOOD_SCRIPT[:5]:
        state = json.loads(json.dumps(state))
        state, _, _ = turn(state, text, a, scenarios=SCENARIOS)
        direct, _, _ = turn(direct, text, a, scenarios=SCENARIOS)
    assert state == direct


def test_turn_accepts_a_mapping_like_coach_assess_json():
    state, _ = start("extras", 1, 0, scenarios=SCENARIOS)
    a = {
        "clarity": 0.9,
        "reasons": 0.8,
        "respect": 1.0,
        "transition": 0.0,
        "appreciation": 0.0,
        "calm": 0.8,
        "overall": 70,
        "flags": ["clear_end", "reason"],
    }
    state, _, _ = turn(state, "Wir beenden die Zusammenarbeit, weil …", a, scenarios=SCENARIOS)
    assert state["phase"] == "reasons"
    assert state["turns"][0]["scores"]["clarity"] == 0.9


def test_empty_input_uses_no_turn():
    state, _ = start("extras", 1, 0, scenarios=SCENARIOS)
    same, msgs, finished = turn(state, "   ", None, scenarios=SCENARIOS)  # no rubric call either
    assert same == state and not finished and "Frank Albers" in msgs[0]


def test_turn_after_the_end_changes_nothing():
    state = play("extras", 1, 0, GOOD_SCRIPT)
    again, msgs, finished = turn(state, *FIRM, scenarios=SCENARIOS)
    assert finished and again == state and len(msgs) == 1


# --------------------------------------------------------------------------- hint / restart / pause


def test_hint_fits_the_situation():
    state, _ = start("extras", 2, 0, scenarios=SCENARIOS)
    assert "Tipp" in hint(state)
    assert hint(state) in engine.texts()["hint"]["announce"]
    hedged, _, _ = turn(state, *HEDGE, scenarios=SCENARIOS)
    assert hint(hedged) in engine.texts()["hint"]["hedging"]
    blamed, _, _ = turn(state, *BLAME, scenarios=SCENARIOS)
    assert hint(blamed) in engine.texts()["hint"]["respect"]
    done = play("extras", 1, 0, GOOD_SCRIPT)
    assert hint(done) in engine.texts()["hint"]["finished"]
    assert hint(state) == hint(state)  # pure


def test_restart_resets_the_conversation():
    state = play("hurt_polite", 2, 8, GOOD_SCRIPT[:4])
    assert state["turns"]
    new, msgs = restart(state, scenarios=SCENARIOS)
    assert msgs[0] in engine.texts()["restart"]
    assert msgs[-1].startswith("Renate Vogel: ")
    fresh, _ = start("hurt_polite", 2, 8, scenarios=SCENARIOS)
    assert new["restarts"] == 1
    for key in (
        "phase",
        "turn",
        "turns",
        "backlash_done",
        "backlash_rounds",
        "escalations",
        "misunderstandings",
        "finished",
        "outcome",
        "announced",
        "reason_given",
        "transition_offered",
        "scenario_id",
        "difficulty",
        "seed",
        "params",
    ):
        assert new[key] == fresh[key], key
    assert len(new["replies"]) == 1 and len(transcript(new)) == 1
    # a finished role-play can be restarted, too
    again, _ = restart(play("hurt_polite", 2, 8, GOOD_SCRIPT), scenarios=SCENARIOS)
    assert not again["finished"] and again["phase"] == "opening"


def test_pause_and_resume():
    state = play("late_payer", 1, 0, GOOD_SCRIPT[:2])
    paused, msgs = pause(state)
    assert paused["paused"] and msgs[0] in engine.texts()["pause"]
    back, msgs = resume(paused, scenarios=SCENARIOS)
    assert not back["paused"]
    assert msgs[-1] == f"Sabine Krüger: {state['last_client_line']}"


# --------------------------------------------------------------------------- summary


def test_summary_contents():
    state = play("extras", 2, 0, [ANNOUNCE, FIRM, BLAME, CALM, FIRM, OFFER, THANKS, CALM, CALM])
    s = summary(state, scorer=None)
    assert set(s["criteria"]) == set(engine.CRITERIA)
    assert all(0.0 <= v <= 1.0 for v in s["criteria"].values())
    assert isinstance(s["overall"], int) and 0 <= s["overall"] <= 100
    assert len(s["turns"]) == state["turn"]
    assert s["turns"][2]["text"] == BLAME[0] and s["turns"][2]["scores"]["respect"] == 0.2
    assert len(s["weakest"]) == 2
    crits = [w["criterion"] for w in s["weakest"]]
    assert "respect" in crits or "calm" in crits
    for w in s["weakest"]:
        assert w["quote"] and w["tip"] and w["label"]
        assert any(w["quote"] in t["text"] for t in s["turns"])
    respect = next((w for w in s["weakest"] if w["criterion"] in ("respect", "calm")))
    assert respect["quote"] == BLAME[0]
    json.dumps(s)


def test_summary_quotes_the_weakest_sentence_of_a_turn():
    text = "Ich verstehe Ihren Ärger. Aber Sie sind wirklich unmöglich. Die Entscheidung steht."

    def scorer(sentence, under_backlash):
        bad = "unmöglich" in sentence
        return Fake({"insult"} if bad else (), respect=0.1 if bad else 1.0)

    state = play(
        "insults_staff",
        1,
        0,
        [ANNOUNCE, (text, Fake({"insult"}, respect=0.2, calm=0.2)), OFFER, THANKS],
    )
    s = summary(state, scorer=scorer)
    w = next(w for w in s["weakest"] if w["criterion"] == "respect")
    assert w["quote"] == "Aber Sie sind wirklich unmöglich."


def test_summary_of_an_empty_roleplay_and_feedback_messages():
    state, _ = start("extras", 1, 0, scenarios=SCENARIOS)
    s = summary(state, scorer=None)
    assert s["overall"] == 0 and s["turns"] == [] and s["weakest"] == []
    assert len(feedback(state, scenarios=SCENARIOS, scorer=None)) == 1
    done = play("extras", 1, 0, BAD_SCRIPT)
    msgs = feedback(done, scenarios=SCENARIOS, scorer=None)
    assert f"{summary(done, scorer=None)['overall']} von 100" in msgs[0]
    assert any("dein Satz" in m for m in msgs)


def test_catalogue_helpers():
    listed = list_scenarios(SCENARIOS)
    assert [x["id"] for x in listed] == IDS
    assert SCENARIOS[pick_scenario("false_claims", 3, scenarios=SCENARIOS)].case == "false_claims"
    assert pick_scenario("abusive", 1, scenarios=SCENARIOS) in {
        "insults_staff",
        "threatens_reviews",
    }
    assert pick_scenario(None, 5, scenarios=SCENARIOS) == pick_scenario(
        None, 5, scenarios=SCENARIOS
    )


def test_engine_module_imports_neither_rasa_nor_spacy():
    code = "import sys, bot.roleplay.engine; print(sorted({m.split('.')[0] for m in sys.modules}))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "'rasa'" not in out and "'spacy'" not in out


# --------------------------------------------------------------------------- with the real rubric

GOOD_TEXTS = [
    "Herr Albers, ich habe entschieden, unsere Zusammenarbeit zum 30. Juni zu beenden, weil die "
    "vereinbarten Zusatzleistungen seit Monaten nicht bezahlt werden.",
    "Ich verstehe, dass Sie das ärgert. An meiner Entscheidung ändert das nichts.",
    "Das kann ich nachvollziehen. Die Zusammenarbeit endet trotzdem zum 30. Juni.",
    "Ich verstehe Ihre Enttäuschung, und ich bleibe bei meiner Entscheidung.",
    "Ich verstehe, dass das überraschend kommt. Die Entscheidung steht.",
    "Ich schicke Ihnen bis Freitag alle Zugangsdaten und Dateien und empfehle Ihnen eine Agentur, "
    "die Sie gut übernehmen kann.",
    "Vielen Dank für die gemeinsamen Jahre, ich wünsche Ihnen alles Gute.",
] + ["Ich verstehe Sie. Die Zusammenarbeit endet zum 30. Juni."] * 5
BAD_TEXTS = [
    "Also, ich weiß nicht, vielleicht sollten wir mal überlegen, ob wir eventuell etwas ändern.",
    "Naja, vielleicht könnten wir irgendwann mal eine Pause machen.",
    "Sie sind immer unverschämt und zahlen nie, das ist allein Ihre Schuld.",
    "Na toll, das ist ja wieder typisch für Sie.",
    "Eventuell wäre es besser, wenn wir vielleicht getrennte Wege gehen.",
    "Sie wollen doch immer nur alles umsonst.",
] + ["Mal sehen, vielleicht klappt es ja irgendwann."] * 6


def play_real(sid, level, seed, texts):
    state, _ = start(sid, level, seed, scenarios=SCENARIOS)
    for text in texts:
        state, _, finished = turn(state, text, None, scenarios=SCENARIOS)  # None: real rubric
        if finished:
            break
    return state


@pytest.mark.parametrize("level", LEVELS)
def test_real_rubric_good_user_beats_hedging_blaming_user(level):
    good = play_real("extras", level, 3, GOOD_TEXTS)
    bad = play_real("extras", level, 3, BAD_TEXTS)
    sg, sb = summary(good), summary(bad)
    assert good["outcome"] == "accepted"
    assert bad["outcome"] != "accepted"
    assert sg["overall"] > sb["overall"] + 20, (sg["overall"], sb["overall"])
    assert bad["misunderstandings"] + bad["escalations"] >= 2
    for w in sb["weakest"]:
        assert any(w["quote"] in t for t in BAD_TEXTS)


def test_real_rubric_backlash_rounds_grow_with_difficulty():
    r1 = play_real("late_payer", 1, 0, GOOD_TEXTS)["backlash_rounds"]
    r3 = play_real("late_payer", 3, 0, GOOD_TEXTS)["backlash_rounds"]
    assert r1 < r3


def test_real_rubric_adapter_rates_with_backlash_context():
    state, _ = start("extras", 1, 0, scenarios=SCENARIOS)
    a = engine.analyse("Ich verstehe Ihren Ärger.", state)
    assert {"clarity", "calm"} <= set(a.scores)
