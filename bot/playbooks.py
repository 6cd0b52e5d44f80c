"""The four difficult-client cases: questions, answer parsing and tailored advice.

Pure functions over plain dicts (slot values), so actions stay thin and the logic
is tested without Rasa. Question definitions: ``playbooks.yml``; texts: ``texts/cases.yml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Mapping

import yaml

from bot import answers, clients
from bot.texts import text

CASES = ("our_fault", "extra_requests", "false_claims", "abusive")


@dataclass(frozen=True)
class Question:
    """One question of a case flow: the slot it fills and how its answer is parsed."""

    slot: str
    kind: str  # text | yesno | choice
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: words that name the question in a correction ("bei der preisfrage meinte ich ja")
    keywords: tuple[str, ...] = ()
    #: choice: several answers at once, stored joined by "+" in the order of mention
    multiple: bool = False
    #: choice: answers that stand only alone ("none"), dropped when others are named too
    exclusive: tuple[str, ...] = ()
    #: choice with one answer: of several named, the one listed last (the most severe)
    highest: bool = False
    #: choice: the answer for a message that only negates choices ("weder … noch …")
    if_all_negated: str | None = None
    #: yesno: frequency words answer it ("ständig" yes, "selten" no)
    frequency: bool = True
    #: yesno: "weiß nicht" / "überspringen" give "skip" (the warning-sign check)
    allow_skip: bool = False

    def parse(self, value: object) -> str | None:
        """The stored value for an answer.

        Args:
            value: The user's answer (typed or a button payload) or an already stored value.

        Returns:
            The clean text, ``"yes"``/``"no"`` (``"skip"`` where allowed), the choice key or,
            for a question with ``multiple``, the keys joined by ``+``; None if the answer is
            not understood or refers to another question.
        """
        if not isinstance(value, str):
            return None
        if self.kind == "text":
            return answers.clean_text_answer(value)
        if self.kind == "yesno":
            parsed = answers.parse_yes_no(
                value, allow_skip=self.allow_skip, frequency=self.frequency
            )
            return parsed if parsed in ("yes", "no") or (parsed and self.allow_skip) else None
        if self.is_canonical(value):  # already canonical (e.g. re-validated)
            return value
        return answers.parse_choice(
            value,
            self.choices,
            multiple=self.multiple,
            exclusive=self.exclusive,
            negation=True,
            highest=self.highest,
            if_all_negated=self.if_all_negated,
        )

    def is_canonical(self, value: str) -> bool:
        """True for a stored choice value: a key, or with ``multiple`` keys joined by ``+``."""
        keys = answers.split_choices(value) if self.multiple else [value]
        return bool(keys) and all(k in self.choices for k in keys)


def question_from_spec(spec: Mapping) -> Question:
    """A :class:`Question` from its entry in ``playbooks.yml``.

    Args:
        spec: The mapping with ``slot``, ``kind`` and the optional keys described there.

    Returns:
        The question.
    """
    return Question(
        slot=spec["slot"],
        kind=spec["kind"],
        choices={k: tuple(v) for k, v in (spec.get("choices") or {}).items()},
        keywords=tuple(spec.get("keywords") or ()),
        multiple=bool(spec.get("multiple", False)),
        exclusive=tuple(spec.get("exclusive") or ()),
        highest=bool(spec.get("highest", False)),
        if_all_negated=spec.get("if_all_negated"),
        frequency=bool(spec.get("frequency", True)),
        allow_skip=bool(spec.get("allow_skip", False)),
    )


@dataclass(frozen=True)
class Playbook:
    """A case flow of ``playbooks.yml``: its intent, its Rasa form and its questions."""

    case: str
    intent: str
    form: str
    questions: tuple[Question, ...]

    @property
    def slots(self) -> tuple[str, ...]:
        """The slots of the questions, in the order they are asked."""
        return tuple(q.slot for q in self.questions)

    def question(self, slot: str) -> Question | None:
        """The question that fills ``slot``, or None."""
        return next((q for q in self.questions if q.slot == slot), None)


@lru_cache(maxsize=1)
def config() -> dict:
    """The parsed ``playbooks.yml`` (read once)."""
    return yaml.safe_load(Path(__file__).with_name("playbooks.yml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def playbooks() -> dict[str, Playbook]:
    """The four case flows by case name."""
    result = {}
    for case, spec in config()["cases"].items():
        questions = tuple(question_from_spec(q) for q in spec["questions"])
        result[case] = Playbook(
            case=case, intent=spec["intent"], form=spec["form"], questions=questions
        )
    return result


def case_for_intent(intent: str | None) -> str | None:
    """The case whose flow the intent starts, or None."""
    return next((p.case for p in playbooks().values() if p.intent == intent), None)


def _names(client: str | None) -> dict[str, str]:
    """The client's forms for the texts (cases, salutation; "der Kunde" without a name)."""
    return clients.forms(client)


def intro(case: str, client: str | None = None) -> str:
    """The coach's first message of a case flow (with the client's name if known)."""
    return text("cases", f"intro.{case}", **_names(client))


