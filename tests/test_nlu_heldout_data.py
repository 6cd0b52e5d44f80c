"""The realistic held-out NLU sets (tests/data/nlu_heldout*.yml) and their metrics (no model).

``nlu_heldout.yml`` is the first set; ``nlu_heldout_v2`` … ``v8`` were written later by writers
who had seen neither the training data nor the earlier sets (docs/nlu.md: which set was
measured once and which became a development set). v2–v5 weigh the cases (28 per case
intent); v6 and later have 20 per case intent and four messages for each of 14 other intents,
so that the intent macro-F1 is not decided by intents with one or two messages.
"""

from __future__ import annotations

import collections
import re
from pathlib import Path

import pytest
import yaml

from devtools import nlu_heldout as nh

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "nlu_heldout.yml"
LATER_SETS = sorted((ROOT / "tests" / "data").glob("nlu_heldout_v*.yml"))
#: sets written with 20 messages per case intent and four per other intent
BALANCED = {"nlu_heldout_v6", "nlu_heldout_v7", "nlu_heldout_v8"}
#: a message this short may coincide with a training line although written blind ("hey",
#: "moin moin", "vorfall loggen"): generic chat, not a copy
GENERIC_WORDS = 3

# the intents of ../shared/CONTRACT.md besides the four cases that the set has to cover
OTHER_INTENTS = (
    "report_stress ask_end_relationship ask_how_to_terminate ask_legal ask_after_termination "
    "start_roleplay set_boundary show_boundaries log_incident show_history export_my_data "
    "delete_my_data greet goodbye thank help bot_challenge out_of_scope affirm deny"
).split()


@pytest.fixture(scope="module", params=[DATA, *LATER_SETS], ids=lambda path: path.stem)
def entries(request):
    return nh.load_entries(request.param, nh.allowed_intents())


@pytest.fixture(scope="module")
def first_set():
    return nh.load_entries(DATA, nh.allowed_intents())


# ------------------------------------------------------------------------ the data file


def test_labels_come_from_the_domain_plus_report_danger():
    allowed = set(nh.allowed_intents())
    assert set(nh.domain_intents()) <= allowed
    assert allowed - set(nh.domain_intents()) <= {"report_danger"}
    assert set(nh.CASE_OF_INTENT) <= allowed


def test_counts(first_set):
    entries = first_set
    counts = collections.Counter(e.intent for e in entries)
    assert len(entries) >= 140
    assert sum(e.long for e in entries) >= 45
    for intent in nh.CASE_OF_INTENT:
        assert counts[intent] >= 24, intent
    assert counts["report_danger"] >= 20
    for intent in OTHER_INTENTS:
        assert counts[intent] >= 3, intent


@pytest.mark.parametrize("path", LATER_SETS, ids=lambda path: path.stem)
def test_counts_of_the_later_sets(path):
    entries = nh.load_entries(path, nh.allowed_intents())
    counts = collections.Counter(e.intent for e in entries)
    assert len(entries) >= 150
    assert sum(e.long for e in entries) >= 50
    if path.stem in BALANCED:
        for intent in nh.CASE_OF_INTENT:
            assert counts[intent] >= 20, intent
        assert counts["report_danger"] >= 20
        others = [i for i in counts if i not in nh.CASE_OF_INTENT and i != "report_danger"]
        assert len(others) >= 14 and all(counts[i] >= 4 for i in others)
        return
    for intent in nh.CASE_OF_INTENT:
        assert counts[intent] >= 28, intent
    assert counts["report_danger"] >= 24


def test_every_entry_is_well_formed(entries):
    for e in entries:
        if e.intent in nh.CASE_OF_INTENT:
            assert e.case == nh.CASE_OF_INTENT[e.intent], e.index
        else:
            assert e.case is None, e.index
        assert e.long == nh.is_long(e.text), f"entry {e.index}: long flag vs. 3 sentences/200 chars"
        if e.client:
            assert e.client.lower() in e.text.lower(), e.index


