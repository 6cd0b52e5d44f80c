"""Incidents and the escalation history as the coach tells them (no Rasa, no database).

Functions take plain values (``IncidentInfo`` / ``BoundaryInfo`` or look-alikes) and return
German messages from ``texts/history.yml``.
"""

from __future__ import annotations

from datetime import date
from typing import Iterable, Mapping, Sequence

from bot import answers, clients, escalation
from bot.boundaries import describe_boundary, label, label_of, plural
from bot.dates import format_date
from bot.playbooks import config as playbook_config
from bot.storage.models import CLIENT_NAME_MAX, NOTE_MAX
from bot.storage.repository import InvalidInput, clean_incident_client, clean_note, client_key
from bot.texts import lookup, text

NO_NOTE = "none"
_NO_NOTE_WORDS = [
    "keine notiz",
    "keine",
    "kein",
    "nein",
    "nichts",
    "ohne",
    "ohne notiz",
    "weiter",
    "passt so",
    "nix",
    "ueberspringen",
    "skip",
    "brauche ich nicht",
    "nicht noetig",
    "kein kommentar",
    "keine anmerkung",
    "keine anmerkungen",
    "nichts weiter",
    "nichts hinzuzufuegen",
    "nee",
    "ne",
    "no",
    "nope",
    "passt",
    "-",
]


def t(key: str, **values) -> str:
    """A text of ``bot/texts/history.yml`` with ``values`` filled in."""
    return text("history", key, **values)


# --------------------------------------------------------------------------- answers
def invalid_message(code: str, **values) -> str:
    """The German explanation for an InvalidInput / DateError / ThresholdError code."""
    if code == "date_future":
        when = (
            t("invalid.date_future_known", date=format_date(values["value"]))
            if values.get("value")
            else t("invalid.date_future_unknown")
        )
        return t("invalid.date_future", when=when)
    # the storage layer re-checks without the value: then the text does without it
    if code == "date_too_old":
        if values.get("value"):
            return t("invalid.date_too_old", date=format_date(values["value"]))
        return t("invalid.date_too_old_unknown")
    if code == "behavior_unknown":  # ``own``: the words of the user's own boundaries
        labels = ", ".join([label(b) for b in escalation.behaviors()] + list(values.get("own", ())))
        if values.get("value"):
            return t("invalid.behavior_unknown", value=_shorten(values["value"]), labels=labels)
        return t("invalid.behavior_unknown_no_value", labels=labels)
    if code == "note_too_long":
        if values.get("length"):
            return t("invalid.note_too_long", length=values["length"], limit=NOTE_MAX)
        return t("invalid.note_too_long_unknown", limit=NOTE_MAX)
    if code == "client_name_too_long":
        return t("invalid.client_name_too_long", limit=CLIENT_NAME_MAX)
    if code == "threshold_range":
        from bot.boundaries import MAX_COUNT, MAX_DAYS

        return t("invalid.threshold_range", max_count=MAX_COUNT, max_days=MAX_DAYS)
    if code in lookup("history", "invalid"):  # the other codes' texts need no values
        return t(f"invalid.{code}")
    return t("invalid.storage_failed")  # a code without a text of its own


