"""Role-play turn latency for `make bench` (called by devtools.bench with the coach's base URL).

Two figures:
* action side – what the action server does for one role-play turn (`validate_roleplay_form`:
  rubric analysis with spaCy + the client's reaction), timed in-process after warm-up, so the
  figure is free of HTTP and NLU time;
* end to end – one role-play turn over the REST channel (NLU, policies, action call).
"""

from __future__ import annotations

import json
import statistics
import time
import urllib.request
import uuid

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

TURNS = [
    "Ich habe entschieden, dass wir die Zusammenarbeit zum 31. März beenden.",
    "Der Grund sind die vielen Zusatzwünsche ohne Auftrag.",
    "Ich verstehe, dass Sie das ärgert, an der Entscheidung ändert das nichts.",
    "Ich übergebe Ihnen alle Unterlagen und empfehle Ihnen einen anderen Anbieter.",
    "Vielleicht sollten wir eventuell nochmal überlegen.",
    "Danke für die Zusammenarbeit.",
]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def action_side(rounds: int = 60) -> dict:
    from actions.roleplay import ValidateRoleplayForm
    from bot import roleplay

    action = ValidateRoleplayForm()
    timings = []
    state = None
    for i in range(rounds + 5):
        if state is None or state.get("finished"):
            state, _ = roleplay.start("extras", 2, seed=i)
        text = TURNS[i % len(TURNS)]
        tracker = Tracker(
            "bench",
            {"rp_state": state},
            {"text": text, "intent": {}, "entities": []},
            [],
            False,
            None,
            {"name": "roleplay_form"},
            "action_listen",
        )
        started = time.perf_counter()
        result = action.validate_rp_utterance(text, CollectingDispatcher(), tracker, {})
        elapsed = (time.perf_counter() - started) * 1000
        state = result.get("rp_state", state)
        if i >= 5:  # the first turns load spaCy and build the matchers
            timings.append(elapsed)
    return {
        "roleplay_turn_action_ms_p50": round(statistics.median(timings), 2),
        "roleplay_turn_action_ms_p95": round(_percentile(timings, 0.95), 2),
    }


def _post(base_url: str, sender: str, message: str) -> float:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(
        f"{base_url}/webhooks/rest/webhook",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def end_to_end(base_url: str, turns: int = 30) -> dict:
    timings = []
    while len(timings) < turns:
        sender = f"bench-rp-{uuid.uuid4().hex[:8]}"
        for setup in ("Rollenspiel starten", "extras", "3"):
            _post(base_url, sender, setup)
        for text in TURNS:
            timings.append(_post(base_url, sender, text))
        _post(base_url, sender, "stopp")
    return {
        "roleplay_turn_rest_ms_p50": round(statistics.median(timings), 1),
        "roleplay_turn_rest_ms_p95": round(_percentile(timings, 0.95), 1),
    }


def run(base_url: str) -> dict:
    return {**action_side(), **end_to_end(base_url)}


if __name__ == "__main__":
    print(json.dumps(action_side(), indent=2))
