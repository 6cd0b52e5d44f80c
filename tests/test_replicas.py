"""Two Rasa replicas behind HAProxy lose nothing: load, a killed replica, PostgreSQL down.

Real processes on loopback (``devtools/cluster.py``): a private PostgreSQL (``initdb`` +
``pg_ctl``, port ``KLARTEXT_TEST_REPLICAS_PG_PORT``, default 18050) holds the tracker store
and the coach's data; two Rasa replicas, two action servers and HAProxy (frontend on
``KLARTEXT_TEST_REPLICAS_PORT``, default 18000, the others above it) share it; the locks live
in the Redis of ``KLARTEXT_TEST_REDIS_URL`` (default DB 15 of 127.0.0.1:6379) under a fresh
key prefix. Sized to prove correctness in a few minutes; the full 200 × 10 run is
``make bench`` (``devtools/bench_replicas.py``, figures in ``docs/operations.md``).

Skipped when HAProxy, the PostgreSQL server binaries or Redis are missing; failed instead with
``KLARTEXT_REQUIRE_SERVICES=1``. The tests share one cluster and run in file order – the
replica is killed last.
"""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
from email.message import Message
from pathlib import Path
from typing import Dict, Iterator, Tuple

import pytest
import redis
from conftest import ROOT, _require_services

from devtools.bench_replicas import BURST, load_run, postgres_outage_run
from devtools.cluster import (
    HAPROXY,
    REPLICA_HEADER,
    ROUTE_COOKIE,
    Cluster,
    PrivatePostgres,
    postgres_bin_dir,
)

pytestmark = pytest.mark.integration

BASE_PORT = int(os.environ.get("KLARTEXT_TEST_REPLICAS_PORT", "18000"))
PG_PORT = int(os.environ.get("KLARTEXT_TEST_REPLICAS_PG_PORT", "18050"))
REDIS_URL = os.environ.get("KLARTEXT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
LOCK_LIFETIME_S = 20  # a killed replica's ticket blocks its conversation this long at most


def _missing_services() -> list:
    missing = []
    if not HAPROXY.is_file():
        missing.append(f"{HAPROXY} (apt-get install haproxy)")
    if postgres_bin_dir() is None or shutil.which("runuser") is None:
        missing.append("PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb)")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        missing.append(f"Redis at {REDIS_URL} ({error})")
    return missing


@pytest.fixture(scope="module")
def pg() -> Iterator[PrivatePostgres]:
    missing = _missing_services()
    if missing:
        message = "missing for the replica tests: " + "; ".join(missing)
        if _require_services():
            pytest.fail(message + " (KLARTEXT_REQUIRE_SERVICES=1)", pytrace=False)
        pytest.skip(message)
    server = PrivatePostgres(PG_PORT)
    try:
        server.start()
    except RuntimeError as error:
        server.remove()
        pytest.fail(f"private PostgreSQL did not start: {error}", pytrace=False)
    yield server
    server.remove()


@pytest.fixture(scope="module")
def cluster(pg: PrivatePostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    replicas = Cluster(
        ROOT,
        base_port=BASE_PORT,
        database_url=pg.create_database("klartext_replicas"),
        lock_store_url=REDIS_URL,
        work_dir=Path(tmp_path_factory.mktemp("cluster")),
        env={"TICKET_LOCK_LIFETIME": str(LOCK_LIFETIME_S)},
    )
    try:
        replicas.start()
    except RuntimeError as error:
        pytest.fail(f"cluster did not start: {error}", pytrace=False)
    yield replicas
    replicas.stop()


def test_40_conversations_with_bursts_lose_nothing(cluster: Cluster) -> None:
    """40 conversations × 5 turns at once, one turn a burst of 3 to different replicas."""
    run = load_run(cluster, conversations=40, turns=5)
    assert run["check"]["sent"] == 40 * (5 - 1 + len(BURST))
    assert run["ok"], run
    assert run["retried"] == run["notices"] == 0, run  # a healthy cluster: no failed request
    assert run["check"]["stored_user"] == run["check"]["sent"]
    assert run["check"]["stored_bot"] > 0
    assert run["bursts_on_two_replicas"] == run["bursts"] == 40, run
    assert set(run["served_by"]) == {"r1", "r2"}, run


def _socketio(
    cluster: Cluster, query: Dict[str, str], cookie: str = "", body: bytes = b""
) -> Tuple[int, bytes, Message]:
    """One engine.io long-polling request through HAProxy: status, body, headers."""
    url = f"{cluster.url}/socket.io/?{urllib.parse.urlencode({'EIO': '4', **query})}"
    headers = {"Cookie": cookie} if cookie else {}
    if body:
        headers["Content-Type"] = "text/plain;charset=UTF-8"
    request = urllib.request.Request(url, data=body or None, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:  # a local http:// URL
            return resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


def _handshake(cluster: Cluster) -> Tuple[str, str, str]:
    """(session id, route cookie, replica) of a new socket.io long-polling session."""
    status, raw, headers = _socketio(cluster, {"transport": "polling"})
    assert status == 200, raw[:300]
    sid = raw.decode("utf-8").split('"sid":"', 1)[1].split('"', 1)[0]
    cookies = [c.split(";", 1)[0] for c in headers.get_all("Set-Cookie") or []]
    route = [c for c in cookies if c.startswith(f"{ROUTE_COOKIE}=")]
    assert route, headers
    return sid, route[0], headers[REPLICA_HEADER]


def test_socketio_sessions_stick_to_their_replica(cluster: Cluster) -> None:
    """With HAProxy's cookie every request of a session reaches the replica that holds it."""
    sid, cookie, replica = _handshake(cluster)
    query = {"transport": "polling", "sid": sid}
    status, raw, headers = _socketio(cluster, query, cookie, body=b"40")
    assert status == 200 and headers[REPLICA_HEADER] == replica, raw[:300]
    for _ in range(4):
        status, raw, headers = _socketio(cluster, query, cookie, body=b"3")  # pong
        assert (status, headers[REPLICA_HEADER]) == (200, replica), raw[:300]
    # without the cookie round robin sends the session's requests to the other replica too
    other_sid, _, _ = _handshake(cluster)
    statuses = {
        _socketio(cluster, {"transport": "polling", "sid": other_sid}, body=b"3")[0]
        for _ in range(4)
    }
    assert 400 in statuses, statuses


def test_postgres_down_users_get_a_notice_and_nothing_is_lost(
    cluster: Cluster, pg: PrivatePostgres
) -> None:
    run = postgres_outage_run(cluster, pg, conversations=6)
    assert run["notices_while_down"] == run["messages_while_down"] == 6, run
    assert run["down_served_by"] == ["r1", "r2"], run
    assert run["stored_while_down"] == 0, run
    assert run["conversations_kept"] == 6, run
    assert run["answered_after_restart"] == 6, run
    assert run["ok"], run


def test_a_killed_replica_loses_no_conversation(cluster: Cluster) -> None:
    """r2 is killed after 40 of 140 answers; its users get their answer on retry from r1."""
    run = load_run(cluster, conversations=20, turns=5, kill_after=40)
    assert run["ok"], run
    assert run["retried"] > 0 and run["notices"] == 0, run  # r2's users retried
    assert run["check"]["stored_user"] == run["check"]["sent"] == 20 * 7
    states = cluster.wait_states({"rasa/r1": "UP", "rasa/r2": "DOWN"}, timeout=10)
    assert states["rasa/r2"] == "DOWN"
    after = load_run(cluster, conversations=4, turns=2)
    assert after["ok"] and after["served_by"] == {"r1": 8}, after
