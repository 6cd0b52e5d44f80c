"""Drafted messages to the client: built from the structured answers, never from chat text.

A :class:`Draft` holds what a letter is made of – the case, the kind of letter, the answers of
the case's questions, the client's name and the variant (normal, alt, short, formal) – and
:func:`letter` writes it from the templates in ``texts/drafts.yml``. Only choice and yes/no
answers decide what a letter says; free-text answers (``fault_what``, ``extra_what``,
``false_claim``) never appear in it: a marker the user fills in stands for the concrete fact
("[Lieferung/Leistung]", "[Datum]", "[Betrag]"). The salutation follows the kind of client
(:mod:`bot.clients`). A draft is kept in a slot (:meth:`Draft.to_slot`) so "kürzer",
"förmlicher" or "anders formulieren" rewrite the last one, and :func:`change` reads a changed
offer ("mach den Entwurf mit Rabatt") from a message. Configuration: ``followups.yml``
(``drafts``). Pure: no Rasa.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from bot import answers, clients, corrections, playbooks
from bot.texts import lookup, text

NORMAL, ALT, SHORT, FORMAL = "normal", "alt", "short", "formal"


@lru_cache(maxsize=1)
def config() -> dict:
    """The parsed ``followups.yml`` (read once): sections ``drafts`` and ``followups``."""
    return yaml.safe_load(Path(__file__).with_name("followups.yml").read_text(encoding="utf-8"))


def _cfg() -> dict:
    return config()["drafts"]


def variants() -> tuple[str, ...]:
    """The variants of every draft, the normal one first."""
    return tuple(_cfg()["variants"])


def kinds(case: str) -> tuple[str, ...]:
    """The kinds of draft a case has (``apology``, ``payment``, ``tone_note``, …)."""
    return tuple(_cfg()["kinds"].get(case) or ())


def markers() -> tuple[str, ...]:
    """The markers a user fills into a draft ("[Datum]", "[Betrag]", …)."""
    return tuple(_cfg()["markers"])


def say(*parts: str, **values: Any) -> str:
    """A text of ``texts/drafts.yml`` by the parts of its key, with ``values`` filled in.

    Args:
        *parts: The key's parts ("coach", "intro", "normal").
        **values: Values for the text's placeholders.

    Returns:
        The filled text (``bot.texts.MissingText`` if it does not exist).
    """
    key = ".".join(parts)
    return text("drafts", key, **values)


def text_keys() -> list[str]:
    """Every text key of ``texts/drafts.yml`` that :func:`say` may be asked for."""
    keys: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, str):
            keys.append(path)
        elif isinstance(node, Mapping):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))

    walk(lookup("drafts", ""), "")
    return keys


@dataclass(frozen=True)
class Draft:
    """What a drafted message is made of.

    Attributes:
        case: The case (``our_fault``, ``extra_requests``, ``false_claims``, ``abusive``).
        kind: The kind of letter, one of :func:`kinds` of the case.
        answers: The case's answers, slot -> stored value (only choices and yes/no are read).
        client: The client's name as stored (None: unknown).
        variant: ``normal`` | ``alt`` | ``short`` | ``formal``.
    """

    case: str
    kind: str
    answers: Mapping[str, str | None] = field(default_factory=dict)
    client: str | None = None
    variant: str = NORMAL

    def to_slot(self) -> dict:
        """The draft as a slot value (plain JSON)."""
        return {
            "case": self.case,
            "kind": self.kind,
            "answers": dict(self.answers),
            "client": self.client,
            "variant": self.variant,
        }

    @classmethod
    def from_slot(cls, value: object) -> Draft | None:
        """The draft kept in a slot, None for anything that is not a valid draft."""
        if not isinstance(value, Mapping):
            return None
        case, kind = value.get("case"), value.get("kind")
        variant = value.get("variant") or NORMAL
        stored = value.get("answers")
        client = value.get("client")
        if case not in playbooks.CASES or kind not in kinds(case) or variant not in variants():
            return None
        if not isinstance(stored, Mapping) or not (client is None or isinstance(client, str)):
            return None
        return cls(case, kind, dict(stored), client, variant)

    def with_variant(self, variant: str) -> Draft:
        """The same draft in another variant."""
        if variant not in variants():
            raise ValueError(f"unknown variant {variant!r}")
        return replace(self, variant=variant)


def rephrased(variant: str) -> str:
    """The variant "anders formulieren" gives: normal and alt take turns, others become alt."""
    return NORMAL if variant == ALT else ALT


# ------------------------------------------------------------------------------ which draft
def kind_for_advice(case: str, answers_: Mapping[str, str | None]) -> str | None:
    """The kind of draft the advice of a case comes with, None when it recommends a talk.

    Args:
        case: The case.
        answers_: The case's answers.

    Returns:
        The kind: by the verdict for ``extra_requests``, by the recommended step for
        ``abusive`` (only a step that recommends writing), else the case's one kind.
    """
    chosen = _cfg()["advice"].get(case)
    if isinstance(chosen, str):
        return chosen
    if not isinstance(chosen, Mapping):
        return None
    if case == "extra_requests":
        return chosen.get(playbooks.extra_requests_verdict(answers_))
    if case == "abusive":
        step, _ = playbooks.abuse_step(
            answers_.get("abuse_frequency"), answers_.get("abuse_severity")
        )
        return chosen.get(step)
    return None


def complete(case: str | None, answers_: Mapping[str, str | None]) -> bool:
    """True when every question of the case is answered (the advice has been given)."""
    if case not in playbooks.CASES:
        return False
    return all(answers_.get(slot) is not None for slot in playbooks.playbooks()[case].slots)


def for_advice(
    case: str, answers_: Mapping[str, str | None], client: str | None = None
) -> Draft | None:
    """The draft that comes with the advice of a case, None when the advice has none.

    Args:
        case: The case.
        answers_: The case's answers.
        client: The client's name (None: unknown).

    Returns:
        The draft in the normal variant, or None.
    """
    kind = kind_for_advice(case, answers_)
    if kind is None:
        return None
    return Draft(case, kind, _case_answers(case, answers_), client)


def _case_answers(case: str, answers_: Mapping[str, str | None]) -> dict[str, str | None]:
    return {slot: answers_.get(slot) for slot in playbooks.playbooks()[case].slots}


def last_draft(
    stored: object, case: str | None, answers_: Mapping[str, str | None], client: str | None
) -> Draft | None:
    """The draft the user saw last, for "kürzer", "förmlicher", "anders formulieren".

    Args:
        stored: The slot value of the last draft the coach changed or rewrote (or None).
        case: The case of the conversation (the ``case`` slot).
        answers_: The case's answers as the slots hold them now.
        client: The client's name.

    Returns:
        When the case's questions are all answered, the advice came last: the stored draft if
        it belongs to exactly this case and these answers (it may be a rewritten one), else
        the advice's own draft (None when the advice had none). Otherwise the stored draft.
    """
    previous = Draft.from_slot(stored)
    if not complete(case, answers_):
        return previous
    if (
        previous is not None
        and previous.case == case
        and dict(previous.answers) == _case_answers(case, answers_)
    ):
        return previous
    return for_advice(case, answers_, client)


# ------------------------------------------------------------------------------ the letter
def salutation(client: str | None, variant: str = NORMAL) -> str:
    """The salutation of a letter to the client, by the kind of client.

    Args:
        client: The client's name ("Frau Keller", "Herrn Brandt", "Müller GmbH") or None.
        variant: The formal variant greets an unknown client with "Sehr geehrte Damen und
            Herren" instead of "Guten Tag".

    Returns:
        "Sehr geehrte Frau Keller", "Sehr geehrter Herr Brandt", "Sehr geehrte Damen und
        Herren" (a company), "Guten Tag" (unknown).
    """
    who = clients.classify(client)
    if variant == FORMAL and who.kind in (clients.WORD, clients.NONE):
        return say("salutation_formal_unknown")
    return clients.forms(who)["client_salutation"]


def _part(draft: Draft, *path: str) -> str:
    return say("letters", draft.case, draft.variant, *path)


def _keys(value: str | None, default: str | None = None) -> list[str]:
    keys = answers.split_choices(value)
    return keys or ([default] if default else [])


def _our_fault(d: Draft) -> list[str]:
    parts = [_part(d, "opening")]
    parts += [_part(d, "offer", key) for key in _keys(d.answers.get("fault_offer"), "other")]
    if d.answers.get("fault_impact") == "large":  # the advice: call personally
        parts.append(_part(d, "call"))
    return parts + [_part(d, "end")]


def _extra_requests(d: Draft) -> list[str]:
    parts = [_part(d, "opening")]
    if d.kind != "fulfil":  # fulfil is only advised when the agreement was unclear
        unclear = d.answers.get("extra_unclear") == "yes"
        parts.append(_part(d, "scope", "unclear" if unclear else "clear"))
    parts.append(_part(d, d.kind))
    compromise = _keys(d.answers.get("extra_compromise"))
    if d.kind == "payment" and "counter" in compromise:
        parts.append(_part(d, "also_counter"))
    if d.kind in ("payment", "counter") and d.answers.get("extra_chronic") == "yes":
        parts.append(_part(d, "future"))
    return parts + [_part(d, "end")]


def _false_claims(d: Draft) -> list[str]:
    if d.kind == "confirm":
        return [_part(d, "confirm")]
    checked = d.answers.get("false_checked") == "yes"
    parts = [_part(d, "opening"), _part(d, "checked", "yes" if checked else "no")]
    evidence = "evidence_checked" if checked else "evidence_open"
    parts += [_part(d, evidence, key) for key in _keys(d.answers.get("false_evidence"), "unsure")]
    return parts + [_part(d, "end")]


def _abusive(d: Draft) -> list[str]:
    first = d.answers.get("abuse_frequency") in (None, "first")
    severity = d.answers.get("abuse_severity") or "venting"
    return [
        _part(d, "opening"),
        _part(d, "tone", "first" if first else "repeated"),
        _part(d, "limit", severity),
        _part(d, "body"),
        _part(d, "end"),
    ]


_BODIES = {
    "our_fault": _our_fault,
    "extra_requests": _extra_requests,
    "false_claims": _false_claims,
    "abusive": _abusive,
}


def letter(draft: Draft) -> str:
    """The drafted message to the client, ready to be adapted and sent.

    Args:
        draft: What the letter is made of.

    Returns:
        Salutation, the body (its first word in lower case after the comma), closing and
        "[Ihr Name]", paragraphs separated by a blank line.

    Raises:
        ValueError: The draft's kind does not belong to its case.
    """
    if draft.kind not in kinds(draft.case):
        raise ValueError(f"no draft {draft.kind!r} for case {draft.case!r}")
    sentences = [s for s in _BODIES[draft.case](draft) if s]
    return say(
        "letter",
        salutation=salutation(draft.client, draft.variant),
        body=" ".join(sentences),
        closing=say("closing", draft.variant),
    )


def message(draft: Draft, intro: str | None = None, *, hint: bool = False, **values: Any) -> str:
    """The coach's message with a draft: a line saying what it is, the letter, maybe a hint.

    Args:
        draft: The draft.
        intro: The introducing line (``coach.intro.<intro>``); the draft's variant if None.
        hint: Add the hint that "kürzer", "förmlicher" or "anders formulieren" give another
            version – with a case's first draft only, so it is not repeated after every draft.
        **values: Values of the introducing line (``label`` for ``changed``).

    Returns:
        The message.
    """
    head = say("coach", "intro", intro or draft.variant, **values)
    parts = [head, letter(draft)]
    if hint and draft.variant == NORMAL:
        parts.append(say("coach", "hint"))
    return "\n\n".join(parts)


# ------------------------------------------------------------------------------ changes
@dataclass(frozen=True)
class Change:
    """A changed answer for a draft: the answers after the change and what changed."""

    answers: dict[str, str | None]
    slot: str
    value: str

    def label(self) -> str | None:
        """How the change is named ("mit Gutschrift"), None for a slot without labels."""
        names = lookup("drafts", "labels.change")
        if self.slot not in names:
            return None
        keys = answers.split_choices(self.value) or [self.value]
        return " und ".join(say("labels", "change", self.slot, key) for key in keys)


def change_slot(case: str | None) -> str | None:
    """The question a changed draft of the case answers anew (``fault_offer`` …), or None."""
    return _cfg()["change_slot"].get(case or "")


def choice_buttons(case: str | None) -> list[dict[str, str]]:
    """Buttons for the choices a draft of the case can offer (payload ``/change_draft{…}``)."""
    slot = change_slot(case)
    if slot is None:
        return []
    labels = lookup("drafts", "labels.button")[slot]
    return [
        {"title": say("labels", "button", slot, key), "payload": choice_payload(key)}
        for key in labels
    ]


def choice_payload(key: str) -> str:
    """The payload of a button that changes the draft to the choice ``key``."""
    return "/change_draft" + json.dumps({"draft_choice": key})


def _normalized_words(message_text: str) -> list[str]:
    return answers.normalize(message_text).split()


def _has_phrase(words: list[str], phrases: Iterable[str]) -> bool:
    padded = " " + " ".join(words) + " "
    return any(f" {answers.normalize(p)} " in padded for p in phrases)


def _merged(question: playbooks.Question, old: str | None, new: str, add: bool) -> str:
    """``new`` replaces the old answer, or (``add``, several allowed) joins it."""
    if not (add and question.multiple):
        return new
    keys = list(dict.fromkeys(answers.split_choices(old) + answers.split_choices(new)))
    if len(keys) > 1:
        keys = [k for k in keys if k not in question.exclusive] or keys
    return answers.separator().join(keys)


def change(
    case: str, answers_: Mapping[str, str | None], message_text: str, choice: str | None = None
) -> Change | None:
    """The answer a message changes for the draft ("lieber neu drucken"), or None.

    Tried in this order: a button's choice (``choice``), a corrected earlier answer
    ("korrektur: bei der Belegfrage meinte ich keine", :mod:`bot.corrections`), a choice of
    the case's draft question named in the message ("mach den Entwurf mit Rabatt" – it
    replaces the old choice, or joins it with "auch"/"zusätzlich"), and for false claims
    whether the user did check internally after all.

    Args:
        case: The case.
        answers_: The case's answers now.
        message_text: The user's message.
        choice: The choice key of a button (entity ``draft_choice``), if any.

    Returns:
        The :class:`Change` (the new answers and the changed slot), or None when the message
        names nothing new.
    """
    current = _case_answers(case, answers_)
    book = playbooks.playbooks()[case]
    slot = change_slot(case)
    question = book.question(slot) if slot else None
    found: tuple[str, str] | None = None
    if question is not None and choice and question.is_canonical(choice):
        found = (slot, choice)
    if found is None and message_text and not message_text.startswith("/"):
        found = _change_from_text(case, current, message_text, question)
    if found is None or current.get(found[0]) == found[1]:
        return None
    updated = dict(current)
    updated[found[0]] = found[1]
    return Change(updated, found[0], found[1])


def _change_from_text(
    case: str,
    current: Mapping[str, str | None],
    message_text: str,
    question: playbooks.Question | None,
) -> tuple[str, str] | None:
    corrected = corrections.earlier_correction(message_text, current)
    if corrected is not None:
        return corrected.slot, corrected.value
    words = _normalized_words(message_text)
    if question is not None:
        parsed = question.parse(message_text)
        if parsed:
            add = _has_phrase(words, _cfg()["add_words"])
            return question.slot, _merged(question, current.get(question.slot), parsed, add)
    if case == "false_claims":
        checked = _cfg()["checked"]
        for value in ("no", "yes"):  # "noch nicht geprüft" before "geprüft"
            if _has_phrase(words, checked[value]):
                return "false_checked", value
    return None


def unknown_markers(letter_text: str) -> list[str]:
    """Text in square brackets that is not one of the :func:`markers` (for checks)."""
    return [m for m in re.findall(r"\[[^\]]*\]", letter_text) if m not in markers()]
