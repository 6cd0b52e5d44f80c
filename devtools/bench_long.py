"""Long conversations in ``make bench``: latency by turn, and the Rasa server's memory.

Two figures (``docs/bench.md``):

* **Latency growth.** One conversation per bot of ``turns`` messages (300; ``--long``: 1,000)
  over REST, coach and stock bot taking turns message by message (ABBA), so background load
  hits both alike. Reported: the median latency of turns 1–20 and of the last 20 turns, and
  their quotient (*growth*). The messages cycle through ``long`` in ``bench_scripts.yml``.
* **Memory (coach).** ``users`` conversations of ``short_turns`` messages over REST
  (``clients`` at a time), the Rasa server's RSS; then every conversation is lengthened to
  ``long_turns - rest_turns`` messages by copying its stored turns inside the tracker store's
  database (:func:`lengthen`: the server's own rows again, without session starts), and each
  user sends ``rest_turns`` more messages over REST, so the server loads, folds and extends
  every long conversation; the RSS again. Playing all 30,000 messages over REST would take
  about 25 minutes on the 2-core machine.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import sqlalchemy as sa

from devtools import bench

FIRST_TURNS = 20  # the medians compare turns 1–20 with the last 20
REQUEST_TIMEOUT = 120.0


@dataclass
class LongConfig:
    """Sizes of the long-conversation figures (defaults: ``make bench``)."""

    turns: int = 300
    users: int = 100
    short_turns: int = 10
    long_turns: int = 300
    rest_turns: int = 3  # messages each lengthened conversation gets over REST
    clients: int = 8


def cycled(scripts: Sequence[dict[str, Any]], count: int) -> list[str]:
    """The first ``count`` messages of the scripts' turns, one script after the other, cycled."""
    turns = itertools.cycle([turn for script in scripts for turn in script["turns"]])
    return list(itertools.islice(turns, count))


def growth_figures(latencies: Sequence[float | None], window: int = FIRST_TURNS) -> dict:
    """Median latency [ms] of the first and last ``window`` turns and their quotient."""
    first = [x for x in latencies[:window] if x is not None]
    last = [x for x in latencies[-window:] if x is not None]
    first_ms = statistics.median(first) * 1000 if first else None
    last_ms = statistics.median(last) * 1000 if last else None
    return {
        "turns": len(latencies),
        "errors": sum(1 for x in latencies if x is None),
        "first_ms": round(first_ms, 1) if first_ms is not None else None,
        "last_ms": round(last_ms, 1) if last_ms is not None else None,
        "growth": bench.ratio(last_ms, first_ms),
    }


async def long_conversation(
    base_urls: dict[str, str], messages: dict[str, list[str]], run_id: str
) -> dict[str, dict]:
    """One conversation per bot, the bots taking turns (ABBA); growth figures per bot."""
    latencies: dict[str, list[float | None]] = {label: [] for label in base_urls}
    labels = list(base_urls)
    async with bench._session() as session:
        for turn in range(len(next(iter(messages.values())))):
            for label in labels if turn % 2 == 0 else reversed(labels):
                sample = await bench._post(
                    session,
                    base_urls[label] + bench.WEBHOOK_PATH,
                    f"bench-{run_id}-{label}-long",
                    messages[label][turn],
                    REQUEST_TIMEOUT,
                )
                latencies[label].append(sample.latency if sample.ok else None)
    return {label: growth_figures(values) for label, values in latencies.items()}


