"""Race Rasa's ``RedisLockStore`` against ``connectors.lock_store`` on one conversation.

    .venv/bin/python -m devtools.lock_race                 # 3 workers × 10 turns, 5 runs each
    .venv/bin/python -m devtools.lock_race --runs 20 --redis redis://127.0.0.1:6379/15

Each *worker* is a separate process with its own Redis connections – a Rasa replica. All
workers start at the same moment (a barrier) and handle ``turns`` messages of the same
conversation one after another, each inside ``store.lock(conversation)`` like Rasa's
``Agent.handle_message``. The critical section is a read-modify-write of a counter in Redis
with an ``await`` between read and write (the turn's own work, e.g. the action call), plus
bookkeeping: how many turns were inside at once (*overlaps*), increments lost by an
overlap (*lost updates*), the ``LockError`` s (a message refused), the workers still waiting
when the run's timeout ends it (*hung*: the stock store can keep an emptied lock whose waiter
never gets a turn) and the ticket numbers in the order they were served. For the atomic
store these must be 1, 2, 3 … each once (*strict order*; its counter outlives a run); the
stock store starts again at 0 whenever its lock was deleted, so its numbers say nothing.

Stores compared:

* ``stock`` – Rasa's ``RedisLockStore`` as shipped (GET, change, SET);
* ``stock-widened`` – the same with a pause of ``--window`` seconds between its GET and its
  SET (nothing else changed): the window a busy replica has in production (network round
  trip, event loop or GIL busy between the two commands), made wide enough to measure;
* ``atomic`` – ``connectors.lock_store.RedisTicketLockStore``.

Keys live under a random prefix and are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
import uuid
from dataclasses import dataclass, field
from typing import Dict, List
from urllib.parse import urlsplit

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, LockStore, RedisLockStore

from connectors.lock_store import RedisTicketLockStore

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
STORES = ("stock", "stock-widened", "atomic")
DEFAULT_LIFETIME = 10.0  # seconds a ticket lives without renewal (Rasa: 60)
DEFAULT_POLL = 0.005  # seconds between two looks of a waiting message (Rasa: 1)
WORK_SECONDS = 0.002  # the await between read and write inside the critical section
RUN_TIMEOUT = 60.0  # seconds; workers still running then are killed and counted as hung


class WidenedRedisLockStore(RedisLockStore):
    """Rasa's ``RedisLockStore`` with a pause between its GET and its SET, nothing else."""

    def __init__(self, window: float, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.window = window

    def save_lock(self, lock: TicketLock) -> None:
        """Every SET of the stock store follows a GET: wait, then write as usual."""
        time.sleep(self.window)
        super().save_lock(lock)


@dataclass
class RunResult:
    """What one run of ``workers × turns`` messages measured."""

    store: str
    turns: int
    served: List[int] = field(default_factory=list)  # ticket numbers in serving order
    lock_errors: int = 0
    hung_workers: int = 0  # still waiting for the lock at the run's timeout
    overlaps: int = 0
    lost_updates: int = 0
    seconds: float = 0.0

    @property
    def strict_order(self) -> bool:
        """Every ticket 1, 2, 3 … served exactly once, in that order."""
        return self.served == list(range(1, self.turns + 1))

    @property
    def broken(self) -> bool:
        """Whether the lock failed in this run in any way."""
        return bool(self.overlaps or self.lost_updates or self.lock_errors or self.hung_workers)


@dataclass(frozen=True)
class Race:
    """One run's set-up, shared by its workers."""

    store: str
    redis_url: str
    prefix: str
    turns: int
    window: float
    lifetime: float
    poll: float

    @property
    def conversation(self) -> str:
        return f"{self.prefix}-conversation"

    def key(self, name: str) -> str:
        return f"{self.prefix}:{name}"


def make_store(race: Race) -> LockStore:
    """A fresh lock store of ``race.store`` with its own Redis connection."""
    if race.store == "atomic":
        return RedisTicketLockStore(race.redis_url, key_prefix=race.prefix)
    parts = urlsplit(race.redis_url)
    options = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 6379,
        "db": int(parts.path.strip("/") or 0),
        "key_prefix": race.prefix.replace("-", ""),
    }
    if race.store == "stock-widened":
        return WidenedRedisLockStore(race.window, **options)
    return RedisLockStore(**options)


async def critical_section(red: redis.Redis, race: Race, ticket: int) -> None:
    """Read-modify-write of the shared counter, with an await between read and write."""
    if red.incr(race.key("inside")) > 1:
        red.incr(race.key("overlaps"))
    value = int(red.get(race.key("value")) or 0)
    await asyncio.sleep(WORK_SECONDS)
    red.set(race.key("value"), value + 1)
    red.rpush(race.key("served"), ticket)
    red.decr(race.key("inside"))


