"""`make run` / `make shell`: action server + Rasa server (+ web chat page or terminal chat).

The web chat page on :8080 is the widget of ``web/`` (see docs/channels.md); its socket.io
connection goes straight to the Rasa server (CORS: ``KLARTEXT_WEBCHAT_ORIGINS``).

Everything listens on loopback. Rasa's HTTP API is started only with
``KLARTEXT_ENABLE_API=true`` (and then with ``--auth-token`` when ``KLARTEXT_API_TOKEN`` is
set); see docs/security.md. ``make serve`` (devtools/serve.py) is the production start.

Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Optional
from urllib.parse import urlsplit

import yaml

from bot.config import load_settings
from connectors import security, webchat_assets
from connectors.webchat_auth import issue_token, webchat_secret
from devtools.servers import ServerPair

ROOT = Path(__file__).resolve().parent.parent
DEV_SENDER = "dev-user"


class WidgetPageHandler(BaseHTTPRequestHandler):
    """Serves the web chat widget (web/) whose socket talks to the Rasa server directly.

    Only the files of ``connectors.webchat_assets.ASSETS`` are served; ``config.js`` tells
    the widget where the Rasa server is and whether a sign-in token is needed.
    """

    rasa_url = "http://127.0.0.1:5005"
    sign_in = False

    def do_GET(self) -> None:  # the name http.server calls
        name = urlsplit(self.path).path.lstrip("/") or "index.html"
        headers: Dict[str, str]
        if name == webchat_assets.CONFIG_NAME:
            body = webchat_assets.config_js(self.rasa_url, "/socket.io", self.sign_in)
            content_type, headers = webchat_assets.JS_TYPE, webchat_assets.asset_headers()
        else:
            found = webchat_assets.asset(name)
            if found is None:
                self.send_error(404)
                return
            body, content_type = found
            headers = (
                webchat_assets.page_headers(self.rasa_url)
                if name == "index.html"
                else webchat_assets.asset_headers()
            )
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # quiet
        pass


def page_server(
    port: int, rasa_url: str, sign_in: bool = False, host: str = "127.0.0.1"
) -> ThreadingHTTPServer:
    """The widget page server (not yet serving; call ``serve_forever``)."""
    handler = type(
        "BoundWidgetPageHandler", (WidgetPageHandler,), {"rasa_url": rasa_url, "sign_in": sign_in}
    )
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def start_page_server(port: int, rasa_url: str, sign_in: bool = False) -> ThreadingHTTPServer:
    """Start the widget page server in a background thread (tests)."""
    server = page_server(port, rasa_url, sign_in)
    threading.Thread(target=server.serve_forever, name="webchat-page", daemon=True).start()
    return server


def sign_in_link(page_url: str, secret: Optional[str], sender: str = DEV_SENDER) -> Optional[str]:
    """A page URL that signs the browser in as ``sender`` (when a secret is configured)."""
    if not secret:
        return None
    return f"{page_url}#token={issue_token(sender, secret)}"


def shell_endpoints(target: Path, action_port: int) -> Path:
    """endpoints.yml for `rasa shell`, whose action calls carry the action secret.

    `rasa shell` loads no channel of credentials.yml, so connectors/guard.py cannot add the
    secret there; the endpoint's own ``headers`` do.
    """
    config = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8")) or {}
    action = dict(config.get("action_endpoint") or {})
    action["url"] = f"http://127.0.0.1:{action_port}/webhook"
    action["headers"] = {security.ACTION_SECRET_HEADER: security.action_secret()}
    config["action_endpoint"] = action
    target.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    target.chmod(0o600)
    return target


def run_shell(action_port: int) -> int:
    """Action server in the background, `rasa shell` in the foreground."""
    rasa = Path(sys.executable).parent / "rasa"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    tmp_dir = Path(tempfile.mkdtemp(prefix="klartext-shell-"))
    endpoints = shell_endpoints(tmp_dir / "endpoints.yml", action_port)
    actions = subprocess.Popen(
        [str(rasa), "run", "actions", "--port", str(action_port), "--actions", "actions"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        print("Tippe deine Nachricht; /stop beendet den Chat.", flush=True)
        return subprocess.call(
            [str(rasa), "shell", "--endpoints", str(endpoints)], cwd=ROOT, env=env
        )
    except KeyboardInterrupt:
        return 0
    finally:
        actions.terminate()
        actions.wait(timeout=30)
        endpoints.unlink(missing_ok=True)
        tmp_dir.rmdir()


def _interrupt(*_args) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Klartext starten")
    parser.add_argument("--shell", action="store_true", help="im Terminal chatten statt Web-Chat")
    parser.add_argument(
        "--rasa-port", type=int, default=int(os.environ.get("KLARTEXT_RASA_PORT", 5005))
    )
    parser.add_argument(
        "--action-port", type=int, default=int(os.environ.get("KLARTEXT_ACTION_PORT", 5055))
    )
    parser.add_argument(
        "--web-port", type=int, default=int(os.environ.get("KLARTEXT_WEB_PORT", 8080))
    )
    args = parser.parse_args(argv)

    if args.shell:
        return run_shell(args.action_port)
    # SIGTERM (e.g. from a process manager) stops everything like Ctrl-C does
    signal.signal(signal.SIGTERM, _interrupt)
    settings = load_settings()
    pair = ServerPair(
        ROOT,
        rasa_port=args.rasa_port,
        action_port=args.action_port,
        enable_api=settings.enable_api,
        auth_token=settings.api_token or None,
    )
    if not webchat_assets.SOCKET_IO_CLIENT.is_file():
        print(
            "Hinweis: web/node_modules fehlt – der Web-Chat braucht `make setup` (npm ci in web/).",
            file=sys.stderr,
        )
    print("Starte Action-Server und Rasa-Server (das dauert etwa eine Minute) …", flush=True)
    try:
        pair.start()
    except RuntimeError as err:
        print(f"Start fehlgeschlagen: {err}", file=sys.stderr)
        return 1
    try:
        secret = webchat_secret()
        server = page_server(args.web_port, pair.base_url, sign_in=bool(secret))
        page_url = f"http://127.0.0.1:{args.web_port}/"
        print(f"\nKlartext läuft (Start in {pair.startup_seconds:.0f} s).", flush=True)
        print(f"  Web-Chat:  {page_url}", flush=True)
        link = sign_in_link(page_url, secret)
        if link:
            print(f"  Anmeldung: {link}", flush=True)
            print(
                "             (KLARTEXT_WEBCHAT_SECRET ist gesetzt; Link 8 h gültig, "
                f"Sender „{DEV_SENDER}“)",
                flush=True,
            )
        print(f"  Auch hier: {pair.base_url}/webchat/", flush=True)
        print(f"  REST:      {pair.base_url}/webhooks/rest/webhook", flush=True)
        print("Beenden mit Ctrl-C.", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nWird beendet …", flush=True)
    finally:
        pair.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
