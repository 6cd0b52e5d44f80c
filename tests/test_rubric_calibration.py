"""The calibration of the conversation rubric to trainers' labels (bot/rubric/calibration.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bot.rubric import calibration
from bot.rubric.conversation import GOOD, judge, judge_texts, turns_from_texts
from bot.rubric.engine import CRITERIA
from devtools import rubric_eval, train_calibration

GOOD_USER = [
    "Herr Berger, wir beenden die Zusammenarbeit zum 31. Dezember. Das ist entschieden.",
    "Der Grund: Sie haben die letzten sechs Rechnungen um zehn bis zwanzig Prozent gekürzt.",
    "Bis Ende November bekommen Sie alle Unterlagen, und ich nenne Ihnen zwei Büros.",
]
POOR_USER = [
    "Also, ähm, wir überlegen vielleicht, ob das mit uns noch passt.",
    "Na ja, Sie sind halt schwierig. Aber wir können ja noch mal drüber reden.",
]


def _stand_in(text: str, under_backlash: bool) -> dict:
    return {"scores": {c: 0.5 for c in CRITERIA}, "flags": []}


def test_the_model_covers_what_cross_validation_chose_and_was_fitted_on_every_label():
    model = calibration.model()
    fitted = [
        t
        for t in rubric_eval.load_transcripts()
        if rubric_eval.half(t) not in train_calibration.HELD_BACK
    ]
    assert model["trained_on"] == len(fitted)
    chosen = {c for c, v in model["cross_validated"].items() if v["used"]}
    assert set(model["criteria"]) == chosen
    assert chosen <= set(CRITERIA) - set(train_calibration.EXCLUDED)
    for c, weights in model["criteria"].items():
        assert 0 < weights["max_shift"] <= 0.5, c
        assert all(scale > 0 for _, scale, _ in weights["dense"].values()), c


def test_the_features_are_the_ones_the_model_was_fitted_on_and_hold_no_words():
    turns = turns_from_texts(GOOD_USER)
    judged = judge(turns)
    for c, weights in calibration.model()["criteria"].items():
        features = calibration.dense_features(turns, judged[c], c)
        assert set(features) == set(weights["dense"]), c
        assert not {"berger", "rechnungen", "unterlagen"} & set(features)


@pytest.mark.parametrize("texts", [GOOD_USER, POOR_USER], ids=["good", "poor"])
def test_calibration_ranks_within_the_rules_verdict_and_keeps_quote_and_issue(texts):
    turns = turns_from_texts(texts)
    rules, calibrated = judge(turns), judge(turns, calibrated=True)
    for c in CRITERIA:
        before, after = rules[c], calibrated[c]
        assert (after.issue, after.quote, after.turn, after.words) == (
            before.issue,
            before.quote,
            before.turn,
            before.words,
        )
        assert after.own_score == before.own_score and after.good == before.good
        assert (after.score >= GOOD) == before.good, c
        if before.issue == "missing" or c not in calibration.model()["criteria"]:
            assert after.score == before.score, c
        most = calibration.model()["criteria"].get(c, {}).get("max_shift", 0.0)
        assert abs(after.score - before.score) <= most + 1e-9
        assert 0.0 <= after.score <= 1.0


def test_judge_texts_calibrates_only_the_real_rubric():
    assert judge_texts(GOOD_USER, scorer=_stand_in) == judge(turns_from_texts(GOOD_USER, _stand_in))
    assert judge_texts(GOOD_USER) == judge(turns_from_texts(GOOD_USER), calibrated=True)


def test_without_a_model_or_turns_nothing_moves(monkeypatch):
    turns = turns_from_texts(GOOD_USER)
    judged = judge(turns)
    assert calibration.calibrate([], judged) == judged
    monkeypatch.setattr(calibration, "model", lambda path=None: {})
    assert calibration.calibrate(turns, judged) == judged


def test_the_shift_is_bounded():
    weights = {"intercept": 5.0, "dense": {"score": [0.0, 1.0, 2.0]}, "max_shift": 0.3}
    assert calibration.shift({"score": 1.0}, weights) == pytest.approx(0.3)
    weights["intercept"] = -5.0
    assert calibration.shift({"score": 0.0}, weights) == pytest.approx(-0.3)
    weights["intercept"] = 0.0
    assert calibration.shift({"score": 0.05}, weights) == pytest.approx(0.1)


def test_a_missing_model_file_means_no_calibration(tmp_path):
    assert calibration.model.__wrapped__(tmp_path / "missing.json") == {}
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"criteria": {}}), encoding="utf-8")
    assert calibration.model.__wrapped__(path) == {"criteria": {}}


def _data(dense: np.ndarray, labels: np.ndarray, rule: float = 0.5) -> train_calibration._Data:
    data = train_calibration._Data.__new__(train_calibration._Data)
    data.keys = [f"x{i}" for i in range(dense.shape[1])]
    data.dense = dense
    data.rule = np.full(len(labels), rule)
    data.good = data.rule >= GOOD
    data.missing = np.zeros(len(labels), dtype=bool)
    data.labels = labels
    return data


def test_the_ridge_fit_recovers_a_linear_correction():
    """The trainer's fit on made-up data: label = rule score + 0.1 * feature."""
    x = np.random.default_rng(7).normal(size=(200, 1))
    data = _data(x, 0.5 + 0.1 * x[:, 0])
    weights = train_calibration._fit(data, range(200), alpha=1.0)
    _, scale, w = weights["dense"]["x0"]
    assert w / scale == pytest.approx(0.1, rel=0.02)
    predicted = train_calibration._predict(data, range(20), weights)
    assert predicted == pytest.approx(np.clip(data.labels[:20], 0.0, GOOD - 0.01), abs=0.01)


def test_leave_one_group_out_never_sees_the_group_it_predicts(monkeypatch):
    seen: list[set[int]] = []
    real_fit = train_calibration._fit

    def spy(data, rows, alpha):
        seen.append(set(rows))
        return real_fit(data, rows, alpha)

    monkeypatch.setattr(train_calibration, "_fit", spy)
    data = _data(np.arange(6, dtype=float)[:, None], np.linspace(0, 1, 6))
    train_calibration.cross_validate(data, ["a", "a", "b", "b", "c", "c"], 1.0)
    assert seen == [{2, 3, 4, 5}, {0, 1, 4, 5}, {0, 1, 2, 3}]


def test_deciding_groups_are_the_later_blind_ones():
    assert train_calibration.deciding("blind16") and train_calibration.deciding("blind31")
    assert not train_calibration.deciding("blind15")
    assert not train_calibration.deciding("held_out")
