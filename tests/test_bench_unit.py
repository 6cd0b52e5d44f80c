"""Unit tests of the statistics helpers of devtools/bench.py (no servers are started)."""

from __future__ import annotations

import math
import random

import pytest

from devtools import bench
from devtools.bench import (
    Target,
    evaluate_targets,
    parse_cv_output,
    percentile,
    ratio,
    summarize,
    throughput,
)

# ---- percentile -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([5.0], 0, 5.0),
        ([5.0], 50, 5.0),
        ([5.0], 100, 5.0),
        ([1, 2], 50, 1.5),
        ([1, 2, 3, 4], 50, 2.5),
        ([1, 2, 3, 4, 5], 50, 3.0),
        ([1, 2, 3, 4, 5], 0, 1.0),
        ([1, 2, 3, 4, 5], 100, 5.0),
        ([1, 2, 3, 4, 5], 25, 2.0),
        # h = (n-1)*q/100 = 4*0.95 = 3.8 -> 4 + 0.8*(5-4)
        ([1, 2, 3, 4, 5], 95, 4.8),
        # 10 values 10..100: h = 9*0.9 = 8.1 -> 90 + 0.1*10
        ([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 90, 91.0),
        ([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 99, 99.1),
    ],
)
def test_percentile_known_values(values, q, expected):
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_ignores_input_order_and_does_not_mutate():
    values = [9.0, 1.0, 5.0, 3.0, 7.0]
    copy = list(values)
    assert percentile(values, 50) == 5.0
    assert values == copy


def test_percentile_accepts_any_iterable():
    assert percentile((x for x in [3, 1, 2]), 50) == 2.0


def test_percentile_is_monotonic_in_q():
    rng = random.Random(1)
    data = [rng.expovariate(1.0) for _ in range(137)]
    qs = [0, 1, 5, 10, 25, 50, 75, 90, 95, 99, 99.9, 100]
    results = [percentile(data, q) for q in qs]
    assert results == sorted(results)
    assert results[0] == min(data) and results[-1] == max(data)


def test_percentile_matches_numpy_linear_method():
    np = pytest.importorskip("numpy")
    rng = random.Random(42)
    for n in (1, 2, 3, 7, 20, 101, 333):
        data = [rng.lognormvariate(-2, 0.7) for _ in range(n)]
        for q in (0, 12.5, 50, 90, 95, 99, 100):
            assert percentile(data, q) == pytest.approx(
                float(np.percentile(data, q)), rel=1e-12, abs=1e-15
            )


def test_percentile_with_ties():
    assert percentile([2, 2, 2, 2], 95) == 2.0
    assert percentile([1, 1, 1, 10], 50) == 1.0


@pytest.mark.parametrize("q", [-0.1, 100.1, float("nan")])
def test_percentile_rejects_q_out_of_range(q):
    with pytest.raises(ValueError):
        percentile([1, 2, 3], q)


def test_percentile_rejects_empty_and_nan():
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0, float("nan")], 50)


# ---- summarize, throughput, ratio ---------------------------------------------------------


def test_summarize_scales_seconds_to_milliseconds():
    s = summarize([0.1, 0.2, 0.3, 0.4], scale=1000.0)
    assert s["count"] == 4
    assert s["mean"] == pytest.approx(250.0)
    assert s["min"] == pytest.approx(100.0)
    assert s["max"] == pytest.approx(400.0)
    assert s["p50"] == pytest.approx(250.0)
    assert s["p95"] == pytest.approx(385.0)  # h = 3*0.95 = 2.85
    assert s["p99"] == pytest.approx(397.0)


def test_summarize_empty_sample():
    s = summarize([])
    assert s["count"] == 0
    assert all(s[k] is None for k in ("mean", "min", "p50", "p95", "p99", "max"))


def test_throughput():
    assert throughput(400, 20.0) == 20.0
    assert throughput(0, 5.0) == 0.0
    with pytest.raises(ValueError):
        throughput(10, 0)
    with pytest.raises(ValueError):
        throughput(-1, 1)


def test_ratio():
    assert ratio(150.0, 100.0) == 1.5
    assert ratio(None, 100.0) is None
    assert ratio(1.0, None) is None
    assert ratio(1.0, 0.0) is None
    assert ratio(float("nan"), 1.0) is None


# ---- targets ---------------------------------------------------------------------------


