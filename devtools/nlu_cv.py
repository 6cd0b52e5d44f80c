"""Cross-validate the NLU pipeline and print the intent macro-F1.

    .venv/bin/python -m devtools.nlu_cv [--config config.yml] [--folds 5] [--nlu data/nlu]
                                        [--out DIR]

Runs ``rasa test nlu --cross-validation`` into a temporary directory (or ``--out``),
reads the intent report and prints a few figures. The last line is always
``NLU_CV_MACRO_F1=<value>`` (``nan`` if the run failed), for benchmarks to parse.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _rasa_executable() -> list[str]:
    venv_rasa = ROOT / ".venv" / "bin" / "rasa"
    if venv_rasa.exists():
        return [str(venv_rasa)]
    return [sys.executable, "-m", "rasa"]


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _entity_f1(out: Path) -> float | None:
    """Micro-averaged entity F1 from the entity extractor's report, if any."""
    for name in ("DIETClassifier_report.json", "CRFEntityExtractor_report.json"):
        report = _read_json(out / name)
        if report:
            avg = report.get("micro avg") or report.get("weighted avg") or {}
            if "f1-score" in avg:
                return float(avg["f1-score"])
    return None


def summarize(out: Path) -> dict:
    report = _read_json(out / "intent_report.json")
    if not report:
        return {}
    figures = {
        "macro_f1": report["macro avg"]["f1-score"],
        "weighted_f1": report["weighted avg"]["f1-score"],
        "accuracy": report.get("accuracy"),
        "entity_f1": _entity_f1(out),
        "confusions": [],
    }
    pairs = []
    for intent, row in report.items():
        if isinstance(row, dict) and "confused_with" in row:
            for other, n in row["confused_with"].items():
                pairs.append((n, intent, other))
    figures["confusions"] = sorted(pairs, reverse=True)[:10]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yml")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--nlu", default="data/nlu")
    parser.add_argument("--out", default=None, help="keep the results here (default: temp dir)")
    parser.add_argument("--verbose", action="store_true", help="show Rasa's output")
    args = parser.parse_args(argv)

    tmp = None
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="nlu_cv_")
        out = Path(tmp.name)

    cmd = _rasa_executable() + [
        "test",
        "nlu",
        "--nlu",
        args.nlu,
        "--config",
        args.config,
        "--cross-validation",
        "--folds",
        str(args.folds),
        "--out",
        str(out),
    ]
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    started = time.monotonic()
    proc = subprocess.run(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=None if args.verbose else subprocess.PIPE,
        stderr=subprocess.STDOUT if not args.verbose else None,
        text=True,
    )
    elapsed = time.monotonic() - started

    figures = summarize(out)
    if proc.returncode != 0 or not figures:
        if not args.verbose and proc.stdout:
            print(proc.stdout[-4000:], file=sys.stderr)
        print(f"cross-validation failed (exit code {proc.returncode})", file=sys.stderr)
        print("NLU_CV_MACRO_F1=nan")
        return 1

    print(f"config:        {args.config}  ({args.folds} folds, {elapsed:.0f} s)")
    print(f"intent weighted F1: {figures['weighted_f1']:.3f}")
    if figures["accuracy"] is not None:
        print(f"intent accuracy:    {figures['accuracy']:.3f}")
    if figures["entity_f1"] is not None:
        print(f"entity micro F1:    {figures['entity_f1']:.3f}")
    if figures["confusions"]:
        print("most frequent confusions (true -> predicted):")
        for n, intent, other in figures["confusions"]:
            print(f"  {n:3d}  {intent} -> {other}")
    if tmp is None:
        print(f"reports in {out}")
    else:
        tmp.cleanup()
    print(f"NLU_CV_MACRO_F1={figures['macro_f1']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
