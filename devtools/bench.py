"""`make bench`: the Klartext coach against the stock `rasa init` bot, in one run.

Run it as ``.venv/bin/python -m devtools.bench`` from the repository root.

What one run does (docs/bench.md explains the method and holds the last figures):

1. Start the coach (Rasa server on 25005, action server on 25055, a throw-away
   ``KLARTEXT_VAR_DIR``) with the newest model in ``models/``; train one first only when
   there is none.
2. Start the stock bot from ``rasa init --no-prompt`` on 25006 without an action server.
   The stock project is built once per Rasa version and cached under
   ``var/bench/stock/rasa-<version>/``.
3. Keep both up and load them in turns (coach, stock, stock, coach, … over ``--rounds``
   rounds; only one bot is under load at any moment, so background load on the shared
   machine hits both alike): warm-up (every script once), *paced* load (20 simulated users
   pausing 1–3 s between messages, ≥ 300 requests per bot; latency percentiles),
   *saturation* (8 clients without pauses, 20 s per bot; messages per second), resident
   memory of the servers after the load, and the start-up time.
4. Ratios coach/stock with PASS/FAIL against the targets in ``TARGETS``.
5. NLU cross-validation through ``devtools.nlu_cv`` (skip with ``--skip-cv``), and the
   role-play turn latency from ``devtools.bench_roleplay.run(base_url)``.

The table goes to stdout; the same figures go to ``var/bench/latest.json`` (and a dated
copy under ``var/bench/history/``). Replies are never checked: only latency, throughput
and memory are measured, so the dialogue may change without touching the benchmark.

Exit status: 0 when the run completed (targets are reported, not enforced, because the
machine is shared and noisy), 1 with ``--strict`` when a target failed, 2 when a bot could
not be benchmarked at all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as _dt
import functools
import json
import math
import os
import platform
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
BENCH_DIR = ROOT / "var" / "bench"
SCRIPTS_FILE = Path(__file__).with_name("bench_scripts.yml")
WEBHOOK_PATH = "/webhooks/rest/webhook"

COACH_RASA_PORT = 25005
COACH_ACTION_PORT = 25055
STOCK_RASA_PORT = 25006

MB = 1024 * 1024


# --------------------------------------------------------------------------------------
# Statistics helpers (unit-tested in tests/test_bench_unit.py)
# --------------------------------------------------------------------------------------


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q``-th percentile (0–100) of ``values``, linearly interpolated between ranks.

    This is Hyndman & Fan's definition 7, the default of ``numpy.percentile`` and of
    spreadsheet ``PERCENTILE``: sort the n values, take position ``h = (n - 1) * q / 100``
    and interpolate between the values at ``floor(h)`` and ``ceil(h)``. So p0 is the
    minimum, p100 the maximum and p50 the usual median.
    """
    data = sorted(float(v) for v in values)
    if not data:
        raise ValueError("percentile of an empty sample")
    if any(math.isnan(v) for v in data):
        raise ValueError("percentile of a sample containing NaN")
    q = float(q)
    if not 0.0 <= q <= 100.0 or math.isnan(q):
        raise ValueError(f"percentile q must be within [0, 100], got {q}")
    h = (len(data) - 1) * q / 100.0
    lo = math.floor(h)
    hi = math.ceil(h)
    if lo == hi:
        return data[lo]
    return data[lo] + (h - lo) * (data[hi] - data[lo])


def summarize(values: Sequence[float], *, scale: float = 1.0) -> dict[str, float | int | None]:
    """Count, mean, min, p50, p95, p99 and max of ``values`` multiplied by ``scale``.

    An empty sample gives ``count`` 0 and ``None`` for every figure.
    """
    keys = ("mean", "min", "p50", "p95", "p99", "max")
    if not values:
        return {"count": 0, **{k: None for k in keys}}
    scaled = [float(v) * scale for v in values]
    return {
        "count": len(scaled),
        "mean": sum(scaled) / len(scaled),
        "min": min(scaled),
        "p50": percentile(scaled, 50),
        "p95": percentile(scaled, 95),
        "p99": percentile(scaled, 99),
        "max": max(scaled),
    }


def throughput(completed: int, seconds: float) -> float:
    """Completed requests per second over a window of ``seconds``."""
    if seconds <= 0:
        raise ValueError("throughput window must be positive")
    if completed < 0:
        raise ValueError("completed requests cannot be negative")
    return completed / seconds


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``, or ``None`` when either is missing or the divisor is 0."""
    if numerator is None or denominator is None:
        return None
    if denominator == 0 or math.isnan(denominator) or math.isnan(numerator):
        return None
    return numerator / denominator


@dataclass(frozen=True)
class Target:
    """One benchmark target: ``value <op> limit``, e.g. a ratio ``<= 1.5``."""

    key: str
    label: str
    op: str  # one of "<=", "<", ">=", ">"
    limit: float
    unit: str = "×"  # "×" for ratios, "MB" for absolute memory
    optional: bool = False  # a figure some runs leave out (--skip-long): no verdict then

    def check(self, value: float | None) -> str:
        """``PASS``, ``FAIL``, or ``n/a`` when the figure is missing."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "n/a"
        ok = {
            "<=": value <= self.limit,
            "<": value < self.limit,
            ">=": value >= self.limit,
            ">": value > self.limit,
        }[self.op]
        return "PASS" if ok else "FAIL"

    def describe(self) -> str:
        limit = f"{self.limit:g}{self.unit}" if self.unit == "×" else f"{self.limit:g} {self.unit}"
        return f"{self.op.replace('<=', '≤').replace('>=', '≥')} {limit}"


TARGETS: tuple[Target, ...] = (
    Target("paced_p95_ratio", "paced p95 coach/stock", "<=", 1.5),
    Target("throughput_ratio", "saturation throughput coach/stock", ">=", 0.7),
    Target("rasa_rss_ratio", "Rasa server RSS coach/stock", "<=", 1.3),
    Target("action_rss_mb", "coach action server RSS", "<", 300, "MB"),
    Target("long_growth", "coach latency, last 20 turns / first 20", "<=", 2.0, optional=True),
    Target(
        "long_rss_ratio", "coach Rasa RSS, long / short conversations", "<=", 1.2, optional=True
    ),
)