def test_target_check_boundaries():
    le = Target("x", "x", "<=", 1.5)
    assert le.check(1.5) == "PASS"
    assert le.check(1.51) == "FAIL"
    assert le.check(None) == "n/a"
    assert le.check(float("nan")) == "n/a"
    ge = Target("y", "y", ">=", 0.7)
    assert ge.check(0.7) == "PASS" and ge.check(0.69) == "FAIL"
    lt = Target("z", "z", "<", 300, "MB")
    assert lt.check(299.9) == "PASS" and lt.check(300) == "FAIL"
    assert lt.describe() == "< 300 MB"
    assert le.describe() == "≤ 1.5×"


def test_targets_are_the_agreed_ones():
    by_key = {t.key: t for t in bench.TARGETS}
    assert (by_key["paced_p95_ratio"].op, by_key["paced_p95_ratio"].limit) == ("<=", 1.5)
    assert (by_key["throughput_ratio"].op, by_key["throughput_ratio"].limit) == (">=", 0.7)
    assert (by_key["rasa_rss_ratio"].op, by_key["rasa_rss_ratio"].limit) == ("<=", 1.3)
    assert (by_key["action_rss_mb"].op, by_key["action_rss_mb"].limit) == ("<", 300)


def test_compute_ratios_and_evaluate_targets():
    coach = {
        "paced": {"latency_ms": {"p95": 120.0}},
        "saturation": {"throughput_per_s": 14.0},
        "rss_after_load_mb": {"rasa": 650.0, "actions": 120.0},
    }
    stock = {
        "paced": {"latency_ms": {"p95": 100.0}},
        "saturation": {"throughput_per_s": 20.0},
        "rss_after_load_mb": {"rasa": 600.0},
    }
    ratios = bench.compute_ratios(coach, stock)
    assert ratios["paced_p95_ratio"] == pytest.approx(1.2)
    assert ratios["throughput_ratio"] == pytest.approx(0.7)
    assert ratios["rasa_rss_ratio"] == pytest.approx(650 / 600)
    assert ratios["action_rss_mb"] == 120.0
    verdicts = evaluate_targets(ratios)
    assert {k: v["verdict"] for k, v in verdicts.items()} == {
        "paced_p95_ratio": "PASS",
        "throughput_ratio": "PASS",
        "rasa_rss_ratio": "PASS",
        "action_rss_mb": "PASS",
    }


def test_missing_bot_gives_na_not_crash():
    ratios = bench.compute_ratios({"error": "boom"}, None)
    assert all(v is None for v in ratios.values())
    assert all(v["verdict"] == "n/a" for v in evaluate_targets(ratios).values())


# ---- cross-validation output ---------------------------------------------------------------


def test_parse_cv_output_takes_last_figure():
    out = "fold 1 ...\nNLU_CV_MACRO_F1=0.801\nretry\nNLU_CV_MACRO_F1=0.912\n"
    assert parse_cv_output(out) == pytest.approx(0.912)


def test_parse_cv_output_missing_or_embedded():
    assert parse_cv_output("") is None
    assert parse_cv_output("the NLU_CV_MACRO_F1=0.9 is inside a sentence") is None
    assert parse_cv_output("  NLU_CV_MACRO_F1 = 1  \n") == 1.0
    # devtools.nlu_cv prints nan when its run failed: that is no figure
    assert parse_cv_output("NLU_CV_MACRO_F1=nan\n") is None


# ---- scripts file ----------------------------------------------------------------------


def test_bench_scripts_file_is_well_formed():
    scripts = bench.load_scripts()
    for bot in ("coach", "stock"):
        assert scripts[bot], bot
        for script in scripts[bot]:
            assert script["name"]
            assert all(isinstance(t, str) and t.strip() for t in script["turns"])
    assert math.isfinite(bench.LoadConfig().pause_max)


# ---- interleaving ----------------------------------------------------------------------


def test_round_order_is_abba():
    assert bench.round_order(["coach", "stock"], 4) == [
        (0, "coach"),
        (0, "stock"),
        (1, "stock"),
        (1, "coach"),
        (2, "coach"),
        (2, "stock"),
        (3, "stock"),
        (3, "coach"),
    ]
    assert bench.round_order(["stock"], 2) == [(0, "stock"), (1, "stock")]


def test_round_order_gives_each_bot_the_same_mean_position():
    order = bench.round_order(["coach", "stock"], 4)
    positions = {"coach": [], "stock": []}
    for i, (_, label) in enumerate(order):
        positions[label].append(i)
    assert sum(positions["coach"]) == sum(positions["stock"])


