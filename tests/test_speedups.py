"""connectors/speedups.py: the action-server answer is still validated, just faster."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from connectors import speedups


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    assert speedups.install() is True
    assert speedups.install() is True  # idempotent


def _action() -> RemoteAction:
    return RemoteAction("action_case_advice", None)


def test_valid_answers_pass() -> None:
    ok = {
        "events": [{"event": "slot", "name": "case", "value": "abusive"}],
        "responses": [{"text": "Hallo", "buttons": [{"title": "Ja", "payload": "/affirm"}]}],
    }
    assert _action()._validate_action_result(ok) is True
    assert _action()._validate_action_result({"events": [], "responses": []}) is True


@pytest.mark.parametrize(
    "bad",
    [
        {"events": "not a list", "responses": []},
        {"events": [{"no_event_key": 1}], "responses": []},
        {"events": [{"event": "slot", "name": "case"}], "responses": "x"},
    ],
)
def test_invalid_answers_are_rejected_like_stock_rasa(bad: dict) -> None:
    with pytest.raises(jsonschema.ValidationError) as stock:
        jsonschema.validate(bad, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError) as ours:
        _action()._validate_action_result(bad)
    assert ours.value.message.startswith(stock.value.message)
    assert "Failed to validate Action server response" in ours.value.message


_EVENTS = [
    {"event": "slot", "name": "case", "value": "abusive"},
    {"event": "slot", "name": "case", "value": None, "timestamp": None},
    {"event": "active_loop", "name": "abuse_form"},
    {"event": "active_loop", "name": None},
    {"event": "bot", "text": "Hallo", "data": {"buttons": []}, "metadata": {}},
    {"event": "followup", "name": "action_listen"},
    {"event": "action", "name": "action_listen", "policy": None, "confidence": 1.0},
    {"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet"}}},
    {"event": "reset_slots"},
    {"event": "restart"},
    {"event": "session_started"},
    # invalid ones
    {"event": "slot", "name": 3},
    {"event": "slot"},
    {"event": "no_such_event"},
    {"event": 5},
    {"no_event_key": 1},
    "not an object",
    {"event": "bot", "text": 7},
    {"event": "active_loop", "name": ["x"]},
]


@pytest.mark.parametrize("event", _EVENTS, ids=lambda e: str(e)[:40])
def test_fast_path_agrees_with_the_full_schema(event) -> None:
    """The per-event fast path never accepts what Rasa's full schema rejects (and vice versa)."""
    full = jsonschema.Draft202012Validator(RemoteAction.action_response_format_spec())
    for answer in (
        {"events": [event], "responses": []},
        {"events": [_EVENTS[0], event]},
        {"events": [event], "responses": "x"},
    ):
        assert speedups.quickly_valid(answer) == full.is_valid(answer), answer
        if not full.is_valid(answer):
            with pytest.raises(jsonschema.ValidationError):
                _action()._validate_action_result(answer)


def test_schema_is_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(jsonschema, "validate", lambda *a, **k: calls.append(a))
    for _ in range(3):
        _action()._validate_action_result({"events": [], "responses": []})
    assert calls == []


def test_contiguous_coefficients_give_identical_probabilities() -> None:
    """Column-major ``coef_`` changes nothing but the memory layout (no copy of ``coef_.T``)."""
    import numpy as np
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(4711)
    X = sp.random(120, 300, density=0.05, format="csr", random_state=4711)
    y = rng.integers(0, 5, size=120)
    clf = LogisticRegression(max_iter=300).fit(X, y)
    before = clf.predict_proba(X[:7])
    speedups.contiguous_coefficients(clf)
    assert clf.coef_.flags["F_CONTIGUOUS"]
    assert clf.coef_.T.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(clf.predict_proba(X[:7]), before)
    speedups.contiguous_coefficients(None)  # a component without a classifier is left alone


def test_loaded_logistic_regression_is_column_major(tmp_path) -> None:
    """After ``install()``, Rasa's classifier loads with a column-major ``coef_``."""
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.classifiers.logistic_regression_classifier import (
        LogisticRegressionClassifier,
    )
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    assert speedups.install()
    storage = LocalModelStorage(tmp_path)
    resource = Resource("lr")
    context = type("Context", (), {"node_name": "lr"})()
    config = {**LogisticRegressionClassifier.get_default_config(), "max_iter": 50}
    component = LogisticRegressionClassifier(config, "lr", storage, resource)
    import numpy as np
    import scipy.sparse as sp
    from rasa.shared.nlu.training_data.features import Features

    messages = []
    for index, intent in enumerate(["a", "b", "c"] * 4):
        message = Message(data={"text": f"t{index}", "intent": intent})
        row = sp.csr_matrix(np.eye(1, 6, k=index % 6))
        message.add_features(Features(row, "sentence", "text", "f"))
        messages.append(message)
    component.train(TrainingData(messages))
    loaded = LogisticRegressionClassifier.load(config, storage, resource, context)
    assert loaded.clf.coef_.flags["F_CONTIGUOUS"]


def test_startup_objects_are_frozen_out_of_the_collector() -> None:
    """After start-up the long-lived objects sit in the permanent generation."""
    import gc

    try:
        speedups.freeze_startup_objects()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
