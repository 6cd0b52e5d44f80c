"""N Rasa replicas + action servers behind HAProxy, on a private PostgreSQL (tests, bench).

    with PrivatePostgres(port=18150, data_dir=tmp) as pg:
        with Cluster(ROOT, base_port=18100, database_url=pg.url("klartext"), ...) as cluster:
            requests.post(f"{cluster.url}/webhooks/rest/webhook", json={...})

Layout of the ports (``base_port`` = B):

| port | what |
|---|---|
| B | HAProxy frontend of the Rasa replicas (REST, socket.io, …) |
| B + 1 | HAProxy frontend of the action servers (the replicas' action endpoint) |
| B + 2 | HAProxy statistics (``/stats;csv``) |
| B + 10 + i | Rasa replica ``r<i+1>`` |
| B + 20 + i | action server ``a<i+1>`` |

HAProxy (``haproxy.cfg`` generated into the work directory) checks ``GET /`` of each replica
and ``GET /health`` of each action server every second and takes a server out after three
failed checks (a check may take 10 s: a busy replica answers late, a dead one refuses at
once). It gives each replica at most ``REPLICA_MAXCONN`` requests at once and queues the
rest, balances round robin, pins a browser's socket.io session to one replica with the
cookie ``klartext-route`` and names the replica that answered in the response header
``X-Klartext-Replica``. A request with the header ``X-Klartext-Replica: r2`` goes to ``r2``
while it is up (used to send one conversation's messages to different replicas at once).

All replicas share the tracker store and coach database (``database_url``), the lock store
(``lock_store_url``) and one action secret. Every process runs in its own process group and
is stopped with SIGTERM, SIGKILL after a grace period.
"""

from __future__ import annotations

import csv
import io
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from devtools.servers import (
    ServerPair,
    _http_json,
    _Process,
    _tail,
    newest_model,
    port_in_use,
    server_env,
)

HAPROXY = Path("/usr/sbin/haproxy")
REPLICA_HEADER = "X-Klartext-Replica"
ROUTE_COOKIE = "klartext-route"
HEALTH_INTERVAL_MS = 1000
HEALTH_FALL = 3  # failed checks in a row that take a server out
#: a check may take this long: a replica busy with 100 messages answers ``GET /`` late, but
#: it is not down (a dead one refuses the connection at once)
HEALTH_TIMEOUT_S = 10
#: requests a replica gets at once; HAProxy queues the rest (``timeout queue``). A replica
#: runs NLU and the policies in its event loop: with 100 requests inside, its health check
#: would wait behind all of them and a busy replica would look dead.
REPLICA_MAXCONN = 10
_POLL_SECONDS = 0.25


def postgres_bin_dir() -> Optional[Path]:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with ``initdb`` (``None``: none)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