def test_split_evenly():
    assert bench.split_evenly(320, 4, integer=True) == [80, 80, 80, 80]
    assert bench.split_evenly(10, 4, integer=True) == [3, 3, 2, 2]
    assert sum(bench.split_evenly(321, 4, integer=True)) == 321
    assert bench.split_evenly(20.0, 4) == [5.0, 5.0, 5.0, 5.0]
    with pytest.raises(ValueError):
        bench.split_evenly(10, 0)


def test_phase_result_pools_rounds():
    def sample(sec):
        return bench.Sample(latency=sec, ok=True, t_end=0.0)

    pooled = bench.PhaseResult("saturation")
    r0 = bench.PhaseResult(
        "saturation",
        samples=[sample(0.1), sample(0.2)],
        wall_seconds=5,
        extra={"window_seconds": 5, "completed_in_window": 2, "throughput_per_s": 0.4},
    )
    r1 = bench.PhaseResult(
        "saturation",
        samples=[sample(0.3), bench.Sample(1.0, False, 0.0, 500)],
        wall_seconds=5,
        extra={"window_seconds": 5, "completed_in_window": 1, "throughput_per_s": 0.2},
    )
    pooled.absorb(r0, 0)
    pooled.absorb(r1, 1)
    d = pooled.to_dict()
    assert d["requests"] == 4 and d["ok"] == 3 and d["errors"] == 1
    assert d["error_kinds"] == {"HTTP 500": 1}
    assert d["latency_ms"]["p50"] == pytest.approx(200.0)
    assert [r["throughput_per_s"] for r in d["rounds"]] == [0.4, 0.2]


def test_per_round_ratios():
    coach = {
        "paced": {"rounds": [{"round": 0, "p95_ms": 120.0}, {"round": 1, "p95_ms": 90.0}]},
        "saturation": {"rounds": [{"round": 0, "throughput_per_s": 8.0}]},
    }
    stock = {
        "paced": {"rounds": [{"round": 0, "p95_ms": 100.0}, {"round": 1, "p95_ms": 100.0}]},
        "saturation": {"rounds": [{"round": 0, "throughput_per_s": 10.0}]},
    }
    spread = bench.per_round_ratios(coach, stock)
    assert spread["paced_p95_ratio"] == pytest.approx([1.2, 0.9])
    assert spread["throughput_ratio"] == pytest.approx([0.8])
    assert bench.per_round_ratios(None, stock) == {"paced_p95_ratio": [], "throughput_ratio": []}


# ---- report rendering (no servers: synthetic figures) ------------------------------------


def _report(coach, stock):
    ratios = bench.compute_ratios(coach, stock)
    return {
        "meta": {
            "date": "2026-01-01 10:00 CET",
            "rasa_version": "3.6.21",
            "cpus": 2,
            "git_commit": "abc",
            "loadavg_start": [1.0, 1.0, 1.0],
            "loadavg_end": [1.5, 1.0, 1.0],
            "quick": False,
            "total_seconds": 300.0,
        },
        "bots": {"coach": coach, "stock": stock},
        "ratios": ratios,
        "targets": evaluate_targets(ratios),
        "per_round_ratios": bench.per_round_ratios(coach, stock),
        "nlu_cv": {"status": "ok", "folds": 5, "macro_f1": 0.9123, "seconds": 400.0},
    }


def test_render_table_full_and_failed_bot():
    bot = {
        "startup_seconds": 50.0,
        "paced": {
            "users": 20,
            "ok": 320,
            "errors": 0,
            "latency_ms": {"p50": 80.0, "p95": 200.0, "p99": 300.0},
            "rounds": [{"round": 0, "p95_ms": 200.0}],
        },
        "saturation": {
            "clients": 8,
            "window_seconds": 20.0,
            "throughput_per_s": 10.0,
            "errors": 0,
            "server_cpu_ms_per_message": {"rasa": 50.0},
            "rounds": [{"round": 0, "throughput_per_s": 10.0}],
        },
        "rss_after_load_mb": {"rasa": 1000.0, "actions": 100.0},
    }
    text = bench.render_table(_report(bot, bot))
    assert "paced: p95 [ms]" in text and "1.00×" in text and "PASS" in text
    assert "macro F1 = 0.912" in text
    text = bench.render_table(_report({"error": "RuntimeError: port busy\nlog tail…"}, bot))
    assert "coach: NOT BENCHMARKED – RuntimeError: port busy" in text
    assert "log tail" not in text
