"""Rasa-server-side speed-ups for hot paths of Rasa 3.6.21 (measured with py-spy).

Rasa checks every answer of the action server against a JSON schema with
``jsonschema.validate(result, schema)``. That helper first validates the *schema itself*
against the draft-2020-12 meta-schema and builds a new validator – on every single action
call. Profiled under ``make bench``, this was about 40 % of the Rasa server's CPU time per
message of the coach (each form turn calls the action server one to three times).

``install()`` replaces ``RemoteAction._validate_action_result`` with the same check done by
one validator that is built (and whose schema is checked) once. Invalid answers of the
action server are still rejected with the same ``jsonschema.ValidationError`` and the same
hint, so Rasa's error handling is unchanged (``tests/test_speedups.py``).

It is installed when the Rasa server loads Klartext's tracker store or REST channel (both
named in ``endpoints.yml``/``credentials.yml``); it is idempotent and changes nothing when
the Rasa version differs from the one it was written for.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Text

logger = logging.getLogger(__name__)

RASA_VERSION = "3.6.21"
_installed = False
_validator: Optional[Any] = None


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


def validate_action_result(result: Dict[Text, Any]) -> bool:
    """Same contract as ``RemoteAction._validate_action_result`` (raises on invalid)."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

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


def install() -> bool:
    """Install the speed-ups once; returns whether they are active."""
    global _installed
    if _installed:
        return True
    import rasa
    from rasa.core.actions.action import RemoteAction

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
    _installed = True
    return True
