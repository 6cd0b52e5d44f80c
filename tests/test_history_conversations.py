"""Boundaries, incidents, escalation, history, export and deletion over the REST channel.

The whole scenario as a user has it, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any, Callable, Dict, List

import pytest
from conftest import http_request

pytestmark = pytest.mark.integration

LINK = re.compile(r"https?://\S+?(/webhooks/export/download/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")


class Bot:
    """Talk to one server pair."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def say(self, sender: str, text: str) -> str:
        status, raw, _ = http_request(
            "POST",
            f"{self.base_url}/webhooks/rest/webhook",
            json.dumps({"sender": sender, "message": text}).encode("utf-8"),
            {"Content-Type": "application/json"},
        )
        assert status == 200, raw[:300]
        replies = json.loads(raw)
        self.last_buttons = [b for r in replies for b in r.get("buttons", [])]
        return "\n".join(r.get("text", "") for r in replies)

    def talk(self, sender: str, *messages: str) -> List[str]:
        return [self.say(sender, m) for m in messages]

    def tracker(self, sender: str) -> Dict[str, Any]:
        status, raw, _ = http_request(
            "GET", f"{self.base_url}/conversations/{urllib.parse.quote(sender, safe='')}/tracker"
        )
        assert status == 200
        return json.loads(raw)

    def export(self, sender: str) -> Dict[str, Any]:
        reply = self.say(sender, "Exportiere meine Daten")
        match = LINK.search(reply)
        assert match, f"no download link in: {reply}"
        status, raw, headers = http_request("GET", self.base_url + match.group(1))
        assert status == 200, raw[:300]
        assert "attachment" in headers.get("Content-Disposition", "")
        return json.loads(raw)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def bot(request) -> Bot:
    pair = request.getfixturevalue("servers" if request.param == "sqlite" else "pg_servers")
    return Bot(pair.base_url)


@pytest.fixture
def sqlite_bot(servers) -> Bot:
    return Bot(servers.base_url)


def log_incident(bot: Bot, sender: str, client: str, behavior: str, when: str, note: str) -> str:
    replies = bot.talk(sender, "Vorfall erfassen", client, behavior, when, note)
    assert "Um welchen Kunden" in replies[0]
    assert not any(
        word in replies[0] for word in ("zuordnen", "Namen des Kunden", "nicht verstanden")
    ), replies[0]
    assert "Was ist passiert" in replies[1]
    assert "Wann war das" in replies[2]
    assert "notieren" in replies[3]
    return replies[4]


