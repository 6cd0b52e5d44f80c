"""`make serve`: the production start of the action server and the Rasa server.

It refuses to start – non-zero exit, one line per open door, each naming the setting – as
long as a door would be open (:func:`check`, i.e.
:func:`connectors.security.production_problems`): ``KLARTEXT_MODE`` not ``production``,
no ``KLARTEXT_WEBCHAT_SECRET``, no ``KLARTEXT_ACTION_SECRET``, ``KLARTEXT_ENABLE_API=true``
without ``KLARTEXT_API_TOKEN``, or a secret shorter than 16 characters. Then it starts

* the action server on ``KLARTEXT_ACTION_HOST`` (default loopback) and port
  ``KLARTEXT_ACTION_PORT`` (5055), guarded by the action secret (``actions/auth.py``);
* the Rasa server on ``KLARTEXT_RASA_HOST`` (default loopback; ``0.0.0.0`` behind no proxy
  at all is allowed, every door checks its secret) and ``KLARTEXT_RASA_PORT`` (5005), with
  the HTTP API only when ``KLARTEXT_ENABLE_API=true``, and then with ``--auth-token``.

Logs go to ``<KLARTEXT_VAR_DIR>/log/``. SIGTERM or Ctrl-C stops both; when one of them
exits, the other is stopped too and the exit code is 1. See docs/security.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import List

from bot.config import SettingError, Settings, load_settings
from connectors.security import production_problems
from devtools.servers import ServerPair

ROOT = Path(__file__).resolve().parent.parent
POLL_SECONDS = 1.0


def check(settings: Settings) -> List[str]:
    """Why a production start with ``settings`` must not happen (empty: it may)."""
    return production_problems(settings)


def refuse(problems: List[str]) -> int:
    print("Klartext startet nicht: eine Tür wäre offen.", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    print("Einstellungen in .env oder der Umgebung, siehe docs/security.md.", file=sys.stderr)
    return 2


def _interrupt(*_args: object) -> None:
    raise KeyboardInterrupt


def serve(settings: Settings, rasa_port: int, action_port: int) -> int:
    """Start both servers and wait until one exits or we are told to stop."""
    pair = ServerPair(
        ROOT,
        rasa_port=rasa_port,
        action_port=action_port,
        interface=settings.rasa_host,
        enable_api=settings.enable_api,
        auth_token=settings.api_token or None,
        log_dir=settings.var_dir / "log",
    )
    signal.signal(signal.SIGTERM, _interrupt)
    print("Starte Action-Server und Rasa-Server (Produktionsmodus) …", flush=True)
    try:
        pair.start()
    except RuntimeError as err:
        print(f"Start fehlgeschlagen: {err}", file=sys.stderr)
        return 1
    try:
        print(f"Klartext läuft auf {settings.rasa_host}:{rasa_port}.", flush=True)
        print(f"  Logs: {pair.rasa_log}, {pair.actions_log}", flush=True)
        while pair.rasa_pid and pair.action_pid:
            time.sleep(POLL_SECONDS)
        print("Ein Server hat sich beendet; Logs siehe oben.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nWird beendet …", flush=True)
        return 0
    finally:
        pair.stop()


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Klartext im Produktionsmodus starten")
    parser.add_argument(
        "--rasa-port", type=int, default=int(os.environ.get("KLARTEXT_RASA_PORT", 5005))
    )
    parser.add_argument(
        "--action-port", type=int, default=int(os.environ.get("KLARTEXT_ACTION_PORT", 5055))
    )
    parser.add_argument(
        "--check", action="store_true", help="nur prüfen, ob ein Produktionsstart erlaubt ist"
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingError as bad:
        return refuse([str(bad)])
    problems = check(settings)
    if problems:
        return refuse(problems)
    if args.check:
        print("Alle Türen sind verschlossen: ein Produktionsstart ist erlaubt.", flush=True)
        return 0
    return serve(settings, args.rasa_port, args.action_port)


if __name__ == "__main__":
    sys.exit(main())
