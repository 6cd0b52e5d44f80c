"""A small threaded HTTP server on loopback that records requests (base of the fakes)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Tuple, Union
from urllib.parse import parse_qs, urlsplit

# (status, JSON body) or (status, JSON body, extra response headers)
Reply = Union[Tuple[int, Any], Tuple[int, Any, Dict[str, str]]]


@dataclass
class Recorded:
    method: str
    path: str
    headers: Dict[str, str]
    body: bytes
    json: Any = None
    form: Dict[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


class FakeServer:
    """Subclasses implement ``handle(request) -> (status, json_body)``."""

    name = "fake"

    def __init__(self) -> None:
        self.requests: List[Recorded] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Recorded(
                    self.command, self.path, {k: v for k, v in self.headers.items()}, body
                )
                content_type = (self.headers.get("Content-Type") or "").lower()
                if "json" in content_type and body:
                    try:
                        request.json = json.loads(body)
                    except ValueError:
                        pass
                elif "x-www-form-urlencoded" in content_type:
                    request.form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                extra: Dict[str, str] = {}
                try:
                    status, payload, *rest = fake.handle(request)
                    extra = rest[0] if rest else {}
                except Exception as error:  # a bug in a fake must be visible in the test
                    status, payload = 500, {"error": repr(error)}
                fake._record(request)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=self.name, daemon=True
        )

    def start(self) -> "FakeServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(self, request: Recorded) -> Reply:  # pragma: no cover - overridden
        return 404, {"error": "not found"}

    def _record(self, request: Recorded) -> None:
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()

    def recorded(self, predicate: Callable[[Recorded], bool] = lambda r: True) -> List[Recorded]:
        with self._lock:
            return [r for r in self.requests if predicate(r)]

    def wait_for(
        self, predicate: Callable[[List[Recorded]], bool], timeout: float = 60.0
    ) -> List[Recorded]:
        """Wait until ``predicate(all requests)`` holds; return the requests (or raise)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(list(self.requests)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"{self.name}: condition not met within {timeout:g} s; "
                        f"got {len(self.requests)} requests"
                    )
                self._changed.wait(remaining)
            return list(self.requests)

    @staticmethod
    def path_of(request: Recorded) -> str:
        return urlsplit(request.path).path
