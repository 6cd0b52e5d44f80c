"""Optional sign-in of the web chat: short-lived JWTs (HS256) that name the sender.

When ``KLARTEXT_WEBCHAT_SECRET`` is set (environment or ``.env``), the socket.io channel
accepts a connection only with ``auth: {token: <JWT>}`` signed with that secret, carrying
the sender id (claim ``sub``, or ``sender_id``) and an expiry (``exp``). The sender id
of the conversation is then taken from the token – never from the browser.

The page that embeds the widget gets such a token from its own back end, which shares the
secret. For a quick test issue one by hand::

    .venv/bin/python -m connectors.webchat_auth alice --hours 8
"""

from __future__ import annotations

import argparse
import sys
import time
import unicodedata
from typing import Any, Dict, Optional, Tuple

import jwt

from connectors.channel_common import setting

SECRET_ENV = "KLARTEXT_WEBCHAT_SECRET"
ALGORITHM = "HS256"
MAX_SENDER_CHARS = 128
LEEWAY_SECONDS = 30
DEFAULT_TTL_SECONDS = 8 * 3600


def webchat_secret() -> str:
    """The configured secret ('' = sign-in not required)."""
    return setting(SECRET_ENV)


def valid_sender_id(value: Any) -> bool:
    """A usable sender id: a non-empty string, ≤ 128 chars, no control characters."""
    return (
        isinstance(value, str)
        and bool(value.strip())
        and len(value) <= MAX_SENDER_CHARS
        and not any(unicodedata.category(char) in ("Cc", "Cs") for char in value)
    )


def issue_token(
    sender_id: str, secret: str, ttl_seconds: int = DEFAULT_TTL_SECONDS, now: Optional[float] = None
) -> str:
    """A signed token for ``sender_id`` that expires after ``ttl_seconds``."""
    if not secret:
        raise ValueError("no secret configured")
    if not valid_sender_id(sender_id):
        raise ValueError(f"invalid sender id: {sender_id!r}")
    issued = int(now if now is not None else time.time())
    claims: Dict[str, Any] = {"sub": sender_id, "iat": issued, "exp": issued + int(ttl_seconds)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(token: Any, secret: str) -> Tuple[Optional[str], str]:
    """``(sender_id, "")`` for a valid token, else ``(None, reason)``.

    Reasons (sent to the widget as the connect error, mapped to German there):
    ``token_missing``, ``token_expired``, ``token_invalid``.
    """
    if not isinstance(token, str) or not token.strip():
        return None, "token_missing"
    try:
        claims = jwt.decode(
            token.strip(),
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp"]},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError:
        return None, "token_expired"
    except jwt.PyJWTError:
        return None, "token_invalid"
    sender = claims.get("sender_id", claims.get("sub"))
    if not valid_sender_id(sender):
        return None, "token_invalid"
    return sender, ""


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description="Anmelde-Token für den Web-Chat ausstellen")
    parser.add_argument("sender", help="Sender-ID der Person (z. B. ihre Benutzerkennung)")
    parser.add_argument(
        "--hours",
        type=float,
        default=DEFAULT_TTL_SECONDS / 3600,
        help="Gültigkeit in Stunden (Standard: 8)",
    )
    args = parser.parse_args(argv)
    secret = webchat_secret()
    if not secret:
        print(f"{SECRET_ENV} ist nicht gesetzt (Umgebung oder .env).", file=sys.stderr)
        return 1
    print(issue_token(args.sender, secret, int(args.hours * 3600)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
