"""The history texts as the code builds them, for women, men and companies, for one and many.

Each path of bot/incidents.py and bot/boundaries.py that writes German (after saving an
incident, the timeline, the supervisor summary, the overview, the pre-filled warning-sign
check, boundary lines, the unknown-client answer) is rendered for "Frau Krüger", "Herrn
Brandt" (typed in the dative), "Müller GmbH", "Autohaus Brandl" and "Anna Keller", with one
and with several incidents, and checked for the grammar mistakes issue 11 found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Optional

import pytest

from bot import boundaries as bnd
from bot import clients, escalation, warning_signs
from bot import incidents as inc
from bot.texts import text

TODAY = date(2026, 11, 27)
OWN = "Nachrichten nach Feierabend"
CLIENTS = {
    "Frau Krüger": ("Frau Krüger", "zu Frau Krüger", "über Frau Krüger"),
    "Herrn Brandt": ("Herrn Brandt", "zu Herrn Brandt", "über Herrn Brandt"),
    "Müller GmbH": ("der Müller GmbH", "zur Müller GmbH", "über die Müller GmbH"),
    "Autohaus Brandl": ("dem Autohaus Brandl", "zum Autohaus Brandl", "über das Autohaus Brandl"),
    "Anna Keller": ("Anna Keller", "zu Anna Keller", "über Anna Keller"),
}
PLURAL_NOUNS = "Vorfälle|Grenzen|Tagen|Tage|Kunden|Rollenspiele|Rollenspiel-Ergebnisse"
PROBLEMS = {
    "placeholder": re.compile(r"[{}]|\bNone\b|‹"),
    "nominative after a preposition": re.compile(r"\b(?:über|zu|mit|bei|von|für|an|gegen) Herr\b"),
    "'zu der' instead of 'zur'": re.compile(r"\bzu (?:der|dem)\b"),
    "bare 1 before a plural": re.compile(rf"(?<![\d.,])\b1 (?:{PLURAL_NOUNS})\b"),
    "sentence starts with an article": re.compile(
        r"(?:^|[.!?]\s+|\n)(?:die|der|das|dem|den) [A-Z]"
    ),
    "doubled word": re.compile(r"\b(\w{3,}) \1\b"),
    "unnamed client": re.compile(r"\b(?:der|dem|den) Kunden?\b"),
}


@dataclass
class Inc:
    behavior: str
    occurred_on: date
    id: int
    client: str
    note: Optional[str] = None
    label: Optional[str] = None
    level_hint: Optional[int] = None


@dataclass
class B:
    behavior: str
    max_count: Optional[int] = None
    period_days: Optional[int] = None
    note: Optional[str] = None
    label: Optional[str] = None


def problems(rendered: str) -> list[str]:
    return [name for name, pattern in PROBLEMS.items() if pattern.search(rendered)]


def history(client: str, n: int, behavior: str = "insult") -> list[Inc]:
    name = clients.display_name(client)
    label = OWN if escalation.is_custom(behavior) else None
    return [
        Inc(behavior, TODAY - timedelta(days=3 * (n - k)), k + 1, name, f"Notiz {k}", label)
        for k in range(n)
    ]


LIMITS = [B("insult"), B("shouting", 2, 1), B(escalation.custom_key(OWN), 2, 30, label=OWN)]
BEHAVIORS = ["insult", "shouting", "late_payment", escalation.custom_key(OWN), "physical_threat"]


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("count", [1, 2, 5])
@pytest.mark.parametrize("behavior", BEHAVIORS)
def test_every_history_path_reads_right(client, count, behavior):
    items = history(client, count, behavior)
    name = items[0].client
    rendered = {
        "after_logging": inc.after_logging(items[-1], items, LIMITS, TODAY),
        "timeline": inc.timeline(name, items, LIMITS, TODAY),
        "overview": inc.overview({name: items}, LIMITS, TODAY),
    }
    assessment = escalation.assess(items, LIMITS, TODAY)
    rendered["summary"] = [inc.summary(name, assessment)]
    prefill = inc.warning_prefill(items, TODAY)
    if prefill:
        rendered["prefill"] = [
            inc.prefill_question(name, prefill, warning_signs.keys(), len(warning_signs.keys()))
        ]
    for path, messages in rendered.items():
        for message in messages:
            assert not problems(message), (path, client, count, message, problems(message))


@pytest.mark.parametrize("client,expected", CLIENTS.items())
def test_prepositions_take_the_right_case(client, expected):
    dative, to, about = expected
    forms = clients.forms(clients.display_name(client))
    assert (forms["client_dative"], forms["client_to"], forms["client_about"]) == expected
    first = inc.after_logging(history(client, 1)[0], history(client, 1), [], TODAY)
    assert f"den ich {to} gespeichert habe" in "\n".join(first)
    assert text("history", "history.unknown_client", **forms) == (
        f"Ich habe keine Vorfälle {to} gespeichert."
    )
    timeline = inc.timeline(clients.display_name(client), history(client, 1), [], TODAY)[0]
    assert timeline.startswith(f"Verlauf mit {dative} – 1 Vorfall:")


@pytest.mark.parametrize("n,expected", [(1, "1 Vorfall"), (2, "2 Vorfälle"), (1, "1 Grenze")])
def test_counts_take_singular_and_plural(n, expected):
    kind = "boundaries" if "Grenze" in expected else "incidents"
    assert bnd.plural(kind, n) == expected


@pytest.mark.parametrize(
    "boundary,line",
    [
        (B("insult"), "Beleidigung: absolutes No-Go – schon einmal ist zu viel"),
        (B("shouting", 2, 1), "Anschreien: Grenze erreicht ab dem 2. Mal innerhalb von 1 Tag"),
        (B("shouting", 3, 7), "Anschreien: Grenze erreicht ab dem 3. Mal innerhalb von 7 Tagen"),
        (
            B(escalation.custom_key(OWN), 3, 30, label=OWN),
            "Nachrichten nach Feierabend: Grenze erreicht ab dem 3. Mal innerhalb von 30 Tagen",
        ),
    ],
)
def test_boundary_lines(boundary, line):
    assert bnd.describe_boundary(boundary) == line
    assert not problems(line)


def test_invalid_messages_name_own_boundaries_too():
    message = inc.invalid_message("behavior_unknown", value="geniest", own=[OWN])
    assert "„geniest“" in message and message.rstrip(".").endswith(OWN)
    assert "Nachrichten nach Feierabend" in inc.invalid_message("behavior_own_words")
