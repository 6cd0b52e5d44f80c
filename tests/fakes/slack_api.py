"""Fake Slack Web API: records ``chat.postMessage`` / ``chat.update`` calls of the bot.

:meth:`FakeSlackAPI.rate_limit` makes it answer the next calls with HTTP 429 and a
``Retry-After`` header, as Slack does when a bot posts too fast.
"""

from __future__ import annotations

import itertools
from typing import Any, Dict, List, Optional

from fakes.fakeserver import FakeServer, Recorded, Reply


class FakeSlackAPI(FakeServer):
    name = "fake-slack-api"

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self._ts = itertools.count(1)
        self._limited = 0
        self._retry_after = "1"
        self.rate_limited: List[Recorded] = []

    def rate_limit(self, calls: int = 1, retry_after: str = "1") -> None:
        """Answer the next ``calls`` calls with HTTP 429 ``ratelimited``."""
        self._limited, self._retry_after = calls, retry_after

    def handle(self, request: Recorded) -> Reply:
        method = self.path_of(request).rsplit("/", 1)[-1]
        if self._limited > 0:
            self._limited -= 1
            self.rate_limited.append(request)
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": self._retry_after}
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return 200, {"ok": False, "error": "invalid_auth"}
        if method not in ("chat.postMessage", "chat.update"):
            return 200, {"ok": False, "error": "unknown_method"}
        body = request.json if isinstance(request.json, dict) else {}
        if not body.get("channel"):
            return 200, {"ok": False, "error": "channel_not_found"}
        ts = body.get("ts") or f"1700000000.{next(self._ts):06d}"
        return 200, {"ok": True, "channel": body["channel"], "ts": ts, "message": body}

    # ------------------------------------------------------------------ reading
    def calls(
        self, method: str = "chat.postMessage", channel: Optional[str] = None
    ) -> List[Dict[str, Any]]:
        """Bodies of the bot's authorised, not rate-limited calls of ``method`` (to ``channel``)."""
        return [
            r.json
            for r in self.recorded()
            if not any(r is limited for limited in self.rate_limited)
            and self.path_of(r).endswith("/" + method)
            and isinstance(r.json, dict)
            and r.headers.get("Authorization") == f"Bearer {self.token}"
            and (channel is None or r.json.get("channel") == channel)
        ]

    def wait_calls(
        self,
        count: int,
        method: str = "chat.postMessage",
        channel: Optional[str] = None,
        timeout: float = 90.0,
    ) -> List[Dict[str, Any]]:
        self.wait_for(lambda _: len(self.calls(method, channel)) >= count, timeout)
        return self.calls(method, channel)
