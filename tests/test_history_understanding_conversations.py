"""Boundaries, incidents and history as users say them (issue 11), over REST.

Each test is one conversation through the Rasa server and the action server: boundaries in
the user's own words, thresholds in natural German, crossed boundaries named once, dates and
corrections where an incident is offered, client names with titles, articles and case
endings, and the German around them.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any, Callable, Dict, List

import pytest
from conftest import http_request

from bot import dates

Chat = Callable[[str, str], List[Dict[str, Any]]]
LINK = re.compile(r"https?://\S+?(/webhooks/export/download/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")


def say(chat: Chat, sender: str, message: str) -> str:
    return "\n".join(r.get("text") or "" for r in chat(sender, message))


def buttons(chat: Chat, sender: str, message: str) -> tuple[str, List[str]]:
    replies = chat(sender, message)
    titles = [b["title"] for r in replies for b in r.get("buttons") or []]
    return "\n".join(r.get("text") or "" for r in replies), titles


def talk(chat: Chat, sender: str, *messages: str) -> List[str]:
    return [say(chat, sender, m) for m in messages]


def exported(chat: Chat, servers, sender: str) -> Dict[str, Any]:
    match = LINK.search(say(chat, sender, "Exportiere meine Daten"))
    assert match, "no download link"
    status, raw, _ = http_request("GET", servers.base_url + match.group(1))
    assert status == 200, raw[:300]
    return json.loads(raw)


def log(chat: Chat, sender: str, client: str, behaviour: str, when: str) -> str:
    """The incident form with every answer; returns the coach's answer after saving."""
    replies = talk(chat, sender, "Vorfall erfassen", client, behaviour, when, "keine Notiz")
    assert "Was ist passiert" in replies[1], replies[1]
    assert "Wann war das" in replies[2], replies[2]
    assert "Festgehalten" in replies[4], replies[4]
    return replies[4]


def day(days_ago: int) -> str:
    return dates.format_date(dates.today() - timedelta(days=days_ago))


def last_monday() -> str:
    today = dates.today()
    return dates.format_date(today - timedelta(days=today.weekday()))


# --------------------------------------------------------------------------- own words
def test_a_boundary_in_own_words_is_kept_shown_and_crossed(chat: Chat, servers, sender: str):
    start = say(chat, sender, "Ich will eine Grenze für Nachrichten nach Feierabend festlegen")
    assert "Ab wann ist bei „Nachrichten nach Feierabend“" in start
    unclear, options = buttons(chat, sender, "weiß nicht")
    assert "z. B." in unclear and "mehr als zweimal im Monat" in unclear
    assert "No-Go (schon einmal ist zu viel)" in options and len(options) >= 3
    say(chat, sender, "mehr als zweimal im Monat")
    confirm = say(chat, sender, "keine Notiz")
    assert "in deinen Worten" in confirm
    assert (
        "Nachrichten nach Feierabend: Grenze erreicht ab dem 3. Mal innerhalb von 30 Tagen"
        in confirm
    )
    assert "Gespeichert" in say(chat, sender, "Ja")
    assert "• Nachrichten nach Feierabend: Grenze erreicht ab dem 3. Mal" in say(
        chat, sender, "Zeig mir meine Grenzen"
    )

    first = log(
        chat, sender, "Herr Brandt", "Er schreibt mir Nachrichten nach Feierabend", "vor 9 Tagen"
    )
    assert "Herr Brandt · Nachrichten nach Feierabend" in first and "überschritten" not in first
    second = log(chat, sender, "Herrn Brandt", "Nachricht nach Feierabend", "vor 5 Tagen")
    assert "überschritten" not in second
    other = log(chat, sender, "Herr Brandt", "Beleidigung", "vorgestern")
    assert "überschritten" not in other
    third = log(chat, sender, "brandt", "schon wieder Nachrichten nach Feierabend", "gestern")
    assert (
        "Herr Brandt hat damit deine Grenze „Nachrichten nach Feierabend: Grenze erreicht ab dem "
        "3. Mal innerhalb von 30 Tagen“ überschritten (3× seit " + day(9) + ")" in third
    )
    data = exported(chat, servers, sender)
    assert [b["label"] for b in data["boundaries"]] == ["Nachrichten nach Feierabend"]
    assert [c["name"] for c in data["clients"]] == ["Herr Brandt"]
    labels = [i["label"] for i in data["incidents"]]
    assert labels.count("Nachrichten nach Feierabend") == 3


