"""The listening client over REST (Rasa server + action server), problem by problem.

1. the client answers what was said (deadline, discount, apology, question) and keeps its
   concessions; nine "Hm." get no reaction to an announcement that never happened;
2. the client's lines come from its own scenario;
3. a role-play has a clear end (out of character, then the feedback), abort phrases work and
   are not quoted, and nothing after the end is taken as role-play;
4. level 3 differs from level 1 from the first line and pushes back more.
"""

from __future__ import annotations

from typing import Any, Dict, List

from bot.roleplay import engine
from bot.roleplay.lines import PHASE_NEEDS
from bot.roleplay.scenarios import load_scenarios

SCENARIOS = load_scenarios()
GOOD = [
    "Guten Tag. Ich habe entschieden: Wir beenden die Zusammenarbeit zum 31. März.",
    "Der Grund sind die wiederholt verspäteten Zahlungen im letzten Jahr.",
    "Ich verstehe, dass Sie das ärgert. An der Entscheidung ändert das aber nichts.",
    "Ich übergebe Ihnen bis Ende März alle Druckdaten und empfehle Ihnen gern ein anderes Büro.",
    "Vielen Dank für die gemeinsamen Projekte, ich wünsche Ihnen alles Gute.",
]


ABORTS = ("Ich möchte das Rollenspiel abbrechen", "lass uns aufhören", "ich will aufhören")


