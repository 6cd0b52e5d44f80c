"""Acute distress, crisis and the coach's own cue phrases (bot/distress.py + bot/distress.yml).

The decisions behind the two lists are documented in bot/distress.yml: "kann/will nicht mehr"
is a crisis only where the clause ends after it; ordinary stress (can't switch off, sleeps
badly for days, wants a clear head after work) is neither level and gets the stress topic.
"""

from __future__ import annotations

import re

import pytest

from bot import distress, texts

CRISIS = [
    "ich kann nicht mehr",
    "ich kann echt nicht mehr",
    "ich kan nicht mehr",  # typo
    "Ich kann einfach nicht mehrrr!!!",  # stretched, shouted
    "ich kann nich mehr",  # "nich"
    "ich kann nimmer",  # dialect
    "ich kann nicht mehr, ich bin seit 6 uhr hier",
    "ich will nicht mehr",
    "will einfach nicht mehr",
    "ich halt das nicht mehr aus",
    "ICH HALTE DAS NICHT MEHR AUS",
    "ich halte es nicht aus",
    "halts nicht mehr aus",
    "das hat alles keinen sinn mehr",
    "hat alles keinen sinn mehr",
    "ich will nicht mehr leben",
    "ich moechte nicht mehr aufwachen",
    "manchmal denk ich, ich will einfach nur sterben",
]

DISTRESS = [
    "lieg seit stunden wach",
    "ich liege seit 3 uhr wach und gruebel",
    "zu viel text, wie krieg ich JETZT den kopf frei?",
    "ich heul gleich",
    "ich heule grad im auto",
    "mir ist alles zu viel",
    "mir ist das alles zuviel",
    "Mir wächst alles über den Kopf",
    "mir waechst alles ueber den kopf",  # no umlauts
    "ich bin total am ende",
    "ich hab keine kraft mehr",
    "ich zitter am ganzen koerper",
    "hab grad voll die panikattacke",
    "ich kann nicht schlafen, muss immer an den kunden denken",
    "ich mag nicht mehr. echt nicht",
    "ich schaff das alles nicht mehr",
    "ich bin so überfordert",
    "meine nerven liegen blank",
]

NEITHER = [
    # "kann/will nicht mehr" + what one cannot/will not do any more: about something else
    "ich kann nicht mehr warten auf die zahlung",
    "ich kann nicht mehr als zwei termine pro tag machen",
    "der kunde will nicht mehr zahlen",
    "er will nicht mehr mit uns arbeiten",
    "ich will nicht mehr gratis arbeiten",
    "Ich will nicht mehr, dass Kunden mich am Sonntag anrufen.",
    "wir koennen nicht mehr liefern",
    "von den preisen kann man nicht mehr leben",
    "kann ich nicht mehr kuendigen?",
    "ich schaff das nicht mehr bis freitag",
    # ordinary stress: the stress topic's short answer fits
    "ich kann nicht mehr abschalten, der kunde geht mir nicht aus dem kopf",
    "Dieser Kunde raubt mir den Schlaf, ich kann abends nicht abschalten",
    "ich schlafe seit tagen schlecht wegen dem projekt",
    "wie kriege ich nach feierabend den kopf frei?",
    "Ich schaffe es nicht, nach Feierabend abzuschalten",
    # someone else speaks, or the user wants to stop the conversation
    "der kunde sagt: ich will nicht mehr",
    "er meint, das hat alles keinen sinn mehr mit uns",
    "vergiss es, ich will nicht mehr",
    # other topics, cases and figures of speech
    "kann ich dem autohaus kuendigen?",
    "ich halte das fuer keine gute idee",
    "der kunde haelt sich nicht an die absprachen",
    "es hat keinen sinn, mit ihm zu diskutieren",
    "wir haben dem kunden zu viel berechnet",
    "er hat mir zu viel berechnet",
    "der kunde verlangt zu viel",
    "am ende des gespraechs war er ganz ruhig",
    "ich bin am ende des projekts",
    "der kunde heult nur rum",
    "die kundin hat am telefon geweint",
    "das bringt mich um den verstand",
    "ich weiss nicht mehr weiter mit dem kunden, was soll ich tun?",
    "keine panik, ich frag nur wegen der frist",
    "mehr dazu",
    "Das lässt mich nicht los",  # a cue, not distress (see below)
    "",
]


@pytest.mark.parametrize("message", CRISIS)
def test_crisis(message):
    found = distress.detect(message)
    assert found is not None and found.level == "crisis", (message, found)


