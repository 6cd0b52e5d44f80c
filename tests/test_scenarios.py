"""Role-play scenario files: the shipped library and the validation of broken files."""

from __future__ import annotations

import logging
import shutil
from argparse import Namespace
from pathlib import Path

import pytest
import yaml

from bot.roleplay import scenarios as sc
from bot.roleplay.cli import run_check
from bot.roleplay.scenarios import (
    DEFAULT_SCENARIO_DIR,
    PHASE_REACTIONS,
    check_scenarios,
    load_scenario_file,
    load_scenarios,
    validate_file,
)

BROKEN = Path(__file__).parent / "data" / "broken_scenarios"
EXPECTED_IDS = {
    "extras",
    "late_payer",
    "insults_staff",
    "threatens_reviews",
    "price_squeezer",
    "false_claims",
    "hurt_polite",
}


# --------------------------------------------------------------------------- shipped library


def test_shipped_scenarios_are_all_valid():
    scenarios, errors = check_scenarios(DEFAULT_SCENARIO_DIR)
    assert errors == []
    assert EXPECTED_IDS <= set(scenarios)
    assert len(scenarios) >= 7


@pytest.mark.parametrize("path", sorted(DEFAULT_SCENARIO_DIR.glob("*.yml")), ids=lambda p: p.name)
def test_each_shipped_file_validates_on_its_own(path):
    assert validate_file(path) == []


def test_shipped_scenarios_have_several_lines_everywhere():
    for s in load_scenarios().values():
        assert len(s.persona.history) >= 2, s.id
        assert s.user_goal and s.title
        for phase, reactions in PHASE_REACTIONS.items():
            for r in reactions:
                lines = s.lines(phase, r)
                assert len(lines) >= 2, f"{s.id}: {phase}.{r}"
        # the backlash is where most lines are needed
        assert len(s.lines("backlash", "push_back")) >= 4, s.id
        assert len(s.lines("backlash", "escalate")) >= 3, s.id


def test_client_lines_are_in_sie_form_and_unique_per_scenario():
    for s in load_scenarios().values():
        all_lines = [line for ph in s.phases.values() for lines in ph.values() for line in lines]
        assert len(all_lines) == len(set(all_lines)), s.id
        assert sum(("Sie" in line or "Ihr" in line) for line in all_lines) > len(all_lines) / 3, (
            s.id
        )  # business register
        for line in all_lines:
            assert not sc._DU_RE.search(line), (s.id, line)


def test_cases_map_to_contract_slot_values():
    cases = {s.case for s in load_scenarios().values()}
    assert {"extra_requests", "false_claims", "abusive"} <= cases
    assert cases <= set(sc.CASES) | {None}


def test_difficulty_defaults_and_overrides():
    scenarios = load_scenarios()
    extras = scenarios["extras"]
    rounds = [extras.params(level)["backlash_rounds"] for level in (1, 2, 3)]
    assert rounds == sorted(rounds) and rounds[0] < rounds[2]
    assert extras.params(3)["misunderstand_chance"] == 1.0
    assert extras.params(1)["misunderstand_chance"] < 0.5
    assert (
        extras.params(1)["calm_on_offer"] == "full"
        and extras.params(3)["calm_on_offer"] == "partial"
    )
    assert scenarios["threatens_reviews"].params(2)["push_back_chance"] == 0.55
    assert scenarios["hurt_polite"].params(3)["escalation_extra"] == 1
    with pytest.raises(ValueError):
        extras.params(4)


# --------------------------------------------------------------------------- broken files


def _errors(name):
    errors = validate_file(BROKEN / name)
    assert errors, f"{name} should not validate"
    for e in errors:
        assert e.file.endswith(name)
        assert name in str(e)
    return errors


def _find(errors, field, *words):
    hits = [e for e in errors if e.field == field]
    assert hits, f"no error for field {field!r}: {[str(e) for e in errors]}"
    text = " ".join(e.problem for e in hits)
    for w in words:
        assert w in text, f"{field}: {w!r} not in {text!r}"
    return hits[0]


def test_missing_fields_are_named():
    errors = _errors("missing_fields.yml")
    _find(errors, "user_goal", "Pflichtfeld fehlt")
    e = _find(errors, "persona.name", "Pflichtfeld fehlt")
    assert e.line == 4  # the persona block
    _find(errors, "phases.closing.accept", "fehlen")


def test_wrong_types_are_named():
    errors = _errors("wrong_types.yml")
    _find(errors, "title", "muss ein Text sein", "Liste")
    _find(errors, "persona.history", "Liste", "Zahl")
    _find(errors, "phases.opening.neutral", "Liste", "Text")
    e = _find(errors, "phases.reasons.push_back[1]", "Text", "Zahl")
    assert e.line is not None
    assert "Zeile" in str(e)


def test_empty_line_lists_are_named():
    errors = _errors("empty_lines.yml")
    _find(errors, "phases.backlash.escalate", "leer")
    _find(errors, "phases.transition.calm[1]", "leer")