def evaluate_targets(figures: dict[str, float | None]) -> dict[str, dict[str, Any]]:
    """Check every target against ``figures`` (keyed like ``Target.key``)."""
    return {
        t.key: {
            "label": t.label,
            "value": figures.get(t.key),
            "target": t.describe(),
            "verdict": t.check(figures.get(t.key)),
        }
        for t in TARGETS
        if not (t.optional and figures.get(t.key) is None)
    }


def parse_cv_output(text: str) -> float | None:
    """The last ``NLU_CV_MACRO_F1=0.xxx`` figure printed by ``devtools.nlu_cv``, if any."""
    found = re.findall(
        r"^\s*NLU_CV_MACRO_F1\s*=\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*$", text, re.MULTILINE
    )
    return float(found[-1]) if found else None


# --------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------


@dataclass
class LoadConfig:
    users: int = 20
    paced_requests: int = 320  # per bot, over all rounds
    paced_max_seconds: float = 240.0  # per bot, over all rounds
    pause_min: float = 1.0
    pause_max: float = 3.0
    sat_clients: int = 8
    sat_seconds: float = 20.0  # per bot, over all rounds
    rounds: int = 4  # both bots take turns: coach, stock, stock, coach, …
    request_timeout: float = 60.0
    seed: int = 4711

    @classmethod
    def quick(cls) -> "LoadConfig":
        return cls(
            users=5,
            paced_requests=60,
            paced_max_seconds=60.0,
            sat_clients=4,
            sat_seconds=6.0,
            rounds=2,
        )


def round_order(labels: Sequence[str], rounds: int) -> list[tuple[int, str]]:
    """(round, bot) in ABBA order, so a slow drift of the background load hits both bots alike."""
    order: list[tuple[int, str]] = []
    for r in range(rounds):
        seq = list(labels) if r % 2 == 0 else list(reversed(labels))
        order.extend((r, label) for label in seq)
    return order


def split_evenly(total: float, parts: int, *, integer: bool = False) -> list:
    """``total`` cut into ``parts`` shares (integers differ by at most one)."""
    if parts < 1:
        raise ValueError("parts must be at least 1")
    if not integer:
        return [total / parts] * parts
    base, rest = divmod(int(total), parts)
    return [base + (1 if i < rest else 0) for i in range(parts)]


def load_scripts(path: Path = SCRIPTS_FILE) -> dict[str, list[dict[str, Any]]]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for bot in ("coach", "stock"):
        scripts = data.get(bot) or []
        if not scripts or not all(s.get("turns") for s in scripts):
            raise ValueError(f"{path}: '{bot}' needs at least one script with turns")
    return data


# --------------------------------------------------------------------------------------
# Load generator: one asyncio loop, one aiohttp session, so the client stays light
# --------------------------------------------------------------------------------------


@dataclass
class Sample:
    latency: float  # seconds
    ok: bool
    t_end: float  # perf_counter at completion
    status: int | None = None
    error: str | None = None
    empty: bool = False  # HTTP 200 but no bot message (counted, never asserted on)
    retried: bool = False
    script: str = ""


@dataclass
class PhaseResult:
    """The samples of one phase of one bot, possibly gathered over several rounds."""

    name: str
    samples: list[Sample] = field(default_factory=list)
    wall_seconds: float = 0.0
    client_cpu_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    rounds: list[dict[str, Any]] = field(default_factory=list)

    def ok_latencies(self) -> list[float]:
        return [s.latency for s in self.samples if s.ok]

    server_cpu_seconds: dict[str, float] = field(default_factory=dict)

    def absorb(self, other: "PhaseResult", round_no: int) -> None:
        """Add the samples of one round; keep that round's own figures for the JSON."""
        self.samples.extend(other.samples)
        self.wall_seconds += other.wall_seconds
        self.client_cpu_seconds += other.client_cpu_seconds
        for proc, sec in other.server_cpu_seconds.items():
            self.server_cpu_seconds[proc] = self.server_cpu_seconds.get(proc, 0.0) + sec
        lat = summarize(other.ok_latencies(), scale=1000.0)
        self.rounds.append(
            {
                "round": round_no,
                "requests": len(other.samples),
                "p50_ms": lat["p50"],
                "p95_ms": lat["p95"],
                "wall_seconds": round(other.wall_seconds, 2),
                **{
                    k: v
                    for k, v in other.extra.items()
                    if k in ("completed_in_window", "window_seconds", "throughput_per_s")
                },
            }
        )

    def to_dict(self) -> dict[str, Any]:
        errors: dict[str, int] = {}
        for s in self.samples:
            if not s.ok:
                key = s.error or f"HTTP {s.status}"
                errors[key] = errors.get(key, 0) + 1
        out = {
            "requests": len(self.samples),
            "ok": sum(1 for s in self.samples if s.ok),
            "errors": sum(1 for s in self.samples if not s.ok),
            "error_kinds": errors,
            "empty_replies": sum(1 for s in self.samples if s.ok and s.empty),
            "retried": sum(1 for s in self.samples if s.retried),
            "latency_ms": summarize(self.ok_latencies(), scale=1000.0),
            "wall_seconds": round(self.wall_seconds, 3),
            "client_cpu_seconds": round(self.client_cpu_seconds, 3),
            **self.extra,
        }
        ok = out["ok"]
        if self.server_cpu_seconds:
            out["server_cpu_seconds"] = {k: round(v, 3) for k, v in self.server_cpu_seconds.items()}
            out["server_cpu_ms_per_message"] = {
                k: (round(1000.0 * v / ok, 2) if ok else None)
                for k, v in self.server_cpu_seconds.items()
            }
        scripts = sorted({s.script for s in self.samples if s.script})
        if scripts:
            out["by_script_ms"] = {
                name: {
                    k: (round(v, 1) if isinstance(v, float) else v)
                    for k, v in summarize(
                        [s.latency for s in self.samples if s.ok and s.script == name], scale=1000.0
                    ).items()
                    if k in ("count", "p50", "p95")
                }
                for name in scripts
            }
        if self.rounds:
            out["rounds"] = self.rounds
        return out


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _post(session, url: str, sender: str, message: str, timeout: float) -> Sample:
    import aiohttp

    payload = {"sender": sender, "message": message}
    start = time.perf_counter()
    retried = False
    for attempt in (1, 2):
        try:
            async with session.post(
                url, json=payload, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as resp:
                body = await resp.read()
                end = time.perf_counter()
                if resp.status != 200:
                    return Sample(end - start, False, end, resp.status, retried=retried)
                try:
                    empty = not json.loads(body)
                except ValueError:
                    return Sample(
                        end - start, False, end, resp.status, "invalid JSON", retried=retried
                    )
                return Sample(end - start, True, end, resp.status, empty=empty, retried=retried)
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            # A kept-alive connection closed under us: the request never reached Rasa.
            # Try once more; the latency keeps counting from the first attempt.
            if attempt == 1:
                retried = True
                continue
            end = time.perf_counter()
            return Sample(end - start, False, end, None, type(exc).__name__, retried=retried)
        except asyncio.TimeoutError:
            end = time.perf_counter()
            return Sample(end - start, False, end, None, "timeout", retried=retried)
        except aiohttp.ClientError as exc:
            end = time.perf_counter()
            return Sample(end - start, False, end, None, type(exc).__name__, retried=retried)
    raise AssertionError("unreachable")


def _session():
    import aiohttp

    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=60))