def test_boundaries_incidents_ladder_history_export_and_delete(
    bot: Bot, new_sender: Callable[[], str]
):
    a, b = new_sender(), new_sender()

    # user B: same client name, own boundary and incident – must stay untouched throughout
    bot.talk(
        b,
        "Ich will festhalten, dass ich Beleidigungen nicht mehr akzeptiere",
        "3-mal in 30 Tagen",
        "keine Notiz",
        "Ja",
    )
    saved_b = log_incident(bot, b, "Müller GmbH", "Zahlungsverzug", "gestern", "Rechnung 17 offen")
    assert "Festgehalten" in saved_b

    # two boundaries, each confirmed before it is saved
    first = bot.talk(
        a,
        "Ich will festhalten, dass ich Beleidigungen nicht mehr akzeptiere",
        "No-Go",
        "keine Notiz",
    )
    assert "Ab wann ist bei „Beleidigung“" in first[0]
    assert "Ich habe verstanden: Beleidigung: absolutes No-Go" in first[2]
    assert "Gespeichert" in bot.say(a, "Ja")
    second = bot.talk(
        a, "Ich lasse mich nicht mehr anschreien", "2-mal in 30 Tagen", "Dann lege ich auf"
    )
    assert (
        "Anschreien: Grenze erreicht ab dem 2. Mal innerhalb von 30 Tagen "
        "(Notiz: Dann lege ich auf)" in second[2]
    )
    assert "2 Grenzen" in bot.say(a, "Ja")
    listed = bot.say(a, "Zeig mir meine Grenzen")
    assert (
        "Beleidigung: absolutes No-Go" in listed
        and "Anschreien: Grenze erreicht ab dem 2. Mal" in listed
    )

    # four incidents with one client across several days: the recommendation climbs step by step
    one = log_incident(
        bot, a, "Müller GmbH", "Anschreien", "vor 6 Tagen", "Hat am Telefon herumgeschrien"
    )
    assert "Stufe 1 von 6 – Erstes Dampfablassen akzeptieren" in one and "überschritten" not in one
    two = log_incident(bot, a, "müller gmbh", "Anschreien", "vor 4 Tagen", "keine Notiz")
    assert "Stufe 2 von 6 – Klärendes Gespräch, konstruktiver Hinweis" in two
    assert (
        "deine Grenze „Anschreien: Grenze erreicht ab dem 2. Mal innerhalb von 30 Tagen“ "
        "überschritten" in two
    )
    three = log_incident(
        bot, a, "Müller GmbH", "Beleidigung", "vorgestern", "Hat mich Versager genannt"
    )
    assert "Stufe 3 von 6 – Zweites Gespräch nach interner Klärung" in three
    assert (
        "deine Grenze „Beleidigung: absolutes No-Go – schon einmal ist zu viel“ überschritten"
        in three
    )
    four = log_incident(bot, a, "Müller GmbH", "Anschreien", "heute", "Wieder laut geworden")
    assert "Stufe 4 von 6 – Auf schriftliche Kommunikation wechseln" in four
    assert "Grenze „Anschreien" in four and "(3× seit" in four
    assert "Falls es wieder passiert: Vorgesetzte einbeziehen" in four

    timeline = bot.say(a, "Zeig mir den Verlauf mit Müller GmbH")
    assert "Verlauf mit der Müller GmbH – 4 Vorfälle" in timeline
    assert len(re.findall(r"• \w\w, \d\d\.\d\d\.\d{4} · ", timeline)) == 4
    assert "„Hat mich Versager genannt“" in timeline and "Rechnung 17" not in timeline
    assert "Stufe 4 von 6" in timeline
    overview = bot.say(a, "Zeig mir die Vorfälle")
    assert "1. Müller GmbH – Stufe 4/6" in overview

    # export: everything about A, nothing about B
    exported = bot.export(a)
    assert exported["sender_id"] == a
    assert sorted(x["behavior"] for x in exported["boundaries"]) == ["insult", "shouting"]
    assert [x["behavior"] for x in exported["incidents"]] == [
        "shouting",
        "shouting",
        "insult",
        "shouting",
    ]
    assert [c["name"] for c in exported["clients"]] == ["Müller GmbH"]
    assert any(
        e.get("event") == "user" and "Vorfall erfassen" in (e.get("text") or "")
        for e in exported["conversation_events"]
    )
    assert "Rechnung 17" not in json.dumps(exported, ensure_ascii=False) and b not in json.dumps(
        exported
    )

    # delete after a confirmation
    question = bot.say(a, "Lösch alle meine Daten")
    assert (
        "wirklich alles löschen" in question
        and "nicht eindeutig" not in question
        and "2 Grenzen, 1 Kunde und 4 Vorfälle" in question
    )
    done = bot.say(a, "Ja, alles löschen")
    assert "Erledigt" in done and "2 Grenzen, 1 Kunde und 4 Vorfälle" in done
    assert "Gesprächsereignisse" in done
    assert not bot.tracker(a)["events"] or all(
        e.get("event") != "user" for e in bot.tracker(a)["events"]
    )

    # a following message starts a fresh conversation, a following export is empty
    bot.say(a, "Hallo")
    slots = bot.tracker(a)["slots"]
    assert (
        slots["case"] is None and slots["client_name"] is None and slots["delete_confirm"] is None
    )
    after = bot.export(a)
    assert after["user"] is None
    assert all(after[k] == [] for k in ("boundaries", "clients", "incidents", "roleplays"))
    texts = [e.get("text") or "" for e in after["conversation_events"] if e.get("event") == "user"]
    assert texts == ["Hallo", "Exportiere meine Daten"]

    # B is untouched
    exported_b = bot.export(b)
    assert [x["note"] for x in exported_b["incidents"]] == ["Rechnung 17 offen"]
    assert [(x["behavior"], x["max_count"]) for x in exported_b["boundaries"]] == [("insult", 3)]
    assert "Verlauf mit der Müller GmbH – 1 Vorfall" in bot.say(
        b, "Zeig mir den Verlauf mit Müller GmbH"
    )


