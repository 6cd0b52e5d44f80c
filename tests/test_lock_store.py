"""connectors/lock_store.py against a real Redis: tickets, order, expiry, Redis down.

Uses DB 15 of the Redis at 127.0.0.1:6379 (``KLARTEXT_TEST_REDIS_URL`` overrides) with a
random key prefix per test; skipped when it is unreachable, failed with
``KLARTEXT_REQUIRE_SERVICES=1``. The Redis-down tests start their own ``redis-server`` on
port 16579 (``KLARTEXT_TEST_PRIVATE_REDIS_PORT``) and stop it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Iterator, List

import pytest
import redis
from conftest import _require_services
from rasa.core.lock_store import InMemoryLockStore, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from bot import config, texts
from connectors.lock_store import KlartextLockStore, LockStoreUnavailable, RedisTicketLockStore

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"
PRIVATE_REDIS_PORT = int(os.environ.get("KLARTEXT_TEST_PRIVATE_REDIS_PORT", "16579"))


class PrivateRedis:
    """A ``redis-server`` of the test's own on a private port, without persistence."""

    def __init__(self, port: int, directory: Path) -> None:
        self.port = port
        self.directory = directory
        self.url = f"redis://127.0.0.1:{port}/0"
        self._process: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it answers PING."""
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed", pytrace=False)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        if self._answers(client):
            pytest.fail(f"port {self.port} is taken by another Redis", pytrace=False)
        self._process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._answers(client):
                return
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"redis-server on port {self.port} did not start", pytrace=False)

    @staticmethod
    def _answers(client: redis.Redis) -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        """Stop the server (the lock store then finds nothing listening)."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the shared test Redis (a spare DB); skip or fail when it is unreachable."""
    url = os.environ.get("KLARTEXT_TEST_REDIS_URL") or DEFAULT_TEST_REDIS_URL
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        message = f"Redis at {url} not reachable: {error}"
        if _require_services():
            pytest.fail(message + " (KLARTEXT_REQUIRE_SERVICES=1)", pytrace=False)
        pytest.skip(message)
    return url


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A random key prefix; its keys are deleted afterwards."""
    name = f"locktest{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{name}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def store(redis_url: str, prefix: str) -> RedisTicketLockStore:
    return RedisTicketLockStore(redis_url, key_prefix=prefix, poll_interval=0.01)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(PRIVATE_REDIS_PORT, tmp_path)
    server.start()
    yield server
    server.stop()


def run(coroutine):
    return asyncio.run(coroutine)


# --------------------------------------------------------------------------- configuration
@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("KLARTEXT_LOCK_STORE"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(config, "_dotenv_loaded", True)
    monkeypatch.setenv("KLARTEXT_VAR_DIR", str(tmp_path / "var"))
    return monkeypatch


def test_without_a_redis_url_the_locks_stay_in_process(clean_env):
    endpoint = read_endpoint_config(str(ROOT / "endpoints.yml"), "lock_store")
    assert endpoint.type == "connectors.lock_store.KlartextLockStore"
    assert type(LockStore.create(endpoint)) is InMemoryLockStore


def test_the_redis_url_setting_selects_the_atomic_store(clean_env, redis_url):
    clean_env.setenv("KLARTEXT_LOCK_STORE_URL", redis_url)
    clean_env.setenv("KLARTEXT_LOCK_STORE_PREFIX", "mybot")
    store = LockStore.create(read_endpoint_config(str(ROOT / "endpoints.yml"), "lock_store"))
    assert isinstance(store, RedisTicketLockStore)
    assert store.counter_key("c") == "mybot:lock:{c}:next"


def test_endpoints_options_win_over_the_settings(clean_env, redis_url):
    clean_env.setenv("KLARTEXT_LOCK_STORE_URL", "redis://127.0.0.1:1/0")
    endpoint = EndpointConfig(url=redis_url, type="x", key_prefix="other", poll_interval=0.2)
    store = KlartextLockStore(endpoint_config=endpoint)
    assert store.key_prefix == "other:lock:" and store.poll_interval == 0.2
    assert store.red.ping()


def test_several_sanic_workers_with_in_process_locks_are_warned_about(clean_env, caplog):
    clean_env.setenv("SANIC_WORKERS", "4")
    with caplog.at_level(logging.WARNING, logger="connectors.lock_store"):
        store = KlartextLockStore()
    assert type(store) is InMemoryLockStore
    assert "KLARTEXT_LOCK_STORE_URL" in caplog.text


# --------------------------------------------------------------------------- tickets
def test_tickets_rise_and_a_release_leaves_only_the_expiring_counter(store, prefix):
    assert [store.issue_ticket("c", 5) for _ in range(3)] == [1, 2, 3]
    assert [t.number for t in store.get_lock("c").tickets] == [1, 2, 3]
    for ticket in (1, 2, 3):
        store.cleanup("c", ticket)
    assert store.get_lock("c") is None
    assert store.red.keys(f"{prefix}:*") == [store.counter_key("c").encode()]
    assert 0 < store.red.pttl(store.counter_key("c")) <= 5000


def test_writing_a_whole_lock_back_is_refused(store):
    with pytest.raises(NotImplementedError):
        store.save_lock(store.create_lock("c"))


def test_messages_are_served_one_at_a_time_in_ticket_order(redis_url, prefix):
    """Five stores (own connections) × 4 messages of one conversation, interleaved."""
    served: List[int] = []
    inside: List[int] = []

    async def message(store: RedisTicketLockStore) -> None:
        async with store.lock("c", 5, 0.01) as held:
            inside.append(1)
            assert len(inside) == 1, "two messages inside at once"
            served.append(held.now_serving)
            await asyncio.sleep(0.005)
            inside.pop()

    async def main() -> None:
        stores = [RedisTicketLockStore(redis_url, key_prefix=prefix) for _ in range(5)]
        await asyncio.gather(*(message(s) for _ in range(4) for s in stores))

    run(main())
    assert served == list(range(1, 21))


def test_a_crashed_holder_blocks_the_conversation_only_for_the_lifetime(store):
    store.issue_ticket("c", 0.3)  # a replica took the ticket and died
    started = time.monotonic()

    async def next_message() -> float:
        async with store.lock("c", 5, 0.01):
            return time.monotonic() - started

    waited = run(next_message())
    assert 0.2 <= waited < 2.0


def test_a_long_turn_keeps_its_lock_by_renewing_it(redis_url, prefix):
    """Lifetime 0.3 s, turn 1 s: the second message must still wait for the first."""
    first = RedisTicketLockStore(redis_url, key_prefix=prefix, poll_interval=0.01)
    second = RedisTicketLockStore(redis_url, key_prefix=prefix, poll_interval=0.01)
    events: List[str] = []

    async def long_turn() -> None:
        async with first.lock("c", 0.3, 0.01):
            events.append("first in")
            await asyncio.sleep(1.0)
            events.append("first out")

    async def next_turn() -> None:
        await asyncio.sleep(0.05)
        async with second.lock("c", 0.3, 0.01):
            events.append("second in")

    async def main() -> None:
        await asyncio.gather(long_turn(), next_turn())

    run(main())
    assert events == ["first in", "first out", "second in"]


def test_a_waiter_whose_ticket_expired_gets_a_lock_error(store):
    """A waiting process that hung for a whole lifetime must not enter afterwards."""
    store.issue_ticket("c", 5)  # someone else is being served
    hung = store.issue_ticket("c", 0.05)
    time.sleep(0.1)  # the waiter did not renew its ticket in time
    with pytest.raises(LockError, match="expired while waiting"):
        run(store._wait_for_turn("c", hung, 5, 0.01))


# --------------------------------------------------------------------------- Redis down
def test_no_redis_refuses_the_message_with_a_german_notice():
    store = RedisTicketLockStore("redis://127.0.0.1:1/0", socket_timeout=0.5)
    processed: List[str] = []

    async def message() -> None:
        async with store.lock("c"):
            processed.append("turn")

    with pytest.raises(LockStoreUnavailable) as refused:
        run(message())
    assert processed == []
    assert isinstance(refused.value, LockError)
    assert refused.value.user_notice == texts.text("lock_store", "replies.unavailable")
    assert "kurz nicht erreichbar" in refused.value.user_notice


def test_after_a_redis_outage_the_same_store_works_again(private_redis):
    store = RedisTicketLockStore(private_redis.url, key_prefix="outage", socket_timeout=0.5)
    processed: List[str] = []

    async def message(text: str) -> None:
        async with store.lock("c", 5, 0.01):
            processed.append(text)

    run(message("before"))
    private_redis.stop()
    with pytest.raises(LockStoreUnavailable):
        run(message("while down"))
    private_redis.start()
    run(message("after"))  # the pooled connection is dead: reconnects by itself
    assert processed == ["before", "after"]


def test_redis_stopping_during_a_turn_lets_the_turn_finish(private_redis):
    """The turn already holds the lock: it ends normally; the release failure is logged."""
    store = RedisTicketLockStore(private_redis.url, key_prefix="midturn", socket_timeout=0.5)
    processed: List[str] = []

    async def message() -> None:
        async with store.lock("c", 5, 0.01):
            private_redis.stop()
            processed.append("turn")

    run(message())
    assert processed == ["turn"]
