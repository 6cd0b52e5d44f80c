"""Measure a trained model on the realistic held-out set (chat-style messages as staff type them).

    .venv/bin/python -m devtools.nlu_heldout [--model PATH] [--data tests/data/nlu_heldout.yml]
                                             [--json]

Loads the Rasa model in-process (``Agent.load``), parses every message of the held-out set
(``tests/data/nlu_heldout.yml``: messages as staff type them in Slack/Teams, written
independently of ``data/nlu/``) and prints intent accuracy and macro-F1 (overall and for the
long messages), a per-intent precision/recall/F1 table, the right-case rate for the case
messages and the misclassified messages.

The predicted intent is the classifier's top intent. When the ``FallbackClassifier`` would
have replaced it (confidence under its threshold), the message is counted as a fallback, and
"accuracy as served" counts those as misses too. Intents in the set that the model does not
know (e.g. ``report_danger`` before it is trained) are misses; the figures "on known intents"
leave those messages out.

The exit code is 0 whatever the figures (this reports, it does not gate); it is 2 only when
the data file is malformed, with a message naming the entry.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT / "tests" / "data" / "nlu_heldout.yml"
DOMAIN = ROOT / "domain.yml"

CASE_OF_INTENT = {
    "report_own_fault": "our_fault",
    "report_extra_requests": "extra_requests",
    "report_false_claims": "false_claims",
    "report_abuse": "abusive",
}
DANGER = "report_danger"
# intents the held-out set may use beyond domain.yml (not trained yet when the set was written)
EXTRA_INTENTS = (DANGER,)
FALLBACK = "nlu_fallback"
_FIELDS = {"text", "intent", "case", "long", "client", "note"}
# a sentence ends with . ! or ? before a space or the end; an ellipsis ("...") does not end one
_SENTENCE_END = re.compile(r"(?:[!?]+|(?<!\.)\.(?!\.))[.!?]*(?:\s+|$)")


class DataError(ValueError):
    """The held-out data file is malformed (the message names the entry)."""


@dataclass
class Entry:
    index: int  # 1-based position in the file
    text: str
    intent: str
    long: bool
    case: Optional[str] = None
    client: Optional[str] = None
    note: Optional[str] = None


@dataclass
class Prediction:
    intent: str  # the classifier's top intent (before the fallback replaces it)
    confidence: float
    fallback: bool = False  # the FallbackClassifier would have answered nlu_fallback
    clients: List[str] = field(default_factory=list)  # values of extracted `client` entities


# ----------------------------------------------------------------------------------- data


def domain_intents(domain_path: Path = DOMAIN) -> List[str]:
    domain = yaml.safe_load(domain_path.read_text(encoding="utf-8")) or {}
    names = []
    for item in domain.get("intents") or []:
        names.append(next(iter(item)) if isinstance(item, dict) else str(item))
    return names


def allowed_intents(domain_path: Path = DOMAIN) -> List[str]:
    return domain_intents(domain_path) + [
        i for i in EXTRA_INTENTS if i not in domain_intents(domain_path)
    ]


def sentence_count(text: str) -> int:
    return len([part for part in _SENTENCE_END.split(text.strip()) if re.search(r"\w", part)])


def is_long(text: str) -> bool:
    """The set's definition of a long message: 3+ sentences or 200+ characters."""
    return len(text) >= 200 or sentence_count(text) >= 3


def normalise(text: str) -> str:
    return " ".join(text.lower().split())