def test_unknown_phase_and_reaction_are_named():
    errors = _errors("unknown_phase.yml")
    _find(errors, "phases.smalltalk", "unbekannte Phase")
    _find(errors, "phases.backlash.cry", "unbekannte Reaktion")
    _find(errors, "phases.opening.accept", "passt nicht", "opening")


def test_difficulty_out_of_range_is_named():
    errors = _errors("difficulty_range.yml")
    _find(errors, "difficulty.4", "außerhalb", "1, 2, 3")
    _find(errors, "difficulty.2.push_back_chance", "1.5", "außerhalb")
    _find(errors, "difficulty.1.calm_on_offer", "sometimes", "nicht erlaubt")
    _find(errors, "difficulty.1.backlash_rounds", "außerhalb")
    _find(errors, "difficulty.3.mood", "unbekannter Parameter")


def test_yaml_syntax_error_reports_line():
    errors = _errors("yaml_syntax.yml")
    assert len(errors) == 1
    e = errors[0]
    assert "YAML-Syntaxfehler" in e.problem
    assert e.line == 7
    assert "Zeile 7" in str(e)


def test_top_level_must_be_a_mapping():
    errors = _errors("not_a_mapping.yml")
    assert "Zuordnung" in errors[0].problem


def test_du_form_and_repeated_lines_are_rejected():
    errors = _errors("du_form.yml")
    _find(errors, "phases.backlash.push_back[1]", "duzt")
    _find(errors, "phases.closing.accept[1]", "gleiche Zeile", "phases.opening.neutral[0]")


def test_duplicate_id_across_files():
    assert validate_file(BROKEN / "duplicate_id_a.yml") == []
    assert validate_file(BROKEN / "duplicate_id_b.yml") == []
    scenarios, errors = check_scenarios(
        [BROKEN / "duplicate_id_a.yml", BROKEN / "duplicate_id_b.yml"]
    )
    assert list(scenarios) == ["same_id"]
    assert len(errors) == 1
    e = errors[0]
    assert e.file.endswith("duplicate_id_b.yml") and e.field == "id"
    assert "doppelte id" in e.problem and "duplicate_id_a.yml" in e.problem


def test_load_scenario_file_raises_with_all_errors():
    with pytest.raises(sc.ScenarioFileError) as info:
        load_scenario_file(BROKEN / "empty_lines.yml")
    assert len(info.value.errors) == 2


def test_broken_file_does_not_stop_the_others(tmp_path, caplog):
    for f in DEFAULT_SCENARIO_DIR.glob("*.yml"):
        shutil.copy(f, tmp_path / f.name)
    for name in ("yaml_syntax.yml", "wrong_types.yml", "duplicate_id_a.yml"):
        shutil.copy(BROKEN / name, tmp_path / name)
    shutil.copy(
        DEFAULT_SCENARIO_DIR / "extras.yml", tmp_path / "zz_extras_copy.yml"
    )  # duplicate id
    with caplog.at_level(logging.ERROR, logger="bot.roleplay"):
        scenarios = load_scenarios(tmp_path)
    assert EXPECTED_IDS <= set(scenarios)
    assert "same_id" in scenarios
    assert scenarios["extras"].source.endswith("extras.yml")
    logged = caplog.text
    assert (
        "yaml_syntax.yml" in logged
        and "wrong_types.yml" in logged
        and "zz_extras_copy.yml" in logged
    )


def test_default_scenarios_cache_reloads_on_change(tmp_path):
    shutil.copy(DEFAULT_SCENARIO_DIR / "extras.yml", tmp_path / "extras.yml")
    first = sc.default_scenarios(tmp_path)
    assert set(first) == {"extras"}
    assert sc.default_scenarios(tmp_path) is first
    shutil.copy(DEFAULT_SCENARIO_DIR / "late_payer.yml", tmp_path / "late_payer.yml")
    assert set(sc.default_scenarios(tmp_path)) == {"extras", "late_payer"}


# --------------------------------------------------------------------------- coach scenarios check


def test_check_command_ok(capsys):
    assert run_check(Namespace(paths=[])) == 0
    out = capsys.readouterr().out
    assert out.strip().startswith("OK:") and "Szenarien" in out


def test_check_command_reports_errors(capsys):
    code = run_check(Namespace(paths=[str(BROKEN)]))
    assert code != 0
    err = capsys.readouterr().err
    assert "yaml_syntax.yml" in err and "Zeile 7" in err
    assert "difficulty.4" in err and "phases.smalltalk" in err and "doppelte id" in err


def test_check_command_through_coach_cli(capsys):
    from bot.cli import main

    assert main(["scenarios", "check", str(DEFAULT_SCENARIO_DIR / "extras.yml")]) == 0
    assert "OK: 1 Szenarien" in capsys.readouterr().out
    assert main(["scenarios", "check", str(BROKEN / "missing_fields.yml")]) == 1
    assert "persona.name" in capsys.readouterr().err


