"""App packages for Microsoft Teams and Slack, filled in from the settings in ``.env``.

* ``make teams-package`` (``python -m devtools.teams_package``) writes
  ``var/teams/klartext-teams.zip``: ``manifest.json`` from ``deploy/teams/manifest.yml`` and
  the two icons drawn by ``deploy/teams/icons.py``. Upload it in Teams (*Apps → Manage your
  apps → Upload an app*) or in the Teams admin center.
* ``python -m devtools.teams_package slack`` prints ``deploy/slack/manifest.yml`` with the
  coach's address filled in, to paste into *Create New App → From an app manifest*.

The placeholders ``${KLARTEXT_…}`` are settings of ``bot/config.py`` (``${host}`` is the host
of ``KLARTEXT_PUBLIC_URL``). Both platforms need the coach's public HTTPS address; Teams also
the Azure Bot's Microsoft App ID. A missing or unusable value stops with a message naming
the setting.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import zipfile
from pathlib import Path
from string import Template
from types import ModuleType
from typing import Any, Mapping
from urllib.parse import urlsplit

import yaml

from bot.config import ROOT, Settings, load_settings

TEAMS_TEMPLATE = ROOT / "deploy" / "teams" / "manifest.yml"
SLACK_TEMPLATE = ROOT / "deploy" / "slack" / "manifest.yml"
ICONS_MODULE = ROOT / "deploy" / "teams" / "icons.py"
PACKAGE_NAME = "klartext-teams.zip"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class PackageError(ValueError):
    """A setting the package needs is missing or unusable (the message names it)."""


def public_url(settings: Settings) -> str:
    """``KLARTEXT_PUBLIC_URL`` without a trailing slash; it must be an https:// address."""
    url = settings.public_url.rstrip("/")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise PackageError(
            f"KLARTEXT_PUBLIC_URL={settings.public_url!r}: Slack and Teams need the coach's "
            "public https:// address (e.g. https://coach.example.org) in .env"
        )
    return url


def teams_app_id(settings: Settings) -> str:
    """``KLARTEXT_TEAMS_APP_ID``, the Azure Bot's Microsoft App ID (a GUID)."""
    if not _GUID.match(settings.teams_app_id):
        raise PackageError(
            f"KLARTEXT_TEAMS_APP_ID={settings.teams_app_id!r}: put the Microsoft App ID of "
            "your Azure Bot (a GUID) into .env"
        )
    return settings.teams_app_id


def fill(node: Any, values: Mapping[str, str]) -> Any:
    """``node`` (parsed YAML) with ``${name}`` in every string replaced from ``values``."""
    if isinstance(node, str):
        try:
            return Template(node).substitute(values)
        except KeyError as missing:
            name = missing.args[0]
            raise PackageError(f"unknown placeholder ${{{name}}} in a template") from None
    if isinstance(node, dict):
        return {key: fill(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [fill(value, values) for value in node]
    return node


def _template(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def slack_manifest(settings: Settings) -> dict:
    """The Slack app manifest with the coach's public address."""
    return fill(_template(SLACK_TEMPLATE), {"KLARTEXT_PUBLIC_URL": public_url(settings)})


def teams_manifest(settings: Settings) -> dict:
    """The Teams app manifest with app id, bot id, address and host."""
    url = public_url(settings)
    values = {
        "KLARTEXT_PUBLIC_URL": url,
        "KLARTEXT_TEAMS_APP_ID": teams_app_id(settings),
        "host": urlsplit(url).hostname,
    }
    return fill(_template(TEAMS_TEMPLATE), values)


def _icons() -> ModuleType:
    spec = importlib.util.spec_from_file_location("klartext_teams_icons", ICONS_MODULE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_teams_package(settings: Settings, out_dir: Path) -> Path:
    """Write the Teams app package (manifest.json, color.png, outline.png) as a zip."""
    manifest = teams_manifest(settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    icons = _icons().write_icons(out_dir / "icons")
    package = out_dir / PACKAGE_NAME
    with zipfile.ZipFile(package, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        for name, path in icons.items():
            archive.write(path, arcname=manifest["icons"][name])
    return package


def main(argv: list[str] | None = None) -> int:
    """``teams`` (default): write the Teams package; ``slack``: print the Slack manifest."""
    parser = argparse.ArgumentParser(prog="python -m devtools.teams_package")
    parser.add_argument("what", nargs="?", choices=("teams", "slack"), default="teams")
    parser.add_argument("--out", help="directory of the Teams package (default: var/teams)")
    args = parser.parse_args(argv)
    settings = load_settings()
    try:
        if args.what == "slack":
            print(yaml.safe_dump(slack_manifest(settings), allow_unicode=True, sort_keys=False))
            return 0
        out = Path(args.out) if args.out else settings.var_dir / "teams"
        print(write_teams_package(settings, out))
    except PackageError as problem:
        print(problem, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover - command line
    sys.exit(main())
