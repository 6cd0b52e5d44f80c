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


def test_schema_is_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(jsonschema, "validate", lambda *a, **k: calls.append(a))
    for _ in range(3):
        _action()._validate_action_result({"events": [], "responses": []})
    assert calls == []
