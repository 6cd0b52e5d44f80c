"""The respect and calm lexicon (bot/rubric/lexicon.py, respect.yml, calm.yml).

Sentences here are written for the tests, not taken from the labelled transcripts: they check
that the lists cover German as people write it (compounds, spelling, typos) and that context
(quotes, reported speech, negation, self-talk) is respected.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.rubric import assess
from bot.rubric.conversation import judge_texts
from bot.rubric.lexicon import CALM_PATH, RESPECT_PATH, Lexicon, LexiconError, get_lexicon

LEX = get_lexicon()


def issues(text: str) -> set[str]:
    """The lexicon's issues in ``text`` (with the rubric's typo check)."""
    return {h[1] for h in assess(text, under_backlash=True).lexicon}


def respect(text: str) -> float:
    return assess(text, under_backlash=True).scores["respect"]


# --------------------------------------------------------------------------- the lists


def test_the_lexicon_is_broad_and_organised_by_category():
    assert LEX.size() >= 900
    respect_issues = {i for i, c in LEX.issues().items() if c == "respect"}
    assert {"insult", "dismissive", "sarcasm", "threat", "command", "condescension"} <= (
        respect_issues
    )
    calm_issues = {i for i, c in LEX.issues().items() if c == "calm"}
    assert {"escalation", "counter_attack", "rhetorical", "curt", "gives_in", "sidetracked"} <= (
        calm_issues
    )
    names = {c.name for c in LEX.categories}
    assert {
        "schimpfwoerter",
        "vulgaer",
        "abwertung_person",
        "abwertung_anliegen",
        "sarkasmus",
        "drohung",
        "befehlston",
        "belehrung",
    } <= names


def _write(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.pop("version"),
        lambda d: d["categories"]["schimpfwoerter"].update(level="furchtbar"),
        lambda d: d["categories"]["schimpfwoerter"].update(colour="rot"),
        lambda d: d["categories"]["schimpfwoerter"].update(entries=["gut ..", "x"]),
        lambda d: d["categories"]["schimpfwoerter"].update(entries=["idi@t"]),
        lambda d: d["categories"]["schimpfwoerter"].update(negatable="ja"),
        lambda d: d["levels"]["schwer"].update(severity=3),
        lambda d: d["context"].pop("negators"),
    ],
)
def test_a_malformed_respect_list_is_refused_at_load(tmp_path, change):
    data = yaml.safe_load(RESPECT_PATH.read_text(encoding="utf-8"))
    change(data)
    with pytest.raises(LexiconError):
        Lexicon(_write(tmp_path, "respect.yml", data), CALM_PATH)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["categories"]["patzig"].update(scope="somewhere"),
        lambda d: d["categories"]["patzig"].pop("max_words"),
        lambda d: d["categories"]["eskalation"].update(calm="viel"),
        lambda d: d["typography"].pop("acronyms"),
    ],
)
def test_a_malformed_calm_list_is_refused_at_load(tmp_path, change):
    data = yaml.safe_load(CALM_PATH.read_text(encoding="utf-8"))
    change(data)
    with pytest.raises(LexiconError):
        Lexicon(RESPECT_PATH, _write(tmp_path, "calm.yml", data))


# --------------------------------------------------------------------------- respect


@pytest.mark.parametrize(
    "text",
    [
        "Sie sind ein Vollidiot.",
        "Sie Riesenarschloch.",
        "Das ist doch ein Sauhaufen hier.",
        "Sie sind echt ein Vollpfosten.",
        "Ihr Idiotenverein kriegt nichts hin.",
        "Ihre Mitarbeiter sind Dilettanten.",
        "Was für ein Drecksladen.",
    ],
)
def test_insults_and_their_compounds_are_found_by_stem(text):
    assert issues(text) & {"insult", "dismissive"}, text
    assert respect(text) <= 0.2


@pytest.mark.parametrize(
    "text",
    [
        "Sie sind so bloed.",
        "Sie sind so BLÖÖÖD!",
        "Sie Idiooot.",
        "Sie Trotttel.",
        "sie sind ein vollidiot",
        "Sie sind ein Dilletant.",  # one letter wrong
        "Sie Vollpfosen!",  # one letter missing
        "Sie sind unfaehig.",
    ],
)
def test_insults_are_found_in_normalised_spelling_and_with_typos(text):
    assert "insult" in issues(text), text


@pytest.mark.parametrize(
    "text",
    [
        "Im Zoo gibt es eine Giraffe.",
        "Der Einmarsch der Fans war laut.",
        "Das schaffen wir bis Freitag, danach übergeben wir alles.",
        "Die Verträge liegen im Depot.",
        "Wir haben versagt, das gebe ich zu.",
        "Das war natürlich blöd für Sie, das tut mir leid.",
        "Das ist dumm gelaufen für uns beide.",
        "Ich verstehe Ihr Problem.",
        "Die Schnittstelle zum CRM und die AGB schicken wir Ihnen als PDF.",
    ],
)
def test_harmless_words_that_look_like_insults_are_not_insults(text):
    assert not issues(text) & {"insult", "dismissive", "shouting"}, text
    assert respect(text) >= 0.85


@pytest.mark.parametrize(
    "text",
    [
        "Ihr Kollege hat meine Mitarbeiterin einen Idioten genannt.",
        "Sie haben meine Kollegin als unfähig bezeichnet.",
        "Sie sagten, wir seien Betrüger – das hat mein Team getroffen.",
        "Das Wort „Versager“ möchte ich hier nicht noch einmal hören.",
    ],
)
def test_reported_speech_and_quotes_are_not_the_users_insult(text):
    assert "insult" not in issues(text), text
    assert respect(text) >= 0.85, text


@pytest.mark.parametrize(
    "text",
    [
        "Ich will Sie nicht beleidigen, aber wir hören auf.",
        "Sie sind kein Idiot, aber so geht es nicht weiter.",
        "Sie sind weder unfähig noch unhöflich, es passt einfach nicht mehr.",
        "Ich halte Sie nicht für inkompetent.",
    ],
)
def test_negated_insults_are_not_insults(text):
    assert "insult" not in issues(text), text
    assert respect(text) >= 0.85, text


@pytest.mark.parametrize(
    "text",
    [
        "Ich Idiot habe die Frist verpasst.",
        "Wie dumm von mir, das hätte ich früher sagen sollen.",
        "Da war ich wohl ein Trottel.",
    ],
)
def test_self_deprecation_is_no_insult(text):
    assert "insult" not in issues(text), text
    assert respect(text) >= 0.85, text


def test_severity_is_graded_and_the_worst_moment_counts():
    ranked = [
        "Sie sind ein Arschloch.",  # vulgar
        "Sie sind ein Idiot.",  # insult
        "Herzlichen Glückwunsch, wieder zu spät bezahlt.",  # sarcasm
        "Das ist nun mal Business.",  # cool
        "Wie gesagt, die Entscheidung steht.",  # impatient
        "Die Entscheidung steht.",  # fine
    ]
    scores = [respect(t) for t in ranked]
    assert scores == sorted(scores), list(zip(ranked, scores, strict=True))
    assert len(set(scores)) == len(scores), list(zip(ranked, scores, strict=True))
    assert scores[-2] >= 0.8  # "wie gesagt" is no disrespect worth working on
    one = judge_texts(["Wir beenden die Zusammenarbeit.", "Wie gesagt, das steht."])["respect"]
    both = judge_texts(
        ["Wir beenden die Zusammenarbeit.", "Wie gesagt, das steht.", "Sie sind ein Arschloch."]
    )["respect"]
    assert both.score < one.score and both.quote == "Sie sind ein Arschloch."


@pytest.mark.parametrize(
    ("text", "issue"),
    [
        ("Das werden Sie noch bereuen.", "threat"),
        ("Halten Sie die Klappe.", "command"),
        ("Das versteht doch jedes Kind.", "condescension"),
        ("Hören Sie auf zu jammern.", "dismissive"),
        ("Ihre Beschwerden interessieren mich nicht.", "dismissive"),
        ("Ja ne, is klar.", "sarcasm"),
        ("Kaufen Sie sich ein Taschentuch.", "dismissive"),
        ("Sie gehen mir gewaltig auf die Nerven.", "insult"),
        ("Wenn Sie das machen, sehen wir uns vor Gericht.", "threat"),
        ("Sie lügen doch.", "blame"),
    ],
)
def test_each_kind_of_disrespect_has_its_issue(text, issue):
    assert issue in issues(text), text
    judged = judge_texts([text])["respect"]
    assert judged.own_score < 0.6 and judged.issue == issue and judged.quote == text


# --------------------------------------------------------------------------- calm


@pytest.mark.parametrize(
    ("text", "issue"),
    [
        ("DAS IST UNSERE ENTSCHEIDUNG!!!", "shouting"),
        ("Was soll das???", "shouting"),
        ("Das ist NIEMALS so vereinbart worden.", "shouting"),
        ("Mir reicht's jetzt wirklich.", "escalation"),
        ("Sie doch auch!", "counter_attack"),
        ("Wer hat denn hier angefangen?", "counter_attack"),
        ("Wie oft denn noch?", "rhetorical"),
        ("Was bilden Sie sich eigentlich ein?", "rhetorical"),
        ("Doch.", "curt"),
        ("Machen Sie doch.", "curt"),
        ("Na gut, dann machen wir halt noch ein Projekt.", "gives_in"),
        ("Genau, etwas kleiner.", "gives_in"),
        ("Was brauchen Sie denn für die Broschüre?", "sidetracked"),
        ("Wie geht's eigentlich Ihrer Familie?", "sidetracked"),
        ("Ach, jetzt bin ich schuld?", "rhetorical"),
        ("Ja ja, schon gut.", "curt"),
        ("Das glaube ich Ihnen.", "deescalation"),
        ("Entschuldigung, das war zu scharf.", "repair"),
    ],
)
def test_calm_signals(text, issue):
    assert issue in issues(text), text


@pytest.mark.parametrize(
    "text",
    [
        "Die AGB und das CRM-Konto übergeben wir Ihnen.",
        "Okay.",  # a receipt, not giving in
        "Okay, dann schicke ich Ihnen bis Freitag alle Unterlagen.",
        "Genau, deshalb beenden wir die Zusammenarbeit zum Jahresende.",
        "Doch, das steht so im Vertrag vom März.",
        "Das stimmt nicht.",  # a negated acknowledgement is none
        "Und Sie bekommen alle Zugangsdaten.",
        "Hallo Frau Krüger, haben Sie kurz Zeit?",
        "Es reicht, wenn Sie die Unterlagen bis Freitag schicken.",
    ],
)
def test_calm_signals_leave_plain_answers_alone(text):
    found = issues(text) - {"deescalation"}
    assert not found & {
        "shouting",
        "gives_in",
        "curt",
        "sidetracked",
        "rhetorical",
        "counter_attack",
    }, (text, found)
    if text == "Das stimmt nicht.":
        assert "deescalation" not in issues(text)


def test_being_pulled_onto_the_clients_side_topic_costs_calm():
    clients = ["Die Broschüre für die Messe bräuchte ich bis Freitag, das Layout steht schon."]
    pulled = judge_texts(["Klar, schicken Sie mir das Layout für die Broschüre."], clients=clients)
    firm = judge_texts(
        ["Die Broschüre machen wir nicht mehr: Wir beenden die Zusammenarbeit zum Monatsende."],
        clients=clients,
    )
    assert pulled["calm"].own_score < firm["calm"].own_score
    assert pulled["calm"].issue in ("sidetracked", "gives_in")


def test_asking_what_the_client_needs_after_the_end_was_said_is_no_side_topic():
    said = ["Wir beenden die Zusammenarbeit zum Jahresende.", "Was brauchen Sie von uns dafür?"]
    assert judge_texts(said)["calm"].issue != "sidetracked"
    assert judge_texts(["Was brauchen Sie denn noch?"])["calm"].issue == "sidetracked"


def test_a_greeting_is_no_side_topic():
    # "Hallo" starts both lines, "Ihnen" is in both: neither is the client's topic
    clients = ["Hallo! Ich habe Kaffee gekocht. Was kann ich für Sie tun, wie geht es Ihnen?"]
    said = ["Hallo Frau Vogel, schön, Sie zu hören. Danke, Ihnen auch."]
    judged = judge_texts(said, clients=clients)
    assert judged["calm"].issue != "sidetracked"


def test_an_echo_question_is_a_retort():
    clients = ["Das kommt jetzt aber sehr überraschend für mich."]
    echo = judge_texts(["Überraschend? Wir haben dreimal gemahnt."], clients=clients)["calm"]
    plain = judge_texts(["Wir haben dreimal gemahnt."], clients=clients)["calm"]
    assert echo.score < plain.score and echo.issue == "rhetorical"


def test_acknowledging_raises_calm_and_the_worst_turn_counts():
    cool = judge_texts(["Wir beenden die Zusammenarbeit.", "Die Entscheidung steht."])["calm"]
    warm = judge_texts(
        ["Wir beenden die Zusammenarbeit.", "Das glaube ich Ihnen. Die Entscheidung steht."]
    )["calm"]
    assert warm.own_score > cool.own_score >= 0.6
    heated = judge_texts(
        [
            "Wir beenden die Zusammenarbeit.",
            "Das glaube ich Ihnen. Die Entscheidung steht.",
            "Jetzt reicht's aber, wer hat denn hier angefangen?",
        ]
    )["calm"]
    assert heated.own_score <= 0.4 and heated.issue in ("counter_attack", "escalation")


def test_an_apology_wins_part_of_it_back():
    rude = ["Wir beenden die Zusammenarbeit.", "Sie lügen doch."]
    sorry = rude + ["Entschuldigung, das war zu scharf. Die Entscheidung bleibt."]
    assert judge_texts(sorry)["respect"].own_score > judge_texts(rude)["respect"].own_score
    assert judge_texts(sorry)["calm"].own_score > judge_texts(rude)["calm"].own_score
    # but an apology is no acknowledgement of the client's anger
    assert judge_texts(sorry)["calm"].own_score < 0.8