# --------------------------------------------------------------------------- crossings
def test_a_crossing_is_named_once_when_it_happens(chat: Chat, sender: str):
    talk(chat, sender, "Ich will festhalten, dass ich Beleidigungen nicht mehr akzeptiere")
    talk(chat, sender, "nie", "keine Notiz", "Ja")
    start = say(chat, sender, "Ich lasse mich nicht mehr anschreien")
    assert "Ab wann ist bei „Anschreien“" in start
    assert (
        "ab dem 3. Mal innerhalb von 30 Tagen"
        in talk(chat, sender, "3× in 30 Tagen", "keine Notiz")[1]
    )
    assert "2 Grenzen" in say(chat, sender, "Ja")

    insult = log(chat, sender, "Müller GmbH", "Beleidigung", "heute")
    assert "Grenze „Beleidigung: absolutes No-Go" in insult
    unrelated = log(chat, sender, "Müller GmbH", "Zahlungsverzug", "vor 3 Tagen")
    assert "überschritten" not in unrelated  # the old no-go is not repeated
    one = log(chat, sender, "Müller GmbH", "Anschreien", "vor 20 Tagen")
    two = log(chat, sender, "Müller GmbH", "Anschreien", "vor 10 Tagen")
    assert "überschritten" not in one + two
    three = log(chat, sender, "Müller GmbH", "Anschreien", "gestern")  # dated before the insult
    assert "deine Grenze „Anschreien: Grenze erreicht ab dem 3. Mal" in three
    assert f"(3× seit {day(20)})" in three and "Beleidigung" not in three.split("Stand")[0]
    again = log(chat, sender, "Müller GmbH", "Beleidigung", "heute")
    assert "Damit hat die Müller GmbH deine Grenze „Beleidigung: No-Go“ erneut überschritten." in (
        again
    )
    assert "Achtung" not in again


# --------------------------------------------------------------------------- dates
def test_the_case_offer_keeps_the_day_named_with_the_yes(chat: Chat, servers, sender: str):
    talk(chat, sender, "Herr Brandt hat mich am Telefon übel beschimpft", "Schon mehrmals")
    offer = say(chat, sender, "Beleidigung")
    assert "Soll ich das als Vorfall festhalten? Herr Brandt · Beleidigung" in offer
    saved = say(chat, sender, "Ja, aber das war gestern")
    assert f"Festgehalten: {day(1)} · Herr Brandt · Beleidigung." in saved
    assert "Das ist der erste Vorfall, den ich zu Herrn Brandt gespeichert habe." in saved
    incidents = exported(chat, servers, sender)["incidents"]
    assert [i["occurred_on"] for i in incidents] == [
        (dates.today() - timedelta(days=1)).isoformat()
    ]


def test_the_safety_log_keeps_the_day_and_takes_a_correction(chat: Chat, servers, sender: str):
    say(chat, sender, "Frau Krüger hat gedroht, mich zu schlagen")
    assert "notieren" in say(chat, sender, "Ja, aber das war vorgestern")
    corrected = say(chat, sender, "nein, am montag")
    assert f"am {last_monday()}" in corrected and "notieren" in corrected
    saved = say(chat, sender, "Sie stand mit erhobener Faust vor mir")
    assert f"Festgehalten: {last_monday()} · Frau Krüger · Drohung mit Gewalt." in saved
    assert "zu Frau Krüger gespeichert" in saved


