"""`make run` / `make shell`: action server + Rasa server (+ web chat page or terminal chat).

Ctrl-C stops everything.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from devtools.servers import ServerPair

ROOT = Path(__file__).resolve().parent.parent
WEBCHAT_DIR = Path(__file__).with_name("webchat")
MAX_BODY = 64 * 1024


class ChatPageHandler(SimpleHTTPRequestHandler):
    """Serves the chat page and forwards POST /api/chat to the Rasa REST channel (same origin)."""

    rasa_url = "http://127.0.0.1:5005"

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        if self.path != "/api/chat":
            self.send_error(404)
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length)
        request = urllib.request.Request(f"{self.rasa_url}/webhooks/rest/webhook", data=body,
                                         headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as err:
            status, payload = err.code, err.read()
        except OSError:
            status, payload = 502, json.dumps({"error": "rasa server unreachable"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:  # quiet
        pass


def run_shell(action_port: int) -> int:
    """Action server in the background, `rasa shell` in the foreground."""
    rasa = Path(sys.executable).parent / "rasa"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    actions = subprocess.Popen([str(rasa), "run", "actions", "--port", str(action_port), "--actions", "actions"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        print("Tippe deine Nachricht; /stop beendet den Chat.", flush=True)
        return subprocess.call([str(rasa), "shell", "--endpoints", "endpoints.yml"], cwd=ROOT, env=env)
    except KeyboardInterrupt:
        return 0
    finally:
        actions.terminate()
        actions.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Klartext starten")
    parser.add_argument("--shell", action="store_true", help="im Terminal chatten statt Web-Chat")
    parser.add_argument("--rasa-port", type=int, default=int(os.environ.get("KLARTEXT_RASA_PORT", 5005)))
    parser.add_argument("--action-port", type=int, default=int(os.environ.get("KLARTEXT_ACTION_PORT", 5055)))
    parser.add_argument("--web-port", type=int, default=int(os.environ.get("KLARTEXT_WEB_PORT", 8080)))
    args = parser.parse_args(argv)

    if args.shell:
        return run_shell(args.action_port)
    pair = ServerPair(ROOT, rasa_port=args.rasa_port, action_port=args.action_port)
    print("Starte Action-Server und Rasa-Server (das dauert etwa eine Minute) …", flush=True)
    try:
        pair.start()
    except RuntimeError as err:
        print(f"Start fehlgeschlagen: {err}", file=sys.stderr)
        return 1
    try:
        ChatPageHandler.rasa_url = pair.base_url
        server = ThreadingHTTPServer(("127.0.0.1", args.web_port), partial(ChatPageHandler, directory=str(WEBCHAT_DIR)))
        print(f"\nKlartext läuft (Start in {pair.startup_seconds:.0f} s).", flush=True)
        print(f"  Web-Chat:  http://127.0.0.1:{args.web_port}/", flush=True)
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
