"""Start and stop the Rasa server and the action server as a pair (tests, benchmarks).

    with ServerPair(ROOT, rasa_port=15005, action_port=15055) as servers:
        requests.post(f"{servers.base_url}/webhooks/rest/webhook", json={...})

Both processes run in their own process group (``start_new_session``), log to
``<log_dir>/rasa-<port>.log`` and ``<log_dir>/actions-<port>.log`` and are stopped with
SIGTERM (SIGKILL after a grace period). ``start()`` blocks until ``GET /status`` of the Rasa
server names a loaded model (without the HTTP API: until ``GET /`` answers, which Rasa does
only after loading the model) and the action server's ``GET /health`` answers.

``enable_api`` (default on, as the tests need it) and ``auth_token`` (``--auth-token``) set
Rasa's HTTP API; both processes get the same environment, so they share the action secret
(``connectors/security.py``).
"""

from __future__ import annotations

import atexit
import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import IO, Dict, List, Optional

import yaml

_POLL_SECONDS = 0.25
_STOP_GRACE_SECONDS = 20.0
_LOG_TAIL_LINES = 40


def newest_model(models_dir: Path) -> Optional[Path]:
    """The newest ``*.tar.gz`` in ``models_dir`` (``None`` when there is none)."""
    if not models_dir.is_dir():
        return None
    models = [p for p in models_dir.glob("*.tar.gz") if p.is_file()]
    return max(models, key=lambda p: p.stat().st_mtime) if models else None


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something listens on ``port`` (or the port cannot be bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        if probe.connect_ex((host, port)) == 0:
            return True
    for bind_host in ("0.0.0.0", host):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((bind_host, port))
            except OSError as exc:
                if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                    return True
                raise
    return False


def _http_json(url: str, timeout: float = 2.0) -> "tuple[Optional[int], Optional[object]]":
    """GET ``url``: (HTTP status, decoded JSON); (None, None) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # a local http:// URL
            body = resp.read()
            status = resp.status
    except urllib.error.HTTPError as error:
        return error.code, None
    except (urllib.error.URLError, OSError):
        return None, None
    try:
        return status, json.loads(body.decode("utf-8") or "null")
    except ValueError:
        return status, None


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        content = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return f"(no log file {path})"
    return "\n".join(content[-lines:]) or "(empty)"


def _children(pid: int) -> List[int]:
    """All descendants of ``pid`` (from /proc)."""
    by_parent: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                stat = handle.read()
        except OSError:
            continue
        # the command name may contain spaces and parentheses: split after the last ')'
        fields = stat[stat.rfind(")") + 2 :].split()
        by_parent.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in by_parent.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _vm_rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def server_env(project_dir: Path, extra_env: Dict[str, str]) -> Dict[str, str]:
    """Environment of a server process: ours + quiet defaults + ``extra_env``, project first."""
    env = dict(os.environ)
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.update(extra_env)
    # the project's packages (actions, connectors, bot) first on the import path
    paths = [str(project_dir)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


class _Process:
    """One server process with its log file."""

    def __init__(self, name: str, log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self.popen: Optional[subprocess.Popen] = None
        self._log: Optional[IO[bytes]] = None

    def launch(self, cmd: List[str], cwd: Path, env: Dict[str, str], append: bool) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab" if append else "wb")
        self._log.write(f"$ {' '.join(cmd)}\n".encode())
        self._log.flush()
        self.popen = subprocess.Popen(
            cmd,
            cwd=str(cwd),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> Optional[int]:
        return self.popen.pid if self.popen and self.popen.poll() is None else None

    def exited(self) -> Optional[int]:
        return None if self.popen is None else self.popen.poll()

    def stop(self) -> None:
        if self.popen is not None:
            if self.popen.poll() is None:
                self._signal(signal.SIGTERM)
                try:
                    self.popen.wait(timeout=_STOP_GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    self._signal(signal.SIGKILL)
                    self.popen.wait(timeout=_STOP_GRACE_SECONDS)
            # make sure no member of the process group survives (e.g. worker children)
            self._signal(signal.SIGKILL)
            self.popen = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def _signal(self, sig: int) -> None:
        assert self.popen is not None
        try:
            os.killpg(self.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


class ServerPair:
    """The Rasa server (``rasa run --enable-api``) plus the action server."""

    def __init__(
        self,
        project_dir: Path,
        *,
        rasa_port: int,
        action_port: Optional[int],
        model: Optional[Path] = None,
        env: Optional[Dict[str, str]] = None,
        log_dir: Optional[Path] = None,
        endpoints: Optional[Path] = None,
        credentials: Optional[Path] = None,
        rasa_bin: Optional[Path] = None,
        interface: str = "127.0.0.1",
        enable_api: bool = True,
        auth_token: Optional[str] = None,
    ) -> None:
        self.project_dir = Path(project_dir).resolve()
        self.rasa_port = int(rasa_port)
        self.action_port = int(action_port) if action_port is not None else None
        self.model = Path(model) if model is not None else None
        self.extra_env = dict(env or {})
        self.log_dir = Path(log_dir) if log_dir is not None else self.project_dir / "var" / "log"
        self.endpoints = Path(endpoints) if endpoints is not None else None
        if credentials is not None:
            self.credentials: Optional[Path] = Path(credentials)
        else:
            default = self.project_dir / "credentials.yml"
            self.credentials = default if default.is_file() else None
        self.rasa_bin = (
            Path(rasa_bin) if rasa_bin is not None else Path(sys.executable).parent / "rasa"
        )
        self.interface = interface
        self.enable_api = enable_api
        self.auth_token = auth_token or None
        self.base_url = f"http://127.0.0.1:{self.rasa_port}"
        self.action_url = (
            f"http://127.0.0.1:{self.action_port}" if self.action_port is not None else None
        )
        self.startup_seconds: float = 0.0
        self.rasa_log = self.log_dir / f"rasa-{self.rasa_port}.log"
        self.actions_log = self.log_dir / f"actions-{self.action_port}.log"
        self._rasa = _Process("rasa", self.rasa_log)
        self._actions = _Process("actions", self.actions_log)
        self._tmp_dir: Optional[Path] = None
        self._atexit_registered = False

    # ------------------------------------------------------------------ properties
    @property
    def rasa_pid(self) -> Optional[int]:
        return self._rasa.pid

    @property
    def action_pid(self) -> Optional[int]:
        return self._actions.pid

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 300) -> None:
        """Launch both servers and wait until they are ready (or raise ``RuntimeError``)."""
        if self._rasa.popen is not None or self._actions.popen is not None:
            raise RuntimeError("ServerPair is already running; call stop() first")
        if not self.rasa_bin.exists():
            raise RuntimeError(f"rasa executable not found: {self.rasa_bin}")
        model = self.model or newest_model(self.project_dir / "models")
        if model is None or not Path(model).is_file():
            where = model or self.project_dir / "models"
            raise RuntimeError(f"No trained model found ({where}); run `make train`.")
        self._refuse_busy_ports()
        endpoints = self.endpoints or self._generated_endpoints()
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True

        launched = time.monotonic()
        if self.action_port is not None:
            self._launch_actions(append=False)
        cmd = [
            str(self.rasa_bin),
            "run",
            *self._api_args(),
            "--interface",
            self.interface,
            "--port",
            str(self.rasa_port),
            "--model",
            str(model),
            "--endpoints",
            str(endpoints),
        ]
        if self.credentials is not None:
            cmd += ["--credentials", str(self.credentials)]
        self._rasa.launch(cmd, self.project_dir, self._env(), append=False)
        try:
            ready = self._wait_ready(
                launched, timeout, rasa=True, actions=self.action_port is not None
            )
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = max(ready.values()) if ready else 0.0

    def stop(self) -> None:
        """Terminate both servers (whole process groups) and wait for them."""
        self._rasa.stop()
        self._actions.stop()
        if self._tmp_dir is not None:
            shutil.rmtree(self._tmp_dir, ignore_errors=True)
            self._tmp_dir = None

    def kill_rasa(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the Rasa server's process group (crash tests); ``stop()`` reaps it."""
        if self._rasa.popen is not None:
            self._rasa._signal(sig)

    def stop_actions(self) -> None:
        """Stop only the action server (failure tests)."""
        self._actions.stop()

    def start_actions(self, timeout: float = 120) -> None:
        """(Re)start the action server and wait for its ``/health``."""
        if self.action_port is None:
            raise RuntimeError("ServerPair was created without an action_port")
        if self._actions.popen is not None and self._actions.exited() is None:
            return
        self._actions.stop()
        if port_in_use(self.action_port):
            raise RuntimeError(f"Port {self.action_port} (action server) is already in use")
        started = time.monotonic()
        self._launch_actions(append=True)
        try:
            self._wait_ready(started, timeout, rasa=False, actions=True)
        except BaseException:
            self._actions.stop()
            raise

    def __enter__(self) -> "ServerPair":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ measurements
    def rss_bytes(self) -> Dict[str, int]:
        """Resident memory of each server including its child processes (bytes)."""
        result = {}
        for name, pid in (("rasa", self.rasa_pid), ("actions", self.action_pid)):
            result[name] = sum(_vm_rss(p) for p in [pid, *_children(pid)]) if pid else 0
        return result

    # ------------------------------------------------------------------ internals
    def _env(self) -> Dict[str, str]:
        return server_env(self.project_dir, self.extra_env)

    def _api_args(self) -> List[str]:
        if not self.enable_api:
            return []
        return ["--enable-api"] + (["--auth-token", self.auth_token] if self.auth_token else [])

    def _rasa_ready(self) -> "tuple[bool, Optional[int]]":
        """Whether the Rasa server has its model (and the HTTP status of the probe)."""
        if not self.enable_api:
            code, _ = _http_json(f"{self.base_url}/")
            return code == 200, code
        query = f"?{urllib.parse.urlencode({'token': self.auth_token})}" if self.auth_token else ""
        code, status = _http_json(f"{self.base_url}/status{query}")
        loaded = isinstance(status, dict) and bool(
            status.get("model_id") or status.get("model_file")
        )
        return loaded, code

    def _launch_actions(self, append: bool) -> None:
        cmd = [
            str(self.rasa_bin),
            "run",
            "actions",
            "--port",
            str(self.action_port),
            "--actions",
            "actions",
        ]
        self._actions.launch(cmd, self.project_dir, self._env(), append=append)

    def _refuse_busy_ports(self) -> None:
        busy = [
            f"{port} ({name})"
            for name, port in (("Rasa server", self.rasa_port), ("action server", self.action_port))
            if port is not None and port_in_use(port)
        ]
        if busy:
            raise RuntimeError(
                "Port already in use: "
                + ", ".join(busy)
                + ". Stop the other server or pick other ports."
            )

    def _generated_endpoints(self) -> Path:
        source = self.project_dir / "endpoints.yml"
        config: Dict[str, object] = {}
        if source.is_file():
            config = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        action = dict(config.get("action_endpoint") or {})  # type: ignore[arg-type]
        if self.action_port is None:
            config.pop("action_endpoint", None)
        else:
            action["url"] = f"http://127.0.0.1:{self.action_port}/webhook"
            config["action_endpoint"] = action
        self._tmp_dir = Path(tempfile.mkdtemp(prefix="klartext-endpoints-"))
        target = self._tmp_dir / "endpoints.yml"
        target.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        return target

    def _wait_ready(
        self, since: float, timeout: float, *, rasa: bool, actions: bool
    ) -> Dict[str, float]:
        deadline = since + timeout
        ready: Dict[str, float] = {}
        no_agent = 0
        while True:
            for name, wanted, proc in (
                ("rasa", rasa, self._rasa),
                ("actions", actions, self._actions),
            ):
                if wanted and name not in ready and proc.exited() is not None:
                    raise RuntimeError(
                        f"The {name} server exited early with code {proc.exited()}.\n"
                        + self._log_report()
                    )
            if rasa and "rasa" not in ready:
                loaded, code = self._rasa_ready()
                if loaded:
                    ready["rasa"] = time.monotonic() - since
                elif code == 409:
                    # Rasa loads the model before it listens: answering "no agent loaded"
                    # means the model could not be loaded (twice, to be sure).
                    no_agent += 1
                    if no_agent >= 2:
                        raise RuntimeError(
                            "The Rasa server is up but could not load the model.\n"
                            + self._log_report()
                        )
            if actions and "actions" not in ready:
                _, health = _http_json(f"{self.action_url}/health")
                if isinstance(health, dict) and health.get("status") == "ok":
                    ready["actions"] = time.monotonic() - since
            if ("rasa" in ready or not rasa) and ("actions" in ready or not actions):
                return ready
            if time.monotonic() > deadline:
                waiting = [
                    n for n, w in (("rasa", rasa), ("actions", actions)) if w and n not in ready
                ]
                raise RuntimeError(
                    f"Timed out after {timeout:g} s waiting for: {', '.join(waiting)}.\n"
                    + self._log_report()
                )
            time.sleep(_POLL_SECONDS)

    def _log_report(self) -> str:
        parts = [f"--- tail of {self.rasa_log} ---\n{_tail(self.rasa_log)}"]
        if self.action_port is not None:
            parts.append(f"--- tail of {self.actions_log} ---\n{_tail(self.actions_log)}")
        return "\n".join(parts)
