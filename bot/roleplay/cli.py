"""``coach scenarios check|import|list``: validate scenario files, store a trainer's own ones."""

from __future__ import annotations

import argparse
import sys

from bot.texts import text

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


def run_import(args: argparse.Namespace) -> int:
    """`coach scenarios import FILE --trainer ID [--publish]`: check and store a new version."""
    from pathlib import Path

    from .library import save

    path = Path(args.file)
    try:
        yaml_text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
        print(text("scenarios", "cli.not_readable", path=path, reason=reason), file=sys.stderr)
        return 1
    saved = save(args.trainer, yaml_text, publish=True if args.publish else None, name=str(path))
    if saved.stored is None:
        for error in saved.checked.errors:
            print(text("scenarios", "cli.error", error=error), file=sys.stderr)
        count = len(saved.checked.errors)
        print(text("scenarios", "cli.nothing_stored", count=count), file=sys.stderr)
        return 1
    suffix = text("scenarios", "cli.published_suffix") if saved.stored.published else ""
    print(
        text(
            "scenarios",
            "cli.stored",
            id=saved.stored.slug,
            version=saved.stored.newest.number,
            published=suffix,
        )
    )
    return 0


def run_list(args: argparse.Namespace) -> int:
    """`coach scenarios list --trainer ID`: the trainer's scenarios with all their versions."""
    from bot.config import load_settings
    from bot.groups import to_local
    from bot.storage.scenarios import ScenarioRepository

    from .library import used_version

    repo = ScenarioRepository(load_settings().database_url)
    own = repo.owned_by(args.trainer, all_versions=True)
    if not own:
        print(text("scenarios", "cli.list_none", trainer=args.trainer))
        return 0
    for stored in own:
        published = text("scenarios", "cli.published_suffix") if stored.published else ""
        numbers = ", ".join(str(v.number) for v in reversed(stored.versions))
        print(
            text(
                "scenarios", "cli.list_line", id=stored.slug, published=published, versions=numbers
            )
        )
        used = used_version(stored)
        for version in stored.versions:
            if version.number == used:
                mark = text("scenarios", "cli.list_used")
            elif used is None or version.number > used:
                mark = text("scenarios", "cli.list_invalid")
            else:
                mark = ""
            print(
                text(
                    "scenarios",
                    "cli.list_version",
                    number=version.number,
                    date=to_local(version.created_at).strftime("%d.%m.%Y %H:%M"),
                    author=version.author,
                    used=mark,
                )
            )
    return 0
