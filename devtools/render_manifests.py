"""Render Klartext's Kubernetes manifests from ``deploy/values.yml`` (docs/operations.md).

    .venv/bin/python -m devtools.render_manifests                          # stdout
    .venv/bin/python -m devtools.render_manifests --env-file prod.env | kubectl apply -f -
    .venv/bin/python -m devtools.render_manifests --out deploy/rendered    # one file per object

The Jinja2 templates in ``deploy/templates/`` get the values file plus what this module
derives from the repository:

* the ``KLARTEXT_*`` settings of ``bot/config.py`` (names, defaults, descriptions), split by
  :func:`is_secret` into the ConfigMap ``<name>-settings`` and the Secret ``<name>-secrets``;
  secret values come only from ``--env-file`` (a ``.env``-style file kept outside git);
* ``endpoints.yml`` with the action endpoint pointed at the action server's Service (mounted
  over the image's ``endpoints.yml``);
* the Ingress paths of the enabled channels (:data:`CHANNEL_PATHS`).

Every rendered document is parsed back as YAML before it is written, so a template error
never reaches ``kubectl``.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import jinja2
import yaml

from bot.config import SETTINGS, Setting

ROOT = Path(__file__).resolve().parent.parent
DEPLOY_DIR = ROOT / "deploy"
TEMPLATES_DIR = DEPLOY_DIR / "templates"
VALUES_FILE = DEPLOY_DIR / "values.yml"
ENDPOINTS_FILE = ROOT / "endpoints.yml"
TEMPLATES = ("settings", "rasa", "actions", "ingress", "network-policies", "jobs")

# A setting is secret when a word of its name names a secret (KLARTEXT_SLACK_BOT_TOKEN,
# KLARTEXT_TRAINER_CODE …) – except URLs, which are secret only when they point at a data
# store, because those carry a password (KLARTEXT_DATABASE_URL; not KLARTEXT_TEAMS_TOKEN_URL).
SECRET_WORDS = frozenset({"SECRET", "TOKEN", "PASSWORD", "CODE", "KEY"})
STORE_WORDS = frozenset({"DATABASE", "STORE", "REDIS"})

# What the Ingress exposes per channel: (path, pathType); the Rasa server's routes are in
# connectors/*.py (REST, socket.io + widget, Slack, Teams, export downloads).
CHANNEL_PATHS: dict[str, tuple[tuple[str, str], ...]] = {
    "rest": (("/webhooks/rest/webhook", "Exact"),),
    "webchat": (("/webchat", "Prefix"), ("/socket.io", "Prefix")),
    "slack": (("/webhooks/slack/webhook", "Exact"),),
    "teams": (("/webhooks/teams/webhook", "Exact"),),
    "export": (("/webhooks/export/download", "Prefix"),),
    "dashboard": (("/webhooks/dashboard", "Prefix"),),
}


class ValuesError(ValueError):
    """The values file cannot be rendered (the message says what to fix)."""


@dataclass(frozen=True)
class Entry:
    """One ``KLARTEXT_*`` variable as it goes into the ConfigMap or the Secret."""

    name: str
    value: str
    description: str


def is_secret(name: str) -> bool:
    """Whether the setting ``name`` belongs into the Secret rather than the ConfigMap."""
    words = set(name.split("_")[1:])
    if name.endswith("_URL"):
        return bool(words & STORE_WORDS)
    return bool(words & SECRET_WORDS)


def load_values(path: Path = VALUES_FILE) -> dict[str, Any]:
    """The values file as a dict."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def missing_settings(values: Mapping[str, Any]) -> list[str]:
    """Settings of ``bot/config.py`` that the values file does not list."""
    listed = values.get("settings") or {}
    return [setting.name for setting in SETTINGS if setting.name not in listed]


def _default_text(setting: Setting) -> str:
    return setting.default if setting.default is not None else ""


def _description(setting: Setting) -> str:
    shown = setting.shown_default.replace("`", "")
    return f"{setting.description} (default: {shown})"


def _check_listed(listed: Mapping[str, Any]) -> None:
    unknown = sorted(set(listed) - {setting.name for setting in SETTINGS})
    if unknown:
        raise ValuesError(f"not declared in bot/config.py: {', '.join(unknown)}")
    for name, value in listed.items():
        if is_secret(name) and value is not None:
            raise ValuesError(
                f"{name} is a secret: leave it null in the values file and pass its value "
                "with --env-file"
            )


def setting_entries(
    values: Mapping[str, Any], secret_env: Mapping[str, str]
) -> tuple[list[Entry], list[Entry]]:
    """The plain and the secret entries of every setting in ``bot/config.py``.

    A plain setting takes its value from the values file (``null``: the default); a secret
    one from ``secret_env`` (empty when absent).

    Raises:
        ValuesError: the values file names an unknown setting or gives a secret a value.
    """
    listed = values.get("settings") or {}
    _check_listed(listed)
    plain, secret = [], []
    for setting in SETTINGS:
        if is_secret(setting.name):
            value = secret_env.get(setting.name, "")
            secret.append(Entry(setting.name, value, _description(setting)))
        else:
            value = listed.get(setting.name)
            text = _default_text(setting) if value is None else str(value)
            plain.append(Entry(setting.name, text, _description(setting)))
    return plain, secret


