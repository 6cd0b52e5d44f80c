"""Spearman agreement of the conversation rubric with the hand-labelled role-play transcripts.

    .venv/bin/python -m devtools.rubric_eval            # both halves, per criterion
    .venv/bin/python -m devtools.rubric_eval --detail   # plus engine vs. label per transcript

The labels (``tests/data/roleplay_labels/*.yml``) were written before the engine was tuned.
The split is fixed by the id: odd numbers are the tuning half, even numbers the held-out half;
``fx…`` ids are a fresh held-out set written after the first held-out half had been read,
``fz…`` ids the final held-out set written after the engine had been tuned on those, and
``fc…`` ids the confirmation set written after the last engine change. Every one of these
groups was measured clean once and then read and used for tuning (the confirm group for the
respect/calm lexicon, ``bot/rubric/respect.yml`` and ``calm.yml``); docs/roleplay.md has
the clean figure of each. ``fn…`` ids ("new") were written by someone who had not seen the
engine, committed after its last change and measured once (row 6 of docs/roleplay.md); since
then they are a tuning group too (row 7 read and used them). ``fp…``, ``fq…``, ``fr…`` and
``fs…`` ("blind2" … "blind5") and ``ft``, ``fu``, ``fv``, ``fw``, ``fy``, ``fk``, ``fm``,
``fo``, ``fg``, ``fh``, ``fa``, ``fb``, ``fd``, ``fe``, ``fi``, ``fj``, ``fl``, ``gb``,
``gc``, ``gd``, ``ge``, ``gf``, ``gg``, ``gh``, ``gi``, ``gj``, ``gk``, ``gm``, ``gn``, ``gp``,
``gq``, ``gr``, ``gs``, ``gt``, ``gu``, ``gv`` ids ("blind6" … "blind41") were
written blind by further people while
the engine was being changed and kept out of reach (``SEALED`` here, or
``tests/data/roleplay_sealed/``) until that engine was committed, then measured once;
docs/roleplay.md gives the clean figure of each; every one of them up to blind39 has been read
and tuned on (and fitted by the calibration, ``devtools/train_calibration.py``) since;
blind40/blind41 measured the engine as committed (row 26) and were neither.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

ROOT = Path(__file__).resolve().parent.parent
LABEL_DIR = ROOT / "tests" / "data" / "roleplay_labels"
_GROUPS = {
    "fx": "fresh",
    "fz": "final",
    "fc": "confirm",
    "fn": "new",
    "fp": "blind2",
    "fq": "blind3",
    "fr": "blind4",
    "fs": "blind5",
    "ft": "blind6",
    "fu": "blind7",
    "fv": "blind8",
    "fw": "blind9",
    "fy": "blind10",
    "fk": "blind11",
    "fm": "blind12",
    "fo": "blind13",
    "fg": "blind14",
    "fh": "blind15",
    "fa": "blind16",
    "fb": "blind17",
    "fd": "blind18",
    "fe": "blind19",
    "fi": "blind20",
    "fj": "blind21",
    "fl": "blind22",
    "gb": "blind23",
    "gc": "blind24",
    "gd": "blind25",
    "ge": "blind26",
    "gf": "blind27",
    "gg": "blind28",
    "gh": "blind29",
    "gi": "blind30",
    "gj": "blind31",
    "gk": "blind32",
    "gm": "blind33",
    "gn": "blind34",
    "gp": "blind35",
    "gq": "blind36",
    "gr": "blind37",
    "gs": "blind38",
    "gt": "blind39",
    "gu": "blind40",
    "gv": "blind41",
}
#: every group, in the order of docs/roleplay.md (the rp ids split into tuning/held_out)
HALVES = ("tuning", "held_out", *_GROUPS.values())


#: label files not yet released for measurement: never read while the engine is being changed
#: (none at the moment; "blind2" was sealed until the engine commit 6a5e054, docs/roleplay.md)
SEALED: tuple[str, ...] = ()


def load_transcripts(directory: Path = LABEL_DIR) -> list[dict[str, Any]]:
    """Every labelled transcript, sorted by id (sealed files are left out)."""
    out: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.yml")):
        if path.name in SEALED:
            continue
        out.extend(yaml.safe_load(path.read_text(encoding="utf-8"))["transcripts"])
    return sorted(out, key=lambda t: t["id"])


def half(transcript: Mapping[str, Any]) -> str:
    """The group by id prefix (``fx`` … ``fs``, see ``_GROUPS``); ``rp``: odd/even.

    An id with any other prefix belongs to no known group (``"unknown"``): it is left out of
    every figure instead of silently joining the tuning or held-out half.
    """
    prefix = str(transcript["id"])[:2]
    group = _GROUPS.get(prefix)
    if group:
        return group
    if prefix != "rp":
        return "unknown"
    number = int(re.sub(r"\D", "", transcript["id"]))
    return "tuning" if number % 2 else "held_out"


def user_texts(transcript: Mapping[str, Any]) -> list[str]:
    """The user's turns of a transcript, in order."""
    return [t["user"] for t in transcript["turns"]]


