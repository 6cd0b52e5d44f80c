"""Rasa-server-side speed-ups for hot paths of Rasa 3.6.21 (measured with py-spy).

Rasa checks every answer of the action server against a JSON schema with
``jsonschema.validate(result, schema)``. That helper first validates the *schema itself*
against the draft-2020-12 meta-schema and builds a new validator – on every single action
call. Profiled under ``make bench``, this was about 40 % of the Rasa server's CPU time per
message of the coach (each form turn calls the action server one to three times).

``install()`` replaces ``RemoteAction._validate_action_result`` with the same check done by
one validator that is built (and whose schema is checked) once, and first tries a fast path:
each event against the one event schema its ``event`` names instead of ``oneOf`` over all 23
(4 times faster for a form's answer). Anything the fast path does not accept goes through the
full validator. Invalid answers of the
action server are still rejected with the same ``jsonschema.ValidationError`` and the same
hint, so Rasa's error handling is unchanged (``tests/test_speedups.py``).

Rasa turns every stored event back into an object with ``Event.resolve_by_type``, which
walks the whole class tree of ``Event`` (``all_subclasses`` with an ``inspect.isabstract``
check per class) for *each event* it loads: about 28 % of the Rasa server's busy time at
turn 300 of one conversation. ``install()`` puts a cache of the name → class answers in front
of it; names it does not know yet (and unknown ones) still go through Rasa's own lookup.

A new conversation starts its session on the Rasa server. The domain names a custom
``action_session_start`` (``actions/session.py``: what a *returning* user keeps, and the
welcome back), so Rasa would call the action server at the start of every new conversation,
where there is nothing to carry over and nothing to say. ``install()`` runs Rasa's built-in
``ActionSessionStart`` for a conversation without events instead – the same events
(``session_started``, ``action_listen``), one action-server round trip less, and a new
conversation does not depend on the action server being up (``connectors/guard.py``'s notice
stays the first thing a user sees then). An expired session still runs the custom action.

Rasa's ``LogisticRegressionClassifier`` asks scikit-learn for ``predict_proba`` of each
message: ``X @ coef_.T`` with ``coef_`` stored row-major (intents × features), so scipy copies
the transposed 40 × 45,000 matrix (14 MB) on every message – 4–7 ms of a turn, 7 % of the Rasa
server's samples. ``install()`` makes the loaded classifier keep ``coef_`` column-major (the
same numbers), so ``coef_.T`` is contiguous and nothing is copied: 0.4 ms, identical
probabilities (``tests/test_speedups.py``).

It is installed when the Rasa server loads Klartext's tracker store or REST channel (both
named in ``endpoints.yml``/``credentials.yml``); it is idempotent and changes nothing when
the Rasa version differs from the one it was written for.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Optional, Text, Tuple

logger = logging.getLogger(__name__)

RASA_VERSION = "3.6.21"
_installed = False
_validator: Optional[Any] = None
_fast: Optional[Tuple[Any, Dict[Text, Any]]] = None


def _action_response_validator() -> Any:
    """One validator for Rasa's action-server response schema, schema checked once."""
    global _validator
    if _validator is None:
        from jsonschema.validators import validator_for
        from rasa.core.actions.action import RemoteAction

        schema = RemoteAction.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)
        _validator = cls(schema)
    return _validator


def _per_event_validators() -> Tuple[Any, Dict[Text, Any]]:
    """The response schema split for a fast path: the envelope, and one validator per event type.

    Rasa's schema checks every event against ``oneOf`` 23 event schemas, each picked out by a
    different ``const`` of ``event``. So an event is valid exactly when it is valid against
    the common part and the one schema whose ``const`` is its ``event`` – which is what these
    validators check, without trying the other 22.
    """
    global _fast
    if _fast is None:
        from jsonschema.validators import validator_for
        from rasa.core.actions.action import RemoteAction

        schema = RemoteAction.action_response_format_spec()
        cls = validator_for(schema)
        items = schema["properties"]["events"]["items"]
        common = {key: value for key, value in items.items() if key != "oneOf"}
        per_type: Dict[Text, Any] = {}
        for alternative in items["oneOf"]:
            const = alternative["properties"]["event"]["const"]
            if const in per_type:  # two schemas for one event type: no fast path
                per_type = {}
                break
            per_type[const] = cls({"allOf": [common, alternative]})
        envelope = {
            **schema,
            "properties": {**schema["properties"], "events": {"type": "array"}},
        }
        _fast = (cls(envelope), per_type)
    return _fast