async def _walk(base_url: str, senders: list[str], messages: list[str], clients: int) -> int:
    """Each sender sends ``messages`` in order, ``clients`` senders at a time; errors."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for sender in senders:
        queue.put_nowait(sender)
    errors = 0

    async def worker(session) -> None:
        nonlocal errors
        while not queue.empty():
            sender = queue.get_nowait()
            for message in messages:
                url = base_url + bench.WEBHOOK_PATH
                sample = await bench._post(session, url, sender, message, REQUEST_TIMEOUT)
                errors += not sample.ok

    async with bench._session() as session:
        await asyncio.gather(*(worker(session) for _ in range(clients)))
    return errors


def lengthen(tracker_url: str, sender: str, turns: int) -> int:
    """Copy ``sender``'s stored turns (no session starts) until it has ``turns`` messages.

    Returns:
        How many user messages the conversation has now.
    """
    engine = sa.create_engine(tracker_url)
    events = sa.table(
        "events",
        sa.column("sender_id"),
        sa.column("type_name"),
        sa.column("timestamp"),
        sa.column("intent_name"),
        sa.column("action_name"),
        sa.column("data"),
    )
    columns = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")
    try:
        with engine.begin() as conn:
            rows = [
                dict(row._mapping)
                for row in conn.execute(
                    sa.select(*(events.c[name] for name in columns)).where(
                        events.c.sender_id == sender,
                        events.c.type_name != "session_started",
                        sa.or_(
                            events.c.action_name.is_(None),
                            events.c.action_name != "action_session_start",
                        ),
                    )
                )
            ]
            per_copy = sum(1 for row in rows if row["type_name"] == "user")
            copies = max(0, -(-(turns - per_copy) // per_copy)) if per_copy else 0
            if copies:
                conn.execute(sa.insert(events), rows * copies)
            return per_copy * (copies + 1)
    finally:
        engine.dispose()


async def memory(
    base_url: str,
    messages: list[str],
    rss: Callable[[], int],
    tracker_url: str,
    cfg: LongConfig,
    run_id: str,
) -> dict[str, Any]:
    """Rasa server RSS after ``users`` × ``short_turns`` and after ``users`` × ``long_turns``."""
    senders = [f"bench-{run_id}-memory-u{user:03d}" for user in range(cfg.users)]
    start = time.perf_counter()
    errors = await _walk(base_url, senders, messages[: cfg.short_turns], cfg.clients)
    short_mb = rss() / bench.MB
    fed = [lengthen(tracker_url, s, cfg.long_turns - cfg.rest_turns) for s in senders]
    rest = messages[cfg.short_turns : cfg.short_turns + cfg.rest_turns]
    errors += await _walk(base_url, senders, rest, cfg.clients)
    long_mb = rss() / bench.MB
    return {
        "users": cfg.users,
        "short_turns": cfg.short_turns,
        "long_turns": min(fed) + len(rest),
        "rest_messages": cfg.users * (cfg.short_turns + cfg.rest_turns),
        "errors": errors,
        "rss_short_mb": round(short_mb, 1),
        "rss_long_mb": round(long_mb, 1),
        "ratio": bench.ratio(long_mb, short_mb),
        "seconds": round(time.perf_counter() - start, 1),
    }


def run(
    base_urls: dict[str, str],
    scripts: dict[str, Any],
    cfg: LongConfig,
    run_id: str,
    *,
    coach_rss: Callable[[], int] | None = None,
    tracker_url: str | None = None,
) -> dict[str, dict]:
    """Both figures; ``{"coach": {"long": …, "memory": …}, "stock": {"long": …}}``."""
    long_scripts = scripts.get("long") or {}
    messages = {
        label: cycled(long_scripts.get(label) or scripts[label], max(cfg.turns, cfg.long_turns))
        for label in base_urls
    }
    bench._log(f"long conversation: {cfg.turns} turns per bot")
    turns = {label: m[: cfg.turns] for label, m in messages.items()}
    result = {
        label: {"long": figures}
        for label, figures in asyncio.run(long_conversation(base_urls, turns, run_id)).items()
    }
    if "coach" in base_urls and coach_rss is not None and tracker_url:
        bench._log(f"memory: {cfg.users} users × {cfg.short_turns} → {cfg.long_turns} turns")
        result["coach"]["memory"] = asyncio.run(
            memory(base_urls["coach"], messages["coach"], coach_rss, tracker_url, cfg, run_id)
        )
    return result