def _sender(run_id: str, label: str, phase: str, user: int, loop: int) -> str:
    return f"bench-{run_id}-{label}-{phase}-u{user:02d}-{loop:03d}"


async def run_warmup(
    base_url: str, scripts: list[dict], cfg: LoadConfig, *, label: str, run_id: str
) -> PhaseResult:
    """Every script once, one message after the other: loads lazily built parts of the bot."""
    url = base_url + WEBHOOK_PATH
    result = PhaseResult("warmup")
    cpu0, t0 = _cpu_seconds(), time.perf_counter()
    async with _session() as session:
        for i, script in enumerate(scripts):
            sender = _sender(run_id, label, "warm", i, 0)
            for turn in script["turns"]:
                sample = await _post(session, url, sender, turn, cfg.request_timeout)
                sample.script = script.get("name", "")
                result.samples.append(sample)
    result.wall_seconds = time.perf_counter() - t0
    result.client_cpu_seconds = _cpu_seconds() - cpu0
    if result.samples:
        result.extra["first_request_ms"] = round(result.samples[0].latency * 1000.0, 1)
    return result


async def run_paced(
    base_url: str,
    scripts: list[dict],
    cfg: LoadConfig,
    *,
    label: str,
    run_id: str,
    requests: int,
    max_seconds: float,
    seed: int,
    tag: str = "paced",
) -> PhaseResult:
    """``cfg.users`` people chatting at human pace until ``requests`` were sent.

    User *i* walks script ``i mod len(scripts)``, pausing uniformly ``pause_min``–
    ``pause_max`` seconds before each message (also before the first one, so the users
    do not all start at the same instant) and starts over with a fresh sender id when the
    script is done. The same ``seed`` gives the same pauses, so both bots get the same
    arrival pattern.
    """
    url = base_url + WEBHOOK_PATH
    result = PhaseResult("paced")
    rng = random.Random(seed)
    sent = 0
    t0 = time.perf_counter()
    deadline = t0 + max_seconds
    cpu0 = _cpu_seconds()

    def more() -> bool:
        return sent < requests and time.perf_counter() < deadline

    async def user(idx: int, session, urng: random.Random) -> None:
        nonlocal sent
        script = scripts[idx % len(scripts)]
        loop = 0
        while more():
            sender = _sender(run_id, label, tag, idx, loop)
            for turn in script["turns"]:
                await asyncio.sleep(urng.uniform(cfg.pause_min, cfg.pause_max))
                if not more():
                    return
                sent += 1
                sample = await _post(session, url, sender, turn, cfg.request_timeout)
                sample.script = script.get("name", "")
                result.samples.append(sample)
            loop += 1

    user_rngs = [random.Random(rng.random()) for _ in range(cfg.users)]
    async with _session() as session:
        await asyncio.gather(*(user(i, session, user_rngs[i]) for i in range(cfg.users)))
    result.wall_seconds = time.perf_counter() - t0
    result.client_cpu_seconds = _cpu_seconds() - cpu0
    return result


async def run_saturation(
    base_url: str,
    scripts: list[dict],
    cfg: LoadConfig,
    *,
    label: str,
    run_id: str,
    seconds: float,
    tag: str = "sat",
) -> PhaseResult:
    """``cfg.sat_clients`` clients sending back to back for ``seconds``.

    Throughput counts the successful replies that arrived inside the window. Requests
    still in flight at the end are awaited (so they do not spill into the next phase)
    but not counted.
    """
    url = base_url + WEBHOOK_PATH
    result = PhaseResult("saturation")
    t0 = time.perf_counter()
    deadline = t0 + seconds
    cpu0 = _cpu_seconds()

    async def client(idx: int, session) -> None:
        loop = 0
        while time.perf_counter() < deadline:
            script = scripts[(idx + loop) % len(scripts)]
            sender = _sender(run_id, label, tag, idx, loop)
            for turn in script["turns"]:
                if time.perf_counter() >= deadline:
                    return
                sample = await _post(session, url, sender, turn, cfg.request_timeout)
                sample.script = script.get("name", "")
                result.samples.append(sample)
            loop += 1

    async with _session() as session:
        await asyncio.gather(*(client(i, session) for i in range(cfg.sat_clients)))
    result.wall_seconds = time.perf_counter() - t0
    result.client_cpu_seconds = _cpu_seconds() - cpu0
    in_window = sum(1 for s in result.samples if s.ok and s.t_end <= deadline)
    result.extra["window_seconds"] = seconds
    result.extra["completed_in_window"] = in_window
    result.extra["throughput_per_s"] = round(throughput(in_window, seconds), 3)
    return result


