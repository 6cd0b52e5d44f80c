"""Fast stand-in for the NLU cross-validation, for iterating on training data.

    .venv/bin/python -m devtools.nlu_proxy_cv [--folds 5] [--errors] [--thresholds]
                                              [--raw] [--no-safety]

Reads ``data/nlu/*.yml`` (entity markup stripped) and cross-validates the shipped
classifier's recipe in plain scikit-learn: word (1–2) + char_wb (2–5) n-gram counts and a
class-balanced logistic regression, like ``config.yml``'s CountVectorsFeaturizers and
``LogisticRegressionClassifier``. Like the shipped pipeline it featurises the text as
normalised by ``bot.normalize`` (the lemmas of ``NormalizingWhitespaceTokenizer``; ``--raw``:
the lower-cased text, as before) and applies the rule components in their order: the case
signals, distress, and ``bot.safety`` overriding the prediction with ``report_danger`` where
it finds danger (``--no-safety``: none of the rule components).
It takes well under a minute instead of several, so it is the tool for adding and fixing
examples; the figure of record is still
``devtools.nlu_cv`` (``rasa test nlu --cross-validation``), which the proxy tracks to within
about ±0.01.

``--errors`` lists every misclassified example as ``[true -> predicted] text``;
``--thresholds`` shows how many held-out examples each fallback threshold would send to
the "which case?" question.
"""

from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path
from typing import List, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
_ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def load_examples(nlu_dir: Path) -> Tuple[List[str], List[str]]:
    texts: List[str] = []
    intents: List[str] = []
    for path in sorted(nlu_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("nlu") or []:
            if "intent" not in item:
                continue
            for line in str(item.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    texts.append(_ENTITY.sub(r"\1", line[2:]).lower())
                    intents.append(item["intent"])
    return texts, intents


def _rule_intent(text: str, top: str) -> str:
    """The intent after the rule components of ``config.yml`` that run before the safety one.

    Case signals (``CaseSignalClassifier``), then distress (``DistressIntentClassifier``);
    the safety override is applied by the caller.
    """
    from connectors.nlu_components import STRESS_INTENT, distressed, signalled_intent

    top = signalled_intent(top, text) or top
    return STRESS_INTENT if distressed(text) else top


def main(argv: List[str] | None = None) -> int:
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import classification_report, f1_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline, make_union

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nlu", type=Path, default=ROOT / "data" / "nlu")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--errors", action="store_true", help="list misclassified examples")
    parser.add_argument("--thresholds", action="store_true", help="fallback rate per threshold")
    parser.add_argument("--raw", action="store_true", help="lower-cased, not normalised text")
    parser.add_argument("--no-safety", action="store_true", help="no report_danger override")
    args = parser.parse_args(argv)

    from bot.normalize import normalize
    from bot.safety import detect

    texts, intents = load_examples(args.nlu)
    X = np.array(texts if args.raw else [normalize(t) for t in texts])
    y = np.array(intents)
    print(
        f"features: {'lower-cased' if args.raw else 'normalised'} text; "
        f"safety override: {'off' if args.no_safety else 'on'}"
    )
    print(f"{len(X)} examples, {len(set(intents))} intents")
    features = make_union(
        CountVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b"),
        CountVectorizer(analyzer="char_wb", ngram_range=(2, 5)),
    )
    model = make_pipeline(features, LogisticRegression(max_iter=300, class_weight="balanced"))
    folds = StratifiedKFold(args.folds, shuffle=True, random_state=0)
    proba = cross_val_predict(model, X, y, cv=folds, method="predict_proba")
    classes = np.array(sorted(set(intents)))
    pred = classes[proba.argmax(1)]
    if not args.no_safety:
        pred = np.array([_rule_intent(t, p) for t, p in zip(texts, pred, strict=True)])
    if not args.no_safety and "report_danger" in classes:
        danger = np.array([detect(t) is not None for t in texts])
        pred = np.where(danger, "report_danger", pred)
        proba = np.where(danger[:, None], (classes == "report_danger").astype(float), proba)
        print(f"safety override: {int(danger.sum())} examples set to report_danger")
    print(f"intent macro F1 (proxy): {f1_score(y, pred, average='macro'):.4f}")

    report = classification_report(y, pred, output_dict=True, zero_division=0)
    weak = sorted(
        (row["f1-score"], name)
        for name, row in report.items()
        if name in classes and row["f1-score"] < 0.93
    )
    for score, name in weak:
        print(f"  {name:28s} F1 {score:.3f}  n={int(report[name]['support'])}")
    confusions = collections.Counter((a, b) for a, b in zip(y, pred, strict=True) if a != b)
    print("most frequent confusions (true -> predicted):")
    for (a, b), n in confusions.most_common(15):
        print(f"  {n:3d}  {a} -> {b}")
    if args.thresholds:
        top = proba.max(1)
        for t in (0.2, 0.3, 0.4, 0.5):
            print(
                f"  threshold {t}: {int((top < t).sum())} of {len(X)} held-out examples fall back"
            )
    if args.errors:
        for text, true, guess in sorted(
            zip(texts, y, pred, strict=True), key=lambda r: (r[1], r[2])
        ):
            if true != guess:
                print(f"  [{true} -> {guess}] {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
