"""The files of the web chat widget and the page around it (no Rasa imports).

Served by the socket.io channel under ``/webchat/`` of the Rasa server (same origin as the
socket) and by ``make run`` on port 8080 (``devtools/run.py``, pointing the widget at the
Rasa server). Only the files named in :data:`ASSETS` are served – no directory listing, no
path from the request reaches the file system.

``socket.io.min.js`` comes from the npm package ``socket.io-client`` that the set-up
installs into ``web/node_modules`` (``make setup`` → ``npm ci`` in ``web/``); nothing is
loaded from a CDN at run time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Iterable, Optional, Tuple
from urllib.parse import urlsplit

from connectors.channel_common import ROOT, section

WEB_DIR = ROOT / "web"
SOCKET_IO_CLIENT = WEB_DIR / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"

#: URL name → (file, content type). ``config.js`` is generated (see :func:`config_js`).
ASSETS: Dict[str, Tuple[Path, str]] = {
    "index.html": (WEB_DIR / "index.html", "text/html; charset=utf-8"),
    "klartext-chat.js": (WEB_DIR / "klartext-chat.js", "application/javascript; charset=utf-8"),
    "klartext-chat.css": (WEB_DIR / "klartext-chat.css", "text/css; charset=utf-8"),
    "socket.io.min.js": (SOCKET_IO_CLIENT, "application/javascript; charset=utf-8"),
}
CONFIG_NAME = "config.js"
JS_TYPE = "application/javascript; charset=utf-8"


def asset(name: str) -> Optional[Tuple[bytes, str]]:
    """Content and type of a static asset (``""`` is the page), ``None`` if unknown/missing."""
    name = name or "index.html"
    entry = ASSETS.get(name)
    if entry is None:
        return None
    path, content_type = entry
    try:
        return path.read_bytes(), content_type
    except OSError:
        return None


def config_js(
    server: Optional[str] = None, socket_path: str = "/socket.io", sign_in: bool = False
) -> bytes:
    """``window.KLARTEXT_CONFIG``: where the socket is, whether sign-in is needed, texts.

    ``server`` ``None`` means "the origin the widget's scripts were loaded from".
    """
    config = {
        "server": server,
        "socketPath": socket_path,
        "signIn": bool(sign_in),
        "texts": section("webchat"),
    }
    payload = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    return f"window.KLARTEXT_CONFIG = {payload};\n".encode("utf-8")


def _origins(servers: Iterable[Optional[str]]) -> str:
    sources = []
    for server in servers:
        if not server:
            continue
        parts = urlsplit(server)
        if parts.scheme in ("http", "https") and parts.netloc:
            sources.append(f"{parts.scheme}://{parts.netloc}")
            sources.append(f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}")
    return " ".join(dict.fromkeys(sources))


def page_headers(server: Optional[str] = None) -> Dict[str, str]:
    """Security headers of the page: only the project's own scripts run, nothing inline."""
    connect = " ".join(filter(None, ["'self'", _origins([server])]))
    return {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src {connect}; object-src 'none'; base-uri 'none'; form-action 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


def asset_headers() -> Dict[str, str]:
    """Headers of the scripts and the style sheet (embeddable from other origins)."""
    return {
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
        "Access-Control-Allow-Origin": "*",
    }