def advice(case: str, answers_: Mapping[str, str | None], client: str | None = None) -> list[str]:
    """The coach's tailored advice once all questions of a case are answered."""
    if case not in CASES:
        raise ValueError(f"unknown case {case!r}")
    return {
        "our_fault": _our_fault,
        "extra_requests": _extra_requests,
        "false_claims": _false_claims,
        "abusive": _abusive,
    }[case](answers_, _names(client), client)


def _case_texts(case: str, names: dict) -> Callable[..., str]:
    """Lookup of the texts ``cases.<case>.<key>`` with the client's name forms filled in."""

    def t(key: str, **values) -> str:
        return text("cases", f"{case}.{key}", **names, **values)

    return t


def _draft(case: str, a: Mapping[str, str | None], client: str | None) -> list[str]:
    """The drafted message to the client the advice comes with (none: an empty list).

    Built by :mod:`bot.drafts` from the choices and yes/no answers only – what the user typed
    never goes into a letter to the client.
    """
    from bot import drafts  # drafts builds on this module (verdicts, abuse steps)

    draft = drafts.for_advice(case, a, client)
    return [drafts.message(draft, hint=True)] if draft is not None else []


def _our_fault(a: Mapping[str, str | None], names: dict, client: str | None) -> list[str]:
    t = _case_texts("our_fault", names)
    msgs = [t("heard_no" if a.get("fault_heard") == "no" else "heard_yes"), t("steps")]
    msgs.append(t(f"impact.{a.get('fault_impact') or 'medium'}"))
    msgs += _draft("our_fault", a, client)  # one offer sentence per offer named, in that order
    msgs.append(t("closing"))
    return msgs


def _choices(value: str | None, default: str) -> list[str]:
    """The keys of a stored choice value ("redo+discount"), ``[default]`` when empty."""
    return answers.split_choices(value) or [default]


def extra_requests_verdict(a: Mapping[str, str | None]) -> str:
    """Fulfil | negotiate_payment | negotiate_counter | decline | chronic_end (seed 004, case 2).

    Both payment and a counter-service ("payment+counter") negotiate payment first.
    """
    chronic = a.get("extra_chronic") == "yes"
    compromise = set(answers.split_choices(a.get("extra_compromise")))
    if chronic and not compromise & {"payment", "counter"}:
        return "chronic_end"
    if "payment" in compromise:
        return "negotiate_payment"
    if "counter" in compromise:
        return "negotiate_counter"
    if a.get("extra_effort") == "yes" and a.get("extra_unclear") == "yes" and not chronic:
        return "fulfil"
    return "decline"


def _extra_requests(a: Mapping[str, str | None], names: dict, client: str | None) -> list[str]:
    t = _case_texts("extra_requests", names)
    msgs = []
    if a.get("extra_what"):  # never quoted back: the user knows what they wrote
        msgs.append(t("confirm_in_writing"))
    msgs.append(t("unclear_yes" if a.get("extra_unclear") == "yes" else "unclear_no"))
    if a.get("extra_chronic") == "yes":
        msgs.append(t("chronic_yes"))
    verdict = extra_requests_verdict(a)
    msgs.append(t(f"verdict.{verdict}"))
    phrasing = {
        "fulfil": "fulfil",
        "negotiate_payment": "negotiate",
        "negotiate_counter": "negotiate",
    }.get(verdict, "decline")
    msgs.append(t(f"phrasing.{phrasing}"))
    return msgs + _draft("extra_requests", a, client)


def _false_claims(a: Mapping[str, str | None], names: dict, client: str | None) -> list[str]:
    t = _case_texts("false_claims", names)
    msgs = [t("base")]  # the claim (free text) is not quoted back
    msgs.append(t("checked_yes" if a.get("false_checked") == "yes" else "checked_no"))
    # several kinds of evidence ("documents+witnesses"): one hint each, in the order named
    msgs.extend(t(f"evidence.{key}") for key in _choices(a.get("false_evidence"), "unsure"))
    return msgs + _draft("false_claims", a, client)


def abuse_step(frequency: str | None, severity: str | None) -> tuple[str, str | None]:
    """The recommended step of the abuse ladder and the one after it (None at the top)."""
    cfg = config()
    ladder = cfg["abuse_ladder"]
    row = cfg["abuse_matrix"].get(frequency or "first", cfg["abuse_matrix"]["first"])
    index = row.get(severity or "venting", row["venting"])
    return ladder[index], (ladder[index + 1] if index + 1 < len(ladder) else None)


def _abusive(a: Mapping[str, str | None], names: dict, client: str | None) -> list[str]:
    t = _case_texts("abusive", names)
    step, following = abuse_step(a.get("abuse_frequency"), a.get("abuse_severity"))
    msgs = [t(f"step.{step}")]
    if a.get("abuse_severity") == "threat":  # a pressure threat: a clarifying talk first
        msgs.append(t("threat_note"))
    msgs += _draft("abusive", a, client)  # only a step that recommends writing has one
    if following:
        msgs.append(t("next", next_step=t(f"next_names.{following}")))
    msgs.append(t("self_care"))
    return msgs
