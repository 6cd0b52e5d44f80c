"""Role-plays over the REST channel with both servers running."""

from __future__ import annotations

import re
from typing import Any, Dict, List

import pytest

GOOD = [
    "Guten Tag, danke, dass Sie sich Zeit nehmen. "
    "Ich habe entschieden: Wir beenden die Zusammenarbeit zum 31. März.",
    "Der Grund sind die wiederholten Zusatzwünsche ohne Auftrag, "
    "die wir zu den vereinbarten Konditionen nicht leisten können.",
    "Ich verstehe, dass Sie das ärgert. An der Entscheidung ändert das aber nichts.",
    "Ich übergebe Ihnen bis Ende März alle Unterlagen und offenen Aufgaben "
    "und empfehle Ihnen gern einen anderen Anbieter.",
    "Vielen Dank für die gemeinsamen Projekte, ich wünsche Ihnen alles Gute.",
]
BAD = [
    "Naja, vielleicht sollten wir eventuell mal überlegen, ob das alles noch so passt.",
    "Sie sind immer so anstrengend und nie zufrieden, das nervt total.",
    "Na toll, herzlichen Glückwunsch, das haben Sie ja super hinbekommen.",
    "Das ist doch nicht mein Problem, kümmern Sie sich selbst darum.",
]
LABELS = {
    "Klarheit": "clarity",
    "Begründung": "reasons",
    "Respekt": "respect",
    "Übergabe": "transition",
    "Wertschätzung": "appreciation",
    "Ruhe unter Druck": "calm",
}


def joined(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def play(
    chat, tracker, sender: str, scenario: str, difficulty: int, script: List[str]
) -> Dict[str, Any]:
    setup = chat(sender, "Ich möchte ein Trennungsgespräch üben")
    assert any(b["payload"] == scenario for r in setup for b in r.get("buttons", [])), joined(setup)
    assert "Wie hart" in joined(chat(sender, scenario))
    opening = joined(chat(sender, str(difficulty)))
    assert tracker(sender)["slots"]["roleplay_active"] is True
    transcript = []
    for i in range(14):
        replies = chat(
            sender, script[min(i, len(script) - 1)] if i < len(script) else script[-1 - (i % 2)]
        )
        transcript.append(joined(replies))
        if tracker(sender)["slots"]["roleplay_active"] is False:
            break
    else:
        pytest.fail("role-play did not finish")
    feedback = transcript[-1]
    scores = {
        LABELS[m.group(1)]: int(m.group(2))
        for m in re.finditer(
            r"(Klarheit|Begründung|Respekt|Übergabe|Wertschätzung|Ruhe unter Druck): (\d+) %",
            feedback,
        )
    }
    rounds = int(re.search(r"Gegenwind-Runden: (\d+)", feedback).group(1))
    return {
        "score": tracker(sender)["slots"]["roleplay_score"],
        "scores": scores,
        "rounds": rounds,
        "feedback": feedback,
        "transcript": transcript,
        "opening": opening,
    }


def test_prepared_user_scores_higher_on_every_criterion(chat, tracker, new_sender):
    good = play(chat, tracker, new_sender(), "extras", 2, GOOD)
    bad = play(chat, tracker, new_sender(), "extras", 2, BAD)
    assert good["score"] > bad["score"] + 20
    assert set(good["scores"]) >= {"clarity", "reasons", "respect", "transition", "appreciation"}
    for criterion, value in good["scores"].items():
        assert value > bad["scores"].get(criterion, 0), (criterion, good["scores"], bad["scores"])
    # the weakest criteria are quoted from the user's own sentences
    assert "dein Satz: „" in bad["feedback"]
    assert any(
        fragment in bad["feedback"]
        for fragment in ("vielleicht", "anstrengend", "Na toll", "nicht mein Problem")
    )


def test_difficulty_changes_the_clients_behaviour(chat, tracker, new_sender):
    easy = play(chat, tracker, new_sender(), "late_payer", 1, GOOD)
    hard = play(chat, tracker, new_sender(), "late_payer", 3, GOOD)
    assert hard["rounds"] > easy["rounds"]


def test_in_character_sentence_is_not_a_command_and_hint_keeps_the_scene(chat, tracker, sender):
    chat(sender, "Rollenspiel starten")
    chat(sender, "überrasch mich")
    chat(sender, "2")
    chat(sender, "Ich möchte die Zusammenarbeit beenden.")
    assert tracker(sender)["slots"]["roleplay_active"] is True
    tip = joined(chat(sender, "Tipp?"))
    assert tip.startswith("Tipp")
    assert tracker(sender)["slots"]["roleplay_active"] is True
    stopped = joined(chat(sender, "stopp"))
    assert "beendet" in stopped
    assert tracker(sender)["slots"]["roleplay_active"] is False


def test_progress_over_sessions(chat, tracker, sender):
    assert "noch kein Rollenspiel" in joined(chat(sender, "Wie habe ich mich entwickelt?"))
    play(chat, tracker, sender, "price_squeezer", 1, BAD)
    play(chat, tracker, sender, "price_squeezer", 1, GOOD)
    report = joined(chat(sender, "Wie habe ich mich entwickelt?"))
    assert "abgeschlossene Rollenspiele: 2" in report and "↑" in report


def test_real_case_is_offered_as_scenario(chat, sender):
    chat(sender, "Herr Yilmaz hat mich heute am Telefon übel beschimpft")
    chat(sender, "stopp")
    replies = chat(sender, "Ich will das Gespräch mit ihm üben")
    text = joined(replies)
    assert "Herr Yilmaz" in text
    assert any(b["title"].startswith("Mein Fall") for r in replies for b in r.get("buttons", []))