CpuProbe = Callable[[str], "dict[str, float]"]


def process_cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process (all its threads) from /proc, in seconds."""
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            stat = fh.read()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {
        k: after[k] - before[k]
        for k in after
        if k in before and after[k] is not None and before[k] is not None
    }


async def _measured(coro_factory, probe: CpuProbe | None, label: str) -> PhaseResult:
    before = probe(label) if probe else {}
    res = await coro_factory()
    if probe:
        res.server_cpu_seconds = cpu_delta(before, probe(label))
    return res


async def run_load(
    bots: dict[str, str],
    scripts: dict[str, list[dict]],
    cfg: LoadConfig,
    run_id: str,
    cpu_probe: CpuProbe | None = None,
) -> dict[str, dict[str, PhaseResult]]:
    """Warm-up, paced and saturation phases for every bot (label → base URL), interleaved.

    The bots take turns in ``cfg.rounds`` rounds (coach, stock, stock, coach, …) so that
    background load on the shared machine hits both alike; only one bot is under load at
    any moment. Each bot's samples are pooled over its rounds.
    """
    labels = list(bots)
    for url in bots.values():
        await _preflight(url, cfg.request_timeout)
    out: dict[str, dict[str, PhaseResult]] = {label: {} for label in labels}
    for label, url in bots.items():
        _log(f"{label}: warm-up ({sum(len(s['turns']) for s in scripts[label])} requests)")
        out[label]["warmup"] = await run_warmup(
            url, scripts[label], cfg, label=label, run_id=run_id
        )

    order = round_order(labels, cfg.rounds)
    per_round_requests = split_evenly(cfg.paced_requests, cfg.rounds, integer=True)
    per_round_max = cfg.paced_max_seconds / cfg.rounds
    sequence = " ".join(label for _, label in order)
    _log(
        f"paced load: {cfg.users} users, {cfg.paced_requests} requests per bot "
        f"in {cfg.rounds} rounds ({sequence})"
    )
    for label in labels:
        out[label]["paced"] = PhaseResult(
            "paced", extra={"users": cfg.users, "pause_seconds": [cfg.pause_min, cfg.pause_max]}
        )
    for r, label in order:
        res = await _measured(
            functools.partial(
                run_paced,
                bots[label],
                scripts[label],
                cfg,
                label=label,
                run_id=run_id,
                requests=per_round_requests[r],
                max_seconds=per_round_max,
                seed=cfg.seed + r,
                tag=f"paced{r}",
            ),
            cpu_probe,
            label,
        )
        out[label]["paced"].absorb(res, r)
    for label in labels:
        ph = out[label]["paced"]
        ph.extra["offered_rate_per_s"] = (
            round(len(ph.samples) / ph.wall_seconds, 2) if ph.wall_seconds else None
        )

    per_round_seconds = split_evenly(cfg.sat_seconds, cfg.rounds)
    _log(
        f"saturation: {cfg.sat_clients} clients, {cfg.sat_seconds:g} s per bot "
        f"in {cfg.rounds} rounds"
    )
    for label in labels:
        out[label]["saturation"] = PhaseResult("saturation", extra={"clients": cfg.sat_clients})
    for r, label in order:
        res = await _measured(
            functools.partial(
                run_saturation,
                bots[label],
                scripts[label],
                cfg,
                label=label,
                run_id=run_id,
                seconds=per_round_seconds[r],
                tag=f"sat{r}",
            ),
            cpu_probe,
            label,
        )
        out[label]["saturation"].absorb(res, r)
    for label in labels:
        ph = out[label]["saturation"]
        window = sum(rd["window_seconds"] for rd in ph.rounds)
        done = sum(rd["completed_in_window"] for rd in ph.rounds)
        ph.extra.update(
            window_seconds=round(window, 3),
            completed_in_window=done,
            throughput_per_s=round(throughput(done, window), 3),
        )
    return out


# --------------------------------------------------------------------------------------
# Bots
# --------------------------------------------------------------------------------------


def _rasa_version() -> str:
    from importlib.metadata import version

    return version("rasa")


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _base_env() -> dict[str, str]:
    return {"RASA_TELEMETRY_ENABLED": "false", "PYTHONUNBUFFERED": "1"}


def newest_model(models_dir: Path) -> Path | None:
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def _log(msg: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    print(f"[bench {stamp}] {msg}", flush=True)


def ensure_coach_model(project: Path, rasa_bin: Path) -> Path:
    model = newest_model(project / "models")
    if model:
        return model
    _log(f"no model in {project / 'models'}: training one (rasa train) …")
    log = BENCH_DIR / "logs" / "coach-train.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as fh:
        proc = subprocess.run(
            [str(rasa_bin), "train"],
            cwd=project,
            stdout=fh,
            stderr=subprocess.STDOUT,
            env={**os.environ, **_base_env()},
        )
    model = newest_model(project / "models")
    if proc.returncode != 0 or not model:
        raise RuntimeError(f"rasa train failed (exit {proc.returncode}), see {log}")
    return model


def ensure_stock_project(rasa_bin: Path) -> Path:
    """The stock ``rasa init`` project with its trained model, built once per Rasa version."""
    cache = BENCH_DIR / "stock" / f"rasa-{_rasa_version()}"
    marker = cache / ".bench-complete"
    if marker.exists() and newest_model(cache / "models"):
        return cache
    cache.parent.mkdir(parents=True, exist_ok=True)
    if cache.exists():
        shutil.rmtree(cache)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-init-", dir=cache.parent))
    project = tmp / "project"
    project.mkdir()
    log = BENCH_DIR / "logs" / "stock-init.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    _log(
        f"building the stock bot once for rasa {_rasa_version()} "
        "(rasa init --no-prompt, trains a model) …"
    )
    try:
        with log.open("w") as fh:
            proc = subprocess.run(
                [str(rasa_bin), "init", "--no-prompt", "--init-dir", str(project)],
                cwd=project,
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **_base_env()},
            )
        if proc.returncode != 0 or not newest_model(project / "models"):
            raise RuntimeError(f"rasa init failed (exit {proc.returncode}), see {log}")
        (project / ".bench-complete").write_text(
            f"rasa {_rasa_version()}\n{_dt.datetime.now().isoformat()}\n"
        )
        project.rename(cache)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return cache


async def _preflight(base_url: str, timeout: float) -> None:
    """One request to make sure the REST channel answers before the clock runs."""
    async with _session() as session:
        sample = await _post(
            session,
            base_url + WEBHOOK_PATH,
            f"bench-preflight-{uuid.uuid4().hex[:8]}",
            "/restart",
            timeout,
        )
    if sample.status == 404:
        raise RuntimeError(
            f"{base_url}{WEBHOOK_PATH} answers 404: is the 'rest:' channel in credentials.yml?"
        )
    if not sample.ok:
        raise RuntimeError(
            f"{base_url}{WEBHOOK_PATH} does not answer: {sample.error or sample.status}"
        )


def _rss_mb(rss: dict[str, int] | None) -> dict[str, float | None]:
    rss = rss or {}
    return {k: (round(v / MB, 1) if v else None) for k, v in rss.items()}


def _roleplay_figures(base_url: str) -> dict[str, Any]:
    """Role-play turn latency of the coach (``devtools.bench_roleplay.run(base_url)``).

    A coach that stops answering is recorded as the figure's error, like a failed load test.
    """
    from devtools import bench_roleplay  # imports rasa_sdk, like the servers only when run

    _log("coach: role-play benchmark (devtools.bench_roleplay)")
    try:
        return bench_roleplay.run(base_url)
    except OSError as exc:  # connection refused or reset, timeout, HTTP error status
        return {"error": f"{type(exc).__name__}: {exc}"}


def start_bot(
    label: str,
    *,
    project: Path,
    model: Path,
    rasa_port: int,
    action_port: int | None,
    rasa_bin: Path,
    env: dict[str, str],
    start_timeout: float,
):
    """A started ServerPair for one bot (raises when it does not come up)."""
    from devtools.servers import ServerPair

    log_dir = BENCH_DIR / "logs" / label
    log_dir.mkdir(parents=True, exist_ok=True)
    where = project.name if project != ROOT else "repository root"
    _log(f"{label}: starting servers ({where}, {model.name}) …")
    pair = ServerPair(
        project,
        rasa_port=rasa_port,
        action_port=action_port,
        model=model,
        env=env,
        log_dir=log_dir,
        rasa_bin=rasa_bin,
    )
    pair.start(timeout=start_timeout)
    _log(f"{label}: ready after {pair.startup_seconds:.1f} s at {pair.base_url}")
    return pair


def run_cv(folds: int, timeout: float) -> dict[str, Any]:
    """Run ``devtools.nlu_cv --folds N`` as a subprocess.

    Its output goes live to var/bench/logs/nlu_cv.log.
    """
    python = VENV_BIN / "python"
    cmd = [
        str(python) if python.exists() else sys.executable,
        "-m",
        "devtools.nlu_cv",
        "--folds",
        str(folds),
    ]
    log = BENCH_DIR / "logs" / "nlu_cv.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    _log(
        f"NLU cross-validation ({folds} folds, takes minutes; progress: {log.relative_to(ROOT)}) …"
    )
    t0 = time.perf_counter()
    status = None
    with log.open("w", encoding="utf-8") as fh:
        # own process group, so a timeout or Ctrl-C also ends the `rasa test` it starts
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **_base_env()},
            start_new_session=True,
        )
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            status = "timeout"
        finally:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    output = log.read_text(encoding="utf-8", errors="replace")
    f1 = parse_cv_output(output)
    result = {
        "folds": folds,
        "seconds": round(time.perf_counter() - t0, 1),
        "exit_code": proc.returncode,
        "macro_f1": f1,
        "output_tail": [line for line in output.strip().splitlines() if "Epochs:" not in line][
            -12:
        ],
    }
    result["status"] = status or ("ok" if proc.returncode == 0 and f1 is not None else "failed")
    return result


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def _get(d: dict | None, *path: str):
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def compute_ratios(coach: dict | None, stock: dict | None) -> dict[str, float | None]:
    return {
        "paced_p95_ratio": ratio(
            _get(coach, "paced", "latency_ms", "p95"), _get(stock, "paced", "latency_ms", "p95")
        ),
        "throughput_ratio": ratio(
            _get(coach, "saturation", "throughput_per_s"),
            _get(stock, "saturation", "throughput_per_s"),
        ),
        "rasa_rss_ratio": ratio(
            _get(coach, "rss_after_load_mb", "rasa"), _get(stock, "rss_after_load_mb", "rasa")
        ),
        "action_rss_mb": _get(coach, "rss_after_load_mb", "actions"),
        "long_growth": _get(coach, "long", "growth"),
        "long_rss_ratio": _get(coach, "memory", "ratio"),
        # no target, but steadier than wall-clock figures on a busy machine
        "rasa_cpu_ratio": ratio(
            _get(coach, "saturation", "server_cpu_ms_per_message", "rasa"),
            _get(stock, "saturation", "server_cpu_ms_per_message", "rasa"),
        ),
    }


def per_round_ratios(coach: dict | None, stock: dict | None) -> dict[str, list[float | None]]:
    """Coach/stock ratio of each round on its own: their spread shows how noisy the run was."""

    def pair(phase: str, key: str) -> list[float | None]:
        c = {r["round"]: r.get(key) for r in _get(coach, phase, "rounds") or []}
        s = {r["round"]: r.get(key) for r in _get(stock, phase, "rounds") or []}
        return [ratio(c[r], s[r]) for r in sorted(set(c) & set(s))]

    return {
        "paced_p95_ratio": pair("paced", "p95_ms"),
        "throughput_ratio": pair("saturation", "throughput_per_s"),
    }


def _fmt(value, spec: str = ".0f", none: str = "—") -> str:
    if value is None:
        return none
    if isinstance(value, str):
        return value
    return format(value, spec)


def render_table(report: dict[str, Any]) -> str:
    coach, stock = report["bots"].get("coach"), report["bots"].get("stock")
    ratios, verdicts = report["ratios"], report["targets"]
    meta = report["meta"]
    lines = [
        "",
        f"Klartext benchmark  {meta['date']}  rasa {meta['rasa_version']}  {meta['cpus']} CPUs  "
        f"commit {meta.get('git_commit') or '?'}  "
        f"load avg {meta['loadavg_start'][0]:.1f}→{meta.get('loadavg_end', ['?'])[0]}"
        f"{'  (--quick)' if meta['quick'] else ''}",
    ]
    w = (38, 10, 10, 8, 10, 7)
    header = ("", "coach", "stock", "ratio", "target", "")
    sep = "-" * (sum(w) + len(w) - 1)

    def row(name, c, s, r="", target="", verdict=""):
        cells = (name, c, s, r, target, verdict)
        return " ".join(
            str(x).ljust(w[0]) if i == 0 else str(x).rjust(w[i]) for i, x in enumerate(cells)
        ).rstrip()

    def both(*path, spec=".0f"):
        return _fmt(_get(coach, *path), spec), _fmt(_get(stock, *path), spec)

    def target_cells(key):
        t = verdicts.get(key) or {}
        value = ratios.get(key)
        shown = _fmt(value, ".2f") + "×" if value is not None and key.endswith("ratio") else ""
        return shown, t.get("target", ""), t.get("verdict", "")

    lines += [sep, row(*header), sep]
    lines.append(row("start-up time [s]", *both("startup_seconds", spec=".1f")))
    lines.append(row("first reply after start [ms]", *both("warmup", "first_request_ms")))
    cu, su = _get(coach, "paced", "users"), _get(stock, "paced", "users")
    lines.append(
        row(
            f"paced: requests ok/errors ({cu or su or '?'} users)",
            f"{_fmt(_get(coach, 'paced', 'ok'))}/{_fmt(_get(coach, 'paced', 'errors'))}",
            f"{_fmt(_get(stock, 'paced', 'ok'))}/{_fmt(_get(stock, 'paced', 'errors'))}",
        )
    )
    lines.append(row("paced: p50 [ms]", *both("paced", "latency_ms", "p50")))
    lines.append(
        row(
            "paced: p95 [ms]", *both("paced", "latency_ms", "p95"), *target_cells("paced_p95_ratio")
        )
    )
    lines.append(row("paced: p99 [ms]", *both("paced", "latency_ms", "p99")))
    lines.append(
        row(
            "saturation: clients × seconds",
            *(
                f"{_fmt(_get(bot, 'saturation', 'clients'))}"
                f"×{_fmt(_get(bot, 'saturation', 'window_seconds'), 'g')}"
                for bot in (coach, stock)
            ),
        )
    )
    lines.append(
        row(
            "saturation: throughput [msg/s]",
            *both("saturation", "throughput_per_s", spec=".1f"),
            *target_cells("throughput_ratio"),
        )
    )
    lines.append(row("saturation: p95 [ms]", *both("saturation", "latency_ms", "p95")))
    lines.append(row("saturation: errors", *both("saturation", "errors")))
    lines.append(
        row(
            "Rasa server CPU per message [ms]",
            *both("saturation", "server_cpu_ms_per_message", "rasa", spec=".1f"),
            _fmt(ratios.get("rasa_cpu_ratio"), ".2f") + "×" if ratios.get("rasa_cpu_ratio") else "",
        )
    )
    lines.append(
        row(
            "action server CPU per message [ms]",
            *both("saturation", "server_cpu_ms_per_message", "actions", spec=".1f"),
        )
    )
    lines.append(row("Rasa server RSS idle [MB]", *both("rss_idle_mb", "rasa")))
    lines.append(
        row(
            "Rasa server RSS after load [MB]",
            *both("rss_after_load_mb", "rasa"),
            *target_cells("rasa_rss_ratio"),
        )
    )
    t = verdicts.get("action_rss_mb") or {}
    lines.append(
        row(
            "action server RSS after load [MB]",
            *both("rss_after_load_mb", "actions"),
            "",
            t.get("target", ""),
            t.get("verdict", ""),
        )
    )
    lines += _long_rows(coach, stock, row, both, target_cells)
    lines.append(
        row(
            "client CPU, all phases [s]",
            _fmt(_client_cpu(coach), ".1f"),
            _fmt(_client_cpu(stock), ".1f"),
        )
    )
    lines.append(sep)
    spread = report.get("per_round_ratios") or {}
    if any(spread.values()):

        def show(vals):
            return " ".join(_fmt(v, ".2f") for v in vals) or "—"

        lines.append(
            f"per-round ratios (noise check): paced p95 {show(spread.get('paced_p95_ratio', []))}"
            f"; throughput {show(spread.get('throughput_ratio', []))}"
        )
    cv = report.get("nlu_cv") or {}
    if cv.get("status") == "ok":
        lines.append(
            f"NLU cross-validation, {cv['folds']} folds: "
            f"macro F1 = {cv['macro_f1']:.3f}  ({cv['seconds']:.0f} s)"
        )
    elif cv.get("status") == "skipped":
        lines.append("NLU cross-validation: skipped (--skip-cv)")
    elif cv:
        lines.append(
            f"NLU cross-validation: {cv.get('status')} {cv.get('note') or ''} "
            f"(exit {cv.get('exit_code', '—')}, log var/bench/logs/nlu_cv.log)"
        )
    rp = _get(coach, "roleplay")
    if rp:
        lines.append(
            "role-play (devtools.bench_roleplay): "
            + ", ".join(
                f"{k}={_fmt(v, '.1f') if isinstance(v, float) else v}" for k, v in rp.items()
            )
        )
    for label in ("coach", "stock"):
        bot = report["bots"].get(label) or {}
        if bot.get("error"):
            first = str(bot["error"]).strip().splitlines()[0]
            lines.append(
                f"{label}: NOT BENCHMARKED – {first} (details in var/bench/latest.json, "
                f"logs in {bot.get('logs', 'var/bench/logs')})"
            )
        empty = _get(bot, "paced", "empty_replies")
        if empty:
            lines.append(
                f"note: {label} sent {empty} empty replies during paced load "
                "(not an error, but check the action server log)"
            )
    if report.get("dev_stock_twice"):
        lines.append(
            "note: --dev-stock-twice: the 'coach' column is the stock bot (development only)"
        )
    failed = [v["label"] for v in verdicts.values() if v["verdict"] == "FAIL"]
    lines.append(
        f"targets: {sum(v['verdict'] == 'PASS' for v in verdicts.values())} PASS, "
        f"{len(failed)} FAIL"
        + (f" ({'; '.join(failed)})" if failed else "")
        + f"   total {report['meta']['total_seconds']:.0f} s   figures: var/bench/latest.json"
    )
    return "\n".join(lines)


def _times(value: float | None) -> str:
    return _fmt(value, ".2f") + "×" if value is not None else _fmt(value)


def _long_rows(coach, stock, row, both, target_cells) -> list[str]:
    """The rows of the long-conversation figures (``devtools/bench_long.py``), if measured."""
    if _get(coach, "long") is None and _get(stock, "long") is None:
        return []
    turns = _get(coach, "long", "turns") or _get(stock, "long", "turns")
    growth = target_cells("long_growth")
    rows = [
        row("long conv.: median turns 1–20 [ms]", *both("long", "first_ms")),
        row(
            f"long conv.: median turns {turns - 19}–{turns} [ms]",
            *both("long", "last_ms"),
            "",
            growth[1],
            growth[2],
        ),
        row(
            "long conv.: growth last/first",
            *(_times(_get(bot, "long", "growth")) for bot in (coach, stock)),
        ),
    ]
    memory = _get(coach, "memory")
    if memory:
        users = memory["users"]
        rows.append(
            row(
                f"Rasa RSS, {users} users × {memory['short_turns']} turns [MB]",
                _fmt(memory["rss_short_mb"]),
                "",
            )
        )
        rows.append(
            row(
                f"Rasa RSS, {users} users × {memory['long_turns']} turns [MB]",
                _fmt(memory["rss_long_mb"]),
                "",
                *target_cells("long_rss_ratio"),
            )
        )
    return rows


def _client_cpu(bot: dict | None) -> float | None:
    if not bot:
        return None
    vals = [_get(bot, p, "client_cpu_seconds") for p in ("warmup", "paced", "saturation")]
    vals = [v for v in vals if v is not None]
    return sum(vals) if vals else None


def write_report(report: dict[str, Any]) -> Path:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    latest = BENCH_DIR / "latest.json"
    text = json.dumps(report, indent=2, ensure_ascii=False)
    latest.write_text(text + "\n", encoding="utf-8")
    history = BENCH_DIR / "history"
    history.mkdir(exist_ok=True)
    (history / f"{report['meta']['run_id']}.json").write_text(text + "\n", encoding="utf-8")
    return latest


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def _long_figures(report, pairs, scripts, args, run_id: str, tracker_url: str | None) -> None:
    """Latency growth along one long conversation and memory after long ones (bench_long)."""
    from sqlalchemy.exc import SQLAlchemyError

    from devtools import bench_long

    cfg = bench_long.LongConfig(turns=1000 if args.long else 300)
    if args.quick:
        cfg = bench_long.LongConfig(turns=60, users=10, short_turns=5, long_turns=60, rest_turns=2)
    coach = pairs.get("coach")
    try:
        figures = bench_long.run(
            {name: p.base_url for name, p in pairs.items()},
            scripts,
            cfg,
            run_id,
            coach_rss=(lambda: coach.rss_bytes()["rasa"]) if coach else None,
            tracker_url=None if args.dev_stock_twice else tracker_url,
        )
    except (OSError, RuntimeError, ValueError, SQLAlchemyError) as exc:
        _log(f"long conversations FAILED – {type(exc).__name__}: {exc}")
        report["long_error"] = f"{type(exc).__name__}: {exc}"
        return
    for label, values in figures.items():
        report["bots"][label].update(values)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m devtools.bench", description=__doc__.split("\n\n")[0]
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="5 users, 60 paced requests, 4 clients × 6 s saturation, 2 rounds (development)",
    )
    p.add_argument(
        "--skip-cv", action="store_true", help="skip the NLU cross-validation (it takes minutes)"
    )
    p.add_argument(
        "--folds", type=int, default=5, help="folds of the NLU cross-validation (default 5)"
    )
    p.add_argument(
        "--cv-timeout",
        type=float,
        default=3600,
        help="seconds before the cross-validation is given up",
    )
    p.add_argument("--users", type=int, help="paced: simulated users (default 20)")
    p.add_argument("--requests", type=int, help="paced: requests per bot (default 320)")
    p.add_argument("--clients", type=int, help="saturation: concurrent clients (default 8)")
    p.add_argument("--seconds", type=float, help="saturation: window in seconds (default 20)")
    p.add_argument(
        "--rounds", type=int, help="rounds in which the bots take turns, per phase (default 4)"
    )
    p.add_argument("--seed", type=int, help="random seed of the pauses (default 4711)")
    p.add_argument("--only", choices=("coach", "stock"), help="benchmark one bot only (no ratios)")
    p.add_argument(
        "--start-timeout", type=float, default=300, help="seconds a bot may take to start"
    )
    p.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    p.add_argument(
        "--long",
        action="store_true",
        help="the long conversation has 1,000 turns instead of 300 (devtools/bench_long.py)",
    )
    p.add_argument("--skip-long", action="store_true", help="skip the long-conversation figures")
    p.add_argument(
        "--port-base",
        type=int,
        help="ports base+5/+55/+6 instead of 25005 (coach), 25055 (actions), 25006 (stock)",
    )
    p.add_argument(
        "--dev-stock-twice",
        action="store_true",
        help="development only: use the stock bot in the coach's place (no coach model needed)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        build_parser().error("--rounds must be at least 1")
    cfg = LoadConfig.quick() if args.quick else LoadConfig()
    for attr, arg in (
        ("users", "users"),
        ("paced_requests", "requests"),
        ("sat_clients", "clients"),
        ("sat_seconds", "seconds"),
        ("rounds", "rounds"),
        ("seed", "seed"),
    ):
        if getattr(args, arg) is not None:
            setattr(cfg, attr, getattr(args, arg))

    t_start = time.perf_counter()
    now = _dt.datetime.now(_dt.timezone.utc).astimezone()
    run_id = now.strftime("%Y%m%d-%H%M%S")
    rasa_bin = VENV_BIN / "rasa"
    if not rasa_bin.exists():
        rasa_bin = Path(shutil.which("rasa") or "rasa")
    scripts = load_scripts()
    report: dict[str, Any] = {
        "meta": {
            "run_id": run_id,
            "date": now.strftime("%Y-%m-%d %H:%M %Z"),
            "rasa_version": _rasa_version(),
            "python": platform.python_version(),
            "host": platform.node(),
            "cpus": os.cpu_count(),
            "loadavg_start": [round(x, 2) for x in os.getloadavg()],
            "git_commit": _git_commit(),
            "quick": args.quick,
            "config": cfg.__dict__.copy(),
        },
        "bots": {},
    }
    if args.dev_stock_twice:
        report["dev_stock_twice"] = True
    hard_error = False
    stock_project: Path | None = None

    def stock() -> Path:
        nonlocal stock_project
        if stock_project is None:
            stock_project = ensure_stock_project(rasa_bin)
        return stock_project

    order = [b for b in ("coach", "stock") if args.only in (None, b)]
    tracker_url: str | None = None  # the coach's tracker store (memory figure)

    def port(default: int) -> int:  # --port-base B: B+5 coach, B+55 actions, B+6 stock
        return default if args.port_base is None else args.port_base + default % 100

    with (
        tempfile.TemporaryDirectory(prefix="klartext-bench-") as tmp,
        contextlib.ExitStack() as servers,
    ):
        # 1–2: start the bots one after the other (a start-up is CPU-heavy) and keep both up
        pairs = {}
        for label in order:
            bot: dict[str, Any] = report["bots"].setdefault(label, {})
            try:
                if label == "coach" and not args.dev_stock_twice:
                    project, model = ROOT, ensure_coach_model(ROOT, rasa_bin)
                    var_dir = Path(tmp) / "coach-var"
                    var_dir.mkdir()
                    # A throw-away var dir, and SQLite in it even if .env names another
                    # database: the benchmark's thousands of senders stay out of real data.
                    env = {
                        **_base_env(),
                        "KLARTEXT_VAR_DIR": str(var_dir),
                        "KLARTEXT_DATABASE_URL": f"sqlite:///{var_dir / 'klartext.db'}",
                        "KLARTEXT_TRACKER_STORE_URL": f"sqlite:///{var_dir / 'tracker.db'}",
                    }
                    ports = (port(COACH_RASA_PORT), port(COACH_ACTION_PORT))
                    tracker_url = env["KLARTEXT_TRACKER_STORE_URL"]
                else:
                    project = stock()
                    model = newest_model(project / "models")
                    env = _base_env()
                    ports = (port(COACH_RASA_PORT if label == "coach" else STOCK_RASA_PORT), None)
                bot.update(
                    project=str(project),
                    model=model.name,
                    rasa_port=ports[0],
                    action_port=ports[1],
                    logs=str((BENCH_DIR / "logs" / label).relative_to(ROOT)),
                )
                pair = start_bot(
                    label,
                    project=project,
                    model=model,
                    rasa_port=ports[0],
                    action_port=ports[1],
                    rasa_bin=rasa_bin,
                    env=env,
                    start_timeout=args.start_timeout,
                )
                servers.callback(pair.stop)
                pairs[label] = pair
                bot["startup_seconds"] = round(pair.startup_seconds, 2)
            except Exception as exc:
                hard_error = True
                _log(f"{label}: FAILED – {type(exc).__name__}: {exc}")
                bot["error"] = f"{type(exc).__name__}: {exc}"

        # 3: load, interleaved between the bots; memory before and after
        if pairs:
            for label, pair in pairs.items():
                report["bots"][label]["rss_idle_mb"] = _rss_mb(pair.rss_bytes())
            try:

                def cpu_probe(label: str) -> dict[str, float]:
                    pair = pairs[label]
                    found = {
                        "rasa": process_cpu_seconds(pair.rasa_pid),
                        "actions": process_cpu_seconds(pair.action_pid),
                    }
                    return {k: v for k, v in found.items() if v is not None}

                phases = asyncio.run(
                    run_load(
                        {name: p.base_url for name, p in pairs.items()},
                        {name: scripts[name] for name in pairs},
                        cfg,
                        run_id,
                        cpu_probe,
                    )
                )
            except Exception as exc:
                hard_error = True
                _log(f"load test FAILED – {type(exc).__name__}: {exc}")
                for label in pairs:
                    report["bots"][label]["error"] = f"load test: {type(exc).__name__}: {exc}"
            else:
                for label, pair in pairs.items():
                    report["bots"][label]["rss_after_load_mb"] = _rss_mb(pair.rss_bytes())
                    report["bots"][label].update(
                        {name: ph.to_dict() for name, ph in phases[label].items()}
                    )
            if "coach" in pairs and not args.dev_stock_twice:
                report["bots"]["coach"]["roleplay"] = _roleplay_figures(pairs["coach"].base_url)
            if not args.skip_long:
                _long_figures(report, pairs, scripts, args, run_id, tracker_url)
            _log("stopping servers")

    report["ratios"] = compute_ratios(report["bots"].get("coach"), report["bots"].get("stock"))
    report["targets"] = evaluate_targets(report["ratios"])
    report["per_round_ratios"] = per_round_ratios(
        report["bots"].get("coach"), report["bots"].get("stock")
    )
    report["nlu_cv"] = (
        {"status": "skipped"} if args.skip_cv else run_cv(args.folds, args.cv_timeout)
    )
    report["meta"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    report["meta"]["total_seconds"] = round(time.perf_counter() - t_start, 1)
    write_report(report)
    print(render_table(report), flush=True)

    if hard_error:
        return 2
    if args.strict and any(v["verdict"] == "FAIL" for v in report["targets"].values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