def client_texts(transcript: Mapping[str, Any]) -> list[str]:
    """The client's line before each user turn, in order."""
    return [t["client"] for t in transcript["turns"]]


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(xs: list[float], ys: list[float]) -> float:
    """Spearman's rank correlation with average ranks for ties (0.0 if a side is constant)."""
    rx, ry = _ranks(xs), _ranks(ys)
    n = len(xs)
    mx, my = sum(rx) / n, sum(ry) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = sum((a - mx) ** 2 for a in rx)
    vy = sum((b - my) ** 2 for b in ry)
    return 0.0 if not vx or not vy else cov / (vx * vy) ** 0.5


def engine_scores(transcripts: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """The conversation rubric's per-criterion scores for every transcript (by id)."""
    from bot.roleplay.scenarios import default_scenarios
    from bot.rubric.conversation import judge_texts

    scenarios = default_scenarios()

    def topics(t: Mapping[str, Any]) -> tuple[str, ...]:
        found = scenarios.get(str(t.get("scenario")))
        return found.reason_topics if found is not None else ()

    return {
        t["id"]: {
            c: j.score
            for c, j in judge_texts(
                user_texts(t), clients=client_texts(t), topics=topics(t)
            ).items()
        }
        for t in transcripts
    }


def evaluate(transcripts: list[Mapping[str, Any]] | None = None) -> dict[str, dict[str, float]]:
    """Spearman per criterion and ``overall`` (all criteria pooled), for each half."""
    from bot.rubric.engine import CRITERIA

    transcripts = load_transcripts() if transcripts is None else transcripts
    scores = engine_scores(transcripts)
    result: dict[str, dict[str, float]] = {}
    for name in HALVES:
        part = [t for t in transcripts if half(t) == name]
        if not part:
            continue
        figures = {}
        for c in CRITERIA:
            labels = [float(t["labels"][c]["score"]) for t in part]
            figures[c] = spearman([scores[t["id"]][c] for t in part], labels)
        pooled_engine = [scores[t["id"]][c] for t in part for c in CRITERIA]
        pooled_labels = [float(t["labels"][c]["score"]) for t in part for c in CRITERIA]
        figures["overall"] = spearman(pooled_engine, pooled_labels)
        figures["n"] = len(part)
        result[name] = figures
    return result


def _detail(transcripts: list[Mapping[str, Any]], only: str) -> None:
    from bot.rubric.engine import CRITERIA

    scores = engine_scores(transcripts)
    for t in transcripts:
        if half(t) != only:
            continue
        cells = " ".join(
            f"{c[:4]} {scores[t['id']][c]:.2f}/{float(t['labels'][c]['score']):.1f}"
            for c in CRITERIA
        )
        print(f"{t['id']} {t['scenario']:<17} {cells}")


def main(argv: list[str] | None = None) -> int:
    """Print the figures (and with ``--detail`` the tuning half's transcripts)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detail", choices=HALVES, help="engine/label per transcript of a half")
    parser.add_argument("--half", choices=HALVES, action="append", help="only these halves")
    args = parser.parse_args(argv)
    transcripts = load_transcripts()
    if args.detail:
        _detail(transcripts, args.detail)
    halves = set(args.half or HALVES)
    for name, figures in evaluate([t for t in transcripts if half(t) in halves]).items():
        cells = "  ".join(f"{k} {v:.2f}" for k, v in figures.items() if k != "n")
        print(f"{name:<9} (n={figures['n']}): {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
