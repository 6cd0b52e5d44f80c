"""Feedback rubric for one utterance of a termination conversation (role-play).

    from bot.rubric import assess, suggest, CRITERIA
    a = assess(text, under_backlash=False)
    a.scores    # {"clarity": 0.9, …} each 0.0–1.0
    a.overall   # 0–100;  a.tips: list of German tips (du-form)
    a.flags     # frozenset of detected signals;  a.evidence: criterion -> matched words
    suggest("clarity", text)   # a better phrasing, reusing name, date and reason of text

Rules and word lists: ``rules.yml``; texts: ``suggestions.yml``; mechanics: ``engine.py``.
Importing this package is cheap: spaCy and the matchers are loaded on the first call.
"""

from __future__ import annotations

from bot.rubric.engine import CRITERIA, Assessment, RubricInputError

__all__ = ["CRITERIA", "Assessment", "RubricInputError", "assess", "suggest"]


def assess(text: str, *, under_backlash: bool = False) -> Assessment:
    """Rate one utterance. Raises ``RubricInputError`` (a ``ValueError``) for empty text."""
    from bot.rubric.engine import get_engine

    return get_engine().assess(text, under_backlash=under_backlash)


def suggest(criterion: str, sentence: str) -> str:
    """A better German phrasing for ``criterion``, reusing name, date and reason of ``sentence``."""
    from bot.rubric.engine import get_engine

    return get_engine().suggest(criterion, sentence)