def load_entries(path: Path, intents: Iterable[str]) -> List[Entry]:
    """Read and validate the data file; raise DataError naming the first bad entry."""
    known = set(intents)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc})") from exc
    except yaml.YAMLError as exc:
        raise DataError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise DataError(f"{path}: expected a mapping with a list under 'messages'")

    entries: List[Entry] = []
    seen: Dict[str, int] = {}
    for number, item in enumerate(data["messages"], start=1):
        where = f"{path}: entry {number}"
        if not isinstance(item, dict):
            raise DataError(f"{where}: expected a mapping, got {item!r}")
        text = item.get("text")
        if isinstance(text, str):
            where += f" ({text[:60]!r})"
        unknown = set(item) - _FIELDS
        if unknown:
            raise DataError(f"{where}: unknown field(s) {sorted(unknown)}")
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{where}: 'text' must be a non-empty string")
        intent = item.get("intent")
        if intent not in known:
            raise DataError(f"{where}: intent {intent!r} is not in domain.yml nor {EXTRA_INTENTS}")
        if not isinstance(item.get("long"), bool):
            raise DataError(f"{where}: 'long' must be true or false")
        case = item.get("case")
        if intent in CASE_OF_INTENT:
            if case != CASE_OF_INTENT[intent]:
                raise DataError(
                    f"{where}: intent {intent} needs case: {CASE_OF_INTENT[intent]} (got {case!r})"
                )
        elif case is not None:
            raise DataError(f"{where}: 'case' is only for the four case intents (got {case!r})")
        for key in ("client", "note"):
            if key in item and not (isinstance(item[key], str) and item[key].strip()):
                raise DataError(f"{where}: '{key}' must be a non-empty string")
        client = item.get("client")
        if client is not None and client.lower() not in text.lower():
            raise DataError(f"{where}: client {client!r} does not appear in the text")
        key = normalise(text)
        if key in seen:
            raise DataError(f"{where}: duplicate of entry {seen[key]}")
        seen[key] = number
        entries.append(Entry(number, text, intent, item["long"], case, client, item.get("note")))
    if not entries:
        raise DataError(f"{path}: no messages")
    return entries


# -------------------------------------------------------------------------------- metrics


def _prf(gold: Sequence[str], pred: Sequence[str], label: str) -> Dict[str, float]:
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p == label)
    n_gold = sum(1 for g in gold if g == label)
    n_pred = sum(1 for p in pred if p == label)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": n_gold}


def _summary(gold: Sequence[str], pred: Sequence[str]) -> Dict[str, Any]:
    """Accuracy and macro-F1 over the labels that occur in `gold`."""
    if not gold:
        return {"n": 0, "accuracy": None, "macro_f1": None}
    labels = sorted(set(gold))
    f1s = [_prf(gold, pred, label)["f1"] for label in labels]
    return {
        "n": len(gold),
        "accuracy": sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold),
        "macro_f1": sum(f1s) / len(f1s),
    }


def _case_right(entry: Entry, predicted: str) -> bool:
    if entry.intent == DANGER:
        return predicted == DANGER
    return CASE_OF_INTENT.get(predicted) == entry.case


def _client_found(expected: str, found: Sequence[str]) -> bool:
    want = normalise(expected)
    return any(want in normalise(v) or normalise(v) in want for v in found if v.strip())