async def handle_turns(race: Race) -> None:
    """One worker: ``race.turns`` messages of the conversation, each under the lock."""
    store = make_store(race)
    red = redis.Redis.from_url(race.redis_url)
    for _ in range(race.turns):
        try:
            async with store.lock(race.conversation, race.lifetime, race.poll) as held:
                await critical_section(red, race, int(held.now_serving or 0))
        except LockError:
            red.incr(race.key("lock_errors"))


def _worker(race: Race, barrier: multiprocessing.synchronize.Barrier) -> None:
    barrier.wait()
    asyncio.run(handle_turns(race))


def run_once(
    store: str,
    workers: int,
    turns: int,
    redis_url: str = DEFAULT_REDIS_URL,
    window: float = 0.005,
    lifetime: float = DEFAULT_LIFETIME,
    timeout: float = RUN_TIMEOUT,
    poll: float = DEFAULT_POLL,
) -> RunResult:
    """One run: ``workers`` processes × ``turns`` messages on one new conversation."""
    prefix = f"lockrace-{uuid.uuid4().hex[:10]}"
    race = Race(store, redis_url, prefix, turns, window, lifetime, poll)
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(workers)
    processes = [context.Process(target=_worker, args=(race, barrier)) for _ in range(workers)]
    started = time.monotonic()
    for process in processes:
        process.start()
    for process in processes:
        process.join(max(timeout - (time.monotonic() - started), 0.1))
    hung = [process for process in processes if process.is_alive()]
    for process in hung:
        process.kill()
        process.join()
    seconds = time.monotonic() - started
    return _collect(race, workers, len(hung), seconds)


def _collect(race: Race, workers: int, hung: int, seconds: float) -> RunResult:
    red = redis.Redis.from_url(race.redis_url)
    try:
        served = [int(n) for n in red.lrange(race.key("served"), 0, -1)]
        errors = int(red.get(race.key("lock_errors")) or 0)
        value = int(red.get(race.key("value")) or 0)
        return RunResult(
            store=race.store,
            turns=workers * race.turns,
            served=served,
            lock_errors=errors,
            hung_workers=hung,
            overlaps=int(red.get(race.key("overlaps")) or 0),
            lost_updates=len(served) - value,
            seconds=seconds,
        )
    finally:
        keys = list(red.scan_iter(match=f"*{race.prefix}*")) + list(
            red.scan_iter(match=f"*{race.prefix.replace('-', '')}*")
        )
        if keys:
            red.delete(*keys)


def summarize(results: List[RunResult]) -> Dict[str, object]:
    """Totals of several runs of one store."""
    return {
        "store": results[0].store,
        "runs": len(results),
        "broken_runs": sum(r.broken for r in results),
        "turns": sum(r.turns for r in results),
        "overlaps": sum(r.overlaps for r in results),
        "lost_updates": sum(r.lost_updates for r in results),
        "lock_errors": sum(r.lock_errors for r in results),
        "hung_workers": sum(r.hung_workers for r in results),
        "strict_order_runs": sum(r.strict_order for r in results),
        "seconds": round(sum(r.seconds for r in results), 1),
    }


COLUMNS = (
    "store",
    "runs",
    "broken_runs",
    "turns",
    "overlaps",
    "lost_updates",
    "lock_errors",
    "hung_workers",
    "strict_order_runs",
    "seconds",
)


def markdown_table(rows: List[Dict[str, object]]) -> str:
    """The summaries as a Markdown table (for docs/locks.md)."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(str(row[c]) for c in COLUMNS) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: List[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", default=DEFAULT_REDIS_URL, help="Redis URL (a spare DB)")
    parser.add_argument("--workers", type=int, default=3, help="processes (replicas)")
    parser.add_argument("--turns", type=int, default=10, help="messages per worker")
    parser.add_argument("--runs", type=int, default=5, help="runs per store")
    parser.add_argument(
        "--window", type=float, default=0.005, help="stock-widened: seconds between GET and SET"
    )
    parser.add_argument(
        "--lifetime", type=float, default=DEFAULT_LIFETIME, help="seconds a ticket lives"
    )
    parser.add_argument(
        "--timeout", type=float, default=RUN_TIMEOUT, help="seconds a run may take at most"
    )
    parser.add_argument(
        "--poll", type=float, default=DEFAULT_POLL, help="seconds between two looks of a waiter"
    )
    parser.add_argument("--stores", nargs="+", choices=STORES, default=list(STORES))
    args = parser.parse_args(argv)
    rows = []
    for store in args.stores:
        results = [
            run_once(
                store,
                args.workers,
                args.turns,
                args.redis,
                args.window,
                args.lifetime,
                args.timeout,
                args.poll,
            )
            for _ in range(args.runs)
        ]
        rows.append(summarize(results))
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
