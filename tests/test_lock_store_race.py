"""The race of Rasa's RedisLockStore and none with ours (devtools/lock_race.py).

Three worker processes (replicas, each with its own Redis connections) × 10 messages of one
conversation, started at the same moment; inside the lock a read-modify-write of a counter in
Redis with an ``await`` between read and write. Runs against DB 15 of the Redis at
127.0.0.1:6379 (see ``tests/test_lock_store.py`` for skip/fail), in well under a minute.

The stock store is raced with its GET→SET window widened by 5 ms (``stock-widened``: a subclass
that only sleeps before each SET), which makes its failure certain enough for a test; the
unmodified stock store fails too on this machine (figures in ``docs/locks.md``), but not in
every run.
"""

from __future__ import annotations

from test_lock_store import redis_url  # noqa: F401  (the fixture: skip/fail without Redis)

from devtools.lock_race import run_once, summarize

WORKERS, TURNS, RUNS = 3, 10, 3
# stock: a lost ticket blocks a run for at most 2 s, and a waiter of an emptied lock waits for
# ever, so a run ends after 8 s; atomic: generous, a busy machine must not expire tickets
LIMITS = {"stock-widened": (2.0, 8.0), "atomic": (10.0, 30.0)}


def race(store: str, redis: str) -> list:
    lifetime, timeout = LIMITS[store]
    return [
        run_once(store, WORKERS, TURNS, redis, lifetime=lifetime, timeout=timeout)
        for _ in range(RUNS)
    ]


def test_the_stock_store_lets_turns_overlap(redis_url):  # noqa: F811
    totals = summarize(race("stock-widened", redis_url))
    assert totals["broken_runs"] >= 1, totals
    assert totals["overlaps"] > 0, totals


def test_the_atomic_store_serves_every_turn_alone_in_ticket_order(redis_url):  # noqa: F811
    for result in race("atomic", redis_url):
        assert result.overlaps == 0 and result.lost_updates == 0, result
        assert result.lock_errors == 0 and result.hung_workers == 0, result
        assert result.strict_order, result.served  # tickets 1…30, each once, in order
