"""Role-play feedback over REST with both servers running: the tester's problems 1, 2 and 4.

Each role-play is set up as a user would, the user's lines are played, and the role-play is
ended with "stopp" (or ends by itself); the assertions look only at the feedback text, so
they do not depend on what the client answers.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, List

LABELS = {
    "Klarheit": "clarity",
    "Begründung": "reasons",
    "Respekt": "respect",
    "Übergabe": "transition",
    "Wertschätzung": "appreciation",
    "Ruhe unter Druck": "calm",
}
DECISION = (
    "Ich habe entschieden, dass wir nach dem laufenden Messeauftrag keine neuen Aufträge "
    "mehr annehmen."
)
HANDOVER = "Den Messestand stellen wir fertig und schicken Ihnen danach alle Druckdaten."
REPORTED = (
    "Der Grund ist der Umgang mit meinem Team: Sie haben meine Support-Mitarbeiterin "
    "mehrfach angeschrien und unfähig genannt, zuletzt am vergangenen Dienstag."
)


def joined(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def play_and_stop(
    chat: Callable, tracker: Callable, sender: str, scenario: str, level: int, lines: List[str]
) -> str:
    """Play ``lines`` in a role-play of ``scenario`` and return the feedback text."""
    setup = chat(sender, "Ich möchte ein Trennungsgespräch üben")
    assert any(b["payload"] == scenario for r in setup for b in r.get("buttons", [])), joined(setup)
    chat(sender, scenario)
    chat(sender, str(level))
    assert tracker(sender)["slots"]["roleplay_active"] is True
    for line in lines:
        reply = joined(chat(sender, line))
        if tracker(sender)["slots"]["roleplay_active"] is False:
            return reply
    reply = joined(chat(sender, "stopp"))
    assert tracker(sender)["slots"]["roleplay_active"] is False
    return reply


def scores(feedback: str) -> Dict[str, int]:
    found = re.finditer(rf"({'|'.join(LABELS)}): (\d+) %", feedback)
    return {LABELS[m.group(1)]: int(m.group(2)) for m in found}


def quoted(feedback: str, label: str) -> List[str]:
    return re.findall(rf"• {re.escape(label)} – dein Satz: „(.+?)“ ", feedback)


def test_clear_first_line_is_clear_and_quoted_only_where_it_decided(chat, tracker, sender):
    feedback = play_and_stop(chat, tracker, sender, "late_payer", 1, [DECISION, HANDOVER])
    assert "Auswertung" in feedback, feedback
    got = scores(feedback)
    assert got["clarity"] >= 80 and got["transition"] >= 60, feedback
    assert quoted(feedback, "Klarheit") in ([], [DECISION]), feedback
    assert DECISION not in quoted(feedback, "Übergabe"), feedback
    assert "ohne „vielleicht“" not in feedback


def test_quoting_the_clients_insult_is_not_an_insult(chat, tracker, sender):
    lines = ["Herr Wollny, wir beenden die Zusammenarbeit zum Ende der Kündigungsfrist.", REPORTED]
    feedback = play_and_stop(chat, tracker, sender, "insults_staff", 2, lines)
    got = scores(feedback)
    assert got["respect"] >= 90 and got["reasons"] >= 80, feedback
    assert "Eskalationen: 0" in feedback, feedback
    assert REPORTED not in quoted(feedback, "Ruhe unter Druck") + quoted(feedback, "Respekt")


def test_keyword_traps_are_judged_like_a_trainer(chat, tracker, new_sender):
    facts = play_and_stop(
        chat,
        tracker,
        new_sender(),
        "false_claims",
        1,
        [
            "Herr Lindner, wir beenden die Zusammenarbeit zum Vertragsende.",
            "Der Grund ist, dass wir bei den Fakten nicht mehr zusammenkommen.",
        ],
    )
    assert scores(facts)["reasons"] >= 80, facts
    dated = play_and_stop(
        chat,
        tracker,
        new_sender(),
        "late_payer",
        1,
        [DECISION, "Sie zahlen seit einem Jahr immer 45 bis 90 Tage zu spät."],
    )
    assert scores(dated)["respect"] >= 90, dated
    rude = play_and_stop(
        chat,
        tracker,
        new_sender(),
        "extras",
        1,
        ["Was meinen Sie denn, warum?", "Ja, Ihr Problem halt."],
    )
    got = scores(rude)
    assert got["reasons"] == 0 and got["respect"] <= 30, rude
    assert "„Ja, Ihr Problem halt.“" in rude and "abfällig" in rude
