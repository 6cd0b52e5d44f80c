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
TOPIC_KEYS = {"short", "step", "gist", "next", "details"}
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
    ("chat", "short"): {"answer", "step"},
    ("chat", "repeat"): {"gist", "step"},
    ("warning_result", "intro"): {"count", "signs", "total"},
    ("warning_result", "skipped"): {"skipped"},
    ("warning_from_message",): {"signs"},
}
REQUIRED_PLACEHOLDERS = ALLOWED_PLACEHOLDERS

MAX_MESSAGE_CHARS = 1200
MAX_SHORT_CHARS = 450  # the short answer of a topic: a chat message, not a wall of text
MAX_SHORT_SENTENCES = 3
# Sie-form pronouns (capitalised). Example phrasings the user may say to THEIR client
# stand in German quotes „…“ (or "…") and are exempt; the coach itself speaks "du".
SIE_FORM = re.compile(r"\b(Sie|Ihnen|Ihr|Ihre|Ihrem|Ihren|Ihrer|Ihres)\b")
# "Sie" as "she/it" at a sentence start: formal address would take the plural verb
SHE_IT = re.compile(
    r"(?:^|[.:!?] )Sie (?:muss|ist|wird|hat|gilt|kann|darf|soll|endet|kommt|geht|bleibt|steht)\b",
    re.MULTILINE,
)
DU_FORM = re.compile(r"\b(du|dir|dich|dein|deine|deinem|deinen|deiner|deines)\b", re.IGNORECASE)
QUOTED = re.compile(r"„[^“”]*[“”]|\"[^\"]*\"")
SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
DOMAIN_INTENTS = set(yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"])


@pytest.fixture(scope="module")
def data():
    with KNOWLEDGE.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def sentences(text):
    """Sentences of a text; quotes count as part of their sentence, "z. B." ends none."""
    plain = QUOTED.sub("Zitat", text).replace("z. B.", "zB").replace("…", "")
    return len(SENTENCE_END.findall(plain.strip())) or 1


def iter_texts(data):
    """Yield (location, text) for every string shown to the user."""
    for topic, node in data["topics"].items():
        for field in ("short", "step", "gist"):
            yield ("topics", topic, field), node[field]
        yield ("topics", topic, "next"), node["next"]["text"]
        for i, button in enumerate(node["next"].get("buttons") or []):
            yield ("topics", topic, "button", i), button["title"]
        for i, msg in enumerate(node["details"]):
            yield ("topics", topic, i), msg
    for key, text in data["chat"].items():
        yield ("chat", key), text
    now = data["stress_now"]
    for i, text in enumerate(now["distress"]):
        yield ("stress_now", "distress", i), text
    yield ("stress_now", "crisis"), now["crisis"]
    yield ("stress_now", "crisis_repeat"), now["crisis_repeat"]
    for key, text in now["cues"].items():
        yield ("stress_now", "cues", key), text
    for sign in data["warning_signs"]:
        for field in ("question", "explanation"):
            yield ("warning_signs", sign["key"], field), sign[field]
    for key, text in data["warning_result"].items():
        if key == "next_buttons":  # the ways on under `next`, as buttons
            for i, button in enumerate(text):
                yield ("warning_result", key, i), button["title"]
            continue
        yield ("warning_result", key), text
    for key, text in data["short_names"].items():
        yield ("short_names", key), text
    for section in set(data) - KNOWN_SECTIONS:  # e.g. the warning check's follow-up question
        yield from _strings(data[section], (section,))


KNOWN_SECTIONS = {
    "topics",
    "chat",
    "stress_now",
    "warning_signs",
    "warning_result",
    "short_names",
}


def _strings(node, loc):
    if isinstance(node, str):
        yield loc, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, (*loc, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, (*loc, i))


def topic_texts(node):
    return [node["short"], node["step"], node["gist"], node["next"]["text"], *node["details"]]


def placeholders(text):
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_top_level_keys(data):
    assert set(data) >= {
        "topics",
        "chat",
        "stress_now",
        "warning_signs",
        "warning_result",
        "short_names",
    }


@pytest.mark.parametrize("topic", TOPICS)
def test_topic_is_short_first_with_details(data, topic):
    node = data["topics"][topic]
    assert set(node) == TOPIC_KEYS, topic
    details = node["details"]
    assert isinstance(details, list) and 1 <= len(details) <= 6, f"{topic}: {len(details)} parts"
    for msg in details:
        assert isinstance(msg, str) and msg.strip()


@pytest.mark.parametrize("topic", TOPICS)
def test_short_answer_is_chat_sized(data, topic):
    node = data["topics"][topic]
    short, step, gist = node["short"], node["step"], node["gist"]
    assert len(short) <= MAX_SHORT_CHARS, f"{topic}: short has {len(short)} chars"
    assert sentences(short) <= MAX_SHORT_SENTENCES, f"{topic}: short has {sentences(short)}"
    assert sentences(step) == 1, f"{topic}: the next step is ONE sentence"
    assert sentences(gist) == 1, f"{topic}: the gist is one sentence"
    assert len(step) <= 200 and len(gist) <= 200, topic
    assert "\n" not in short and "•" not in short, f"{topic}: no list in the short answer"


@pytest.mark.parametrize("topic", TOPICS)
def test_next_steps_are_buttons_to_known_intents(data, topic):
    nxt = data["topics"][topic]["next"]
    assert nxt["text"].strip() and len(nxt["text"]) <= 300, topic
    buttons = nxt.get("buttons") or []
    assert 1 <= len(buttons) <= 3, topic
    for button in buttons:
        assert set(button) == {"title", "payload"}, (topic, button)
        assert 0 < len(button["title"]) <= 30, (topic, button)
        assert button["payload"].startswith("/"), (topic, button)
        assert button["payload"][1:] in DOMAIN_INTENTS, (topic, button)


def test_no_unknown_topics(data):
    assert set(data["topics"]) == set(TOPICS)


def test_help_has_one_or_two_detail_parts(data):
    assert 1 <= len(data["topics"]["help"]["details"]) <= 2


def test_acute_replies_are_short_with_one_thing_to_do(data):
    now = data["stress_now"]
    assert len(now["distress"]) >= 2  # a second exercise when the first was just given
    for text in now["distress"]:
        assert len(text) <= 300 and sentences(text) <= 3, text
        assert "•" not in text and "\n" not in text, text
    for text in now["cues"].values():
        assert len(text) <= 350 and sentences(text) <= 4, text


def test_crisis_reply_says_where_to_get_help(data):
    crisis = data["stress_now"]["crisis"]
    assert len(crisis) <= 600
    for needle in ("Telefonseelsorge", "0800 111 0 111", "kostenlos", "anonym", "Betriebsarzt"):
        assert needle in crisis, needle
    assert "Sozialberatung" in crisis and "EAP" in crisis
    assert "0800 111 0 111" in data["stress_now"]["crisis_repeat"]


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
    assert set(data["warning_result"]) >= set(RESULT_KEYS)


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
        text = data
        for part in loc:
            text = text[part]
        assert placeholders(text) == required, loc


def test_texts_survive_str_format(data):
    values = {
        "count": 3,
        "total": 10,
        "signs": "Zahlungsausfälle, fehlender Respekt",
        "skipped": 2,
        "answer": "Kurz.",
        "step": "Schritt.",
        "gist": "Satz.",
    }
    for loc, text in iter_texts(data):
        formatted = text.format(**values)
        assert "{" not in formatted and "}" not in formatted, loc


def test_coach_uses_du_not_sie(data):
    for loc, text in iter_texts(data):
        outside_quotes = SHE_IT.sub("", QUOTED.sub("", text))
        match = SIE_FORM.search(outside_quotes)
        assert match is None, f"{loc}: Sie-form {match.group(0)!r} outside an example quote"
        assert "Nehmen Sie Kontakt" not in text, loc


@pytest.mark.parametrize("topic", TOPICS)
def test_each_topic_speaks_du(data, topic):
    joined = "\n".join(topic_texts(data["topics"][topic]))
    assert DU_FORM.search(QUOTED.sub("", joined)), topic


def test_quotes_balanced(data):
    for loc, text in iter_texts(data):
        assert text.count("„") == text.count("“") + text.count("”"), loc
        assert text.count("*") % 2 == 0, f"{loc}: unbalanced *bold*"


def test_legal_contains_disclaimer(data):
    legal = data["topics"]["legal"]
    assert "keine Rechtsberatung" in legal["short"]  # the short answer alone carries it
    joined = "\n".join(topic_texts(legal))
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
