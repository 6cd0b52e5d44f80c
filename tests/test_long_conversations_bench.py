"""devtools/bench_long.py: the long-conversation figures of ``make bench`` (no servers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from devtools import bench, bench_long


def test_the_long_script_cycles_through_the_case_flow() -> None:
    scripts = bench.load_scripts()["long"]
    messages = bench_long.cycled(scripts["coach"], 14)
    assert messages[0] == "Hallo" and messages[6] == "Hallo" and len(messages) == 14
    assert bench_long.cycled(scripts["stock"], 3) == ["hello", "I am great", "bye"]


def test_growth_compares_the_medians_of_the_first_and_last_twenty_turns() -> None:
    latencies = [0.05] * 20 + [0.2] * 260 + [0.1] * 19 + [None]
    figures = bench_long.growth_figures(latencies)
    assert figures == {
        "turns": 300,
        "errors": 1,
        "first_ms": 50.0,
        "last_ms": 100.0,
        "growth": pytest.approx(2.0),
    }


def test_lengthen_copies_the_stored_turns_without_session_starts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT,"
                " timestamp REAL, intent_name TEXT, action_name TEXT, data TEXT)"
            )
        )
        for kind, action in (
            ("action", "action_session_start"),
            ("session_started", None),
            ("action", "action_listen"),
            ("user", None),
            ("bot", None),
            ("action", "action_listen"),
            ("user", None),
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO events (sender_id, type_name, action_name, data)"
                    " VALUES ('u', :k, :a, :d)"
                ),
                {"k": kind, "a": action, "d": json.dumps({"event": kind})},
            )
    assert bench_long.lengthen(url, "u", 7) == 8
    with engine.connect() as conn:
        kinds = [k for (k,) in conn.execute(sa.text("SELECT type_name FROM events ORDER BY id"))]
    engine.dispose()
    assert kinds.count("user") == 8 and kinds.count("session_started") == 1