def compute_metrics(
    entries: Sequence[Entry],
    predictions: Sequence[Prediction],
    known_intents: Optional[Iterable[str]] = None,
) -> Dict[str, Any]:
    """All figures of the report, from gold entries and predictions (same order)."""
    if len(entries) != len(predictions):
        raise ValueError("entries and predictions differ in length")
    gold = [e.intent for e in entries]
    pred = [p.intent for p in predictions]
    served = [FALLBACK if p.fallback else p.intent for p in predictions]
    long_idx = [i for i, e in enumerate(entries) if e.long]

    result: Dict[str, Any] = {
        "overall": _summary(gold, pred),
        "long": _summary([gold[i] for i in long_idx], [pred[i] for i in long_idx]),
        "short": _summary(
            [g for g, e in zip(gold, entries, strict=True) if not e.long],
            [p for p, e in zip(pred, entries, strict=True) if not e.long],
        ),
        "accuracy_as_served": sum(g == s for g, s in zip(gold, served, strict=True)) / len(gold),
        "fallbacks": sum(p.fallback for p in predictions),
        "fallbacks_wrong": sum(
            p.fallback and g != p.intent for g, p in zip(gold, predictions, strict=True)
        ),
    }

    unknown: List[str] = []
    if known_intents is not None:
        known = set(known_intents)
        unknown = sorted({g for g in gold if g not in known})
        keep = [i for i, g in enumerate(gold) if g in known]
        result["known_intents"] = _summary([gold[i] for i in keep], [pred[i] for i in keep])
        result["known_intents"]["long"] = _summary(
            [gold[i] for i in keep if entries[i].long], [pred[i] for i in keep if entries[i].long]
        )
    result["intents_unknown_to_model"] = unknown

    labels = sorted(set(gold) | set(pred))
    result["per_intent"] = {
        label: {**_prf(gold, pred, label), "in_gold": label in set(gold)} for label in labels
    }

    # right case: the predicted intent leads to the labelled case (danger: report_danger)
    groups: Dict[str, List[bool]] = collections.defaultdict(list)
    for entry, p in zip(entries, pred, strict=True):
        if entry.case or entry.intent == DANGER:
            groups[entry.case or "danger"].append(_case_right(entry, p))
    four = [ok for name, oks in groups.items() if name != "danger" for ok in oks]
    every = [ok for oks in groups.values() for ok in oks]
    danger_pred = [p for e, p in zip(entries, pred, strict=True) if e.intent == DANGER]
    result["case"] = {
        "right_rate": sum(every) / len(every) if every else None,
        "n": len(every),
        "right_rate_four_cases": sum(four) / len(four) if four else None,
        "per_case": {
            name: {"n": len(oks), "right": sum(oks)} for name, oks in sorted(groups.items())
        },
        "danger_predicted_as": dict(collections.Counter(danger_pred).most_common()),
    }

    with_client = [(e, p) for e, p in zip(entries, predictions, strict=True) if e.client]
    result["client"] = {
        "n": len(with_client),
        "found": sum(_client_found(e.client, p.clients) for e, p in with_client),
    }

    confusions = collections.Counter((g, p) for g, p in zip(gold, pred, strict=True) if g != p)
    result["confusions"] = [
        {"expected": g, "predicted": p, "count": n} for (g, p), n in confusions.most_common()
    ]
    errors = [
        {
            "index": e.index,
            "text": e.text,
            "expected": e.intent,
            "predicted": p.intent,
            "confidence": round(p.confidence, 3),
            "fallback": p.fallback,
            "long": e.long,
        }
        for e, p in zip(entries, predictions, strict=True)
        if e.intent != p.intent
    ]
    result["misclassified"] = sorted(errors, key=lambda row: -row["confidence"])
    return result


# ------------------------------------------------------------------------------- the model


def default_model() -> Path:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit("no model in models/ – train one or pass --model PATH")
    return models[-1]


def prediction_from_parse(parsed: Dict[str, Any]) -> Prediction:
    """The classifier's top intent from Rasa's parse result (skipping nlu_fallback)."""
    top = parsed.get("intent") or {}
    fallback = top.get("name") == FALLBACK
    intent, confidence = top.get("name") or "", float(top.get("confidence") or 0.0)
    if fallback:
        ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != FALLBACK]
        if ranking:
            intent, confidence = ranking[0]["name"], float(ranking[0].get("confidence") or 0.0)
    clients = [
        str(ent.get("value"))
        for ent in parsed.get("entities") or []
        if ent.get("entity") == "client" and ent.get("value") is not None
    ]
    return Prediction(intent, confidence, fallback, clients)


