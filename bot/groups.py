"""Trainer group sessions: who is a trainer, join codes in messages, results and reports."""

from __future__ import annotations

import csv
import hmac
import html
import re
from pathlib import Path
from statistics import mean
from typing import Iterable, Sequence

from bot.config import load_settings
from bot.roleplay.engine import CRITERIA
from bot.storage.groups import CODE_LENGTH, MemberResult, SessionInfo, is_code, normalize_code
from bot.texts import text, text_list

_CODE_RE = re.compile(r"\b([A-Za-z0-9]{%d})\b" % CODE_LENGTH)
_TRAINER_CODE_RE = re.compile(r"trainer[\s-]*code\s*:?\s*(\S+)", re.IGNORECASE)


def configured_trainers() -> set[str]:
    """Sender ids with trainer rights by configuration (``KLARTEXT_TRAINERS``)."""
    return set(load_settings().trainers)


def trainer_code_configured() -> bool:
    """Whether a trainer code is configured (``KLARTEXT_TRAINER_CODE``)."""
    return bool(load_settings().trainer_code)


def check_trainer_code(candidate: str) -> bool:
    """Whether ``candidate`` is the configured trainer code (constant-time comparison)."""
    expected = load_settings().trainer_code
    return bool(expected) and hmac.compare_digest(candidate.strip().encode(), expected.encode())


def trainer_code_in(message: str) -> str | None:
    match = _TRAINER_CODE_RE.search(message or "")
    return match.group(1) if match else None


def join_code_in(message: str) -> str | None:
    """A join code in the user's own words (e.g. "Beitreten k7p2qx"): six letters/digits, both kinds."""
    for candidate in _CODE_RE.findall(message or ""):
        if is_code(normalize_code(candidate)):
            return normalize_code(candidate)
    return None


def labels() -> dict[str, str]:
    return {c: text("roleplay", f"feedback.labels.{c}") for c in CRITERIA}


def participants(results: Sequence[MemberResult]) -> dict[str, str]:
    """Pseudonyms in order of first result: trainers see 'Teilnehmer 1', not raw channel ids."""
    names: dict[str, str] = {}
    for r in results:
        names.setdefault(r.sender_id, text("groups", "participant", number=len(names) + 1))
    return names


def criterion_means(results: Iterable[MemberResult]) -> dict[str, float]:
    means = {}
    for c in CRITERIA:
        values = [float(r.scores[c]) for r in results if r.scores.get(c) is not None]
        if values:
            means[c] = mean(values)
    return means


def weakest_example(results: Sequence[MemberResult], criterion: str) -> str | None:
    """The user sentence with the lowest score on ``criterion`` across the session's transcripts."""
    worst: tuple[float, str] | None = None
    for r in results:
        for entry in r.transcript:
            score = (entry.get("scores") or {}).get(criterion)
            if (
                entry.get("speaker") == "user"
                and score is not None
                and (worst is None or score < worst[0])
            ):
                worst = (float(score), entry.get("text", ""))
    return worst[1] if worst else None


def results_messages(
    session: SessionInfo, title: str, results: Sequence[MemberResult]
) -> list[str]:
    if not results:
        return [text("groups", "results_empty", code=session.code)]
    names = participants(results)
    out = [
        text(
            "groups",
            "results_header",
            code=session.code,
            title=title,
            difficulty=session.difficulty,
            count=len(results),
            people=len(names),
        )
    ]
    for r in results:
        criteria = ", ".join(
            f"{labels()[c]} {round(100 * float(v))} %" for c, v in r.scores.items() if c in CRITERIA
        )
        out.append(
            text(
                "groups",
                "results_line",
                who=names[r.sender_id],
                overall=round(r.overall),
                criteria=criteria,
            )
        )
    means = criterion_means(results)
    if means:
        weakest = min(means, key=means.get)
        quote = weakest_example(results, weakest)
        key = "results_weakest" if quote else "results_weakest_no_quote"
        out.append(
            text(
                "groups",
                key,
                label=labels()[weakest],
                percent=round(100 * means[weakest]),
                quote=quote,
            )
        )
    return ["\n".join(out)]


