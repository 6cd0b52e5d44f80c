"""A user who comes back after the session expired, over REST (``actions/session.py``).

The old session is made old honestly: its events, as the server stored them, are written
again through the tracker store with timestamps five hours back (the expiry is 240 minutes).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, List

import pytest
from conftest import http_request
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot.storage import tracker_events
from connectors.tracker_store import KlartextTrackerStore

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
FIVE_HOURS = 5 * 3600
LINK = re.compile(r"https?://\S+?(/webhooks/export/download/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")


def joined(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


async def age(url: str, sender: str, seconds: float) -> None:
    """Store ``sender``'s conversation again, every event ``seconds`` older."""
    events = tracker_events.export_events(url, sender)
    for event in events:
        event["timestamp"] -= seconds
    tracker_events.delete_events(url, sender)
    store = KlartextTrackerStore(domain=Domain.load(ROOT / "domain.yml"), url=url)
    try:
        await store.save(DialogueStateTracker.from_dict(sender, events, store.domain.slots))
    finally:
        store.engine.dispose()


async def test_a_returning_user_is_told_where_they_left_off_not_asked_a_stale_question(
    servers, chat, tracker, sender
) -> None:
    url = servers.extra_env["KLARTEXT_TRACKER_STORE_URL"]
    assert "Wie oft" in joined(chat(sender, "Herr Brandt hat mich am Telefon übel beschimpft"))
    await age(url, sender, FIVE_HOURS)

    replies = chat(sender, "Schon mehrmals")  # the answer to a question asked five hours ago
    assert replies[0]["text"] == (
        "Letztes Mal ging es um Herrn Brandt – weiter damit oder etwas Neues?"
    )
    assert [b["payload"] for b in replies[0]["buttons"]] == ["/report_abuse", "/greet"]
    assert "Wie heftig" not in joined(replies)  # the half-filled form did not go on

    state = tracker(sender)
    assert [e["event"] for e in state["events"]].count("session_started") == 2
    assert state["slots"]["case"] == "abusive"
    assert "Brandt" in state["slots"]["client_name"]
    assert state["slots"]["requested_slot"] is None
    assert not (state["active_loop"] or {}).get("name")

    again = joined(chat(sender, "/report_abuse"))  # "Weiter damit": the case starts again
    assert "Wie oft" in again
    chat(sender, "stopp")

    match = LINK.search(joined(chat(sender, "Exportiere meine Daten")))
    assert match, "no download link"
    status, raw, _ = http_request("GET", servers.base_url + match.group(1))
    assert status == 200
    events = json.loads(raw)["conversation_events"]
    users = [e["text"] for e in events if e.get("event") == "user"]
    assert users[:3] == [
        "Herr Brandt hat mich am Telefon übel beschimpft",
        "Schon mehrmals",
        "/report_abuse",
    ]
    assert [e["event"] for e in events].count("session_started") == 2  # both sessions


async def test_a_user_back_within_the_expiry_goes_on_where_they_were(
    servers, chat, tracker, sender
) -> None:
    url = servers.extra_env["KLARTEXT_TRACKER_STORE_URL"]
    chat(sender, "Herr Brandt hat mich am Telefon übel beschimpft")
    await age(url, sender, 3 * 3600)  # three hours: the same session
    replies = joined(chat(sender, "Schon mehrmals"))
    assert "Wie heftig" in replies and "Letztes Mal" not in replies
    assert [e["event"] for e in tracker(sender)["events"]].count("session_started") == 1
