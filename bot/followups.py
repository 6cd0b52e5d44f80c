"""Follow-ups after a case's advice: "und wenn er trotzdem …", "kann ich ihm kündigen?".

After the advice the case stays in the conversation. A follow-up question climbs the case's
ladder one step from where the advice (or the last follow-up) stood – the ladders of
``escalation.yml`` for an abusive client (``abuse``), unpaid extras (``payment``) and false
claims (``cooperation``), an own short ladder for a fault of ours – instead of asking the
case's questions again. A step that recommends writing comes with a draft; the last step, or
a question about ending the relationship, offers the ending path (warning signs, how to end
it). For a fault of ours, a client who insists on another offer ("und wenn er auf der
Gutschrift besteht?") gets a draft with that offer. Configuration: ``followups.yml``
(``followups``); texts: ``texts/drafts.yml`` (``followup``). Pure: no Rasa.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from bot import answers, clients, drafts, escalation, playbooks


def _cfg() -> dict:
    return drafts.config()["followups"]


def end_step() -> str:
    """The last step of every ladder (the ending path)."""
    return _cfg()["end_step"]


def ladder(case: str) -> tuple[str, tuple[str, ...]]:
    """The ladder a case's follow-ups climb: its key and its steps, mildest first.

    Args:
        case: The case.

    Returns:
        ``("abuse", ("accept_venting", …))`` – an escalation ladder, or an own one of
        ``followups.yml`` (``own_ladders``).
    """
    key = _cfg()["ladders"][case]
    own = _cfg()["own_ladders"].get(key)
    if own:
        return key, tuple(own)
    return key, tuple(step.key for step in escalation.ladders()[key].steps)


def start_step(case: str, answers_: Mapping[str, str | None]) -> str:
    """The step of the case's ladder the advice itself stands on.

    Args:
        case: The case.
        answers_: The case's answers.

    Returns:
        abusive: the recommended step; extra_requests: by the verdict; otherwise the
        configured step.
    """
    if case == "abusive":
        step, _ = playbooks.abuse_step(
            answers_.get("abuse_frequency"), answers_.get("abuse_severity")
        )
        return step
    start = _cfg()["start"][case]
    if isinstance(start, Mapping):
        return start[playbooks.extra_requests_verdict(answers_)]
    return start


def _answers(case: str, answers_: Mapping[str, str | None]) -> dict[str, str | None]:
    return {slot: answers_.get(slot) for slot in playbooks.playbooks()[case].slots}


def current_step(case: str, answers_: Mapping[str, str | None], stored: object) -> str:
    """Where the follow-ups stand: the stored step for this case and answers, else the start.

    Args:
        case: The case.
        answers_: The case's answers now.
        stored: The slot value of the last follow-up (:attr:`Reply.state`), or None.

    Returns:
        A step key of the case's ladder.
    """
    _, steps = ladder(case)
    if (
        isinstance(stored, Mapping)
        and stored.get("case") == case
        and stored.get("answers") == _answers(case, answers_)
        and stored.get("step") in steps
    ):
        return str(stored["step"])
    return start_step(case, answers_)


def next_step(case: str, step: str) -> str:
    """The step after ``step`` on the case's ladder (the last step stays the last)."""
    _, steps = ladder(case)
    index = steps.index(step) if step in steps else 0
    return steps[min(index + 1, len(steps) - 1)]


def _matches(words: list[str], phrase: str) -> bool:
    if phrase.endswith("*"):
        stem = answers.normalize(phrase[:-1])
        return any(word.startswith(stem) for word in words)
    padded = " " + " ".join(words) + " "
    return f" {answers.normalize(phrase)} " in padded


def wants_end(message_text: str) -> bool:
    """True when the message asks about ending the relationship ("kann ich ihm kündigen?").

    Not when the client is the one threatening it ("und wenn er mit Kündigung droht?").
    """
    words = answers.normalize(message_text or "").split()
    if any(_matches(words, phrase) for phrase in _cfg()["ending_vetoes"]):
        return False
    return any(_matches(words, phrase) for phrase in _cfg()["ending_words"])


