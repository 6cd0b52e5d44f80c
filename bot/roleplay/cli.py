"""``coach scenarios check [PATHS...]``: validate role-play scenario files."""

from __future__ import annotations

import argparse
import sys

from .scenarios import DEFAULT_SCENARIO_DIR, check_scenarios


def run_check(args: argparse.Namespace) -> int:
    """Print ``OK: N Szenarien`` (exit 0) or every problem found (exit 1)."""
    paths = list(getattr(args, "paths", None) or []) or [str(DEFAULT_SCENARIO_DIR)]
    scenarios, errors = check_scenarios(paths)
    if errors:
        for e in errors:
            print(f"FEHLER {e}", file=sys.stderr)
        files = len({e.file for e in errors})
        print(
            f"{len(errors)} Fehler in {files} Datei(en); {len(scenarios)} Szenarien in Ordnung.",
            file=sys.stderr,
        )
        return 1
    if not scenarios:
        print("Keine Szenario-Dateien gefunden.", file=sys.stderr)
        return 1
    print(f"OK: {len(scenarios)} Szenarien")
    return 0