# --------------------------------------------------------------------------- answers, conditions


def _with(tmp_path, extra: str) -> Path:
    """The shipped extras scenario with its answers and concessions replaced by ``extra``."""
    data = yaml.safe_load((DEFAULT_SCENARIO_DIR / "extras.yml").read_text(encoding="utf-8"))
    del data["answers"], data["concessions"]
    data.update(yaml.safe_load(extra))
    path = tmp_path / "scenario.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_shipped_scenarios_answer_every_act():
    for s in load_scenarios().values():
        for section in sc.ANSWER_SECTIONS:
            keys = [k for k in s.answers if k.split(".")[0] == section]
            assert keys, (s.id, section)
        assert s.answer_lines("question.other") and s.answer_lines("offer.other"), s.id
        assert s.concessions, s.id  # every client can concede something
        levels = {lvl for m in s.meta.values() for lvl in m.levels}
        assert 3 in levels, s.id  # level-3 lines


def test_answers_sections_are_checked(tmp_path):
    path = _with(
        tmp_path,
        "answers:\n"
        '  question: ["Wann?"]\n'
        '  offer: {discount: ["Rabatt? Gern."], bribe: ["Aha."]}\n'
        "  apology: []\n"
        '  thanks: ["Bitte, gern geschehen."]\n'
        '  silence: ["Hallo, bist du noch da?"]\n'
        '  gossip: ["Ach was."]\n',
    )
    errors = validate_file(path)
    _find_in(errors, "answers.question", "Zuordnung Art")
    _find_in(errors, "answers.offer.bribe", "unbekannte Art")
    _find_in(errors, "answers.offer.other", "other")
    _find_in(errors, "answers.apology", "leer")
    _find_in(errors, "answers.silence[0]", "duzt")
    _find_in(errors, "answers.off_topic", "Abschnitt fehlt")
    _find_in(errors, "answers.gossip", "unbekannter Abschnitt")


def test_line_conditions_are_checked(tmp_path):
    path = _with(
        tmp_path,
        "concessions:\n"
        '  extras: "gibt die Extras zu"\n'
        '  announced: "kein Fakten-Name"\n'
        "answers:\n"
        '  question: {other: [{text: "Wie meinen Sie das?", needs: [anounced]}]}\n'
        '  offer: {other: [{text: "Gut.", concedes: [lawyer], levels: [4]}]}\n'
        '  apology: [{text: "Schon gut.", unless: [extras], mood: angry}]\n'
        "  thanks: [{needs: [announced]}]\n"
        '  silence: ["Hallo?"]\n'
        '  off_topic: ["Zur Sache, bitte."]\n',
    )
    errors = validate_file(path)
    _find_in(errors, "concessions.announced", "ungültiger Name")
    _find_in(errors, "answers.question.other[0].needs", "anounced", "announced")
    _find_in(errors, "answers.offer.other[0].concedes", "lawyer")
    _find_in(errors, "answers.offer.other[0].levels", "4")
    _find_in(errors, "answers.apology[0].mood", "unbekanntes Feld")
    _find_in(errors, "answers.thanks[0].text", "Pflichtfeld fehlt")
    assert all(e.line for e in errors), [str(e) for e in errors]


def test_valid_conditions_load(tmp_path):
    path = _with(
        tmp_path,
        "concessions:\n"
        '  extras: "gibt die Extras zu"\n'
        "answers:\n"
        "  question:\n"
        '    other: ["Wie meinen Sie das?"]\n'
        '    when: [{text: "Bis Freitag.", levels: [3]}]\n'
        '  offer: {other: [{text: "Gut.", concedes: [extras, decision]}]}\n'
        '  apology: [{text: "Schon gut.", unless: [extras], needs: [announced]}]\n'
        '  thanks: ["Bitte."]\n'
        '  silence: ["Hallo?"]\n'
        '  off_topic: ["Zur Sache, bitte."]\n',
    )
    assert validate_file(path) == []
    s = load_scenario_file(path)
    assert s.answer_lines("question.when") == ("Bis Freitag.",)
    assert s.line_meta("answers.question.when[0]").levels == (3,)
    assert s.line_meta("answers.offer.other[0]").concedes == ("extras", "decision")
    meta = s.line_meta("answers.apology[0]")
    assert meta.allows(1, {"announced"}) and not meta.allows(1, {"announced", "extras"})
    assert not meta.allows(2, set())
    assert s.text_of("answers.apology[0]") == "Schon gut."


def _find_in(errors, field, *words):
    hits = [e for e in errors if e.field == field]
    assert hits, f"no error for field {field!r}: {[str(e) for e in errors]}"
    text = " ".join(e.problem for e in hits)
    for w in words:
        assert w in text, f"{field}: {w!r} not in {text!r}"