def _shorten(value: str, limit: int = 60) -> str:
    value = " ".join(str(value).split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def parse_client(value: object) -> str:
    """A client name from an answer; InvalidInput with a code if unusable.

    The title is normalised ("Herrn Brandt" -> "Herr Brandt"), a leading article dropped.
    """
    if not isinstance(value, str):
        raise InvalidInput("client_name_missing")
    return clients.display_name(clean_incident_client(value))


def parse_note(value: object) -> str:
    """NO_NOTE, or the cleaned note; InvalidInput('note_too_long') if too long."""
    if not isinstance(value, str):
        raise InvalidInput("client_name_missing")
    if value == NO_NOTE or answers.normalize(value) in {
        answers.normalize(w) for w in _NO_NOTE_WORDS
    }:
        return NO_NOTE
    note = clean_note(value)
    return note if note else NO_NOTE


def resolve_client(mentioned: str | None, text_: str | None, known: Sequence[str]) -> str | None:
    """Which of the user's ``known`` clients the user means.

    ``mentioned`` (an NLU entity) first, matched case-insensitively, then by the core of the
    name (:func:`bot.clients.match_key`: "herrn brandt" → "Herr Brandt", "der Firma Müller"
    → "Müller GmbH"; of two clients with the same core the title decides), also as a unique
    part of a stored name ("Müller" → "Müller GmbH"); else the longest known name in the
    message, or the longest known name whose core is in the message ("bei herrn brandt").
    """
    keys = {client_key(name): name for name in known}
    cores = {name: clients.match_key(name) for name in known}
    if mentioned and mentioned.strip():
        key = client_key(mentioned.strip())
        if key in keys:
            return keys[key]
        core = clients.match_key(mentioned)
        same = [name for name in known if core and cores[name] == core]
        if len(same) > 1:  # "Frau Keller" and "Herr Keller": the title decides
            kind = clients.classify(mentioned).kind
            same = [name for name in same if clients.classify(name).kind == kind]
        if len(same) == 1:
            return same[0]
        partial = [name for k, name in keys.items() if key and (key in k or k in key)]
        if len(partial) == 1:
            return partial[0]
        partial = [
            name for name in known if _contains(cores[name], core) or _contains(core, cores[name])
        ]
        if len(partial) == 1:
            return partial[0]
    if text_:
        haystack = f" {client_key(answers.normalize(text_))} "
        hits = [
            name
            for k, name in keys.items()
            if f" {client_key(answers.normalize(name))} " in haystack
        ]
        if not hits:
            hits = [name for name in known if cores[name] and f" {cores[name]} " in haystack]
        if hits:
            return max(hits, key=len)
    return None


def _contains(longer: str, shorter: str) -> bool:
    """Whether the words of ``shorter`` occur in ``longer`` (both non-empty)."""
    return bool(longer and shorter) and f" {shorter} " in f" {longer} "


# --------------------------------------------------------------------------- case flows
def case_incident(case: str | None, answers_: Mapping[str, str | None]) -> dict | None:
    """What an incident recorded after a case flow looks like, or None (our_fault, unknown)."""
    spec = (escalation.config().get("case_incidents") or {}).get(case or "")
    if not spec:
        return None
    if "behavior" in spec:
        behavior = spec["behavior"]
    else:
        source = spec["behavior_from"]
        behavior = source["values"].get(answers_.get(source["slot"]) or "")
    if behavior not in escalation.behaviors():
        return None
    note = None
    if spec.get("note_slot"):
        note = answers_.get(spec["note_slot"])
    elif case == "abusive":
        frequency, severity = answers_.get("abuse_frequency"), answers_.get("abuse_severity")
        if frequency and severity:
            note = t(
                "incident.case_note.abusive",
                severity=t(f"incident.abuse_severity.{severity}"),
                frequency=t(f"incident.abuse_frequency.{frequency}"),
            )
    level_hint = None
    if case == "abusive":
        matrix = playbook_config().get("abuse_matrix") or {}
        level_hint = (matrix.get(answers_.get("abuse_frequency") or "") or {}).get(
            answers_.get("abuse_severity") or ""
        )
    try:
        note = clean_note(note)
    except InvalidInput:
        note = note[: NOTE_MAX - 1] + "…" if note else None
    return {"case": case, "behavior": behavior, "note": note, "level_hint": level_hint}


def offer_text(offer: Mapping, client: str | None, today: date) -> str:
    """The question after a case flow whether to record it as an incident (dated today)."""
    if client:
        forms = clients.forms(client)
        return t("incident.offer", **forms, label=label(offer["behavior"]), date=format_date(today))
    return t("incident.offer_no_client", label=label(offer["behavior"]), date=format_date(today))


# --------------------------------------------------------------------------- rendering
def _weekday(value: date) -> str:
    return text("history", f"weekdays.{value.weekday()}")


def _step_texts(
    state: escalation.LadderState, step: escalation.Step | None = None, client: str | None = None
) -> dict:
    """Title and advice of a ladder step, with the client's forms filled in."""
    step = step or state.step
    key = f"steps.{state.ladder.key}.{step.key}"
    forms = clients.forms(client)
    return {part: text("history", f"{key}.{part}", **forms) for part in lookup("history", key)}


def level_lines(
    client: str, assessment: escalation.Assessment, *, with_advice: bool = True
) -> list[str]:
    """Current level, what to do now, what comes next – for the most urgent ladder."""
    state = assessment.primary
    if state is None:
        return []
    forms = clients.forms(client)
    current = _step_texts(state, client=client)
    lines = [
        t(
            "level.status",
            **forms,
            ladder=t(f"ladders.{state.ladder.key}"),
            number=state.level + 1,
            total=len(state.ladder.steps),
            title=current["title"],
        )
    ]
    if with_advice:
        lines.append(t("level.advice", advice=current["advice"]))
    nxt = state.next_step
    lines.append(t("level.next", title=_step_texts(state, nxt)["title"]) if nxt else t("level.top"))
    for other in assessment.states[1:]:
        lines.append(
            t(
                "history.other_ladder",
                ladder=t(f"ladders.{other.ladder.key}"),
                number=other.level + 1,
                total=len(other.ladder.steps),
                title=_step_texts(other)["title"],
            )
        )
    return lines


def crossing_lines(
    client: str, new: Sequence[escalation.Crossing], again: Sequence[escalation.Crossing] = ()
) -> list[str]:
    """Lines on the boundaries an incident just crossed, plus advice if any is new.

    Args:
        client: The client's name.
        new: Boundaries crossed for the first time (each named with how often and since
            when, then one line of advice).
        again: Boundaries crossed before and now once more (one short line each).
    """
    lines = []
    forms = clients.forms(client)
    for crossing in new:
        boundary = describe_boundary(crossing.boundary, with_note=False)
        if crossing.boundary.max_count:
            lines.append(
                t(
                    "level.crossed_count",
                    **forms,
                    boundary=boundary,
                    count=crossing.count,
                    since=format_date(crossing.since),
                )
            )
        else:
            lines.append(t("level.crossed", **forms, boundary=boundary))
    if lines:
        lines.append(t("level.crossed_advice", **forms))
    for crossing in again:
        boundary = describe_boundary(crossing.boundary, with_note=False, short=True)
        key = "level.crossed_again_count" if crossing.boundary.max_count else "level.crossed_again"
        since = format_date(crossing.since)
        lines.append(t(key, **forms, boundary=boundary, count=crossing.count, since=since))
    return lines


def after_logging(
    incident, client_incidents: Sequence, boundaries: Iterable, today: date
) -> list[str]:
    """The coach's answer once an incident is saved: what, level, crossed boundary, next step.

    A boundary is named once, when the incident that crosses it is saved; one crossed
    earlier only again (briefly) when this incident crosses it once more.
    """
    client = incident.client
    forms = clients.forms(client)
    boundaries = list(boundaries)
    assessment = escalation.assess(client_incidents, boundaries, today)
    new, again = escalation.announced(incident, client_incidents, boundaries, today)
    msgs = [
        t(
            "incident.saved",
            date=format_date(incident.occurred_on),
            **forms,
            label=label_of(incident),
        )
    ]
    count = len(client_incidents)
    msgs.append(t("incident.nth", n=count, **forms) if count > 1 else t("incident.first", **forms))
    msgs += crossing_lines(client, new, again)
    msgs.append("\n".join(level_lines(client, assessment)))
    state = assessment.primary
    if state is not None and state.step.summary:
        msgs.append(t("level.summary_hint", **forms))
    return msgs


def timeline(client: str, incidents: Sequence, boundaries: Iterable, today: date) -> list[str]:
    """`show_history` for one client: dated timeline, level, crossed boundaries, summary."""
    assessment = escalation.assess(incidents, boundaries, today)
    forms = clients.forms(client)
    items = [t("history.timeline_intro", **forms, count=plural("incidents", len(incidents)))]
    for incident in sorted(incidents, key=lambda i: (i.occurred_on, getattr(i, "id", 0) or 0)):
        key = "history.timeline_item_note" if incident.note else "history.timeline_item"
        items.append(
            t(
                key,
                weekday=_weekday(incident.occurred_on),
                date=format_date(incident.occurred_on),
                label=label_of(incident),
                note=incident.note,
            )
        )
    msgs = ["\n".join(items)]
    if assessment.crossings:
        msgs.append(
            t(
                "history.crossed_list",
                boundaries="; ".join(
                    f"„{describe_boundary(c.boundary, with_note=False)}“"
                    for c in assessment.crossings
                ),
            )
        )
    lines = level_lines(client, assessment)
    if lines:
        msgs.append("\n".join(lines))
    state = assessment.primary
    if state is not None and state.step.summary:
        msgs.append(t("history.summary_intro"))
        msgs.append(summary(client, assessment))
    return msgs


def summary(client: str, assessment: escalation.Assessment) -> str:
    """A short factual text for the supervisor: incidents, dates, boundary crossed, next step."""
    state = assessment.primary
    incidents = list(state.incidents)
    forms = clients.forms(client)
    one = len(incidents) == 1
    ladder = t(f"ladders.{state.ladder.key}")
    subject = "history.summary_subject_one" if one else "history.summary_subject"
    lines = [t(subject, **forms, ladder=ladder), ""]
    first, last = incidents[0].occurred_on, incidents[-1].occurred_on
    if one:
        body = "history.summary_body_one"
    elif first == last:  # several incidents on one day: one date
        body = "history.summary_body_same_day"
    else:
        body = "history.summary_body"
    lines.append(
        t(
            body,
            first=format_date(first),
            last=format_date(last),
            **forms,
            count=plural("incidents", len(incidents)),
        )
    )
    for incident in incidents:
        key = "history.summary_item_note" if incident.note else "history.summary_item"
        lines.append(
            t(
                key,
                date=format_date(incident.occurred_on),
                label=label_of(incident),
                note=incident.note,
            )
        )
    for crossing in assessment.crossings:
        lines.append(
            t(
                "history.summary_crossed",
                boundary=describe_boundary(crossing.boundary, with_note=False),
            )
        )
    lines.append(t("history.summary_close", title=_step_texts(state, client=client)["title"]))
    return "\n".join(lines)


def overview(by_client: Mapping[str, Sequence], boundaries: Iterable, today: date) -> list[str]:
    """`show_history` without a client: every client with a level, most urgent first."""
    boundaries = list(boundaries)
    if not by_client:
        return [t("history.none")]
    assessments = {
        name: escalation.assess(items, boundaries, today) for name, items in by_client.items()
    }
    ranked = [
        name for name in escalation.rank(assessments) if assessments[name].primary is not None
    ]
    if not ranked:
        return [t("history.none")]
    lines = [t("history.overview_intro")]
    for rank, name in enumerate(ranked, start=1):
        assessment = assessments[name]
        state = assessment.primary
        key = "history.overview_item_crossed" if assessment.crossings else "history.overview_item"
        lines.append(
            t(
                key,
                rank=rank,
                **clients.forms(name),
                number=state.level + 1,
                total=len(state.ladder.steps),
                title=_step_texts(state)["title"],
                count=plural("incidents", len(assessment.incidents)),
                date=format_date(assessment.incidents[-1].occurred_on),
            )
        )
    return ["\n".join(lines), t("history.overview_outro", **clients.forms(ranked[0]))]


def warning_prefill(incidents: Sequence, today: date) -> dict[str, dict]:
    """Warning signs (seed 001) the client's incidents are evidence for: sign -> evidence."""
    mapping = escalation.config().get("warning_signs") or {}
    cutoff_days = escalation.window_days()
    found: dict[str, list] = {}
    for incident in incidents:
        if (today - incident.occurred_on).days > cutoff_days:
            continue
        sign = mapping.get(incident.behavior)
        if sign:
            found.setdefault(sign, []).append(incident)
    result = {}
    for sign, items in found.items():
        items.sort(key=lambda i: i.occurred_on)
        labels = sorted({label_of(i) for i in items})
        result[sign] = {
            "count": len(items),
            "labels": labels,
            "last": items[-1].occurred_on.isoformat(),
        }
    return result


def prefill_question(
    client: str, prefill: Mapping[str, Mapping], order: Sequence[str], total: int
) -> str:
    """Ask whether the warning signs the incidents already show may be pre-filled.

    Args:
        client: the client's name.
        prefill: sign -> evidence (``count``, ``labels``, ``last``) from :func:`warning_prefill`.
        order: the signs in the order of the check.
        total: number of signs in the check (the rest is still asked).
    """
    forms = clients.forms(client)
    if len(prefill) == 1:
        lines = [t("prefill.ask_one", **forms)]
    else:
        lines = [t("prefill.ask", **forms, count=plural("signs", len(prefill)))]
    for key in order:
        if key in prefill:
            item = prefill[key]
            evidence = t(
                "prefill.evidence",
                count=plural("incidents", item["count"]) + " (" + ", ".join(item["labels"]) + ")",
                date=format_date(date.fromisoformat(item["last"])),
            )
            sign = text("knowledge", f"short_names.{key}")
            lines.append(t("prefill.line", sign=sign, evidence=evidence))
    rest = total - len(prefill)
    if rest == 1:
        lines.append(t("prefill.question_one"))
    else:
        lines.append(t("prefill.question", rest=plural("signs", rest)))
    return "\n".join(lines)
