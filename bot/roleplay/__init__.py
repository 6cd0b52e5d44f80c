"""Role-play: the coach plays a difficult client, the user practises ending the relationship.

Pure Python, no Rasa imports. ``scenarios`` loads and validates ``data/scenarios/*.yml``;
``engine`` runs a conversation over a JSON-serialisable state dict.
"""

from .engine import (
    MAX_TURNS,
    UnknownScenario,
    analyse,
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
from .scenarios import (
    DEFAULT_DIFFICULTY,
    PHASE_REACTIONS,
    PHASES,
    REACTIONS,
    Scenario,
    ScenarioError,
    check_scenarios,
    load_scenarios,
    validate_file,
)

__all__ = [
    "DEFAULT_DIFFICULTY",
    "MAX_TURNS",
    "PHASE_REACTIONS",
    "PHASES",
    "REACTIONS",
    "Scenario",
    "ScenarioError",
    "UnknownScenario",
    "analyse",
    "check_scenarios",
    "feedback",
    "hint",
    "list_scenarios",
    "load_scenarios",
    "pause",
    "pick_scenario",
    "restart",
    "resume",
    "start",
    "summary",
    "turn",
    "validate_file",
]