def ending_buttons() -> list[dict[str, str]]:
    """The buttons of the ending path: check the warning signs, how to end it."""
    return [
        {"title": drafts.say("labels", "ending", b["label"]), "payload": b["payload"]}
        for b in _cfg()["ending_buttons"]
    ]


@dataclass(frozen=True)
class Reply:
    """What the coach answers to a follow-up, and what it keeps.

    Attributes:
        messages: The coach's messages, in order.
        state: The slot value to keep: case, answers and the step reached.
        draft: The draft shown with the reply (to be kept as the last draft), if any.
        changed: Answers the reply changed (slot -> value), e.g. the offer insisted on.
        ending: Offer the ending path with :func:`ending_buttons` after the messages.
    """

    messages: tuple[str, ...]
    state: dict
    draft: drafts.Draft | None = None
    changed: dict = field(default_factory=dict)
    ending: bool = False


def _state(case: str, answers_: Mapping[str, str | None], step: str) -> dict:
    return {"case": case, "answers": _answers(case, answers_), "step": step}


def _insisted(case: str, answers_: Mapping[str, str | None], message_text: str) -> str | None:
    """our_fault: the offer the client insists on, if the message names a new one."""
    slot = drafts.change_slot(case)
    if case != "our_fault" or slot is None:
        return None
    question = playbooks.playbooks()[case].question(slot)
    parsed = question.parse(message_text) if question else None
    keys = [k for k in answers.split_choices(parsed) if k not in question.exclusive]
    if not keys or set(keys) <= set(answers.split_choices(answers_.get(slot))):
        return None
    return answers.separator().join(keys)


def respond(
    case: str,
    answers_: Mapping[str, str | None],
    client: str | None,
    stored: object,
    message_text: str,
) -> Reply:
    """The coach's answer to a follow-up question after the advice of ``case``.

    Args:
        case: The case of the advice (its questions are all answered).
        answers_: The case's answers.
        client: The client's name (None: unknown).
        stored: The state kept from the last follow-up (:attr:`Reply.state`), or None.
        message_text: The user's message.

    Returns:
        For a question about ending it: the ending path. For a fault of ours and a client
        insisting on another offer: what to weigh and a draft with that offer. Otherwise the
        next step of the ladder (with a draft where the step recommends writing; the ending
        path at the last step).
    """
    names = clients.forms(client)
    current = current_step(case, answers_, stored)
    if wants_end(message_text):
        return Reply(
            (drafts.say("followup", "end_asked", **names),),
            _state(case, answers_, current),
            ending=True,
        )
    insisted = _insisted(case, answers_, message_text)
    if insisted is not None:
        slot = drafts.change_slot(case)
        updated = _answers(case, answers_)
        updated[slot] = insisted
        label = " und ".join(
            drafts.say("labels", "insist", key) for key in answers.split_choices(insisted)
        )
        draft = drafts.Draft(case, "apology", updated, client)
        change = drafts.Change(updated, slot, insisted)
        messages = (
            drafts.say("followup", "insist", label=label, **names),
            drafts.message(draft, "insist", label=change.label()),
        )
        return Reply(messages, _state(case, updated, current), draft, {slot: insisted})
    step = next_step(case, current)
    state = _state(case, answers_, step)
    if step == end_step():
        return Reply((drafts.say("followup", "end", **names),), state, ending=True)
    key, _ = ladder(case)
    messages = [drafts.say("followup", "steps", key, step, **names)]
    kind = (_cfg()["step_drafts"].get(case) or {}).get(step)
    draft = drafts.Draft(case, kind, _answers(case, answers_), client) if kind else None
    if draft is not None:
        messages.append(drafts.message(draft, "followup"))
    return Reply(tuple(messages), state, draft)