def test_the_incident_form_takes_dates_and_corrections(chat: Chat, servers, sender: str):
    talk(chat, sender, "Vorfall erfassen", "der Firma Müller", "Zahlungsverzug")
    assert "notieren" in say(chat, sender, "am 3.11.")
    assert "korrigiert" in say(chat, sender, "nein, vorgestern")
    saved = say(chat, sender, "Rechnung 12 offen")
    assert f"Festgehalten: {day(2)} · Firma Müller · Zahlungsverzug." in saved
    assert "den ich zur Firma Müller gespeichert habe" in saved


# --------------------------------------------------------------------------- client names
def test_client_names_with_titles_articles_and_endings_are_one_client(
    chat: Chat, servers, sender: str
):
    log(chat, sender, "mit Herrn Brandt", "Anschreien", "vor 3 Tagen")
    log(chat, sender, "Herr Brandt", "Anschreien", "gestern")
    log(chat, sender, "Müller GmbH", "Zahlungsverzug", "vor 4 Tagen")
    for name in ("der Firma Müller", "bei Müller", "mueller"):
        log(chat, sender, name, "Zahlungsverzug", "heute")
    history = say(chat, sender, "Verlauf mit Herrn Brandt")
    assert "Verlauf mit Herrn Brandt – 2 Vorfälle" in history
    assert "Verlauf mit Herrn Brandt – 2 Vorfälle" in say(chat, sender, "Verlauf Herr Brandt")
    assert "Verlauf mit der Müller GmbH – 4 Vorfälle" in say(
        chat, sender, "Zeig mir den Verlauf bei der Firma Müller"
    )
    assert "Ich habe keine Vorfälle zu Herrn Schulz gespeichert." in say(
        chat, sender, "Verlauf mit Herrn Schulz"
    )
    data = exported(chat, servers, sender)
    assert sorted(c["name"] for c in data["clients"]) == ["Herr Brandt", "Müller GmbH"]


def test_an_own_words_boundary_is_set_in_the_form_edited_and_removed(
    chat: Chat, servers, sender: str
):
    assert "noch keine persönlichen Grenzen" in say(
        chat, sender, "Ich will eine persönliche Grenze speichern"
    )
    assert "Um welches Verhalten" in say(chat, sender, "/set_boundary")  # "Selbst festlegen"
    assert "Ab wann ist bei „Anrufe am Wochenende“" in say(chat, sender, "Anrufe am Wochenende")
    confirm = talk(chat, sender, "beim ersten Mal", "keine Notiz")[1]
    assert "Anrufe am Wochenende: absolutes No-Go" in confirm
    assert "1 Grenze" in say(chat, sender, "Ja")

    replies = chat(sender, "Zeig mir meine Grenzen")
    edit = next(
        b["payload"]
        for r in replies
        for b in r.get("buttons") or []
        if b["title"] == "Anrufe am Wochenende ändern/entfernen"
    )
    assert "Bisher gilt bei dir: absolutes No-Go" in say(chat, sender, edit)
    replace = talk(chat, sender, "ab dem zweiten Mal", "keine Notiz")[1]
    assert "ersetzt deine bisherige Grenze „Anrufe am Wochenende: absolutes No-Go" in replace
    assert "Anrufe am Wochenende: Grenze erreicht ab dem 2. Mal innerhalb von 30 Tagen" in replace
    assert "1 Grenze" in say(chat, sender, "Ja")

    assert "Bisher gilt bei dir" in say(chat, sender, edit)
    assert "Soll ich deine Grenze „Anrufe am Wochenende" in say(chat, sender, "Grenze entfernen")
    assert "Entfernt" in say(chat, sender, "Ja")
    assert exported(chat, servers, sender)["boundaries"] == []


@pytest.mark.parametrize("answer", ["Ja, am 3.11.", "nein, am montag"])
def test_the_case_offer_keeps_a_day_named_in_any_words(chat: Chat, sender: str, answer: str):
    talk(chat, sender, "Herr Brandt hat mich am Telefon übel beschimpft", "Schon mehrmals")
    assert "Soll ich das als Vorfall festhalten?" in say(chat, sender, "Beleidigung")
    day = dates.find_date(answer)
    assert f"Festgehalten: {dates.format_date(day)} · Herr Brandt" in say(chat, sender, answer)
