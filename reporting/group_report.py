"""The files of a group-session report: a CSV, one bar chart (PNG) per criterion, an HTML page.

``coach report CODE --trainer SENDER [--out DIR]``: what the report says comes from
:func:`bot.groups.session_report`; this module only renders it. The charts are drawn on
matplotlib ``Figure`` objects (Agg canvas, no pyplot state), so no display is needed.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import sys
from pathlib import Path

from matplotlib.figure import Figure

from bot import groups
from bot.config import load_settings
from bot.storage.groups import GroupRepository

CHART_COLOR = "#2563eb"
STYLE = (
    "body{font-family:sans-serif;max-width:900px;margin:2em auto}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}"
)


def _percent(value: float | None, digits: int | None) -> str | float | int:
    return "" if value is None else round(value, digits)


def csv_text(report: groups.GroupReport) -> str:
    """One row per role-play: pseudonym, finish time, overall and each criterion (0–100).

    The file of `coach report` and the download of the trainer's dashboard.
    """
    criteria = list(report.labels)
    handle = io.StringIO()
    writer = csv.writer(handle)
    writer.writerow(["participant", "finished_at", "overall", *criteria])
    for row in report.rows:
        writer.writerow(
            [
                row.participant,
                row.finished_at.isoformat(timespec="seconds"),
                round(row.overall, 1),
                *(_percent(row.percents[c], 1) for c in criteria),
            ]
        )
    return handle.getvalue()


def write_csv(report: groups.GroupReport, path: Path) -> Path:
    """The report's CSV (:func:`csv_text`) as a file."""
    path.write_text(csv_text(report), encoding="utf-8", newline="")
    return path


def write_chart(report: groups.GroupReport, criterion: str, path: Path) -> Path:
    """A bar chart of every participant's score (0–100) on one criterion, as PNG."""
    values = report.chart(criterion)
    fig = Figure(figsize=(5, 2.6))
    ax = fig.subplots()
    ax.bar([name for name, _ in values], [score for _, score in values], color=CHART_COLOR)
    ax.set_ylim(0, 100)
    ax.set_title(report.labels[criterion])
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path


def render_html(report: groups.GroupReport, charts: dict[str, Path]) -> str:
    """The report page: texts, the results table and the charts (linked by file name)."""
    e = html.escape
    head = "".join(f"<th>{e(label)}</th>" for label in report.labels.values())
    rows = "".join(
        "<tr><td>{}</td><td>{}</td>{}</tr>".format(
            e(row.participant),
            round(row.overall),
            "".join(f"<td>{_percent(row.percents[c], None)}</td>" for c in report.labels),
        )
        for row in report.rows
    )
    images = "".join(
        f'<h2>{e(report.labels[c])}</h2><img src="{png.name}" alt="{e(report.labels[c])}">'
        for c, png in charts.items()
    )
    participant, overall = report.columns[:2]
    return (
        '<!doctype html><html lang="de"><head><meta charset="utf-8">'
        f"<title>{e(report.heading)}</title>\n<style>{STYLE}</style></head><body>\n"
        f"<h1>{e(report.heading)}</h1>\n"
        f"<p>{e(report.intro)}</p>\n"
        f"<p>{e(report.weakest)}</p>\n"
        f"<table><tr><th>{e(participant)}</th><th>{e(overall)}</th>{head}</tr>{rows}</table>\n"
        f"{images}\n"
        "</body></html>"
    )


def write_report(report: groups.GroupReport, out_dir: Path) -> dict[str, Path]:
    """Write the CSV, the charts and the HTML page into ``out_dir``.

    Returns:
        The files by kind: ``csv``, ``png_<criterion>`` for each criterion, ``html``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"csv": write_csv(report, out_dir / f"{report.code}.csv")}
    charts = {c: write_chart(report, c, out_dir / f"{report.code}_{c}.png") for c in report.labels}
    files.update({f"png_{c}": png for c, png in charts.items()})
    html_path = out_dir / f"{report.code}.html"
    html_path.write_text(render_html(report, charts), encoding="utf-8")
    files["html"] = html_path
    return files


def run_report(args: argparse.Namespace) -> int:
    """`coach report SESSION --trainer SENDER [--out DIR]`: 0 when written, 2 when refused."""
    settings = load_settings()
    report = groups.session_report(
        GroupRepository(settings.database_url), args.session, args.trainer
    )
    if report is None:
        print(groups.report_refused(args.session, args.trainer), file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else settings.var_dir / "reports" / report.code
    files = write_report(report, out)
    print(groups.report_written(files.values()))
    return 0
