"""Secrets generated once into the var directory and shared by every process that reads them.

The export links, the dashboard links and the action server's shared secret fall back to such
a file when no secret is configured: the Rasa server and the action server, started separately
and without settings, still agree on it.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

_ATTEMPTS = 40
_WAIT_SECONDS = 0.05


def generated_secret(var_dir: Path, name: str) -> str:
    """A random secret created once in ``var_dir/name`` (mode 0600), then read from there.

    Several processes may ask at the same time: the exclusive create makes sure exactly one
    of them writes it; the others wait until it is there.

    Args:
        var_dir: The directory of the secret file.
        name: The file name.

    Returns:
        The secret (64 hex digits).

    Raises:
        RuntimeError: When the file stays empty (another process failed while writing it).
    """
    path = Path(var_dir) / name
    for _ in range(_ATTEMPTS):
        try:
            value = path.read_text(encoding="ascii").strip()
            if value:
                return value
        except FileNotFoundError:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w", encoding="ascii") as handle:
                    handle.write(secrets.token_hex(32))
                continue
        time.sleep(_WAIT_SECONDS)  # the other process is writing it right now
    raise RuntimeError(f"cannot read the generated secret in {path}")