def test_bad_input_gets_a_clear_answer_and_stores_nothing(sqlite_bot: Bot, sender: str):
    bot = sqlite_bot
    bot.say(sender, "Vorfall erfassen")
    assert "Namen des Kunden" in bot.say(sender, "!!!")
    assert "spitze Klammern" in bot.say(sender, "<script>alert(1)</script>")
    assert "Was ist passiert" in bot.say(sender, "Robert'); DROP TABLE clients;--")
    assert "keinem Verhalten zuordnen" in bot.say(sender, "Er hat geniest")
    assert "Wann war das" in bot.say(sender, "Drohung")
    assert "in der Zukunft" in bot.say(sender, "20.05.2099")
    assert "nicht verstanden" in bot.say(sender, "irgendwann")
    assert "notieren" in bot.say(sender, "gestern")
    too_long = bot.say(sender, "x" * 2000)
    assert "2000 Zeichen" in too_long and "höchstens 500" in too_long
    saved = bot.say(sender, "Er hat mit dem Anwalt gedroht")
    assert "Festgehalten" in saved and "Robert'); DROP TABLE clients;--" in saved
    exported = bot.export(sender)
    assert [(i["client"], i["behavior"], i["note"]) for i in exported["incidents"]] == [
        ("Robert'); DROP TABLE clients;--", "threat", "Er hat mit dem Anwalt gedroht")
    ]
    # a pressure threat (lawyer): a clarifying talk first, no summary for the supervisor yet
    history = bot.say(sender, "Zeig mir die Vorfälle")
    assert "Stufe 2/6" in history
    timeline = bot.say(sender, "Zeig mir den Verlauf mit Robert'); DROP TABLE clients;--")
    assert "Verlauf mit Robert'); DROP TABLE clients;-- – 1 Vorfall" in timeline
    assert "Betreff" not in timeline

    # boundary: unknown behaviour and out-of-range threshold are refused, nothing saved on "Nein"
    assert "noch keine persönlichen Grenzen" in bot.say(
        sender, "Ich will eine persönliche Grenze speichern"
    )
    own = bot.say(sender, "/set_boundary")  # button "Selbst festlegen"
    assert "Um welches Verhalten" in own and "zuordnen" not in own and "nicht als Grenze" not in own
    # any behaviour in own words is taken (issue 11); only an answer without words is not
    assert "in wenigen Worten" in bot.say(sender, "!!!")
    assert "Ab wann" in bot.say(sender, "Preisdruck")
    assert "zwischen 2 und 50" in bot.say(sender, "500 mal am Tag")
    bot.talk(sender, "No-Go", "keine Notiz")
    assert "nichts gespeichert" in bot.say(sender, "Nein")
    assert bot.export(sender)["boundaries"] == []


def test_case_flow_offers_to_record_the_incident(sqlite_bot: Bot, sender: str):
    bot = sqlite_bot
    bot.talk(sender, "Die Müller GmbH hat mich heute am Telefon übel beschimpft", "Schon mehrmals")
    advice = bot.say(sender, "Beleidigung")
    assert "Soll ich das als Vorfall festhalten? Müller GmbH · Beleidigung" in advice
    assert [b["payload"] for b in bot.last_buttons] == ["/affirm", "/deny"]
    saved = bot.say(sender, "/affirm")
    assert "Festgehalten" in saved and "Müller GmbH" in saved and "Stufe 3 von 6" in saved
    assert len(bot.export(sender)["incidents"]) == 1


def test_case_flow_without_a_client_asks_only_for_the_client(sqlite_bot: Bot, sender: str):
    bot = sqlite_bot
    bot.talk(
        sender,
        "Der Kunde verlangt ständig Zusatzleistungen, die er nicht bezahlen will",
        "Jeden Monat eine Gratis-Auswertung",
        "Nein",
        "Ja, ständig",
        "Nein",
    )
    advice = bot.say(sender, "nichts davon")
    assert "Soll ich das als Vorfall festhalten (Unbezahlte Zusatzarbeit" in advice
    assert "Um welchen Kunden" in bot.say(sender, "/affirm")
    saved = bot.say(sender, "Weber Logistik")
    assert "Festgehalten" in saved and "Weber Logistik · Unbezahlte Zusatzarbeit" in saved
    incident = bot.export(sender)["incidents"][0]
    assert (incident["note"], incident["source"], incident["case"]) == (
        "Jeden Monat eine Gratis-Auswertung",
        "case",
        "extra_requests",
    )