def test_no_duplicates_and_typed_like_chat(entries):
    texts = [nh.normalise(e.text) for e in entries]
    assert len(texts) == len(set(texts))
    for e in entries:
        assert not re.search("[äöüÄÖÜß]", e.text), f"entry {e.index}: umlaut or ß"
    # long cases should be spread over the case intents, not all in one
    long_cases = collections.Counter(e.intent for e in entries if e.long and e.case)
    assert all(long_cases[i] >= 5 for i in nh.CASE_OF_INTENT), long_cases


def test_pressure_threats_are_abuse_not_danger(first_set):
    entries = first_set
    threats = [e for e in entries if e.intent == "report_abuse" and "droh" in e.text.lower()]
    assert len(threats) >= 5


def test_no_message_is_in_the_training_data(entries):
    """The set is held out: none of its messages may be copied into data/nlu/."""
    nlu_dir = ROOT / "data" / "nlu"
    if not nlu_dir.is_dir():
        pytest.skip("no data/nlu")
    entity = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
    trained = set()
    for path in nlu_dir.glob("*.yml"):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            for line in str(item.get("examples", "")).splitlines():
                if line.strip().startswith("- "):
                    trained.add(nh.normalise(entity.sub(r"\1", line.strip()[2:])))
    leaked = [
        e.index
        for e in entries
        if nh.normalise(e.text) in trained and len(e.text.split()) > GENERIC_WORDS
    ]
    assert not leaked, f"held-out entries found in data/nlu/: {leaked}"


# ------------------------------------------------------------------------ malformed files


def _write(tmp_path, messages) -> Path:
    path = tmp_path / "heldout.yml"
    path.write_text(yaml.safe_dump({"messages": messages}, allow_unicode=True), encoding="utf-8")
    return path


OK = {"text": "hallo", "intent": "greet", "long": False}


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"text": "x y", "intent": "no_such_intent", "long": False}, "no_such_intent"),
        ({"text": "er luegt", "intent": "report_false_claims", "long": False}, "needs case"),
        (
            {"text": "er luegt", "intent": "report_false_claims", "case": "abusive", "long": False},
            "needs case",
        ),
        ({"text": "hi du", "intent": "greet", "case": "abusive", "long": False}, "only for"),
        ({"text": "hi du", "intent": "greet"}, "'long'"),
        ({"text": "", "intent": "greet", "long": False}, "'text'"),
        ({"text": "hi du", "intent": "greet", "long": False, "labels": 1}, "unknown field"),
        ({"text": "hi du", "intent": "greet", "long": False, "client": "Meier"}, "Meier"),
        ({"text": "HALLO ", "intent": "greet", "long": False}, "duplicate of entry 1"),
    ],
)
def test_malformed_entries_are_named(tmp_path, bad, message):
    path = _write(tmp_path, [OK, bad])
    with pytest.raises(nh.DataError) as err:
        nh.load_entries(path, nh.allowed_intents())
    assert "entry 2" in str(err.value)
    assert message in str(err.value)


def test_malformed_file(tmp_path):
    path = tmp_path / "heldout.yml"
    path.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(nh.DataError, match="'messages'"):
        nh.load_entries(path, nh.allowed_intents())
    path.write_text("messages: [\n", encoding="utf-8")
    with pytest.raises(nh.DataError, match="YAML"):
        nh.load_entries(path, nh.allowed_intents())


def test_main_reports_malformed_data_without_loading_a_model(tmp_path, monkeypatch, capsys):
    def no_model(*args, **kwargs):
        raise AssertionError("the model must not be loaded for a malformed file")

    monkeypatch.setattr(nh, "predict", no_model)
    path = _write(tmp_path, [OK, {"text": "x", "intent": "nope", "long": False}])
    assert nh.main(["--data", str(path), "--model", "unused.tar.gz"]) == 2
    assert "entry 2" in capsys.readouterr().err


