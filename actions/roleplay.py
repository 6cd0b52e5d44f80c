"""Role-play: set-up, the client's turns, out-of-character commands, feedback, progress.

The engine state travels in the slot `rp_state`; the conversation runs inside the loop
`roleplay_form`, whose only slot `rp_utterance` takes every message (so nothing said in
character is ever routed elsewhere) and is validated here turn by turn.
"""

from __future__ import annotations

import contextvars
import logging
import random
import zlib
from typing import Any, Dict, List, Mapping, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import in_thread, repository, send, store_quietly
from actions.playbook_form import CancellableFormValidation, ListeningFormValidation, after_form
from bot import interrupts, roleplay
from bot.config import load_settings
from bot.roleplay import engine, evaluation, library, session
from bot.roleplay.scenarios import Scenario, default_scenarios
from bot.storage.db import STORAGE_ERRORS
from bot.storage.groups import GroupRepository
from bot.texts import text

logger = logging.getLogger(__name__)

DONE = "done"
SETUP_SLOTS = (
    "rp_scenario",
    "rp_difficulty",
    "rp_suggested",
    "rp_utterance",
    "rp_state",
    "rp_group",
)


async def scenarios_for(
    tracker: Tracker, scenario_id: Optional[str] = None
) -> Mapping[str, Scenario]:
    """The scenarios this sender's role-play may use (``bot.roleplay.library.catalog``).

    The shipped ones, published ones, the sender's own and their group session's; for a
    running role-play (``scenario_id``) a shipped id needs no database at all. When the
    database fails, the shipped scenarios still work.
    """
    if scenario_id is not None and scenario_id in default_scenarios():
        return default_scenarios()
    group = tracker.get_slot("rp_group")
    try:
        return await in_thread(
            library.catalog,
            tracker.sender_id,
            group if isinstance(group, str) else None,
            scenario_id,
        )
    except STORAGE_ERRORS:
        logger.exception("loading the trainer scenarios failed")
        return default_scenarios()


#: the scenarios listed for the current request (set in ``run``, read by the sync ``understood``)
_LISTED: contextvars.ContextVar[Optional[List[Dict[str, Any]]]] = contextvars.ContextVar(
    "klartext_listed_scenarios", default=None
)


#: the scenarios of the running role-play for the current request (set in ``run``)
_PLAYED: contextvars.ContextVar[Optional[Mapping[str, Scenario]]] = contextvars.ContextVar(
    "klartext_played_scenarios", default=None
)


def _suggestion(tracker: Tracker) -> Optional[str]:
    """A scenario matching what the user told us about a real client (case or client name)."""
    case = tracker.get_slot("case")
    if not case and not tracker.get_slot("client_name"):
        return None
    return roleplay.pick_scenario(case, seed=zlib.crc32(tracker.sender_id.encode()))


class ActionRoleplaySetup(Action):
    def name(self) -> Text:
        return "action_roleplay_setup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        events: List[Dict[Text, Any]] = [SlotSet(slot, None) for slot in SETUP_SLOTS]
        suggested = _suggestion(tracker)
        if suggested:
            title = next(s["title"] for s in roleplay.list_scenarios() if s["id"] == suggested)
            client = tracker.get_slot("client_name")
            dispatcher.utter_message(
                text=text("roleplay", "setup.suggest", client=client, title=title)
                if client
                else text("roleplay", "setup.suggest_case", title=title)
            )
            events.append(SlotSet("rp_suggested", suggested))
        return events


class ActionAskRpScenario(Action):
    def name(self) -> Text:
        return "action_ask_rp_scenario"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        buttons = []
        suggested = tracker.get_slot("rp_suggested")
        scenarios = roleplay.list_scenarios(await scenarios_for(tracker))
        if suggested:
            title = next((s["title"] for s in scenarios if s["id"] == suggested), suggested)
            buttons.append(
                {
                    "title": text("roleplay", "setup.suggest_button", title=title),
                    "payload": "Vorschlag",
                }
            )
        buttons += [{"title": s["title"], "payload": s["id"]} for s in scenarios]
        buttons.append(
            {"title": text("roleplay", "setup.surprise_button"), "payload": "überrasch mich"}
        )
        dispatcher.utter_message(text=text("roleplay", "setup.ask_scenario"), buttons=buttons)
        return []