async def _parse_all(model: Path, texts: Sequence[str]) -> tuple[List[Prediction], List[str]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    known = list(agent.domain.intents) if agent.domain else []
    predictions = [prediction_from_parse(await agent.parse_message(text)) for text in texts]
    return predictions, known


def predict(model: Path, texts: Sequence[str]) -> tuple[List[Prediction], List[str]]:
    import structlog

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # in-process, Rasa's structlog prints every parse to stdout; keep stdout for the report
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    logging.disable(logging.WARNING)
    try:
        return asyncio.run(_parse_all(model, texts))
    finally:
        logging.disable(logging.NOTSET)


# ------------------------------------------------------------------------------- printing


def _pct(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def format_report(result: Dict[str, Any], model: str = "", data: str = "") -> str:
    out: List[str] = []
    if model or data:
        out.append(f"model: {model}    data: {data}")
    o, lg, sh = result["overall"], result["long"], result["short"]
    out.append(
        f"intent macro-F1 {_pct(o['macro_f1'])}   accuracy {_pct(o['accuracy'])}   (n={o['n']})"
    )
    for name, row in (("long messages: ", lg), ("short messages:", sh)):
        out.append(
            f"  {name} macro-F1 {_pct(row['macro_f1'])}   accuracy {_pct(row['accuracy'])}"
            f"   (n={row['n']})"
        )
    if "known_intents" in result:
        k = result["known_intents"]
        missing = ", ".join(result["intents_unknown_to_model"]) or "none"
        out.append(
            f"  on intents the model knows (without {missing}): macro-F1 {_pct(k['macro_f1'])}"
            f"   accuracy {_pct(k['accuracy'])}   (n={k['n']}; long: accuracy"
            f" {_pct(k['long']['accuracy'])}, n={k['long']['n']})"
        )
    out.append(
        f"  fallbacks (confidence under the threshold): {result['fallbacks']}"
        f" ({result['fallbacks_wrong']} of them wrong anyway);"
        f" accuracy as served {_pct(result['accuracy_as_served'])}"
    )
    c = result["case"]
    out.append("")
    out.append(
        f"right case: {_pct(c['right_rate'])} of {c['n']} case + danger messages;"
        f" four cases only: {_pct(c['right_rate_four_cases'])}"
    )
    for name, row in c["per_case"].items():
        out.append(f"  {name:<15} {row['right']:>3}/{row['n']}")
    if c["danger_predicted_as"]:
        spread = ", ".join(f"{k} {v}" for k, v in c["danger_predicted_as"].items())
        out.append(f"  danger messages predicted as: {spread}")
    if result["client"]["n"]:
        out.append(
            f"client named and extracted: {result['client']['found']}/{result['client']['n']}"
        )

    out.append("")
    out.append(f"{'intent':<24}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}")
    for label, row in result["per_intent"].items():
        mark = "" if row["in_gold"] else "   (only predicted)"
        out.append(
            f"{label:<24}{row['precision']:>10.2f}{row['recall']:>8.2f}{row['f1']:>8.2f}"
            f"{row['support']:>9}{mark}"
        )
    if result["confusions"]:
        out.append("")
        out.append("most frequent confusions (expected -> predicted):")
        for row in result["confusions"][:12]:
            out.append(f"  {row['count']:>3}  {row['expected']} -> {row['predicted']}")
    out.append("")
    out.append(f"misclassified ({len(result['misclassified'])}), most confident first:")
    for row in result["misclassified"]:
        flag = " [fallback]" if row["fallback"] else ""
        out.append(
            f"  #{row['index']:<3} {row['expected']} -> {row['predicted']}"
            f" ({row['confidence']:.2f}){flag}: {row['text']}"
        )
    return "\n".join(out)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model archive (default: newest in models/)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    try:
        entries = load_entries(args.data, allowed_intents())
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    model = args.model or default_model()
    predictions, known = predict(model, [e.text for e in entries])
    result = compute_metrics(entries, predictions, known or None)
    if args.json:
        print(json.dumps({"model": str(model), "data": str(args.data), **result}, indent=2))
    else:
        print(format_report(result, str(model), str(args.data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