def cluster_endpoints(values: Mapping[str, Any]) -> str:
    """``endpoints.yml`` with the action endpoint at the action server's Service."""
    endpoints = yaml.safe_load(ENDPOINTS_FILE.read_text(encoding="utf-8"))
    service = f"{values['name']}-actions"
    endpoints["action_endpoint"]["url"] = f"http://{service}:{values['actions']['port']}/webhook"
    header = "# endpoints.yml of the repository, action endpoint at the action server's Service\n"
    return header + yaml.safe_dump(endpoints, sort_keys=False)


def ingress_paths(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(path, pathType) of every enabled channel, in the order of :data:`CHANNEL_PATHS`."""
    enabled = values["ingress"]["channels"]
    unknown = sorted(set(enabled) - set(CHANNEL_PATHS))
    if unknown:
        raise ValuesError(f"unknown channels under ingress.channels: {', '.join(unknown)}")
    return [path for name, paths in CHANNEL_PATHS.items() if enabled.get(name) for path in paths]


def release_suffix(image: str) -> str:
    """The image's tag (or digest) as part of an object name (a DNS label, lower case)."""
    name, _, digest = image.partition("@")
    if digest:
        return digest.rpartition(":")[2][:12]
    tag = name.rpartition("/")[2].partition(":")[2] or "latest"
    return re.sub(r"[^a-z0-9]+", "-", tag.lower()).strip("-")[:30]


def _checksum(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_documents(
    values: Mapping[str, Any],
    secret_env: Mapping[str, str] | None = None,
    include_secret: bool = True,
) -> list[str]:
    """The rendered YAML documents (one Kubernetes object each), checked to parse.

    Raises:
        ValuesError: the values file is inconsistent with ``bot/config.py`` or the channels.
    """
    plain, secret = setting_entries(values, secret_env or {})
    endpoints = cluster_endpoints(values)
    context = {
        "v": values,
        "plain": plain,
        "secret": secret,
        "include_secret": include_secret,
        "endpoints": endpoints,
        "checksum": _checksum(endpoints, *(f"{e.name}={e.value}" for e in plain + secret)),
        "ingress_paths": ingress_paths(values),
        "release": release_suffix(values["images"]["actions"]),
    }
    environment = _environment()
    documents = []
    for name in TEMPLATES:
        text = environment.get_template(f"{name}.yaml.j2").render(context)
        documents += [doc.strip() + "\n" for doc in text.split("\n---\n") if doc.strip()]
    for document in documents:
        yaml.safe_load(document)
    return documents


def render_objects(
    values: Mapping[str, Any], secret_env: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """The rendered objects as dicts (tests)."""
    return [yaml.safe_load(document) for document in render_documents(values, secret_env)]


def read_env_file(path: Path) -> dict[str, str]:
    """The variables of a ``.env``-style file (python-dotenv's syntax)."""
    from dotenv import dotenv_values

    return {key: value or "" for key, value in dotenv_values(path).items()}


def production_warnings(values: Mapping[str, Any], secret_env: Mapping[str, str]) -> list[str]:
    """Empty secrets that would lose data or break a deployment with several Rasa pods.

    The open doors of production mode are checked by the servers themselves at start
    (``connectors/security.py``).
    """
    needed = {
        "KLARTEXT_DATABASE_URL": "every pod would keep its own SQLite file",
        "KLARTEXT_TRACKER_STORE_URL": "every pod would keep its own SQLite file",
    }
    if values["rasa"]["max_replicas"] > 1:
        needed["KLARTEXT_SECRET"] = "each Rasa pod would sign export links with its own secret"
        needed["KLARTEXT_LOCK_STORE_URL"] = "Rasa pods would not share conversation locks"
    return [f"{name} is empty: {why}" for name, why in needed.items() if not secret_env.get(name)]


def _file_name(document: str) -> str:
    obj = yaml.safe_load(document)
    return f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"


def write_documents(documents: list[str], out_dir: Path) -> None:
    """One file per object in ``out_dir`` (created)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for document in documents:
        (out_dir / _file_name(document)).write_text(document, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Render the manifests to stdout or ``--out``; warnings go to stderr."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=Path, default=VALUES_FILE, help="settings file")
    parser.add_argument("--env-file", type=Path, help=".env-style file with the secret values")
    parser.add_argument("--out", type=Path, help="write one file per object into this folder")
    parser.add_argument(
        "--skip-secret", action="store_true", help="leave out the Secret (managed elsewhere)"
    )
    args = parser.parse_args(argv)
    values = load_values(args.values)
    secret_env = read_env_file(args.env_file) if args.env_file else {}
    try:
        documents = render_documents(values, secret_env, include_secret=not args.skip_secret)
    except ValuesError as error:
        print(f"{args.values}: {error}", file=sys.stderr)
        return 2
    missing = missing_settings(values)
    warnings = [f"{name} is not in {args.values}: default used" for name in missing]
    if not args.skip_secret:
        warnings += production_warnings(values, secret_env)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.out:
        write_documents(documents, args.out)
    else:
        sys.stdout.write("---\n".join(documents))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