class ValidateRoleplaySetupForm(CancellableFormValidation):
    def name(self) -> Text:
        return "validate_roleplay_setup_form"

    def free_text(self, slot: str) -> bool:
        return False

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        # the list this sender can choose from, loaded once per request off the event loop
        token = _LISTED.set(roleplay.list_scenarios(await scenarios_for(tracker)))
        try:
            return await super().run(dispatcher, tracker, domain)
        finally:
            _LISTED.reset(token)

    @staticmethod
    def listed() -> List[Dict[str, Any]]:
        """The scenarios this request's sender may choose (shipped ones outside a request)."""
        found = _LISTED.get()
        return found if found is not None else roleplay.list_scenarios()

    def understood(self, slot: str, text: str) -> bool:
        if slot == "rp_difficulty":
            return session.parse_difficulty(text) is not None
        listed = self.listed()
        return session.parse_scenario(text, listed, None, random.Random(0)) is not None

    def validate_rp_scenario(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is None:  # reset by the set-up action: not an answer
            return {"rp_scenario": None}
        chosen = session.parse_scenario(
            value if isinstance(value, str) else "",
            self.listed(),
            tracker.get_slot("rp_suggested"),
            random.Random(),
        )
        if chosen is None:
            dispatcher.utter_message(response="utter_invalid_rp_scenario")
        return {"rp_scenario": chosen}

    def validate_rp_difficulty(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is None:
            return {"rp_difficulty": None}
        level = session.parse_difficulty(value) if isinstance(value, str) else None
        if level is None:
            dispatcher.utter_message(response="utter_invalid_rp_difficulty")
            return {"rp_difficulty": None}
        return {"rp_difficulty": str(level)}


class ActionRoleplayStart(Action):
    def name(self) -> Text:
        return "action_roleplay_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        left = after_form(dispatcher, tracker)
        if left is not None:  # the rule would go on into the role-play loop: go elsewhere
            if not any(event.get("event") == "followup" for event in left):
                left.append(FollowupAction("action_listen"))
            return left + [SlotSet("roleplay_active", False)]
        scenario = tracker.get_slot("rp_scenario")
        difficulty = int(tracker.get_slot("rp_difficulty") or 2)
        seed = zlib.crc32(f"{tracker.sender_id}|{scenario}|{difficulty}".encode())
        scenarios = await scenarios_for(tracker, scenario if isinstance(scenario, str) else "")
        try:
            state, messages = roleplay.start(scenario, difficulty, seed, scenarios)
        except (roleplay.UnknownScenario, ValueError):
            dispatcher.utter_message(response="utter_invalid_rp_scenario")
            return [SlotSet("roleplay_active", False)]
        send(dispatcher, messages)
        # the loop starts right away, also when reached by a follow-up (joining a group session)
        return [
            SlotSet("rp_state", state),
            SlotSet("roleplay_active", True),
            SlotSet("rp_utterance", None),
            FollowupAction("roleplay_form"),
        ]


class ActionAskRpUtterance(Action):
    """The role-play loop asks for the next turn silently: the client's line was the question."""

    def name(self) -> Text:
        return "action_ask_rp_utterance"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        return []


class ValidateRoleplayForm(ListeningFormValidation):
    """Every message is the user's line, except "stopp" and a safety signal."""

    listens = False

    def name(self) -> Text:
        return "validate_roleplay_form"

    async def interrupted(
        self,
        found: interrupts.Interruption,
        requested: str,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Dict[Text, Any]]:
        state = tracker.get_slot("rp_state")
        if not isinstance(state, dict):
            state = {}
        if found.kind == interrupts.SAFETY:  # out of character at once, no feedback
            state = {**state, "stopped": True, "safety": True}
            return [
                SlotSet("rp_utterance", DONE),
                SlotSet("rp_state", state),
                SlotSet("danger_kind", found.target),
            ]
        return [SlotSet("rp_utterance", DONE), SlotSet("rp_state", {**state, "stopped": True})]

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        # a trainer's scenario is looked up once per request, off the event loop
        state = tracker.get_slot("rp_state")
        scenario_id = state.get("scenario_id") if isinstance(state, dict) else None
        found = await scenarios_for(tracker, str(scenario_id)) if scenario_id else None
        token = _PLAYED.set(found)
        try:
            return await super().run(dispatcher, tracker, domain)
        finally:
            _PLAYED.reset(token)

    def validate_rp_utterance(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        state = tracker.get_slot("rp_state")
        if not isinstance(state, dict) or "scenario_id" not in state:
            return {"rp_utterance": DONE}  # nothing to play: end the loop cleanly
        if not isinstance(value, str):
            return {"rp_utterance": None}  # the loop just started: nothing said yet
        scenarios = _PLAYED.get() or default_scenarios()
        if state["scenario_id"] not in scenarios:  # withdrawn or never allowed: end cleanly
            dispatcher.utter_message(response="utter_invalid_rp_scenario")
            return {"rp_utterance": DONE, "rp_state": None}
        return self._play(value, state, scenarios, dispatcher)

    def _play(
        self,
        message: str,
        state: Dict[str, Any],
        scenarios: Mapping[str, Scenario],
        dispatcher: CollectingDispatcher,
    ) -> Dict[Text, Any]:
        """One message inside the role-play: a command or the user's line to the client."""
        cmd = session.command(message)
        if cmd == "stop":
            state = {**state, "stopped": True}
            return {"rp_utterance": DONE, "rp_state": state}
        if cmd == "hint":
            dispatcher.utter_message(text=roleplay.hint(state))
            return {"rp_utterance": None}
        if cmd == "restart":
            state, messages = roleplay.restart(state, scenarios)
            send(dispatcher, messages)
            return {"rp_utterance": None, "rp_state": state}
        if cmd == "pause":
            state, messages = roleplay.pause(state)
            send(dispatcher, messages)
            return {"rp_utterance": None, "rp_state": state}
        if state.get("paused"):
            if cmd == "resume":
                state, messages = roleplay.resume(state, scenarios)
                send(dispatcher, messages)
                return {"rp_utterance": None, "rp_state": state}
            dispatcher.utter_message(text=text("roleplay", "paused_reminder"))
            return {"rp_utterance": None}
        state, messages, finished = roleplay.turn(
            state, session.clip_turn(message), scenarios=scenarios
        )
        send(dispatcher, messages)
        return {"rp_utterance": DONE if finished else None, "rp_state": state}


class ActionRoleplayFeedback(Action):
    """After the role-play: scores per criterion, quoted weakest sentences, stored for progress."""

    def name(self) -> Text:
        return "action_roleplay_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        state = tracker.get_slot("rp_state")
        events: List[Dict[Text, Any]] = [
            SlotSet("roleplay_active", False),
            SlotSet("rp_utterance", None),
        ]
        if not isinstance(state, dict) or "scenario_id" not in state:
            dispatcher.utter_message(text=text("roleplay", "setup.stopped"))
            return events
        if state.get("safety"):  # out of character: the safety reply, no feedback now
            return events + [
                SlotSet("rp_state", None),
                SlotSet("rp_group", None),
                FollowupAction("action_safety"),
            ]
        if state.get("stopped"):
            dispatcher.utter_message(
                text=text("roleplay", "stopped_early")
                if state.get("turns")
                else text("roleplay", "setup.stopped")
            )
            if not state.get("turns"):
                return events + [SlotSet("rp_state", None)]
        scenarios = await scenarios_for(tracker, str(state["scenario_id"]))
        if state["scenario_id"] not in scenarios:  # withdrawn meanwhile: no feedback possible
            dispatcher.utter_message(text=text("roleplay", "setup.stopped"))
            return events + [SlotSet("rp_state", None), SlotSet("rp_group", None)]
        send(dispatcher, roleplay.feedback(state, scenarios))
        dispatcher.utter_message(text=text("roleplay", "after.text"), buttons=_after_buttons())
        result = roleplay.summary(state)
        events.append(SlotSet("roleplay_score", float(result["overall"])))
        group = tracker.get_slot("rp_group")
        if group and not await store_quietly(
            GroupRepository(load_settings().database_url).is_member, tracker.sender_id, group
        ):
            group = (
                None  # a slot anyone can set; only a real membership ties the result to a session
            )
        await store_quietly(
            lambda: repository().save_roleplay(
                tracker.sender_id,
                scenario_id=state["scenario_id"],
                difficulty=state["difficulty"],
                overall=float(result["overall"]),
                scores={k: v for k, v in result["conversation"].items() if v is not None},
                transcript=scored_transcript(state, scenarios),
                outcome=state.get("outcome") or "stopped",
                group_code=group,
            )
        )
        return events + [SlotSet("rp_state", None), SlotSet("rp_group", None)]


def _after_buttons() -> List[Dict[str, str]]:
    """What to do after a role-play: practise again, see the progress."""
    return [
        {"title": text("roleplay", "after.again"), "payload": "/start_roleplay"},
        {"title": text("roleplay", "after.progress"), "payload": "/ask_progress"},
    ]


def scored_transcript(
    state: Dict[str, Any], scenarios: Optional[Mapping[str, Scenario]] = None
) -> List[Dict[str, Any]]:
    """The transcript with each user line carrying its rubric scores (for reports and examples)."""
    scores = iter(t.get("scores") for t in state.get("turns", []))
    out = []
    for entry in engine.transcript(state, scenarios):
        entry = {k: entry[k] for k in ("speaker", "phase", "text") if k in entry}
        if entry.get("speaker") == "user":
            entry["scores"] = next(scores, None)
        out.append(entry)
    return out


class ActionRoleplayProgress(Action):
    def name(self) -> Text:
        return "action_roleplay_progress"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        rows = await store_quietly(repository().roleplays, tracker.sender_id) or []
        report = session.progress({"scores": r.scores, "overall": r.overall} for r in rows)
        if not report["count"]:
            dispatcher.utter_message(text=text("roleplay", "progress.none"))
            return []
        lines = [
            text(
                "roleplay",
                "progress.header",
                count=report["count"],
                overall=" → ".join(map(str, report["overall"])),
            )
        ]
        for criterion, values in report["series"].items():
            if values:
                lines.append(
                    text(
                        "roleplay",
                        "progress.line",
                        label=text("roleplay", f"feedback.labels.{criterion}"),
                        values=" → ".join(f"{v} %" for v in values),
                        arrow=text("roleplay", f"progress.arrows.{report['trend'][criterion]}"),
                    )
                )
        latest = {c: v[-1] for c, v in report["series"].items() if v}
        weakest = evaluation.focus(latest)  # None when every criterion is good enough
        if latest and weakest is None:
            lines.append(text("roleplay", "progress.all_good"))
        elif weakest is not None:
            lines.append(
                text(
                    "roleplay",
                    "progress.focus",
                    label=text("roleplay", f"feedback.labels.{weakest}"),
                    tip=text("roleplay", f"feedback.tips.{weakest}"),
                )
            )
        dispatcher.utter_message(text="\n".join(lines))
        return []
