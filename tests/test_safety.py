"""bot/safety.py: the danger detector on its regression set (tests/data/safety_messages.yml).

Every message of the set must be classified right (100 %); a new wording that slips through
or a new false alarm is added to the set first and then fixed in bot/safety.yml.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot import safety
from bot.safety import KINDS, Danger, detect, hint, load_rules

DATA = yaml.safe_load(
    (Path(__file__).parent / "data" / "safety_messages.yml").read_text(encoding="utf-8")
)
DANGER = [(entry["text"], entry["kind"]) for entry in DATA["danger"]]
NO_DANGER = list(DATA["no_danger"])


def test_the_set_is_big_and_covers_every_kind() -> None:
    assert len(DANGER) >= 40
    assert len(NO_DANGER) >= 60
    assert {kind for _, kind in DANGER} == set(KINDS)
    texts = [text for text, _ in DANGER] + NO_DANGER
    assert len(texts) == len(set(texts)), "a message is listed twice"


@pytest.mark.parametrize("text, kind", DANGER, ids=[t[:60] for t, _ in DANGER])
def test_danger_is_recognised(text: str, kind: str) -> None:
    found = detect(text)
    assert found is not None, f"no danger found in {text!r}"
    assert found.kind == kind, f"{text!r}: {found.kind} ({found.rule}: {found.phrase!r})"


@pytest.mark.parametrize("text", NO_DANGER, ids=[t[:60] for t in NO_DANGER])
def test_no_false_alarm(text: str) -> None:
    found = detect(text)
    assert found is None, f"{text!r}: {found.kind} ({found.rule}: {found.phrase!r})"


@pytest.mark.parametrize("text, kind", DANGER[:30])
def test_the_phrase_is_the_original_spelling_at_its_offsets(text: str, kind: str) -> None:
    found = detect(text)
    assert isinstance(found, Danger)
    assert text[found.start : found.end] == found.phrase
    assert found.phrase.strip() == found.phrase and found.phrase


def test_phrase_offsets_survive_umlauts_sharp_s_and_stretched_letters() -> None:
    text = "Hallo!!  Gestern hat  mich der Kunde GESCHUUUBST, ich weiß nicht weiter"
    found = detect(text)
    assert found is not None and found.kind == "violence"
    assert found.phrase == "hat  mich der Kunde GESCHUUUBST"
    assert text[found.start : found.end] == found.phrase


def test_spelling_variants_give_the_same_answer() -> None:
    variants = [
        "Er hat mich gewürgt",
        "er hat mich gewuergt",
        "ER HAT MICH GEWÜRGT!!!",
        "er hat mich gewurgt",
        "er hat mich gewüüürgt",
    ]
    assert {getattr(detect(v), "kind", None) for v in variants} == {"violence"}


@pytest.mark.parametrize("text", ["", "   ", None, "ok", "👍", "?!"])
def test_empty_and_trivial_messages(text) -> None:
    assert detect(text) is None


def test_long_messages_are_cut_not_slow() -> None:
    text = ("Der Kunde hat sich wieder über die Rechnung beschwert. " * 200).strip()
    assert detect(text) is None
    assert detect(text[: safety.MAX_TEXT - 40] + " Er hat mich geschlagen.") is not None


def test_rules_file_is_valid_and_every_rule_is_used_by_the_set() -> None:
    rules = load_rules()
    assert {rule.kind for rule in rules.rules} == set(KINDS)
    used = {detect(text).rule for text, _ in DANGER}
    unused = {rule.id for rule in rules.rules} - used
    assert not unused, f"rules without an example in the regression set: {sorted(unused)}"


def test_broken_rules_are_reported(tmp_path: Path) -> None:
    base = "negation: {negators: 'x'}\nboundaries: {clause: ',', contrast: 'y', sentence: '[.]'}\n"
    cases = {
        "rules: [{id: a, kind: weather, patterns: [x]}]": "kind",
        "rules: [{id: a, kind: threat, patterns: ['{nope}']}]": "unknown macro",
        "rules: [{id: a, kind: threat, patterns: ['(']}]": "rule a",
        "rules: [{id: a, kind: threat, patterns: [x]}, {id: a, kind: threat, patterns: [y]}]": (
            "twice"
        ),
    }
    for number, (rules, message) in enumerate(cases.items()):
        path = tmp_path / f"rules{number}.yml"
        path.write_text(base + rules, encoding="utf-8")
        with pytest.raises(ValueError, match=message):
            load_rules(path)


# --------------------------------------------------------------------------- Rasa component
def _parsed(text: str, ranking):
    from rasa.shared.nlu.training_data.message import Message

    from connectors.nlu_components import SafetyIntentClassifier

    message = Message(data={"text": text})
    if ranking:
        message.set("intent", dict(ranking[0]))
        message.set("intent_ranking", [dict(r) for r in ranking])
    message.set("entities", [{"entity": "client", "value": "Herr Meier", "start": 0, "end": 10}])
    SafetyIntentClassifier().process([message])
    return message


def test_component_puts_report_danger_on_top_with_the_kind_as_entity() -> None:
    text = "Herr Meier hat mich am Tresen geschubst"
    ranking = [
        {"name": "report_abuse", "confidence": 0.99},
        {"name": "report_danger", "confidence": 0.01},
    ]
    message = _parsed(text, ranking)
    assert message.get("intent") == {"name": "report_danger", "confidence": 1.0}
    names = [r["name"] for r in message.get("intent_ranking")]
    assert names == ["report_danger", "report_abuse"]
    # the classifier's guesses are kept, scaled: the FallbackClassifier's ambiguity check
    # (top two closer than 0.05) must not turn the safety intent into nlu_fallback
    assert message.get("intent_ranking")[1]["confidence"] == pytest.approx(0.495)
    client, danger = message.get("entities")
    assert client["entity"] == "client"
    assert danger["entity"] == "danger_kind" and danger["value"] == "violence"
    assert danger["extractor"] == "SafetyIntentClassifier"
    assert text[danger["start"] : danger["end"]] == "hat mich am Tresen geschubst"

    from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier

    fallback = FallbackClassifier(
        {**FallbackClassifier.get_default_config(), "threshold": 0.3, "ambiguity_threshold": 0.05}
    )
    assert fallback.process([message])[0].get("intent")["name"] == "report_danger"


def test_component_passes_other_messages_through() -> None:
    ranking = [{"name": "report_abuse", "confidence": 0.9}, {"name": "help", "confidence": 0.1}]
    message = _parsed("Herr Meier droht mit dem Anwalt", ranking)
    assert message.get("intent") == ranking[0]
    assert message.get("intent_ranking") == ranking
    assert [e["entity"] for e in message.get("entities")] == ["client"]


def test_component_without_a_ranking() -> None:
    message = _parsed("er hat die scheibe eingeschlagen", None)
    assert message.get("intent_ranking") == [{"name": "report_danger", "confidence": 1.0}]
    assert message.get("entities")[-1]["value"] == "property"


def _case_signal(text: str, top: str) -> str:
    from rasa.shared.nlu.training_data.message import Message

    from connectors.nlu_components import CaseSignalClassifier

    message = Message(data={"text": text})
    message.set("intent", {"name": top, "confidence": 0.6})
    message.set("intent_ranking", [{"name": top, "confidence": 0.6}])
    CaseSignalClassifier().process([message])
    return message.get("intent")["name"]


@pytest.mark.parametrize(
    "text",
    [
        "der kunde meinte, ich sei eine zumutung und soll mich verpissen",
        "er hat gemeint, ich soll mal mein hirn einschalten",
        "die hat mir gesagt, ich soll die fresse halten. wortwoertlich",
    ],
)
def test_an_insult_overrules_a_statistical_danger_guess_without_a_danger_hint(text) -> None:
    assert detect(text) is None and not hint(text)
    assert _case_signal(text, "report_danger") == "report_abuse"


@pytest.mark.parametrize(
    "text",
    [
        # an insult beside a word near danger: the guess stands, the safety reply comes first
        "er hat mich eine dumme kuh genannt und ich hab jetzt angst vor ihm",
        "sie hat mich beschimpft und stand dann abends am parkplatz",
        "er nannte mich unfaehig und meinte, ich soll heute nachts gut aufpassen",
    ],
)
def test_a_danger_hint_keeps_a_statistical_danger_guess(text) -> None:
    assert hint(text)
    assert _case_signal(text, "report_danger") == "report_danger"


def test_hint_is_false_for_empty_and_plain_business_text() -> None:
    assert not hint("")
    assert not hint("   ")
    assert not hint("der kunde will eine vierte korrekturschleife, kostenlos")
