"""The `coach` command line.

Subcommands import their implementation only when they run, so `coach --help`
stays fast and no subcommand pays for another's imports.
"""

from __future__ import annotations

import argparse
import importlib
import sys


def _lazy(target: str):
    """A handler that imports ``module:function`` on call."""

    def run(args: argparse.Namespace) -> int:
        module_name, func_name = target.split(":")
        return getattr(importlib.import_module(module_name), func_name)(args)

    return run


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `coach` with all subcommands (handlers imported on call)."""
    parser = argparse.ArgumentParser(
        prog="coach", description="Klartext – Werkzeuge rund um den Coach"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    assess = sub.add_parser("assess", help="eine Äußerung aus einem Trennungsgespräch bewerten")
    assess.add_argument("--json", action="store_true", help="Ergebnis als ein JSON-Objekt ausgeben")
    assess.add_argument("text", nargs="+", help="die Äußerung")
    assess.set_defaults(func=_lazy("bot.rubric.cli:run_assess"))

    scenarios = sub.add_parser("scenarios", help="Rollenspiel-Szenarien")
    scenarios_sub = scenarios.add_subparsers(dest="scenarios_command", metavar="ACTION")
    check = scenarios_sub.add_parser("check", help="alle Szenario-Dateien prüfen")
    check.add_argument("paths", nargs="*", help="Dateien oder Ordner (Standard: data/scenarios)")
    check.set_defaults(func=_lazy("bot.roleplay.cli:run_check"))
    imp = scenarios_sub.add_parser(
        "import",
        help="eine Szenario-Datei prüfen und als neue Version eines eigenen Szenarios speichern",
    )
    imp.add_argument("file", help="die YAML-Datei")
    imp.add_argument(
        "--trainer", required=True, help="Sender-ID der Trainerin / des Trainers (Eigentümer)"
    )
    imp.add_argument("--publish", action="store_true", help="für alle veröffentlichen")
    imp.set_defaults(func=_lazy("bot.roleplay.cli:run_import"))
    listing = scenarios_sub.add_parser(
        "list", help="die eigenen Szenarien einer Trainerin / eines Trainers mit allen Versionen"
    )
    listing.add_argument("--trainer", required=True, help="Sender-ID der Trainerin / des Trainers")
    listing.set_defaults(func=_lazy("bot.roleplay.cli:run_list"))

    report = sub.add_parser(
        "report", help="Bericht einer Gruppensitzung als HTML (mit Diagrammen) und CSV"
    )
    report.add_argument("session", help="Beitrittscode der Sitzung, z. B. K7P2QX")
    report.add_argument(
        "--trainer",
        required=True,
        help="Sender-ID der Trainerin / des Trainers, die die Sitzung eröffnet hat",
    )
    report.add_argument("--out", help="Zielordner (Standard: var/reports/<CODE>)")
    report.set_defaults(func=_lazy("reporting.group_report:run_report"))

    db = sub.add_parser("db", help="Datenbank")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    upgrade = db_sub.add_parser(
        "upgrade", help="Schema per Migration auf den neuesten Stand bringen"
    )
    upgrade.set_defaults(func=_lazy("bot.storage.db:run_upgrade"))

    purge = sub.add_parser(
        "purge",
        help="Vorfälle, Mitschriften und Gesprächsverläufe nach Ablauf der Aufbewahrungsfrist "
        "löschen (für einen täglichen Cronjob)",
    )
    purge.add_argument(
        "--days",
        type=int,
        default=None,
        help="Aufbewahrungsfrist in Tagen (Standard: KLARTEXT_RETENTION_DAYS oder 365)",
    )
    purge.add_argument("--dry-run", action="store_true", help="nur zählen, nichts löschen")
    purge.set_defaults(func=_lazy("bot.data_rights:run_purge"))

    return parser


def main(argv: list[str] | None = None) -> int:
    """Run `coach` with ``argv``; returns the exit status (2 without a subcommand)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
