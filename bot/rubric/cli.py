"""`coach assess [--json] TEXT…` – rate one utterance from the command line.

spaCy's thinc probes for TensorFlow on import; TensorFlow is installed (Rasa needs it) and
takes seconds to import and logs to stderr. The rubric needs none of it, so while spaCy is
imported here the TensorFlow import is blocked; the block is lifted afterwards, so code in
the same process (e.g. a test session) can still import TensorFlow itself.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from bot.texts import text

EXIT_OK = 0
EXIT_USAGE = 2


def _import_spacy_quietly() -> None:
    from bot.nlp import import_spacy

    import_spacy()


def _bar(value: float, width: int = 10) -> str:
    filled = int(round(value * width))
    full, empty = text("rubric", "report.bar_full"), text("rubric", "report.bar_empty")
    return full * filled + empty * (width - filled)


def format_report(assessment: Any) -> str:
    """The plain-text report of ``coach assess``: a bar per criterion, overall score, tips."""
    from bot.rubric.engine import CRITERIA

    labels = {c: text("rubric", f"labels.{c}") for c in CRITERIA}
    width = max(len(labels[c]) for c in CRITERIA)
    title = text("rubric", "report.title_backlash" if assessment.under_backlash else "report.title")
    lines = [title, "=" * len(title)]
    for c in CRITERIA:
        score = assessment.scores[c]
        line = f"  {labels[c]:<{width}}  {_bar(score)}  {score:.2f}"
        items = assessment.evidence.get(c) or []
        if items:
            quoted = ", ".join(f"„{x}“" for x in items[:4])
            line += "   " + text("rubric", "report.evidence", items=quoted)
        lines.append(line)
    lines.append("")
    lines.append(text("rubric", "report.overall", overall=assessment.overall))
    lines.append("")
    lines.append(text("rubric", "report.tips"))
    for tip in assessment.tips:
        lines.append(f"  • {tip}")
    return "\n".join(lines)


def run_assess(args) -> int:
    """Entry point of ``coach assess`` (``args.json``: bool, ``args.text``: list of str)."""
    utterance = " ".join(args.text or []).strip()
    from bot.rubric.engine import RubricInputError

    if not utterance:
        print(text("rubric", "messages.empty"), file=sys.stderr)
        return EXIT_USAGE
    _import_spacy_quietly()
    from bot.rubric.engine import load_cli_engine, rules

    try:
        assessment = load_cli_engine().assess(
            utterance, under_backlash=bool(getattr(args, "backlash", False))
        )
    except RubricInputError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    if assessment.truncated:
        print(
            text("rubric", "messages.truncated", chars=rules()["limits"]["max_chars"]),
            file=sys.stderr,
        )
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(assessment.to_json_dict(), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(format_report(assessment) + "\n")
    sys.stdout.flush()
    return EXIT_OK


if __name__ == "__main__":  # maintenance: python -m bot.rubric.cli --write-lemma-cache
    if "--write-lemma-cache" in sys.argv[1:]:
        _import_spacy_quietly()
        from bot.rubric.engine import write_lemma_cache

        print(write_lemma_cache())
        sys.exit(EXIT_OK)
    print("python -m bot.rubric.cli --write-lemma-cache", file=sys.stderr)
    sys.exit(EXIT_USAGE)
