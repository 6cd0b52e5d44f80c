"""A conversation of 300 and 1,000 turns still does everything over REST (behaviour, not speed).

The long history is fed honestly and fast: one real block of turns is played over REST, and
the events the server stored for it are written again through the tracker store until the
conversation has the wanted length. Then, over REST: a case flow, a role-play turn, the
history and the data export – which must contain every turn. The tracker store loads only a
bounded window of it (``connectors/tracker_store.py``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest
from conftest import http_request
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot.storage import tracker_events
from connectors.tracker_store import WINDOW_MAX_TURNS, KlartextTrackerStore

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"https?://\S+?(/webhooks/export/download/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")

CASE = [
    ("Herr Brandt hat mich am Telefon übel beschimpft", "Wie oft"),
    ("Schon mehrmals", "Wie heftig"),
    ("Beleidigung", "Empfehlung"),
    ("Ja", ""),  # note it as an incident
]
ROLEPLAY = [
    ("Ich möchte ein Trennungsgespräch üben", "Welches Szenario"),
    ("late_payer", "Wie hart"),
    ("2", "Sabine Krüger:"),
    ("Ich möchte die Zusammenarbeit mit Ihnen beenden.", "Sabine Krüger:"),
    ("stopp", "Auswertung"),
]
BLOCK = [*CASE, ("Wie beende ich eine Kundenbeziehung professionell?", "In Kürze"), *ROLEPLAY]


def joined(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def play(chat: Callable, sender: str, turns: List[tuple]) -> None:
    for message, expected in turns:
        reply = joined(chat(sender, message))
        assert expected in reply, f"{message!r} -> {reply!r}"


def is_session_start(event: Dict[str, Any]) -> bool:
    return event["event"] == "session_started" or (
        event["event"] == "action" and event.get("name") == "action_session_start"
    )


async def lengthen(url: str, sender: str, turns: int) -> int:
    """Append copies of ``sender``'s stored turns until it has ``turns`` user messages."""
    played = tracker_events.export_events(url, sender)
    block = [event for event in played if not is_session_start(event)]
    per_block = sum(1 for event in block if event["event"] == "user")
    copies = -(-(turns - per_block) // per_block)
    store = KlartextTrackerStore(domain=Domain.load(ROOT / "domain.yml"), url=url)
    try:
        events = played + block * copies
        tracker = DialogueStateTracker.from_dict(sender, events, store.domain.slots)
        await store.save(tracker)  # appends what is not stored yet: the copies
        window = await store.retrieve(sender)
        users = [e for e in window.events if e.type_name == "user"]
        assert len(users) <= WINDOW_MAX_TURNS  # the server loads a bounded window
    finally:
        store.engine.dispose()
    return per_block * (copies + 1)


def export(servers, chat: Callable, sender: str) -> Dict[str, Any]:
    match = LINK.search(joined(chat(sender, "Exportiere meine Daten")))
    assert match, "no download link"
    status, raw, _ = http_request("GET", servers.base_url + match.group(1))
    assert status == 200, raw[:300]
    return json.loads(raw)


@pytest.mark.parametrize("turns", [300, 1000])
async def test_a_long_conversation_still_runs_cases_roleplays_history_and_export(
    servers, chat, new_sender, turns: int
) -> None:
    sender = new_sender()
    url = servers.extra_env["KLARTEXT_TRACKER_STORE_URL"]
    play(chat, sender, BLOCK)
    fed = await lengthen(url, sender, turns)
    assert fed >= turns

    play(chat, sender, CASE)  # the case flow: form questions and advice for the client
    play(chat, sender, ROLEPLAY)  # a role-play: set-up, two turns, feedback
    history = joined(chat(sender, "Zeig mir den Verlauf mit Herrn Brandt"))
    assert "Herrn Brandt" in history and "2 Vorfälle" in history, history
    progress = joined(chat(sender, "Wie habe ich mich entwickelt?"))
    assert "abgeschlossene Rollenspiele: 2" in progress, progress

    document = export(servers, chat, sender)
    users = [e["text"] for e in document["conversation_events"] if e.get("event") == "user"]
    assert len(users) >= fed + len(CASE) + len(ROLEPLAY) + 2  # every turn, + history, progress
    assert users[0] == BLOCK[0][0] and "Wie habe ich mich entwickelt?" in users[-2:]
