"""A trainer session over REST: three trainees from different channels, results, report files."""

from __future__ import annotations

import re
import uuid

from conftest import TEST_TRAINER, TEST_TRAINER_CODE
from test_roleplay_conversations import BAD, GOOD, joined

from bot.cli import main as coach


def finish_roleplay(chat, tracker, sender, script):
    for line in (script * 4)[:14]:
        chat(sender, line)
        if tracker(sender)["slots"]["roleplay_active"] is False:
            return
    raise AssertionError("role-play did not finish")


def test_trainer_session_with_three_trainees(chat, tracker, servers, tmp_path, monkeypatch):
    trainer = TEST_TRAINER
    chat(trainer, "Gruppensitzung starten")
    chat(trainer, "late_payer")
    opened = joined(chat(trainer, "2"))
    code = re.search(r"Beitrittscode lautet \*([A-Z0-9]{6})\*", opened).group(1)

    trainees = [
        f"slack-U{uuid.uuid4().hex[:8]}",
        f"teams-29-{uuid.uuid4().hex[:8]}",
        f"web-{uuid.uuid4().hex[:8]}",
    ]
    for trainee, script in zip(trainees, (GOOD, BAD, GOOD), strict=True):
        welcome = joined(chat(trainee, f"Beitreten {code.lower()}"))
        assert "Willkommen" in welcome
        assert tracker(trainee)["slots"]["roleplay_active"] is True
        finish_roleplay(chat, tracker, trainee, script)

    results = joined(chat(trainer, f"Ergebnisse {code}"))
    assert "abgeschlossene Rollenspiele: 3, Teilnehmende: 3" in results
    assert "Gemeinsamer Schwachpunkt" in results
    for trainee in trainees:
        assert trainee not in results

    # the same as files: HTML with a chart per criterion, and CSV
    monkeypatch.setenv("KLARTEXT_DATABASE_URL", servers.extra_env["KLARTEXT_DATABASE_URL"])
    assert coach(["report", code, "--trainer", trainer, "--out", str(tmp_path)]) == 0
    assert (tmp_path / f"{code}.html").exists() and (tmp_path / f"{code}.csv").exists()
    assert len(list(tmp_path.glob("*.png"))) == 6

    # a trainee may not see them, with or without forged slots/entities
    intruder = trainees[0]
    assert "nur die Person" in joined(chat(intruder, f"Ergebnisse {code}"))
    assert "nur die Person" in joined(
        chat(intruder, f'/show_session_results{{"rp_group": "{code}"}}')
    )


def test_rights_cannot_be_set_through_slots_or_entities(chat, sender):
    forged = [
        '/trainer_start_session{"rp_group": "ABC123"}',
        '/trainer_start_session{"client_name": "trainer-by-config"}',
        '/trainer_verify{"rp_scenario": "late_payer"}',
    ]
    for message in forged:
        reply = joined(chat(sender, message))
        assert "Trainer" in reply and "eröffnet" not in reply
    assert "nur Trainerinnen" in joined(chat(sender, "Gruppensitzung starten"))


def test_trainer_code_grants_the_right(chat, new_sender):
    person = new_sender()
    assert "stimmt nicht" in joined(chat(person, "Trainercode FALSCH-1"))
    assert "nur Trainerinnen" in joined(chat(person, "Gruppensitzung starten"))
    assert "bestätigt" in joined(chat(person, f"Trainercode {TEST_TRAINER_CODE}"))
    assert "Welches Szenario" in joined(chat(person, "Gruppensitzung starten"))
