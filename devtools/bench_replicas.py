"""Load and fault runs on real processes: Rasa replicas behind HAProxy (``docs/operations.md``).

    .venv/bin/python -m devtools.bench_replicas                      # what `make bench` runs
    .venv/bin/python -m devtools.bench_replicas --conversations 40 --turns 5

Every run starts its own PostgreSQL (``initdb``/``pg_ctl``, tracker store and coach data),
the cluster of ``devtools/cluster.py`` (Rasa replicas + two action servers + HAProxy) and
uses the Redis at ``--redis`` with a fresh key prefix for the conversation locks.

* **load** – ``conversations`` conversations talk at the same time, ``turns`` turns each;
  one turn (``BURST_TURN``) is a burst: three messages to the same conversation sent at the
  same moment, pinned to different replicas (header ``X-Klartext-Replica``). Run with 1 and
  with 2 replicas (throughput of both on the same machine).
* **kill** – the same load again on the 2-replica cluster (last); after a third of the
  messages were answered replica r2 is killed (SIGKILL). A client retries a request that
  failed (HTTP 502/503/504 or a broken connection) after a pause, at most ``MAX_ATTEMPTS``
  times.
* **postgres** – on the 2-replica cluster after its load run: a few conversations talk,
  PostgreSQL is stopped, every message gets the German "kurz nicht erreichbar" notice,
  PostgreSQL is started again and the same messages are answered normally – no replica
  restarted.

After each run the events table is read and checked (:func:`check`): every answered user
message stored exactly once, in the order it was sent (the three messages of a burst in any
order among themselves, but not interleaved with other turns), and the bot replies stored
after each user message exactly the replies its HTTP answer carried.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import aiohttp
import sqlalchemy as sa

import bot.texts
import connectors.texts
from devtools.cluster import REPLICA_HEADER, Cluster, PrivatePostgres

ROOT = Path(__file__).resolve().parent.parent
WEBHOOK = "/webhooks/rest/webhook"

#: what one simulated user says, turn by turn (cycled for more turns)
TURNS = (
    "Hallo",
    "Ein Kunde hat mich gerade am Telefon übel beschimpft",
    "Schon mehrmals",
    "Beleidigung",
    "Wie beende ich eine Kundenbeziehung professionell?",
    "Was muss ich rechtlich beachten?",
    "Der Kunde will ständig Zusatzleistungen, die er nicht bezahlen will",
    "Er will eine zusätzliche Auswertung jeden Monat",
    "Ich bin total gestresst deswegen",
    "danke",
)
#: the three messages of a burst, sent at the same moment to the same conversation
BURST = ("Bist du noch da?", "Hallo?", "Ich brauche noch einen Rat")
BURST_TURN = 3  # 0-based: the fourth turn is the burst
#: the texts of the guard's notices: none of them may appear in a healthy cluster's replies
NOTICES = frozenset(
    [
        connectors.texts.reply(key)
        for key in (
            "action_server_unavailable",
            "action_failed",
            "database_unavailable",
            "unexpected_error",
        )
    ]
    + [bot.texts.text("lock_store", "replies.unavailable")]
)
RETRY_STATUSES = frozenset({502, 503, 504})
MAX_ATTEMPTS = 8
RETRY_PAUSE_S = 2.0
REQUEST_TIMEOUT_S = 240.0


@dataclass
class Message:
    """One user message and what became of it."""

    sender: str
    step: int  # turn index; the messages of a burst share it
    text: str
    pin: Optional[str] = None  # replica name for the header, or None
    probe: str = field(default_factory=lambda: uuid.uuid4().hex)
    status: Optional[int] = None
    replies: List[Optional[str]] = field(default_factory=list)
    served_by: List[str] = field(default_factory=list)
    attempts: int = 0
    seconds: float = 0.0

    @property
    def answered(self) -> bool:
        return self.status == 200


@dataclass
class Check:
    """Result of comparing what was sent and answered with the events table."""

    sent: int = 0
    answered: int = 0
    stored_user: int = 0
    stored_bot: int = 0
    missing: int = 0
    duplicated: int = 0
    reordered: int = 0
    reply_mismatch: int = 0
    unknown: int = 0

    @property
    def ok(self) -> bool:
        return self.answered == self.sent and not (
            self.missing or self.duplicated or self.reordered or self.reply_mismatch or self.unknown
        )


# ---------------------------------------------------------------------------- sending
async def send(
    session: aiohttp.ClientSession,
    url: str,
    message: Message,
    *,
    max_attempts: int = MAX_ATTEMPTS,
    is_notice: Callable[[List[Optional[str]]], bool] = lambda replies: False,
) -> Message:
    """POST ``message``; retry a failed request (and a notice) up to ``max_attempts`` times."""
    body = {"sender": message.sender, "message": message.text, "metadata": {"probe": message.probe}}
    headers = {REPLICA_HEADER: message.pin} if message.pin else {}
    started = time.monotonic()
    while message.attempts < max_attempts:
        message.attempts += 1
        try:
            async with session.post(url + WEBHOOK, json=body, headers=headers) as resp:
                message.status = resp.status
                message.served_by.append(resp.headers.get(REPLICA_HEADER, "?"))
                if resp.status == 200:
                    message.replies = [item.get("text") for item in await resp.json()]
                    if not is_notice(message.replies):
                        break
                elif resp.status not in RETRY_STATUSES:
                    break
        except (aiohttp.ClientError, asyncio.TimeoutError):
            message.status = None
            message.served_by.append("-")
        await asyncio.sleep(RETRY_PAUSE_S)
    message.seconds = time.monotonic() - started
    return message


def _client() -> aiohttp.ClientSession:
    """A client like many REST callers at once: no connection limit, no shared cookies.

    HAProxy's route cookie in one shared jar would pin every conversation to one replica.
    """
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        connector=aiohttp.TCPConnector(limit=0),
        cookie_jar=aiohttp.DummyCookieJar(),
    )


def plan(sender: str, turns: int, pins: Sequence[str]) -> List[List[Message]]:
    """The steps of one conversation: single messages, one burst of three."""
    steps: List[List[Message]] = []
    for step in range(turns):
        if step == BURST_TURN:
            steps.append(
                [
                    Message(sender, step, text, pin=pins[i % len(pins)])
                    for i, text in enumerate(BURST)
                ]
            )
        else:
            steps.append([Message(sender, step, TURNS[step % len(TURNS)])])
    return steps


async def converse(
    session: aiohttp.ClientSession,
    url: str,
    steps: List[List[Message]],
    on_answer: Callable[[], None],
) -> None:
    """Send the steps one after another; the messages of a burst at the same moment."""
    for step in steps:
        await asyncio.gather(*(send(session, url, message) for message in step))
        for _ in step:
            on_answer()


async def run_load(
    url: str,
    *,
    prefix: str,
    conversations: int,
    turns: int,
    pins: Sequence[str],
    on_answer: Callable[[int], None] = lambda done: None,
) -> "tuple[List[Message], float]":
    """All conversations at the same time; returns the messages and the wall time."""
    done = 0

    def answered() -> None:
        nonlocal done
        done += 1
        on_answer(done)

    plans = [plan(f"{prefix}-{i:04d}", turns, pins) for i in range(conversations)]
    started = time.monotonic()
    async with _client() as session:
        await asyncio.gather(*(converse(session, url, steps, answered) for steps in plans))
    seconds = time.monotonic() - started
    return [m for steps in plans for step in steps for m in step], seconds


# ---------------------------------------------------------------------------- checking
def stored_events(database_url: str, prefix: str) -> Dict[str, List[Dict[str, Any]]]:
    """The stored events of the senders starting with ``prefix``, per sender in id order."""
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    query = sa.text("SELECT sender_id, data FROM events WHERE sender_id LIKE :pattern ORDER BY id")
    result: Dict[str, List[Dict[str, Any]]] = {}
    try:
        with engine.connect() as conn:
            for sender, data in conn.execute(query, {"pattern": prefix + "%"}):
                result.setdefault(sender, []).append(json.loads(data))
    finally:
        engine.dispose()
    return result


def turns_of(events: List[Dict[str, Any]]) -> List["tuple[Optional[str], List[Optional[str]]]"]:
    """(probe of the user message, texts of the bot events after it) per user message."""
    turns: List[tuple] = []
    for event in events:
        if event.get("event") == "user":
            turns.append(((event.get("metadata") or {}).get("probe"), []))
        elif event.get("event") == "bot" and turns:
            turns[-1][1].append(event.get("text"))
    return turns


def check(messages: List[Message], stored: Dict[str, List[Dict[str, Any]]]) -> Check:
    """Compare the sent and answered messages with the events table (module docstring)."""
    result = Check(sent=len(messages), answered=sum(m.answered for m in messages))
    by_probe = {m.probe: m for m in messages}
    seen: Dict[str, int] = {}
    for events in stored.values():
        last_step = -1
        for probe, replies in turns_of(events):
            result.stored_user += 1
            result.stored_bot += len(replies)
            message = by_probe.get(probe or "")
            if message is None:
                result.unknown += 1
                continue
            seen[message.probe] = seen.get(message.probe, 0) + 1
            result.reordered += message.step < last_step
            last_step = max(last_step, message.step)
            result.reply_mismatch += seen[message.probe] == 1 and replies != message.replies
    result.duplicated = sum(count - 1 for count in seen.values())
    result.missing = sum(1 for m in messages if m.answered and m.probe not in seen)
    return result


# ---------------------------------------------------------------------------- figures
def figures(messages: List[Message], seconds: float) -> Dict[str, Any]:
    """Throughput, latency and routing figures of a run."""
    latencies = sorted(m.seconds for m in messages if m.answered)
    bursts: Dict[tuple, set] = {}
    for m in messages:
        if m.step == BURST_TURN and m.served_by:
            bursts.setdefault((m.sender, m.step), set()).add(m.served_by[-1])
    served: Dict[str, int] = {}
    for m in messages:
        for name in m.served_by:
            served[name] = served.get(name, 0) + 1
    return {
        "messages": len(messages),
        "seconds": round(seconds, 1),
        "messages_per_second": round(len(latencies) / seconds, 2) if seconds else None,
        "latency_p50_s": round(statistics.median(latencies), 2) if latencies else None,
        "latency_p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 2)
        if latencies
        else None,
        "latency_max_s": round(latencies[-1], 2) if latencies else None,
        "retried": sum(m.attempts > 1 for m in messages),
        "notices": sum(any(text in NOTICES for text in m.replies) for m in messages),
        "served_by": dict(sorted(served.items())),
        "bursts_on_two_replicas": sum(len(names) > 1 for names in bursts.values()),
        "bursts": len(bursts),
    }


# ---------------------------------------------------------------------------- bench
def _cluster(pg: PrivatePostgres, base_port: int, replicas: int, redis_url: str) -> Cluster:
    database = pg.create_database(f"klartext_{uuid.uuid4().hex[:8]}")
    work = Path(tempfile.mkdtemp(prefix="klartext-cluster-"))
    _log(f"starting {replicas} replica(s); logs and haproxy.cfg in {work}")
    return Cluster(
        ROOT,
        base_port=base_port,
        database_url=database,
        lock_store_url=redis_url,
        work_dir=work,
        replicas=replicas,
    )


def load_run(
    cluster: Cluster,
    *,
    conversations: int,
    turns: int,
    kill_after: Optional[int] = None,
) -> Dict[str, Any]:
    """A load run on ``cluster``; with ``kill_after`` replica r2 is killed after that many."""
    prefix = f"load-{uuid.uuid4().hex[:8]}"
    pins = [f"r{i + 1}" for i in range(len(cluster.replica_ports))]

    def on_answer(done: int) -> None:
        if kill_after is not None and done == kill_after:
            cluster.kill_replica(1)

    messages, seconds = asyncio.run(
        run_load(
            cluster.url,
            prefix=prefix,
            conversations=conversations,
            turns=turns,
            pins=pins,
            on_answer=on_answer,
        )
    )
    result = check(messages, stored_events(cluster.env["KLARTEXT_TRACKER_STORE_URL"], prefix))
    return {**figures(messages, seconds), "check": vars(result), "ok": result.ok}


def _is_db_notice(replies: List[Optional[str]]) -> bool:
    return replies == [connectors.texts.reply("database_unavailable")]


async def _send_all(
    url: str, messages: List[Message], **options: Any
) -> "tuple[List[Message], float]":
    """Send ``messages`` at the same time (one per conversation); the wall time."""
    started = time.monotonic()
    async with _client() as session:
        await asyncio.gather(*(send(session, url, m, **options) for m in messages))
    return messages, time.monotonic() - started


def postgres_outage_run(
    cluster: Cluster, pg: PrivatePostgres, *, conversations: int
) -> Dict[str, Any]:
    """Talk, stop PostgreSQL, talk (notices), start it, talk again (answers); check storage.

    The messages sent while the database is down go to every replica in turn; the same texts
    are sent again after the restart, retried while they get the notice (bounded).
    """
    prefix = f"pgdown-{uuid.uuid4().hex[:8]}"
    pins = [f"r{i + 1}" for i in range(len(cluster.replica_ports))]
    senders = [f"{prefix}-{i:04d}" for i in range(conversations)]
    database = cluster.env["KLARTEXT_TRACKER_STORE_URL"]
    before: List[Message] = []
    for step, text in enumerate(TURNS[:2]):
        batch = [Message(s, step, text) for s in senders]
        asyncio.run(_send_all(cluster.url, batch, max_attempts=1))
        before += batch
    stored_before = stored_events(database, prefix)
    pg.stop()
    try:
        down = [Message(s, 2, TURNS[2], pin=pins[i % len(pins)]) for i, s in enumerate(senders)]
        asyncio.run(_send_all(cluster.url, down, max_attempts=1))
    finally:
        pg.start()
    restarted = time.monotonic()
    after = [Message(s, 2, TURNS[2]) for s in senders]
    asyncio.run(_send_all(cluster.url, after, is_notice=_is_db_notice))
    recovered_s = max(m.seconds for m in after)
    stored_after = stored_events(database, prefix)
    kept = sum(
        stored_after.get(s, [])[: len(events)] == events for s, events in stored_before.items()
    )
    result = check(before + after, stored_after)
    down_stored = sum(1 for m in down for p, _ in turns_of(stored_after[m.sender]) if p == m.probe)
    return {
        "conversations": conversations,
        "notices_while_down": sum(m.answered and _is_db_notice(m.replies) for m in down),
        "messages_while_down": len(down),
        "down_served_by": sorted({name for m in down for name in m.served_by}),
        "stored_while_down": down_stored,
        "conversations_kept": kept,
        "answered_first_try_after_restart": sum(
            m.attempts == 1 and not _is_db_notice(m.replies) for m in after
        ),
        "answered_after_restart": sum(m.answered and not _is_db_notice(m.replies) for m in after),
        "recovered_within_s": round(recovered_s, 1),
        "restart_to_check_s": round(time.monotonic() - restarted, 1),
        "check": vars(result),
        "ok": result.ok
        and down_stored == 0
        and kept == conversations
        and all(_is_db_notice(m.replies) for m in down)
        and not any(_is_db_notice(m.replies) for m in after),
    }


def _log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _record(report: Dict[str, Any], name: str, run: Callable[..., Dict], *args, **kwargs) -> None:
    _log(f"{name} run")
    report[name] = run(*args, **kwargs)
    _log(f"{name}: {json.dumps(report[name])}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--kill",
        action="store_true",
        help="after the load: kill r2 during a second load (2 replicas)",
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="after the load: stop and start PostgreSQL (2 replicas)",
    )
    parser.add_argument("--base-port", type=int, default=18100)
    parser.add_argument("--pg-port", type=int, default=18150)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "replicas.json")
    args = parser.parse_args(argv)
    size = {"conversations": args.conversations, "turns": args.turns}
    report: Dict[str, Any] = {"conversations": args.conversations, "turns": args.turns}
    with PrivatePostgres(args.pg_port) as pg:
        for replicas in args.replicas:
            with _cluster(pg, args.base_port, replicas, args.redis) as cluster:
                _log(f"{replicas} replica(s) up; load {args.conversations} x {args.turns}")
                _record(report, f"load_{replicas}", load_run, cluster, **size)
                if replicas == 2 and args.postgres:
                    _record(report, "postgres", postgres_outage_run, cluster, pg, conversations=20)
                if replicas == 2 and args.kill:  # last: r2 stays dead
                    kill_after = args.conversations * (args.turns + len(BURST) - 1) // 3
                    _record(report, "kill", load_run, cluster, **size, kill_after=kill_after)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0 if all(v.get("ok", True) for v in report.values() if isinstance(v, dict)) else 1


if __name__ == "__main__":
    sys.exit(main())