def test_guided_setup_and_editing_a_boundary(sqlite_bot: Bot, sender: str):
    bot = sqlite_bot
    offer = bot.say(sender, "Zeig mir meine Grenzen")
    assert "noch keine persönlichen Grenzen" in offer
    intro = bot.say(sender, "/affirm")
    assert "1/5" in intro and "Beleidigung" in intro
    replies = bot.talk(sender, "Ja", "Nein", "Ja", "Nein", "Nein")
    assert "2/5" in replies[0] and "Gespeichert" in replies[-1]
    listed = bot.say(sender, "Zeig mir meine Grenzen")
    assert (
        "Beleidigung: absolutes No-Go" in listed
        and "Anschreien" in listed
        and "Drohung" not in listed
    )
    edit = bot.say(sender, '/set_boundary{"behavior": "insult"}')
    assert "Bisher gilt bei dir: absolutes No-Go" in edit
    assert "Soll ich deine Grenze „Beleidigung" in bot.say(sender, "Grenze entfernen")
    assert "Entfernt" in bot.say(sender, "Ja")
    assert [x["behavior"] for x in bot.export(sender)["boundaries"]] == ["shouting"]


def test_ending_check_is_prefilled_from_the_history(sqlite_bot: Bot, sender: str):
    bot = sqlite_bot
    log_incident(bot, sender, "Becker AG", "Zahlungsverzug", "vor 10 Tagen", "keine Notiz")
    log_incident(bot, sender, "Becker AG", "Beleidigung", "gestern", "keine Notiz")
    start = bot.say(sender, "Sollte ich die Zusammenarbeit mit Becker AG beenden?")
    assert "Aus deinem Verlauf mit der Becker AG" in start
    assert "Zahlungsausfälle" in start and "fehlender Respekt" in start
    first_question = bot.say(sender, "Ja, stimmt")
    assert "1/10" in first_question
    replies = bot.talk(sender, *["Nein"] * 8)
    assert "Zusatzfrage" in replies[-1]  # signs apply: was there a clarifying talk already?
    assert "2 von 10" in bot.say(sender, "Nein")


def test_two_users_cannot_touch_each_others_data(sqlite_bot: Bot, new_sender: Callable[[], str]):
    bot = sqlite_bot
    a, b = new_sender(), new_sender()
    log_incident(bot, a, "Hotel Alpenblick", "Drohung", "heute", "A's Notiz")
    assert "keine Vorfälle" in bot.say(b, "Zeig mir den Verlauf mit Hotel Alpenblick")
    bot.talk(b, "Lösch alle meine Daten", "Ja, alles löschen")
    assert [i["note"] for i in bot.export(a)["incidents"]] == ["A's Notiz"]


def test_stopp_cancels_every_history_flow_and_stores_nothing(sqlite_bot: Bot, sender: str):
    """A "stopp" ends the boundary, set-up, incident and deletion flows; nothing is stored.

    The whole message ends them (bot/answers.yml `cancel`), not an NLU guess.
    """
    bot = sqlite_bot
    stopped = "ich habe abgebrochen"
    bot.say(sender, "Vorfall erfassen")
    bot.say(sender, "Müller GmbH")
    assert stopped in bot.say(sender, "stopp")
    bot.say(sender, "Ich will eine Grenze für Anschreien festlegen")
    assert stopped in bot.say(sender, "Abbrechen")
    bot.say(sender, "Zeig mir meine Grenzen")
    assert "1/5" in bot.say(sender, "/affirm")
    assert "2/5" in bot.say(sender, "Ja")  # accepted the first suggestion …
    assert stopped in bot.say(sender, "stopp")  # … but stopped: nothing of the set-up is saved
    assert bot.export(sender)["boundaries"] == [] and bot.export(sender)["incidents"] == []
    # an answer that merely sounds like stopping is an answer, not a cancel
    bot.talk(sender, "Vorfall erfassen", "Bäckerei Huber", "Beleidigung", "heute")
    saved = bot.say(sender, "Er sagte, ich soll sofort aufhören zu reden")
    assert "Festgehalten" in saved
    assert [i["note"] for i in bot.export(sender)["incidents"]] == [
        "Er sagte, ich soll sofort aufhören zu reden"
    ]
    bot.say(sender, "Lösche alle meine Daten")
    assert "nichts gelöscht" in bot.say(sender, "stopp")
    assert len(bot.export(sender)["incidents"]) == 1
