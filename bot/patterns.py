"""Regular expressions with macros, as the rule files write them.

``safety.yml``, ``distress.yml`` and ``case_signals.yml`` define macros (``g2: '…'``) and use
them in patterns as ``{g2}``; a macro may use macros defined before it. Regex quantifiers such
as ``{2}`` or ``{0,40}`` are not macro names and stay as they are.
"""

from __future__ import annotations

import re
from typing import Mapping, Pattern

MACRO = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_MAX_NESTING = 10


def expand(pattern: str, macros: Mapping[str, str], where: str) -> str:
    """Insert the macros into a pattern.

    Args:
        pattern: The pattern as written in the rule file.
        macros: The macros by name (already expanded or not).
        where: Names the file and entry in error messages.

    Returns:
        The pattern with every ``{name}`` replaced.

    Raises:
        ValueError: For an unknown macro or macros nested too deeply.
    """

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in macros:
            raise ValueError(f"{where}: unknown macro {{{name}}}")
        return macros[name]

    for _ in range(_MAX_NESTING):
        expanded = MACRO.sub(replace, pattern)
        if expanded == pattern:
            return expanded
        pattern = expanded
    raise ValueError(f"{where}: macros nested too deeply")


def compile_pattern(pattern: str, macros: Mapping[str, str], where: str) -> Pattern[str]:
    """Expand the macros of a pattern and compile it.

    Args:
        pattern: The pattern as written in the rule file.
        macros: The macros by name.
        where: Names the file and entry in error messages.

    Returns:
        The compiled regular expression.

    Raises:
        ValueError: For an unknown macro or an invalid regular expression (the message names
            ``where`` and the pattern).
    """
    try:
        return re.compile(expand(str(pattern), macros, where))
    except re.error as error:
        raise ValueError(f"{where}: invalid pattern {pattern!r}: {error}") from error