def write_report(
    session: SessionInfo, title: str, results: Sequence[MemberResult], out_dir: Path
) -> dict[str, Path]:
    """HTML with one PNG chart per criterion, plus a CSV – for `coach report SESSION`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    names = participants(results)
    files: dict[str, Path] = {}
    csv_path = out_dir / f"{session.code}.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["participant", "finished_at", "overall", *CRITERIA])
        for r in results:
            writer.writerow(
                [
                    names[r.sender_id],
                    r.finished_at.isoformat(timespec="seconds"),
                    round(r.overall, 1),
                    *[
                        ("" if r.scores.get(c) is None else round(100 * float(r.scores[c]), 1))
                        for c in CRITERIA
                    ],
                ]
            )
    files["csv"] = csv_path
    charts = []
    for c in CRITERIA:
        values = [
            (names[r.sender_id], 100 * float(r.scores[c]))
            for r in results
            if r.scores.get(c) is not None
        ]
        fig, ax = plt.subplots(figsize=(5, 2.6))
        ax.bar([v[0] for v in values], [v[1] for v in values], color="#2563eb")
        ax.set_ylim(0, 100)
        ax.set_title(labels()[c])
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
        fig.tight_layout()
        png = out_dir / f"{session.code}_{c}.png"
        fig.savefig(png, dpi=90)
        plt.close(fig)
        charts.append((c, png))
        files[f"png_{c}"] = png
    means = criterion_means(results)
    rows = "".join(
        "<tr><td>{}</td><td>{}</td>{}</tr>".format(
            html.escape(names[r.sender_id]),
            round(r.overall),
            "".join(
                f"<td>{'' if r.scores.get(c) is None else round(100 * float(r.scores[c]))}</td>"
                for c in CRITERIA
            ),
        )
        for r in results
    )
    head = "".join(f"<th>{html.escape(labels()[c])}</th>" for c in CRITERIA)
    col_names = text_list("groups", "report_columns")
    weakest_line = ""
    if means:
        w = min(means, key=means.get)
        weakest_line = html.escape(
            text("groups", "report_weakest", label=labels()[w], percent=round(100 * means[w]))
        )
    page = f"""<!doctype html><html lang="de"><head><meta charset="utf-8"><title>{html.escape(text("groups", "report_title", code=session.code))}</title>
<style>body{{font-family:sans-serif;max-width:900px;margin:2em auto}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px}}</style></head><body>
<h1>{html.escape(text("groups", "report_title", code=session.code))}</h1>
<p>{html.escape(text("groups", "report_intro", title=title, difficulty=session.difficulty, created=session.created_at.strftime("%d.%m.%Y"), count=len(results)))}</p>
<p>{weakest_line}</p>
<table><tr><th>{html.escape(col_names[0])}</th><th>{html.escape(col_names[1])}</th>{head}</tr>{rows}</table>
{"".join(f'<h2>{html.escape(labels()[c])}</h2><img src="{png.name}" alt="{html.escape(labels()[c])}">' for c, png in charts)}
</body></html>"""
    html_path = out_dir / f"{session.code}.html"
    html_path.write_text(page, encoding="utf-8")
    files["html"] = html_path
    return files


def run_report(args) -> int:
    """`coach report SESSION --trainer SENDER [--out DIR]`."""
    import sys

    from bot.roleplay import list_scenarios
    from bot.storage.groups import GroupRepository

    settings = load_settings()
    repo = GroupRepository(settings.database_url)
    code = normalize_code(args.session)
    results = repo.results(args.trainer, code)
    if results is None:
        print(text("groups", "cli_not_yours", code=code, trainer=args.trainer), file=sys.stderr)
        return 2
    session = repo.find_session(code)
    title = next(
        (s["title"] for s in list_scenarios() if s["id"] == session.scenario_id),
        session.scenario_id,
    )
    out = Path(args.out) if args.out else settings.var_dir / "reports" / code
    files = write_report(session, title, results, out)
    print(text("groups", "cli_written"))
    for path in files.values():
        print(f"  {path}")
    return 0
