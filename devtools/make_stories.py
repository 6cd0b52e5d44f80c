"""Write the form happy-path stories (data/stories) and test stories (tests/stories).

Form steps are mechanical and must match bot/playbooks.yml, so they are generated:
`python -m devtools.make_stories`. Review the diff, then commit the YAML.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bot import playbooks, warning_signs

ROOT = Path(__file__).resolve().parent.parent

# (case, opening message that the NLU must recognise, its intent)
CASE_SCRIPTS = {
    "our_fault": (
        "Wir haben die Lieferung vermasselt und der Kunde ist zu Recht sauer",
        "report_own_fault",
    ),
    "extra_requests": (
        "Der Kunde verlangt ständig Zusatzleistungen, die er nicht bezahlen will",
        "report_extra_requests",
    ),
    "false_claims": (
        "Der Kunde behauptet, wir hätten nie geliefert, aber das stimmt nicht",
        "report_false_claims",
    ),
    "abusive": ("Ein Kunde hat mich gerade am Telefon übel beschimpft", "report_abuse"),
}


def form_steps(form: str, slots, stop_after=None):
    """The events of a form asking ``slots`` in order.

    Answers are plain intents: the form takes any text, so the NLU label of an answer does
    not matter to the dialogue.
    """
    steps = [
        {"action": form},
        {"active_loop": form},
        {"slot_was_set": [{"requested_slot": slots[0]}]},
    ]
    for i, slot in enumerate(slots):
        if stop_after is not None and i == stop_after:
            return steps, True
        steps.append({"intent": "affirm"})
        steps.append({"action": form})
        steps.append({"slot_was_set": [{slot: "x"}]})
        nxt = slots[i + 1] if i + 1 < len(slots) else None
        steps.append({"slot_was_set": [{"requested_slot": nxt}]})
    steps.append({"active_loop": None})
    return steps, False


def main() -> None:
    train, test = [], []
    for case, (opening, intent) in CASE_SCRIPTS.items():
        book = playbooks.playbooks()[case]
        steps, _ = form_steps(book.form, list(book.slots))
        train.append(
            {
                "story": f"{case} happy path",
                "steps": [{"intent": intent}, {"action": "action_start_case"}]
                + steps
                + [{"action": "action_case_advice"}],
            }
        )
        t_steps, _ = form_steps(book.form, list(book.slots))
        test.append(
            {
                "story": f"{case}: whole flow",
                "steps": [{"user": opening, "intent": intent}, {"action": "action_start_case"}]
                + t_steps
                + [{"action": "action_case_advice"}],
            }
        )
        s_steps, _ = form_steps(book.form, list(book.slots), stop_after=1)
        # "stopp" is an answer the form's validation turns into the end of the form (cancelled)
        test.append(
            {
                "story": f"{case}: user stops midway",
                "steps": [{"intent": intent}, {"action": "action_start_case"}]
                + s_steps
                + [
                    {"user": "stopp", "intent": "stop"},
                    {"action": book.form},
                    {"slot_was_set": [{"requested_slot": None}]},
                    {"slot_was_set": [{"cancelled": True}]},
                    {"active_loop": None},
                    {"action": "action_case_advice"},
                    {"slot_was_set": [{"cancelled": False}]},
                ],
            }
        )
    slots = list(warning_signs.slots())
    steps, _ = form_steps(warning_signs.form_name(), slots)
    check = (
        [{"intent": "ask_end_relationship"}, {"action": "action_start_warning_check"}]
        + steps
        + [{"action": "action_warning_signs_result"}]
    )
    train.append({"story": "warning-sign check", "steps": check})
    test.append(
        {
            "story": "warning-sign check: all ten questions",
            "steps": [
                {
                    "user": "Sollte ich mich von diesem Kunden trennen?",
                    "intent": "ask_end_relationship",
                }
            ]
            + check[1:],
        }
    )
    test.append(
        {
            "story": "how to terminate, then decline practice",
            "steps": [
                {
                    "user": "Wie beende ich eine Kundenbeziehung professionell?",
                    "intent": "ask_how_to_terminate",
                },
                {"action": "action_explain_topic"},
                {"action": "utter_offer_roleplay"},
                {"user": "nein danke", "intent": "deny"},
                {"action": "utter_deny_generic"},
            ],
        }
    )
    test.append(
        {
            "story": "legal, after, stress",
            "steps": [
                {"user": "Was muss ich beim Kündigen rechtlich beachten?", "intent": "ask_legal"},
                {"action": "action_explain_topic"},
                {
                    "user": "Was mache ich nach der Trennung vom Kunden?",
                    "intent": "ask_after_termination",
                },
                {"action": "action_explain_topic"},
                {
                    "user": "Dieser Kunde raubt mir den Schlaf, ich kann nicht abschalten",
                    "intent": "report_stress",
                },
                {"action": "action_explain_topic"},
            ],
        }
    )
    test.append(
        {
            "story": "unclear message: the four cases as buttons",
            "steps": [
                {"intent": "nlu_fallback"},
                {"action": "utter_clarify"},
                {"intent": "report_false_claims"},
                {"action": "action_start_case"},
                {"action": "false_claims_form"},
                {"active_loop": "false_claims_form"},
            ],
        }
    )
    test.append(
        {
            "story": "small talk",
            "steps": [
                {"user": "Hallo", "intent": "greet"},
                {"action": "utter_greet"},
                {"user": "Bist du ein Mensch?", "intent": "bot_challenge"},
                {"action": "utter_bot_challenge"},
                {"user": "danke dir", "intent": "thank"},
                {"action": "utter_thank"},
                {"user": "tschüss", "intent": "goodbye"},
                {"action": "utter_goodbye"},
            ],
        }
    )

    def dump(path: Path, key: str, items) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(
            {"version": "3.1", key: items}, allow_unicode=True, sort_keys=False, width=120
        )
        path.write_text(
            "# Generated by `python -m devtools.make_stories`.\n" + text, encoding="utf-8"
        )

    setup, _ = form_steps("roleplay_setup_form", ["rp_scenario", "rp_difficulty"])
    play = [
        {"action": "roleplay_form"},
        {"active_loop": "roleplay_form"},
        {"slot_was_set": [{"requested_slot": "rp_utterance"}]},
    ]
    # in-character sentences may look like other intents ("…die Zusammenarbeit beenden"):
    # the loop keeps them, so only the dialogue policy is under test here (intent labels only)
    for intent in ("ask_end_relationship", "help", "report_abuse"):
        play += [
            {"intent": intent},
            {"action": "roleplay_form"},
            {"slot_was_set": [{"requested_slot": "rp_utterance"}]},
        ]
    play += [
        {"intent": "stop"},
        {"action": "roleplay_form"},
        {"slot_was_set": [{"rp_utterance": "done"}]},
        {"slot_was_set": [{"requested_slot": None}]},
        {"active_loop": None},
        {"action": "action_roleplay_feedback"},
    ]
    test.append(
        {
            "story": "role-play: whatever is said in character stays in the role-play",
            "steps": [
                {"user": "Ich möchte ein Trennungsgespräch üben", "intent": "start_roleplay"},
                {"action": "action_roleplay_setup"},
            ]
            + setup
            + [{"action": "action_roleplay_start"}]
            + play,
        }
    )
    dump(ROOT / "data/stories/flows.yml", "stories", train)
    dump(ROOT / "tests/stories/test_flows.yml", "stories", test)


if __name__ == "__main__":
    main()
