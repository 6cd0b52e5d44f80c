"""Every text that takes a client or a count, rendered for one and many and for every client.

Two layers:

* Each YAML text with a client placeholder (``{client}``, ``{client_dative}``, … of
  ``bot/texts/clients.yml``) or a count placeholder is filled for a woman ("Frau Keller"), a man
  ("Herr Brandt", typed as "Herrn Brandt"), a company ("Müller GmbH", "Firma Müller") and no
  client, with counts 1 and 2.
* The code paths that build these texts (case advice, incident history, the supervisor
  summary, the pre-filled and the plain warning-sign check, boundaries, dates) are run with one
  and with several items.

Every result must be free of braces, "None", doubled words or phrases, a raw "1" before a
plural noun, and use the client's grammatical gender: "Sehr geehrte Frau Keller", "Sehr
geehrter Herr Brandt", "Sehr geehrte Damen und Herren", "Herrn Brandt" after a preposition,
"der Müller GmbH" – never "der Kunde" once the client has a name.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Iterator, Optional

import pytest

import connectors.channel_common  # noqa: F401  (registers the "channels" source)
import connectors.texts  # noqa: F401  (registers the "messages" source)
from bot import boundaries, clients, escalation, incidents, playbooks, texts, warning_signs
from bot.roleplay import engine
from bot.rubric import suggest

TODAY = date(2026, 3, 10)

#: typed name -> expected kind (a man typed in the dative, companies with and without
#: legal form)
NAMES = {
    "Frau Keller": clients.FEMALE,
    "Herr Brandt": clients.MALE,
    "Herrn Brandt": clients.MALE,
    "Müller GmbH": clients.COMPANY,
    "Firma Müller": clients.COMPANY,
}
FORM_KEYS = set(clients.FORM_KEYS)
#: placeholders that carry a bare number (the text must read right for 1 and for many)
COUNT_KEYS = {
    "count",
    "n",
    "total",
    "rest",
    "days",
    "minutes",
    "people",
    "number",
    "limit",
    "length",
    "chars",
    "max_count",
    "max_days",
    "overall",
    "backlash_rounds",
    "misunderstandings",
    "escalations",
    "percent",
}
#: plural nouns that must not follow a bare "1"
PLURALS = {
    "Vorfälle",
    "Grenzen",
    "Kunden",
    "Tage",
    "Tagen",
    "Minuten",
    "Rollenspiele",
    "Rollenspiel-Ergebnisse",
    "Vorschläge",
    "Fragen",
    "Teilnehmenden",
    "Punkte",
    "Gesprächsereignisse",
    "Rollenspiel-Mitschriften",
    "Stufen",
}
#: every text source of the coach (bot/texts.py); clients.yml itself is checked through forms()
#: doubled words German allows ("die Kunden, die die Rechnung …", "wenn Sie sie schicken")
LEGAL_DOUBLES = {"die", "der", "das", "den", "dem", "sie"}
SOURCES = tuple(
    name for name in texts.SOURCES if name not in ("clients", "channels", "messages")
) + ("channels", "messages")


# --------------------------------------------------------------------------- checks
def problems(rendered: str) -> list[str]:
    """What is broken in a rendered text (empty: nothing)."""
    found = []
    if "{" in rendered or "}" in rendered:
        found.append("brace left")
    if re.search(r"\bNone\b", rendered):
        found.append("None")
    for doubled in re.finditer(r"\b(\w+(?:\s+\w+){0,5})\s+\1\b", rendered, re.IGNORECASE):
        words = doubled.group(1)
        if re.fullmatch(r"\d+", words) or words.lower() in LEGAL_DOUBLES:
            continue
        found.append(f"doubled {doubled.group(0)!r}")
    one = re.search(r"(?<![\d.,/])\b1\s+([\w-]+)", rendered)
    if one and one.group(1) in PLURALS:
        found.append(f"'1 {one.group(1)}'")
    if re.search(r"\b1\s+Warnzeichen\s+zutreffen|übrigen\s+1\b", rendered):
        found.append("plural verb with one sign")
    return found


def gender_problems(rendered: str, name: str) -> list[str]:
    """Salutation, case and pronoun errors for the client ``name`` in a rendered text."""
    kind = clients.classify(name)
    found = []
    if re.search(r"\b(der|den|dem|des|diesen|diesem) Kunden?\b", rendered):
        found.append("'der Kunde' although the client has a name")
    if re.search(r"Guten Tag (Frau|Herrn?|Müller|Firma)", rendered):
        found.append("'Guten Tag <name>' instead of a salutation")
    if kind.kind == clients.FEMALE:
        if re.search(r"\bHerrn? Keller|Sehr geehrter Frau", rendered):
            found.append("male form for a woman")
        if re.search(
            r"\bsein(e|en|em|er)? (Anliegen|Ärger|Wunsch|Forderung|Verhalten)\b", rendered
        ):
            found.append("'sein …' for a woman")
    if kind.kind == clients.MALE:
        if "Sehr geehrte Herr" in rendered or "Sehr geehrter Herrn" in rendered:
            found.append("wrong salutation for a man")
        after = r"\b(mit|bei|zu|von|für|über|an|[Ll]ass|[Ss]ag|[Rr]uf|[Ee]rinnere) Herr Brandt\b"
        if re.search(after, rendered):
            found.append("'Herr' where the dative/accusative 'Herrn' is needed")
        if re.search(r"(^|[.!?„]\s*)Herrn Brandt (will|hat|ist|droht|zieht)", rendered):
            found.append("'Herrn' as a subject")
    if kind.kind == clients.COMPANY:
        if re.search(r"Sehr geehrter? (Frau|Herr)", rendered):
            found.append("personal salutation for a company")
        if re.search(r"\b(mit|bei|zu|von|für) (Müller GmbH|Firma Müller)\b", rendered):
            found.append("company without article after a preposition")
    return found


# --------------------------------------------------------------------------- the YAML texts
@dataclass(frozen=True)
class Template:
    source: str
    key: str
    text: str

    @property
    def names(self) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(self.text) if f}


def _walk(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield key, node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, f"{key}.{k}" if key else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{key}.{i}" if key else str(i))


def _templates() -> list[Template]:
    out = []
    for source in SOURCES:
        for key, value in _walk(texts.load(source)):
            try:
                fields = {f for _, f, _, _ in string.Formatter().parse(value) if f}
            except ValueError:  # regular expressions and other data, not texts
                continue
            if fields & (FORM_KEYS | COUNT_KEYS):
                out.append(Template(source, key, value))
    return out


TEMPLATES = _templates()
CLIENT_TEMPLATES = [t for t in TEMPLATES if t.names & FORM_KEYS]
COUNT_TEMPLATES = [t for t in TEMPLATES if t.names & COUNT_KEYS]


def _only_for_many(template: Template) -> bool:
    """A text with a ``…_one`` sibling, or the plural form of ``counts``, is never said for 1."""
    parent, _, last = template.key.rpartition(".")
    if template.source == "history" and template.key.startswith("counts."):
        return last == "1"
    siblings = texts.lookup(template.source, parent) if parent else texts.load(template.source)
    return isinstance(siblings, dict) and f"{last}_one" in siblings


def _only_for_one(template: Template) -> bool:
    return (
        template.source == "history"
        and template.key.startswith("counts.")
        and (template.key.endswith(".0"))
    )


def _fill(template: Template, client: Optional[str], count: int) -> str:
    values: dict[str, Any] = {name: f"‹{name}›" for name in template.names}
    values.update({k: v for k, v in clients.forms(client).items() if k in template.names})
    values.update({k: count for k in template.names & COUNT_KEYS})
    return texts.text(template.source, template.key, **values)


def test_the_scan_finds_the_client_and_count_texts():
    keys = {(t.source, t.key) for t in TEMPLATES}
    assert ("cases", "our_fault.heard_no") in keys
    assert ("history", "history.summary_body") in keys
    assert ("history", "prefill.ask") in keys
    assert ("knowledge", "warning_result.intro") in keys
    assert len(CLIENT_TEMPLATES) >= 25 and len(COUNT_TEMPLATES) >= 15


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: f"{t.source}:{t.key}")
@pytest.mark.parametrize("count", [1, 2])
def test_every_template_reads_right_for_one_and_many(template, count):
    if (count == 1 and _only_for_many(template)) or (count > 1 and _only_for_one(template)):
        pytest.skip("this text is only used for many (one) – its sibling covers the other")
    for name in [*NAMES, None] if template.names & FORM_KEYS else [None]:
        rendered = _fill(template, name, count)
        assert not problems(rendered), (name, count, rendered, problems(rendered))


@pytest.mark.parametrize("template", CLIENT_TEMPLATES, ids=lambda t: f"{t.source}:{t.key}")
def test_every_client_template_uses_the_clients_gender(template):
    for name in NAMES:
        rendered = _fill(template, name, 2)
        assert not gender_problems(rendered, name), (name, rendered)


@pytest.mark.parametrize("template", CLIENT_TEMPLATES, ids=lambda t: f"{t.source}:{t.key}")
def test_no_sentence_starts_with_a_lower_case_client_phrase(template):
    starts = re.compile(r"(^|[.!?]\s+|\n)[„*]*\{client(_dative|_acc|_pron\w*)?\}")
    assert not starts.search(template.text), template.text


# --------------------------------------------------------------------------- clients
@pytest.mark.parametrize("name,kind", NAMES.items())
def test_one_function_decides_the_kind_of_client(name, kind):
    assert clients.classify(name).kind == kind


@pytest.mark.parametrize(
    "name,salutation,dative",
    [
        ("Frau Keller", "Sehr geehrte Frau Keller", "Frau Keller"),
        ("Herr Brandt", "Sehr geehrter Herr Brandt", "Herrn Brandt"),
        ("Herrn Brandt", "Sehr geehrter Herr Brandt", "Herrn Brandt"),
        ("Müller GmbH", "Sehr geehrte Damen und Herren", "der Müller GmbH"),
        ("Firma Müller", "Sehr geehrte Damen und Herren", "der Firma Müller"),
        ("Autohaus Brandl", "Sehr geehrte Damen und Herren", "dem Autohaus Brandl"),
        ("Anna Keller", "Guten Tag Anna Keller", "Anna Keller"),
        ("Keller", "Guten Tag", "Keller"),
        (None, "Guten Tag", "dem Kunden"),
    ],
)
def test_salutation_and_dative(name, salutation, dative):
    forms = clients.forms(name)
    assert forms["client_salutation"] == salutation
    assert forms["client_dative"] == dative


def test_pronouns_follow_the_client():
    assert clients.forms("Frau Keller")["client_pron"] == "sie"
    assert clients.forms("Herrn Brandt")["client_pron_acc"] == "ihn"
    assert clients.forms("Müller GmbH")["client_pron_dat"] == "ihr"
    assert clients.forms("Autohaus Brandl")["client_pron"] == "es"


def test_stored_names_are_normalised():
    assert incidents.parse_client("Herrn Brandt") == "Herr Brandt"
    assert incidents.parse_client("die Müller GmbH") == "Müller GmbH"
    assert incidents.parse_client("Frau Keller") == "Frau Keller"


# --------------------------------------------------------------------------- code paths
def _advice_answers() -> dict[str, list[dict]]:
    return {
        "our_fault": [
            {
                "fault_what": "Die Ware kam zu spät",
                "fault_heard": heard,
                "fault_impact": impact,
                "fault_offer": "redo+discount",
            }
            for heard in ("yes", "no")
            for impact in ("small", "medium", "large")
        ],
        "extra_requests": [
            {
                "extra_what": "Ein zweites Logo",
                "extra_unclear": unclear,
                "extra_chronic": chronic,
                "extra_effort": "yes",
                "extra_compromise": compromise,
            }
            for unclear in ("yes", "no")
            for chronic in ("yes", "no")
            for compromise in ("payment", "counter", "none")
        ],
        "false_claims": [
            {"false_claim": "Nie geliefert", "false_checked": checked, "false_evidence": ev}
            for checked in ("yes", "no")
            for ev in ("documents+witnesses", "none", "unsure")
        ],
        "abusive": [
            {"abuse_frequency": f, "abuse_severity": s}
            for f in ("first", "repeated", "persistent")
            for s in ("venting", "insult", "threat")
        ],
    }


@pytest.mark.parametrize("name", [*NAMES, None])
def test_case_intro_and_advice_for_every_client(name):
    for case, variants in _advice_answers().items():
        rendered = [playbooks.intro(case, name)]
        for answers in variants:
            rendered += playbooks.advice(case, answers, name)
        for message in rendered:
            assert not problems(message), (case, message)
            if name:
                assert not gender_problems(message, name), (case, message)


@pytest.mark.parametrize(
    "name,salutation",
    [
        ("Frau Keller", "Sehr geehrte Frau Keller,"),
        ("Herrn Brandt", "Sehr geehrter Herr Brandt,"),
        ("Müller GmbH", "Sehr geehrte Damen und Herren,"),
        ("Firma Müller", "Sehr geehrte Damen und Herren,"),
        (None, "Guten Tag,"),
    ],
)
def test_the_apology_draft_greets_the_client_properly(name, salutation):
    answers = {"fault_what": "Die Ware kam zu spät", "fault_heard": "no", "fault_impact": "large"}
    text = "\n".join(playbooks.advice("our_fault", answers, name))
    assert salutation in text
    if name == "Herrn Brandt":
        assert "Lass Herrn Brandt ausreden" in text and "ruf Herrn Brandt persönlich an" in text
    if name is None:
        assert "ruf den Kunden persönlich an" in text  # "anrufen" takes the accusative


@dataclass
class Inc:  # an incident as the repository returns it
    behavior: str
    occurred_on: date
    client: str = "Müller GmbH"
    note: Optional[str] = None
    level_hint: Optional[int] = None
    id: int = 0


@dataclass
class B:  # a boundary
    behavior: str
    max_count: Optional[int] = None
    period_days: Optional[int] = None
    note: Optional[str] = None
    id: int = 0


def _histories(name: str) -> dict[str, list[Inc]]:
    """One incident, two on one day, several on different days – on every ladder."""
    day = TODAY - timedelta(days=1)
    return {
        "one safety": [Inc("physical_threat", day, name, id=1)],
        "one abuse": [Inc("insult", day, name, level_hint=4, id=1)],
        "two same day": [
            Inc("insult", day, name, level_hint=4, id=1),
            Inc("insult", day, name, id=2),
        ],
        "several": [
            Inc("shouting", TODAY - timedelta(days=9), name, note="laut", id=1),
            Inc("insult", TODAY - timedelta(days=5), name, id=2),
            Inc("insult", TODAY - timedelta(days=2), name, note="„Versager“", id=3),
            Inc("shouting", day, name, id=4),
            Inc("late_payment", day, name, id=5),
            Inc("non_cooperation", day, name, id=6),
        ],
    }


@pytest.mark.parametrize("name", list(NAMES))
def test_history_texts_for_one_and_many_incidents(name):
    limits = [B("insult"), B("shouting", 1, 1)]
    for label, history in _histories(name).items():
        shown = incidents.parse_client(name)
        messages = incidents.after_logging(history[-1], history, limits, TODAY)
        messages += incidents.timeline(shown, history, limits, TODAY)
        messages += incidents.overview({shown: history}, limits, TODAY)
        messages.append(incidents.offer_text({"behavior": "insult"}, shown, TODAY))
        for message in messages:
            assert not problems(message), (label, message)
            assert not gender_problems(message, name), (label, message)


def test_the_summary_of_one_incident_reads_as_one():
    history = _histories("Frau Keller")["one safety"]
    assessment = escalation.assess(history, [], TODAY)
    summary = incidents.summary("Frau Keller", assessment)
    assert summary.startswith("Betreff: Vorfall mit Frau Keller (Sicherheit)")
    assert "Am 09.03.2026 habe ich mit Frau Keller einen Vorfall dokumentiert:" in summary
    assert "Zwischen" not in summary and "wiederholte" not in summary.lower()
    same_day = escalation.assess(_histories("Herr Brandt")["two same day"], [], TODAY)
    text = incidents.summary("Herr Brandt", same_day)
    assert "Am 09.03.2026 habe ich mit Herrn Brandt 2 Vorfälle dokumentiert:" in text
    several = escalation.assess(_histories("Müller GmbH")["several"], [], TODAY)
    text = incidents.summary("Müller GmbH", several)
    assert text.startswith("Betreff: Wiederholte Vorfälle mit der Müller GmbH")
    assert "Zwischen dem 01.03.2026 und dem 09.03.2026 habe ich mit der Müller GmbH" in text


def test_the_summary_hint_and_level_texts():
    history = _histories("Herrn Brandt")["one abuse"]
    messages = "\n".join(incidents.after_logging(history[-1], history, [], TODAY))
    assert "Schreib „Verlauf Herr Brandt“, dann schreibe ich dir" in messages
    assert "bekomme ich dir" not in messages
    assert "Stand bei Herrn Brandt (Ausfälligkeiten)" in messages


@pytest.mark.parametrize("signs", [1, 2, 3])
@pytest.mark.parametrize("name", [*NAMES, ""])
def test_prefilled_warning_check_for_one_and_many_signs(signs, name):
    keys = ["payment", "respect", "ethics"][:signs]
    prefill = {k: {"count": 1, "labels": ["Beleidigung"], "last": "2026-03-01"} for k in keys}
    question = incidents.prefill_question(name, prefill, warning_signs.keys(), len(keys) + 1)
    assert not problems(question), question
    if signs == 1:
        assert "dass ein Warnzeichen zutrifft" in question
        assert "nur noch die übrigen 1" not in question
    else:
        assert f"dass {signs} Warnzeichen zutreffen" in question
    if name:
        assert not gender_problems(question, name), question


@pytest.mark.parametrize("yes", [0, 1, 2, 6, 10])
def test_warning_check_result_for_one_and_many(yes):
    answers = {k: ("yes" if i < yes else "no") for i, k in enumerate(warning_signs.keys())}
    for talked in ("yes", "no", "skip", None):
        answers[warning_signs.followup_key()] = talked
        for message in warning_signs.evaluate(answers):
            assert not problems(message), message


@pytest.mark.parametrize("count,days", [(1, 1), (2, 1), (3, 30)])
def test_boundary_thresholds_for_one_and_many_days(count, days):
    for short in (False, True):
        text = boundaries.describe_threshold(count, days, short=short)
        assert not problems(text), text
        assert ("1 Tag" in text) == (days == 1)


def test_date_messages():
    assert incidents.invalid_message("date_future") == texts.text(
        "history", "invalid.date_future", when="Das Datum"
    )
    unknown = incidents.invalid_message("date_future")
    assert unknown.startswith("Das Datum liegt in der Zukunft") and not problems(unknown)
    known = incidents.invalid_message("date_future", value=date(2099, 5, 20))
    assert known.startswith("Der 20.05.2099 liegt in der Zukunft") and not problems(known)


def test_problem_checks_catch_the_old_broken_strings():
    assert problems("Das liegt in der Zukunft liegt in der Zukunft – ich halte nur")
    assert problems("Aus deinem Verlauf weiß ich, dass 1 Warnzeichen zutreffen:")
    assert problems("Los geht's: 1 Vorschläge, die sich bewährt haben.")
    assert gender_problems("Hol deine Führungskraft dazu, ruf dem Kunden an.", "Frau Keller")
    assert gender_problems("„Guten Tag Müller GmbH, es tut mir leid", "Müller GmbH")
    assert gender_problems("Lass Herr Brandt ausreden.", "Herr Brandt")
    assert gender_problems("Zwischen dem 1. und 2. habe ich mit Müller GmbH", "Müller GmbH")


# --------------------------------------------------------------------------- other texts
def test_the_transition_suggestion_hands_over_to_another_provider():
    sentence = "Frau Müller, wir beenden die Zusammenarbeit zum 31.12., weil Rechnungen offen sind."
    text = suggest("transition", sentence)
    assert "anderen Anbieter" in text and "weiter betreuen" not in text
    assert "Kollegin" not in text and "Kollegen" not in text
    for template in texts.lookup("rubric", "suggestions.templates.transition"):
        assert "weiter betreuen" not in template["text"]


def test_the_reason_placeholder_has_the_verb_at_the_end():
    fallback = texts.lookup("rubric", "suggestions.templates.reasons.5.text")
    assert "drei Rechnungen seit mehr als 60 Tagen offen sind." in fallback
    assert "[" not in fallback  # no placeholder left for the user to fill


def test_role_play_tips_do_not_assume_the_clients_gender():
    for key, value in _walk(texts.load("roleplay"), ""):
        if key.startswith("hint.") or key.startswith("feedback.tips"):
            assert not re.search(r"\b(sein|seine|seinen|seinem|ihn|ihm)\b", value), (key, value)
    assert engine  # the engine fills these tips without a client
