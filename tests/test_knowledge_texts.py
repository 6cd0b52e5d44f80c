"""Structure and style checks for the coach's knowledge texts (bot/texts/knowledge.yml)."""

import re
import string
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "bot" / "texts" / "knowledge.yml"
SEEDS = Path("/work/shared/seeds")

TOPICS = ["how_to_terminate", "legal", "after_termination", "stress", "help"]
SIGN_KEYS = [
    "expectations",
    "respect",
    "cooperation",
    "ethics",
    "payment",
    "price",
    "changes",
    "other_clients",
    "personal",
    "strategy",
]
RESULT_KEYS = ["intro", "none", "few", "several", "many", "ethics", "skipped", "next"]
# Placeholders allowed per text; every other text must contain none.
ALLOWED_PLACEHOLDERS = {
    ("warning_result", "intro"): {"count", "signs"},
    ("warning_result", "skipped"): {"skipped"},
}
REQUIRED_PLACEHOLDERS = ALLOWED_PLACEHOLDERS

MAX_MESSAGE_CHARS = 1200
# Sie-form pronouns (capitalised). Example phrasings the user may say to THEIR client
# stand in German quotes „…“ (or "…") and are exempt; the coach itself speaks "du".
SIE_FORM = re.compile(r"\b(Sie|Ihnen|Ihr|Ihre|Ihrem|Ihren|Ihrer|Ihres)\b")
DU_FORM = re.compile(r"\b(du|dir|dich|dein|deine|deinem|deinen|deiner|deines)\b", re.IGNORECASE)
QUOTED = re.compile(r"„[^“”]*[“”]|\"[^\"]*\"")


@pytest.fixture(scope="module")
def data():
    with KNOWLEDGE.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def iter_texts(data):
    """Yield (location, text) for every string in the file."""
    for topic, messages in data["topics"].items():
        for i, msg in enumerate(messages):
            yield ("topics", topic, i), msg
    for sign in data["warning_signs"]:
        for field in ("question", "explanation"):
            yield ("warning_signs", sign["key"], field), sign[field]
    for key, text in data["warning_result"].items():
        yield ("warning_result", key), text
    for key, text in data["short_names"].items():
        yield ("short_names", key), text


def placeholders(text):
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_top_level_keys(data):
    assert set(data) == {"topics", "warning_signs", "warning_result", "short_names"}


@pytest.mark.parametrize("topic", TOPICS)
def test_topic_is_list_of_2_to_5_messages(data, topic):
    messages = data["topics"][topic]
    assert isinstance(messages, list)
    assert 2 <= len(messages) <= 5, f"{topic}: {len(messages)} messages"
    for msg in messages:
        assert isinstance(msg, str) and msg.strip()


def test_no_unknown_topics(data):
    assert set(data["topics"]) == set(TOPICS)


def test_help_has_one_or_two_messages(data):
    assert 1 <= len(data["topics"]["help"]) <= 2


def test_warning_signs_complete_and_ordered(data):
    signs = data["warning_signs"]
    assert [s["key"] for s in signs] == SIGN_KEYS
    for s in signs:
        assert set(s) == {"key", "question", "explanation"}, s["key"]
        assert s["question"].strip().endswith("?"), s["key"]
        assert s["question"].count("?") == 1, f"{s['key']}: one question only"
        assert DU_FORM.search(s["question"]), f"{s['key']}: question must address the user with du"
        assert s["explanation"].strip(), s["key"]


def test_warning_result_keys(data):
    assert set(data["warning_result"]) == set(RESULT_KEYS)


def test_short_names_cover_all_signs(data):
    assert set(data["short_names"]) == set(SIGN_KEYS)
    for key, name in data["short_names"].items():
        assert len(name) <= 40, key
        assert "\n" not in name, key


def test_all_strings_non_empty_and_chat_sized(data):
    texts = list(iter_texts(data))
    assert len(texts) > 40
    for loc, text in texts:
        assert isinstance(text, str), loc
        assert text.strip(), loc
        assert len(text) <= MAX_MESSAGE_CHARS, f"{loc}: {len(text)} chars"
        assert text == text.strip(), f"{loc}: leading/trailing whitespace"


def test_placeholders_only_where_documented(data):
    for loc, text in iter_texts(data):
        allowed = ALLOWED_PLACEHOLDERS.get(loc, set())
        found = placeholders(text)
        assert found <= allowed, f"{loc}: unexpected placeholders {found - allowed}"
        if not allowed:
            assert "{" not in text and "}" not in text, f"{loc}: stray brace"
    for loc, required in REQUIRED_PLACEHOLDERS.items():
        text = data[loc[0]][loc[1]]
        assert placeholders(text) == required, loc


def test_texts_survive_str_format(data):
    values = {"count": 3, "signs": "Zahlungsausfälle, fehlender Respekt", "skipped": 2}
    for loc, text in iter_texts(data):
        formatted = text.format(**values)
        assert "{" not in formatted and "}" not in formatted, loc


def test_coach_uses_du_not_sie(data):
    for loc, text in iter_texts(data):
        outside_quotes = QUOTED.sub("", text)
        match = SIE_FORM.search(outside_quotes)
        assert match is None, f"{loc}: Sie-form {match.group(0)!r} outside an example quote"
        assert "Nehmen Sie Kontakt" not in text, loc


@pytest.mark.parametrize("topic", TOPICS)
def test_each_topic_speaks_du(data, topic):
    joined = "\n".join(data["topics"][topic])
    assert DU_FORM.search(QUOTED.sub("", joined)), topic


def test_quotes_balanced(data):
    for loc, text in iter_texts(data):
        assert text.count("„") == text.count("“") + text.count("”"), loc
        assert text.count("*") % 2 == 0, f"{loc}: unbalanced *bold*"


def test_legal_contains_disclaimer(data):
    joined = "\n".join(data["topics"]["legal"])
    assert "keine Rechtsberatung" in joined
    assert "Vertragsrecht" in joined
    assert "DSGVO" in joined


def test_germany_spelling(data):
    # Germany-German: ß, not Swiss "ss" in typical words.
    for loc, text in iter_texts(data):
        for swiss in ("Massnahme", "gross", "Strasse", "schliesslich", "heisst"):
            assert swiss not in text, f"{loc}: {swiss}"


def _words(text):
    return re.findall(r"[a-zäöüß]+", text.lower())


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed articles not available")
def test_no_sentences_copied_from_seeds(data):
    """Own wording: no run of 8 consecutive words may match the source articles."""
    n = 8
    seed_grams = set()
    for path in SEEDS.glob("*.txt"):
        words = _words(path.read_text(encoding="utf-8"))
        seed_grams.update(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    for loc, text in iter_texts(data):
        words = _words(text)
        for i in range(len(words) - n + 1):
            gram = tuple(words[i : i + n])
            assert gram not in seed_grams, f"{loc}: copied phrase {' '.join(gram)!r}"
