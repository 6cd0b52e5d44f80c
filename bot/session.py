"""A new conversation session: what carries over and how the coach greets a returning user.

Rasa starts a new session when a user writes after being idle longer than
``session_config.session_expiration_time`` (``domain.yml``). ``actions/session.py`` runs then
and asks this module two things about the old session's slots:

* :func:`carried_slots` – what the new session keeps. The case, the client and everything
  else the user relies on carry over (answers of finished forms too: a case form asks its
  questions again when it starts). What only made sense in the moment does not: a
  half-filled form (its slots and ``requested_slot``; the form itself is not resumed), an
  unfinished role-play (it ends; scenario and level stay for the next one), one-turn flags
  such as ``cancelled`` or a pending deletion confirmation.
* :func:`welcome_back` – "Letztes Mal ging es um Herrn Brandt – weiter damit oder etwas
  Neues?" with buttons, instead of a stale question of a form the user has long forgotten.

No Rasa imports: slots come in as a plain mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from bot import clients, playbooks
from bot.texts import lookup, text

#: slots of one moment of a conversation; a new session starts without them
TRANSIENT_SLOTS = frozenset(
    {
        "requested_slot",
        "cancelled",
        "form_exit",
        "danger_kind",
        "topic_part",
        "delete_confirm",
        "data_erased",
        "boundary_setup_state",
        "sign_prefill",
    }
)

#: the state of a role-play in progress; it ends with the session
ROLEPLAY_SLOTS = frozenset({"roleplay_active", "rp_state", "rp_utterance"})


@dataclass(frozen=True)
class WelcomeBack:
    """The message for a user who returns after the session expired.

    Attributes:
        text: Where the user left off, with the question how to go on.
        buttons: ``{"title", "payload"}`` choices: go on with it, or something new.
    """

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)


def carried_slots(slots: Mapping[str, Any], open_form_slots: Iterable[str] = ()) -> dict[str, Any]:
    """The slot values a new session starts with.

    Args:
        slots: The old session's slot values (``None`` for an empty slot).
        open_form_slots: The slots of the form that was active when the session ended (its
            half-filled answers are dropped); empty when no form was active.

    Returns:
        Slot name to value, only set slots that carry over.
    """
    dropped = TRANSIENT_SLOTS | set(open_form_slots)
    if slots.get("roleplay_active"):
        dropped |= ROLEPLAY_SLOTS
    return {
        name: value for name, value in slots.items() if value is not None and name not in dropped
    }


def welcome_back(slots: Mapping[str, Any]) -> WelcomeBack | None:
    """Where the old session left off, or None when there is nothing to go on with.

    Args:
        slots: The old session's slot values.

    Returns:
        An unfinished role-play first, then the client, then the case; None without any.
    """
    new = {"title": text("session", "buttons.new"), "payload": "/greet"}
    if slots.get("roleplay_active"):
        again = {"title": text("session", "buttons.roleplay"), "payload": "/start_roleplay"}
        return WelcomeBack(text("session", "welcome.roleplay"), [again, new])
    case, client = slots.get("case"), slots.get("client_name")
    buttons = [*_continue_button(case), new]
    if client:
        client_acc = clients.forms(client)["client_acc"]
        return WelcomeBack(text("session", "welcome.client", client_acc=client_acc), buttons)
    label = lookup("session", "case_labels").get(case) if case else None
    if label:
        return WelcomeBack(text("session", "welcome.case", case_label=label), buttons)
    return None


def _continue_button(case: str | None) -> list[dict[str, str]]:
    """The button that takes up the case again (none without a known case)."""
    playbook = playbooks.playbooks().get(case) if case else None
    if playbook is None:
        return []
    return [{"title": text("session", "buttons.continue"), "payload": f"/{playbook.intent}"}]