class PrivatePostgres:
    """A PostgreSQL server of its own (``initdb`` + ``pg_ctl``) on loopback, trust auth.

    PostgreSQL refuses to run as root; as root the server runs as the user ``postgres``.
    """

    def __init__(self, port: int, data_dir: Optional[Path] = None) -> None:
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin")
        self.bin_dir = bin_dir
        self.port = int(port)
        self._own_dir = data_dir is None
        self.root = Path(data_dir) if data_dir else Path(_shared_tempdir("klartext-pg-"))
        self.data_dir = self.root / "data"
        self.log_path = self.root / "postgres.log"
        self._user = "postgres" if os.geteuid() == 0 else None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Create the cluster on first use and start the server (waits until it accepts)."""
        if not (self.data_dir / "PG_VERSION").is_file():
            if port_in_use(self.port):
                raise RuntimeError(f"Port {self.port} (private PostgreSQL) is already in use")
            self._chown(self.root)
            self._run(["initdb", "-D", str(self.data_dir), "-A", "trust", "-U", "postgres"])
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run(
            ["pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_path), "-o", options]
            + ["-w", "-t", "60", "start"]
        )

    def stop(self) -> None:
        """Stop the server (fast shutdown: sessions are ended, committed data stays)."""
        if (self.data_dir / "postmaster.pid").exists():
            self._run(["pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])

    def remove(self) -> None:
        """Stop the server and delete its files (only a directory it created itself)."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """Create database ``name``; return its URL."""
        self._run(["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name])
        return self.url(name)

    def __enter__(self) -> "PrivatePostgres":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()

    def _chown(self, path: Path) -> None:
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _run(self, args: List[str]) -> None:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self._user is not None:
            cmd = ["runuser", "-u", self._user, "--", *cmd]
        done = subprocess.run(
            cmd, cwd=str(self.root), capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args[:1])} failed ({done.returncode}): {done.stderr or done.stdout}\n"
                f"--- tail of {self.log_path} ---\n{_tail(self.log_path)}"
            )


def _shared_tempdir(prefix: str) -> str:
    """A temporary directory other local users can enter (PostgreSQL runs as ``postgres``)."""
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    return path


def haproxy_config(
    *, base_port: int, replica_ports: List[int], action_ports: List[int], timeout_s: int
) -> str:
    """The ``haproxy.cfg`` of the cluster (see the module docstring)."""
    check = f"check inter {HEALTH_INTERVAL_MS} fall {HEALTH_FALL} rise 2"
    replicas = [f"r{i + 1}" for i in range(len(replica_ports))]
    lines = [
        "global",
        "    maxconn 4096",
        "defaults",
        "    mode http",
        "    timeout connect 2s",
        f"    timeout client {timeout_s}s",
        f"    timeout server {timeout_s}s",
        f"    timeout queue {timeout_s}s",
        "    timeout tunnel 1h",
        f"    timeout check {HEALTH_TIMEOUT_S}s",
        "    retries 3",
        "    option redispatch",
        f"frontend rasa_in\n    bind 127.0.0.1:{base_port}\n    default_backend rasa",
        "backend rasa",
        "    balance roundrobin",
        "    option httpchk GET /",
        "    http-check expect status 200",
        f"    cookie {ROUTE_COOKIE} insert indirect nocache httponly",
        f"    http-response set-header {REPLICA_HEADER} %s",
    ]
    lines += [f"    use-server {n} if {{ req.hdr({REPLICA_HEADER}) -m str {n} }}" for n in replicas]
    lines += [
        f"    server {n} 127.0.0.1:{port} {check} cookie {n} maxconn {REPLICA_MAXCONN}"
        for n, port in zip(replicas, replica_ports, strict=True)
    ]
    lines += [
        f"frontend actions_in\n    bind 127.0.0.1:{base_port + 1}\n    default_backend actions",
        "backend actions",
        "    balance roundrobin",
        "    option httpchk GET /health",
        "    http-check expect status 200",
    ]
    lines += [
        f"    server a{i + 1} 127.0.0.1:{port} {check}" for i, port in enumerate(action_ports)
    ]
    lines += [
        "listen stats",
        f"    bind 127.0.0.1:{base_port + 2}",
        "    stats enable",
        "    stats uri /stats",
    ]
    return "\n".join(lines) + "\n"


class Cluster:
    """Rasa replicas + action servers behind one HAProxy (see the module docstring)."""

    def __init__(
        self,
        project_dir: Path,
        *,
        base_port: int,
        database_url: str,
        lock_store_url: str,
        work_dir: Path,
        replicas: int = 2,
        action_servers: int = 2,
        env: Optional[Dict[str, str]] = None,
        model: Optional[Path] = None,
        timeout_s: int = 300,
    ) -> None:
        self.project_dir = Path(project_dir).resolve()
        self.base_port = int(base_port)
        self.work_dir = Path(work_dir)
        self.model = model or newest_model(self.project_dir / "models")
        self.timeout_s = timeout_s
        self.url = f"http://127.0.0.1:{self.base_port}"
        self.stats_url = f"http://127.0.0.1:{self.base_port + 2}/stats;csv"
        self.replica_ports = [self.base_port + 10 + i for i in range(replicas)]
        self.action_ports = [self.base_port + 20 + i for i in range(action_servers)]
        self.env = {
            "KLARTEXT_VAR_DIR": str(self.work_dir / "var"),
            "KLARTEXT_DATABASE_URL": database_url,
            "KLARTEXT_TRACKER_STORE_URL": database_url,
            "KLARTEXT_LOCK_STORE_URL": lock_store_url,
            "KLARTEXT_LOCK_STORE_PREFIX": f"cluster{secrets.token_hex(4)}",
            "KLARTEXT_ACTION_SECRET": secrets.token_urlsafe(24),
            "KLARTEXT_MODE": "local",
            "KLARTEXT_REST_TOKEN": "",
            "KLARTEXT_API_TOKEN": "",
            "KLARTEXT_PUBLIC_URL": self.url,
            **(env or {}),
        }
        self.replicas: List[ServerPair] = []
        self._actions: List[_Process] = []
        self._haproxy = _Process("haproxy", self.work_dir / "log" / "haproxy.log")

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 400) -> None:
        """Start action servers, replicas (in parallel) and HAProxy; wait until all are up."""
        if not HAPROXY.is_file():
            raise RuntimeError(f"{HAPROXY} missing: apt-get install haproxy")
        busy = [p for p in self._all_ports() if port_in_use(p)]
        if busy:
            raise RuntimeError(f"Ports already in use: {busy}")
        (self.work_dir / "var").mkdir(parents=True, exist_ok=True)
        try:
            self._start_actions()
            self._start_replicas(timeout)
            self._start_haproxy()
            self.wait_states({name: "UP" for name in self.server_names()}, timeout=30)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop HAProxy, the replicas and the action servers."""
        self._haproxy.stop()
        for pair in self.replicas:
            pair.stop()
        for proc in self._actions:
            proc.stop()

    def __enter__(self) -> "Cluster":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ faults
    def kill_replica(self, index: int) -> None:
        """SIGKILL replica ``index`` (0-based) with its whole process group, no warning."""
        self.replicas[index].kill_rasa(signal.SIGKILL)

    # ------------------------------------------------------------------ HAProxy state
    def server_names(self) -> List[str]:
        return [f"rasa/r{i + 1}" for i in range(len(self.replica_ports))] + [
            f"actions/a{i + 1}" for i in range(len(self.action_ports))
        ]

    def server_states(self) -> Dict[str, str]:
        """``{"rasa/r1": "UP", "actions/a2": "DOWN", …}`` from HAProxy's statistics."""
        try:
            with urllib.request.urlopen(self.stats_url, timeout=2) as resp:
                text = resp.read().decode("utf-8")
        except (urllib.error.URLError, OSError):
            return {}
        rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
        return {
            f"{row['pxname']}/{row['svname']}": row["status"].split()[0]
            for row in rows
            if row["svname"] not in ("FRONTEND", "BACKEND")
        }

    def wait_states(self, wanted: Dict[str, str], timeout: float) -> Dict[str, str]:
        """Wait until HAProxy reports the ``wanted`` states; raise ``RuntimeError`` if not."""
        deadline = time.monotonic() + timeout
        states: Dict[str, str] = {}
        while time.monotonic() < deadline:
            states = self.server_states()
            if all(states.get(name) == state for name, state in wanted.items()):
                return states
            time.sleep(_POLL_SECONDS)
        raise RuntimeError(f"HAProxy states {states}, wanted {wanted} within {timeout:g} s")

    # ------------------------------------------------------------------ internals
    def _all_ports(self) -> List[int]:
        frontends = [self.base_port, self.base_port + 1, self.base_port + 2]
        return frontends + self.replica_ports + self.action_ports

    def _start_actions(self) -> None:
        rasa_bin = Path(sys.executable).parent / "rasa"
        env = server_env(self.project_dir, self.env)
        for i, port in enumerate(self.action_ports):
            proc = _Process(f"actions-a{i + 1}", self.work_dir / "log" / f"actions-{port}.log")
            cmd = [str(rasa_bin), "run", "actions", "--port", str(port), "--actions", "actions"]
            proc.launch(cmd, self.project_dir, env, append=False)
            self._actions.append(proc)

    def _start_replicas(self, timeout: float) -> None:
        endpoints = self._endpoints_file()
        self.replicas = [
            ServerPair(
                self.project_dir,
                rasa_port=port,
                action_port=None,
                model=self.model,
                env=self.env,
                log_dir=self.work_dir / "log",
                endpoints=endpoints,
            )
            for port in self.replica_ports
        ]
        errors: List[BaseException] = []

        def start(pair: ServerPair) -> None:
            try:
                pair.start(timeout=timeout)
            except RuntimeError as error:
                errors.append(error)

        threads = [threading.Thread(target=start, args=(pair,)) for pair in self.replicas]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise RuntimeError(f"A Rasa replica did not start: {errors[0]}")
        self._wait_actions(timeout)

    def _wait_actions(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for port, proc in zip(self.action_ports, self._actions, strict=True):
            while True:
                if proc.exited() is not None:
                    raise RuntimeError(f"Action server {port} exited:\n{_tail(proc.log_path)}")
                _, health = _http_json(f"http://127.0.0.1:{port}/health")
                if isinstance(health, dict) and health.get("status") == "ok":
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Action server {port} not ready:\n{_tail(proc.log_path)}")
                time.sleep(_POLL_SECONDS)

    def _endpoints_file(self) -> Path:
        source = self.project_dir / "endpoints.yml"
        config = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        action = dict(config.get("action_endpoint") or {})
        action["url"] = f"http://127.0.0.1:{self.base_port + 1}/webhook"
        config["action_endpoint"] = action
        target = self.work_dir / "endpoints.yml"
        target.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        return target

    def _start_haproxy(self) -> None:
        config = self.work_dir / "haproxy.cfg"
        config.write_text(
            haproxy_config(
                base_port=self.base_port,
                replica_ports=self.replica_ports,
                action_ports=self.action_ports,
                timeout_s=self.timeout_s,
            ),
            encoding="utf-8",
        )
        checked = subprocess.run(
            [str(HAPROXY), "-c", "-q", "-f", str(config)],
            capture_output=True,
            text=True,
            check=False,
        )
        if checked.returncode != 0:
            raise RuntimeError(f"haproxy.cfg invalid: {checked.stderr or checked.stdout}")
        self._haproxy.launch(
            [str(HAPROXY), "-db", "-f", str(config)], self.work_dir, dict(os.environ), append=False
        )
