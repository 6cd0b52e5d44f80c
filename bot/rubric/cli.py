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

EXIT_OK = 0
EXIT_USAGE = 2


def _import_spacy_quietly() -> None:
    from bot.nlp import import_spacy

    import_spacy()


def _bar(value: float, texts: dict, width: int = 10) -> str:
    filled = int(round(value * width))
    return texts["report"]["bar_full"] * filled + texts["report"]["bar_empty"] * (width - filled)


def format_report(assessment: Any) -> str:
    from bot.rubric.engine import CRITERIA, texts

    t = texts()
    labels = t["labels"]
    width = max(len(labels[c]) for c in CRITERIA)
    title = t["report"]["title_backlash" if assessment.under_backlash else "title"]
    lines = [title, "=" * len(title)]
    for c in CRITERIA:
        score = assessment.scores[c]
        line = f"  {labels[c]:<{width}}  {_bar(score, t)}  {score:.2f}"
        items = assessment.evidence.get(c) or []
        if items:
            quoted = ", ".join(f"„{x}“" for x in items[:4])
            line += "   " + t["report"]["evidence"].format(items=quoted)
        lines.append(line)
    lines.append("")
    lines.append(t["report"]["overall"].format(overall=assessment.overall))
    lines.append("")
    lines.append(t["report"]["tips"])
    for tip in assessment.tips:
        lines.append(f"  • {tip}")
    return "\n".join(lines)


def run_assess(args) -> int:
    """Entry point of ``coach assess`` (``args.json``: bool, ``args.text``: list of str)."""
    text = " ".join(args.text or []).strip()
    from bot.rubric.engine import RubricInputError, texts

    if not text:
        print(texts()["messages"]["empty"], file=sys.stderr)
        return EXIT_USAGE
    _import_spacy_quietly()
    from bot.rubric.engine import load_cli_engine, rules

    try:
        assessment = load_cli_engine().assess(
            text, under_backlash=bool(getattr(args, "backlash", False))
        )
    except RubricInputError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    if assessment.truncated:
        print(
            texts()["messages"]["truncated"].format(chars=rules()["limits"]["max_chars"]),
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