@pytest.mark.parametrize("message", DISTRESS)
def test_distress(message):
    found = distress.detect(message)
    assert found is not None and found.level == "distress", (message, found)


@pytest.mark.parametrize("message", NEITHER)
def test_neither(message):
    assert distress.detect(message) is None, message


def test_the_lists_are_big_enough():
    assert len(CRISIS) + len(DISTRESS) >= 20
    assert len(NEITHER) >= 20


def test_a_crisis_wins_over_distress_in_the_same_message():
    found = distress.detect("mir ist alles zu viel, ich kann nicht mehr")
    assert found.level == "crisis" and found.rule == "cannot_go_on"
    assert found.phrase == "ich kann nicht mehr"


def test_only_the_first_characters_of_a_long_message_are_read():
    assert distress.detect("x " * distress.MAX_TEXT + "ich kann nicht mehr") is None


@pytest.mark.parametrize(
    "message",
    [
        "Das lässt mich nicht los",
        "das laesst mich nicht los",
        "Das lässt mich nicht los.",
        "hm, das lässt mich einfach nicht los",
        "der kunde geht mir nicht mehr aus dem kopf",
    ],
)
def test_the_coachs_own_cue_phrase_is_recognised(message):
    assert distress.cue(message) == "not_letting_go"


@pytest.mark.parametrize("message", ["mehr dazu", "lass mich in ruhe", "ich kann nicht mehr"])
def test_no_cue(message):
    assert distress.cue(message) is None


QUOTED = re.compile(r"„([^“”]+)[“”]")


def test_every_phrase_the_coach_suggests_is_recognised_as_its_cue():
    """The texts named in suggested_in quote the phrase, and the phrase is the cue."""
    refs = distress.suggested_in()
    assert refs and all(refs.values())
    for cue_id, references in refs.items():
        for reference in references:
            source, _, key = reference.partition(":")
            phrases = QUOTED.findall(texts.lookup(source, key))
            assert phrases, f"{reference} quotes no phrase for cue {cue_id}"
            for phrase in phrases:
                assert distress.cue(phrase) == cue_id, (reference, phrase)


@pytest.mark.parametrize(
    "message,expected",
    [
        ("kann ich dem autohaus kuendigen?", False),
        ("was muss ich bei der kuendigungsfrist beachten?", False),
        ("wie schalte ich nach der arbeit ab?", True),
        ("was mach ich gegen den stress", True),
        ("der kunde nervt mich", True),
        ("ich heul gleich", True),
        ("Das lässt mich nicht los", True),
    ],
)
def test_about_stress(message, expected):
    assert distress.about_stress(message) is expected


def test_broken_rules_fail_loudly(tmp_path):
    bad_level = tmp_path / "level.yml"
    bad_level.write_text("rules: [{id: x, level: panic, patterns: ['a']}]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="level"):
        distress.load_rules(bad_level)
    bad_macro = tmp_path / "macro.yml"
    bad_macro.write_text("rules: [{id: x, level: crisis, patterns: ['{nope}']}]\n", "utf-8")
    with pytest.raises(ValueError, match="unknown macro"):
        distress.load_rules(bad_macro)
    no_patterns = tmp_path / "empty.yml"
    no_patterns.write_text("rules: [{id: x, level: crisis}]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no patterns"):
        distress.load_rules(no_patterns)
    duplicate = tmp_path / "dup.yml"
    duplicate.write_text(
        "rules: [{id: x, level: crisis, patterns: [a]}, {id: x, level: distress, patterns: [b]}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="duplicate"):
        distress.load_rules(duplicate)


def test_custom_rules_are_used(tmp_path):
    path = tmp_path / "own.yml"
    path.write_text(
        "macros: {me: '(?:ich )'}\n"
        "reported: '\\bsagt\\b'\n"
        "rules:\n"
        "  - {id: mild, level: distress, patterns: ['{me}bin muede']}\n"
        "  - {id: severe, level: crisis, patterns: ['{me}bin leer']}\n",
        encoding="utf-8",
    )
    rules = distress.load_rules(path)
    assert distress.detect("Ich bin müde und ich bin leer", rules).rule == "severe"  # crisis first
    assert distress.detect("ich bin müde", rules).level == "distress"
    assert distress.detect("er sagt, ich bin müde", rules) is None
    assert distress.detect("er sagt das. ich bin müde", rules).rule == "mild"  # own sentence