def quickly_valid(result: Any) -> bool:
    """True when ``result`` is certainly valid; False means "ask the full validator"."""
    envelope, per_type = _per_event_validators()
    if not per_type or not envelope.is_valid(result):
        return False
    for event in result.get("events") or ():
        validator = per_type.get(event.get("event")) if isinstance(event, dict) else None
        if validator is None or not validator.is_valid(event):
            return False
    return True


def validate_action_result(result: Dict[Text, Any]) -> bool:
    """Same contract as ``RemoteAction._validate_action_result`` (raises on invalid)."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    if quickly_valid(result):
        return True
    error = best_match(_action_response_validator().iter_errors(result))
    if error is None:
        return True
    if isinstance(error, ValidationError):
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
    raise error


def _cached_event_lookup(original: Callable[..., Any]) -> Callable[..., Any]:
    """``Event.resolve_by_type`` with a cache of the classes it found (same answers)."""
    found: Dict[Text, Any] = {}

    def resolve_by_type(type_name: Text, default: Optional[Any] = None) -> Optional[Any]:
        cls = found.get(type_name)
        if cls is None:
            cls = original(type_name, default)
            if cls is not None and getattr(cls, "type_name", None) == type_name:
                found[type_name] = cls
        return cls

    return resolve_by_type


def _local_start_for_new_conversations(original: Callable[..., Any]) -> Callable[..., Any]:
    """``MessageProcessor._update_tracker_session`` with the built-in start for new trackers."""
    from rasa.core.actions.action import ActionSessionStart
    from rasa.core.policies.policy import PolicyPrediction
    from rasa.shared.core.constants import ACTION_SESSION_START_NAME, SESSION_START_METADATA_SLOT
    from rasa.shared.core.events import SlotSet

    async def update_tracker_session(
        self: Any, tracker: Any, output_channel: Any, metadata: Optional[Dict] = None
    ) -> None:
        if tracker.applied_events():  # an existing conversation: expired or not, Rasa decides
            return await original(self, tracker, output_channel, metadata)
        if metadata:
            tracker.update(SlotSet(SESSION_START_METADATA_SLOT, metadata), self.domain)
        await self._run_action(
            action=ActionSessionStart(),
            tracker=tracker,
            output_channel=output_channel,
            nlg=self.nlg,
            prediction=PolicyPrediction.for_action_name(self.domain, ACTION_SESSION_START_NAME),
        )

    return update_tracker_session


def contiguous_coefficients(clf: Any) -> None:
    """Store a fitted linear model's ``coef_`` column-major, so ``coef_.T`` is not copied."""
    import numpy as np

    coef = getattr(clf, "coef_", None)
    if isinstance(coef, np.ndarray) and not coef.flags["F_CONTIGUOUS"]:
        clf.coef_ = np.asfortranarray(coef)


def _load_with_contiguous_coefficients(original: Callable[..., Any]) -> Any:
    """``LogisticRegressionClassifier.load`` that leaves ``coef_`` column-major."""

    def load(cls: Any, *args: Any, **kwargs: Any) -> Any:
        component = original(*args, **kwargs)
        contiguous_coefficients(getattr(component, "clf", None))
        return component

    return classmethod(load)


def freeze_startup_objects() -> None:
    """Move everything alive after the model has loaded out of the garbage collector's reach.

    The loaded model, domain and Rasa's graph are hundreds of MB of Python objects that live
    as long as the server. Without this, every full collection walks them all again, and a
    message that arrives during one waits for it. ``gc.freeze()`` (Python 3.7+) puts them in
    a permanent generation; objects created later are collected as before.
    """
    import gc

    gc.collect()
    gc.freeze()


def install() -> bool:
    """Install the speed-ups once; returns whether they are active."""
    global _installed
    if _installed:
        return True
    import rasa
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.nlu.classifiers.logistic_regression_classifier import (
        LogisticRegressionClassifier,
    )
    from rasa.shared.core.events import Event

    if rasa.__version__ != RASA_VERSION:
        logger.warning(
            "connectors.speedups was written for Rasa %s, not %s; not installed.",
            RASA_VERSION,
            rasa.__version__,
        )
        return False

    def _validate(self: RemoteAction, result: Dict[Text, Any]) -> bool:  # self: method signature
        return validate_action_result(result)

    RemoteAction._validate_action_result = _validate  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(_cached_event_lookup(Event.resolve_by_type))
    MessageProcessor._update_tracker_session = _local_start_for_new_conversations(  # type: ignore[method-assign]
        MessageProcessor._update_tracker_session
    )
    LogisticRegressionClassifier.load = _load_with_contiguous_coefficients(  # type: ignore[method-assign]
        LogisticRegressionClassifier.load
    )
    _installed = True
    return True