def joined(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def begin(chat, tracker, sender: str, scenario: str, level: int) -> str:
    """Start a role-play; returns the client's opening line (without the name)."""
    chat(sender, "Ich möchte ein Trennungsgespräch üben")
    chat(sender, scenario)
    replies = chat(sender, str(level))
    assert tracker(sender)["slots"]["roleplay_active"] is True, joined(replies)
    return client_line(replies, scenario)


def client_line(replies: List[Dict[str, Any]], scenario: str) -> str:
    prefix = f"{SCENARIOS[scenario].persona.name}: "
    lines = [r["text"][len(prefix) :] for r in replies if r.get("text", "").startswith(prefix)]
    assert lines, joined(replies)
    return lines[-1]


def answer_texts(scenario: str, section: str) -> set:
    s = SCENARIOS[scenario]
    return {line for key in s.answers if key.split(".")[0] == section for line in s.answers[key]}


def all_lines(scenario: str) -> set:
    s = SCENARIOS[scenario]
    phase_lines = {line for r in s.phases.values() for lines in r.values() for line in lines}
    return phase_lines | {line for lines in s.answers.values() for line in lines}


def phase_lines_where(scenario: str, condition) -> set:
    """The scenario's phase lines whose conditions (``LineMeta``) meet ``condition``."""
    s = SCENARIOS[scenario]
    return {
        line
        for phase, reactions in s.phases.items()
        for reaction, lines in reactions.items()
        for i, line in enumerate(lines)
        if condition(s.line_meta(f"{phase}.{reaction}[{i}]"))
    }


def needs_announcement(scenario: str) -> set:
    """Every line of the scenario that presupposes the announcement."""
    s = SCENARIOS[scenario]
    out = set()
    for phase, reactions in s.phases.items():
        for reaction, lines in reactions.items():
            for i, line in enumerate(lines):
                meta = s.line_meta(f"{phase}.{reaction}[{i}]")
                if "announced" in meta.needs or "announced" in PHASE_NEEDS.get(phase, ()):
                    out.add(line)
    for key, lines in s.answers.items():
        for i, line in enumerate(lines):
            if "announced" in s.line_meta(f"answers.{key}[{i}]").needs:
                out.add(line)
    return out


def test_the_client_answers_offers_questions_and_apologies(chat, tracker, sender):
    begin(chat, tracker, sender, "late_payer", 2)
    chat(sender, GOOD[0])
    deadline = client_line(chat(sender, "Können Sie bis zum 30. zahlen?"), "late_payer")
    assert deadline in answer_texts("late_payer", "offer"), deadline
    discount = client_line(
        chat(sender, "Wir können Ihnen 20 Prozent Rabatt auf den letzten Auftrag geben."),
        "late_payer",
    )
    assert discount in answer_texts("late_payer", "offer"), discount
    sorry = client_line(chat(sender, "Es tut mir leid, wie es gelaufen ist."), "late_payer")
    assert sorry in answer_texts("late_payer", "apology"), sorry
    question = client_line(chat(sender, "Wie sehen Sie das?"), "late_payer")
    assert question in answer_texts("late_payer", "question"), question
    assert "Sommerflaute" not in deadline + discount + sorry + question


def test_a_concession_is_never_taken_back(chat, tracker, sender):
    begin(chat, tracker, sender, "threatens_reviews", 1)
    conceded = client_line(chat(sender, "Das tut mir leid."), "threatens_reviews")
    state = tracker(sender)["slots"]["rp_state"]
    assert "lawyer" in state["facts"], conceded
    blocked = phase_lines_where("threatens_reviews", lambda meta: "lawyer" in meta.unless)
    said = []
    for message in [
        "Frau Haas, ich beende unsere Zusammenarbeit nach dem letzten gebuchten Termin.",
        "Der Grund sind Ihre wiederholten Drohungen mit Bewertungen und Anwalt.",
        "Ich verstehe, dass Sie das ärgert.",
        "Die Entscheidung steht.",
        "Ich bleibe bei meiner Entscheidung.",
        "Ich verstehe Ihren Ärger.",
    ]:
        replies = chat(sender, message)
        said.append(client_line(replies, "threatens_reviews"))
        if tracker(sender)["slots"]["roleplay_active"] is False:
            break
    assert not set(said) & blocked, said
    assert not any("Mein Anwalt" in line for line in said), said


def test_a_pretext_is_questioned_not_answered_as_the_real_reason(chat, tracker, sender):
    # "Angeschrien? Ich war nur laut" came back to "wir haben keine Kapazitäten mehr"
    begin(chat, tracker, sender, "insults_staff", 2)
    presupposing = phase_lines_where("insults_staff", lambda meta: "real_reason" in meta.needs)
    questioning = phase_lines_where("insults_staff", lambda meta: "real_reason" in meta.unless)
    said = [
        client_line(chat(sender, message), "insults_staff")
        for message in (
            "hallo herr wollny, wir muessen den vertrag leider beenden, wir haben grad keine "
            "kapazitaeten mehr",
            "wie gesagt, es fehlen uns einfach die kapazitaeten, deshalb hoeren wir auf",
        )
    ]
    assert not set(said) & presupposing, said
    assert "Angeschrien" not in " ".join(said)
    state = tracker(sender)["slots"]["rp_state"]
    assert "reason" in state["facts"] and "real_reason" not in state["facts"], state["facts"]
    real = chat(sender, "nein, anders: sie haben meine kollegin am dienstag angebruellt")
    assert client_line(real, "insults_staff") not in questioning
    assert "real_reason" in tracker(sender)["slots"]["rp_state"]["facts"]


def test_nine_times_hm_is_no_announcement(chat, tracker, sender):
    begin(chat, tracker, sender, "hurt_polite", 2)
    said = []
    for _ in range(9):
        replies = chat(sender, "Hm.")
        said.append(joined(replies))
        if tracker(sender)["slots"]["roleplay_active"] is False:
            break
    assert len(said) <= engine.MAX_IDLE
    assert "Ende des Rollenspiels" in said[-1]
    text = "\n".join(said)
    assert "nicht gerechnet" not in text
    assert not any(line in text for line in needs_announcement("hurt_polite"))


def test_lines_come_from_the_played_scenario_only(chat, tracker, sender):
    begin(chat, tracker, sender, "hurt_polite", 3)
    others = {line for sid in SCENARIOS if sid != "hurt_polite" for line in all_lines(sid)}
    for message in GOOD[:3] + ["Können Sie bis zum 30. zahlen?", "Hm."]:
        line = client_line(chat(sender, message), "hurt_polite")
        assert line not in others, line
        assert "Rechnungen" not in line, line  # Frau Vogel always paid on time


def test_a_clear_end_then_the_coach_again(chat, tracker, sender):
    begin(chat, tracker, sender, "late_payer", 1)
    transcript = []
    for i in range(engine.MAX_TURNS):
        replies = chat(sender, GOOD[i % len(GOOD)] if i < len(GOOD) else GOOD[-1 - i % 2])
        transcript.append(joined(replies))
        if tracker(sender)["slots"]["roleplay_active"] is False:
            break
    end = transcript[-1]
    assert "Ende des Rollenspiels – ich bin wieder dein Coach" in end
    assert end.index("Ende des Rollenspiels") < end.index("Auswertung „")
    assert "was du jetzt schreibst, lese ich wieder als dein Coach" in end
    after = chat(sender, "Ich kann Ihnen 15 Prozent Rabatt geben.")
    slots = tracker(sender)
    assert slots["slots"]["roleplay_active"] is False
    assert (slots.get("active_loop") or {}).get("name") != "roleplay_form"
    assert not any(r.get("text", "").startswith("Sabine Krüger:") for r in after)


def test_abort_phrases_end_the_roleplay_and_are_never_quoted(chat, tracker, new_sender):
    for phrase in ABORTS:
        sender = new_sender()
        begin(chat, tracker, sender, "extras", 2)
        chat(sender, "Naja, vielleicht sollten wir mal über alles reden.")
        replies = joined(chat(sender, phrase))
        assert tracker(sender)["slots"]["roleplay_active"] is False, replies
        assert "Frank Albers:" not in replies
        assert "Auswertung" in replies
        assert phrase not in replies and "abbrechen" not in replies.replace("abgebrochen", "")


def _play_good(chat, tracker, sender, scenario, level):
    opening = begin(chat, tracker, sender, scenario, level)
    state = None
    for i in range(engine.MAX_TURNS):
        chat(sender, GOOD[i] if i < len(GOOD) else GOOD[3 + i % 2])
        slots = tracker(sender)["slots"]
        if slots["roleplay_active"] is False:
            break
        state = slots["rp_state"]
    return opening, state, i + 1


def test_level_3_differs_from_level_1_from_the_first_line(chat, tracker, new_sender):
    s = SCENARIOS["late_payer"]
    openers = s.lines("opening", "neutral")
    level3 = {
        line
        for i, line in enumerate(openers)
        if s.line_meta(f"opening.neutral[{i}]").levels == (3,)
    }
    easy_open, easy, easy_turns = _play_good(chat, tracker, new_sender(), "late_payer", 1)
    hard_open, hard, hard_turns = _play_good(chat, tracker, new_sender(), "late_payer", 3)
    assert easy_open not in level3 and hard_open in level3
    assert hard_turns > easy_turns
    assert engine.resistance(hard) > engine.resistance(easy)


def test_in_character_lines_after_the_end_start_no_form(chat, tracker, new_sender):
    for line in (
        "Ich kann Ihnen 15 Prozent Rabatt geben, wenn Sie bis Freitag zahlen.",
        "Dann machen wir es so, Frau Krüger. Stopp, eine Sache noch: die Druckdaten.",
        "Gut, dann verbleiben wir so.",
    ):
        sender = new_sender()
        _play_good(chat, tracker, sender, "late_payer", 1)
        replies = chat(sender, line)
        state = tracker(sender)
        loop = (state.get("active_loop") or {}).get("name")
        assert loop not in ("roleplay_form", "boundary_form", "boundary_setup_form"), (line, loop)
        assert not any(r.get("text", "").startswith("Sabine Krüger:") for r in replies)