# ------------------------------------------------------------------------------- metrics


def _entry(i, intent, long=False, client=None):
    return nh.Entry(i, f"text {i}", intent, long, nh.CASE_OF_INTENT.get(intent), client)


def test_metrics_on_a_tiny_fake_run():
    entries = [
        _entry(1, "report_own_fault", client="Firma Brandt"),
        _entry(2, "report_abuse", long=True),
        _entry(3, "report_danger", long=True),
        _entry(4, "greet"),
        _entry(5, "report_danger"),
        _entry(6, "greet"),
    ]
    predictions = [
        nh.Prediction("report_own_fault", 0.9, clients=["firma brandt"]),
        nh.Prediction("report_false_claims", 0.8),
        nh.Prediction("report_abuse", 0.7),
        nh.Prediction("greet", 0.95),
        nh.Prediction("report_danger", 0.6),
        nh.Prediction("greet", 0.2, fallback=True),
    ]
    known = ["report_own_fault", "report_abuse", "report_false_claims", "greet"]
    r = nh.compute_metrics(entries, predictions, known)

    assert r["overall"]["n"] == 6
    assert r["overall"]["accuracy"] == pytest.approx(4 / 6)
    # F1 per gold label: own 1, abuse 0, danger 2/3 (P 1, R 1/2), greet 1
    assert r["overall"]["macro_f1"] == pytest.approx((1 + 0 + 2 / 3 + 1) / 4)
    assert r["per_intent"]["report_danger"]["recall"] == pytest.approx(0.5)
    assert r["per_intent"]["report_false_claims"]["in_gold"] is False
    assert r["long"] == {"n": 2, "accuracy": 0.0, "macro_f1": 0.0}

    assert r["intents_unknown_to_model"] == ["report_danger"]
    assert r["known_intents"]["accuracy"] == pytest.approx(3 / 4)
    assert r["known_intents"]["macro_f1"] == pytest.approx(2 / 3)

    assert r["fallbacks"] == 1 and r["fallbacks_wrong"] == 0
    assert r["accuracy_as_served"] == pytest.approx(3 / 6)

    assert r["case"]["n"] == 4
    assert r["case"]["right_rate"] == pytest.approx(2 / 4)
    assert r["case"]["right_rate_four_cases"] == pytest.approx(1 / 2)
    assert r["case"]["per_case"]["danger"] == {"n": 2, "right": 1}
    assert r["case"]["danger_predicted_as"] == {"report_abuse": 1, "report_danger": 1}
    assert r["client"] == {"n": 1, "found": 1}

    assert [row["index"] for row in r["misclassified"]] == [2, 3]
    assert r["confusions"][0]["count"] == 1

    report = nh.format_report(r)
    assert "intent macro-F1 0.667" in report
    assert "#2   report_abuse -> report_false_claims (0.80)" in report


def test_prediction_skips_the_fallback_intent():
    parsed = {
        "intent": {"name": "nlu_fallback", "confidence": 0.3},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.3},
            {"name": "report_abuse", "confidence": 0.22},
            {"name": "report_stress", "confidence": 0.2},
        ],
        "entities": [{"entity": "client", "value": "Meier"}, {"entity": "behavior", "value": "x"}],
    }
    p = nh.prediction_from_parse(parsed)
    assert (p.intent, p.confidence, p.fallback, p.clients) == (
        "report_abuse",
        0.22,
        True,
        ["Meier"],
    )
    plain = nh.prediction_from_parse({"intent": {"name": "greet", "confidence": 0.9}})
    assert (plain.intent, plain.fallback, plain.clients) == ("greet", False, [])


def test_long_rule():
    assert not nh.is_long("hallo. wie gehts?")
    assert nh.is_long("eins. zwei. drei")
    assert nh.is_long("x" * 200)
    assert not nh.is_long("der kunde... naja... egal")  # one sentence with fillers
