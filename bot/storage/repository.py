"""A small repository layer: every method is scoped to one sender id."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import delete, func, select, update

from bot.storage import db
from bot.storage.models import (
    CLIENT_NAME_MAX,
    LABEL_MAX,
    NOTE_MAX,
    SENDER_MAX,
    Boundary,
    Client,
    Incident,
    RoleplayResult,
    User,
    utcnow,
)


class InvalidInput(ValueError):
    """Input that cannot be stored; ``code`` names the problem for a German message."""

    def __init__(self, code: str, detail: str = ""):
        """Keep ``code`` for the message; ``detail`` only goes into the exception text."""
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


@dataclass(frozen=True)
class RoleplayInfo:
    """A finished role-play as plain data (scores 0–1 per criterion, overall 0–100)."""

    scenario_id: str
    difficulty: int
    outcome: str | None
    overall: float
    scores: dict
    transcript: list
    group_code: str | None
    finished_at: datetime


@dataclass(frozen=True)
class ClientInfo:
    """A client the user talked about: how often and when, and the last case."""

    name: str
    mentions: int
    first_mentioned_at: datetime
    last_mentioned_at: datetime
    last_case: str | None


@dataclass(frozen=True)
class BoundaryInfo:
    """A boundary of the user as plain data."""

    behavior: str
    max_count: int | None  # None: absolute no-go
    period_days: int | None
    note: str | None
    created_at: datetime
    updated_at: datetime
    label: str | None = None  # the words of a behaviour in the user's own words


@dataclass(frozen=True)
class IncidentInfo:
    """An incident with a client as plain data; ``source`` is "chat" or "case"."""

    id: int
    client: str
    behavior: str
    occurred_on: date
    note: str | None
    source: str
    case: str | None
    level_hint: int | None
    created_at: datetime
    label: str | None = None  # the words of a behaviour in the user's own words


MAX_INCIDENT_AGE_DAYS = 3650
MAX_BOUNDARY_COUNT = 50
MAX_BOUNDARY_DAYS = 365


def clean_sender(sender_id: str) -> str:
    """The trimmed sender id; ``InvalidInput`` if it is missing or too long."""
    if not isinstance(sender_id, str) or not sender_id.strip():
        raise InvalidInput("sender_missing")
    sender_id = sender_id.strip()
    if len(sender_id) > SENDER_MAX:
        raise InvalidInput("sender_too_long")
    return sender_id


def clean_client_name(name: str) -> str:
    """Trim, drop control characters, collapse spaces; refuse empty or overlong names."""
    if not isinstance(name, str):
        raise InvalidInput("client_name_missing")
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip(" \t.,;:!?\"'")
    if not name or not re.search(r"\w", name):
        raise InvalidInput("client_name_missing")
    if len(name) > CLIENT_NAME_MAX:
        raise InvalidInput("client_name_too_long")
    return name


def clean_incident_client(name: str) -> str:
    """A client name for an incident: as ``clean_client_name``, and no markup (``<`` ``>``).

    Chat platforms interpret angle brackets (Slack: ``<!channel>``, links), so a name that
    is shown back in every timeline must not carry them.
    """
    name = clean_client_name(name)
    if "<" in name or ">" in name:
        raise InvalidInput("client_name_markup")
    return name


_CUSTOM_KEY = re.compile(r"custom:[0-9a-f]{16}")


def clean_behavior(behavior: str) -> str:
    """``behavior`` if it is a behaviour category or a ``custom:…`` key, else ``InvalidInput``."""
    from bot.escalation import behaviors

    if isinstance(behavior, str) and _CUSTOM_KEY.fullmatch(behavior):
        return behavior
    if not isinstance(behavior, str) or behavior not in behaviors():
        raise InvalidInput("behavior_unknown", repr(behavior)[:40])
    return behavior


def clean_label(behavior: str, label: str | None) -> str | None:
    """The own words of a ``custom:…`` behaviour (required there), None for a category."""
    if not behavior.startswith("custom:"):
        return None
    label = clean_note(label)
    if not label:
        raise InvalidInput("behavior_unknown", "custom behaviour without words")
    if len(label) > LABEL_MAX:
        raise InvalidInput("behavior_too_long")
    return label


def clean_note(note: str | None) -> str | None:
    """Trimmed note without control characters (line breaks become spaces); None if empty."""
    if note is None:
        return None
    if not isinstance(note, str):
        raise InvalidInput("note_invalid")
    note = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in note)
    note = re.sub(r"\s+", " ", note).strip()
    if not note:
        return None
    if len(note) > NOTE_MAX:
        raise InvalidInput("note_too_long", str(len(note)))
    return note


def client_key(name: str) -> str:
    """The key a client's name is matched by: NFKC, case-folded, single spaces."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", name).casefold()).strip()


def _find_same_client(session, user: User, name: str) -> Client | None:
    """The user's client ``name`` stands for: the same spelling, else the same core of the name.

    "Herrn Brandt", "herr brandt" and "Brandt" are one client, "Firma Müller", "Müller" and
    "Müller GmbH" too (:func:`bot.clients.same_client`); "Frau Keller" is not "Herr Keller".
    """
    from bot.clients import same_client

    client = session.execute(
        select(Client).where(Client.user_id == user.id, Client.name_key == client_key(name))
    ).scalar_one_or_none()
    if client is not None:
        return client
    rows = session.execute(
        select(Client).where(Client.user_id == user.id).order_by(Client.first_mentioned_at)
    ).scalars()
    return next((c for c in rows if same_client(name, c.name)), None)


def _mention_client(session, user: User, name: str, case: str | None, now: datetime) -> Client:
    """Count one mention of the user's client ``name`` (created if new; flushed: it has an id).

    A new client is stored under the name as the coach shows it ("mit Herrn Brandt" ->
    "Herr Brandt").
    """
    from bot.clients import display_name

    client = _find_same_client(session, user, name)
    if client is None:
        name = display_name(name)
        key = client_key(name)
        client = Client(
            user_id=user.id,
            name=name,
            name_key=key,
            mentions=1,
            first_mentioned_at=now,
            last_mentioned_at=now,
            last_case=case,
        )
        session.add(client)
    else:
        client.mentions += 1
        client.last_mentioned_at = now
        client.last_case = case or client.last_case
    session.flush()
    return client


class CoachRepository:
    """All reads and writes of the coach's own data for one database URL."""

    def __init__(self, url: str):
        """Work on the database at ``url`` (migrated on first use)."""
        self.url = url

    def _user(self, session, sender_id: str, create: bool = True) -> User | None:
        user = session.execute(select(User).where(User.sender_id == sender_id)).scalar_one_or_none()
        if user is None and create:
            user = User(sender_id=sender_id)
            session.add(user)
            session.flush()
        return user

    def touch_user(self, sender_id: str) -> None:
        """Record that the user was active now (created on first contact)."""
        sender_id = clean_sender(sender_id)
        with db.session_scope(self.url) as session:
            self._user(session, sender_id).last_seen_at = utcnow()

    def remember_client(self, sender_id: str, name: str, case: str | None = None) -> ClientInfo:
        """Count a mention of a client (created if new) and remember the case discussed."""
        sender_id = clean_sender(sender_id)
        name = clean_client_name(name)
        with db.session_scope(self.url) as session:
            user = self._user(session, sender_id)
            now = utcnow()
            user.last_seen_at = now
            client = _mention_client(session, user, name, case, now)
            return _info(client)

    def clients(self, sender_id: str) -> list[ClientInfo]:
        """The user's clients, most recently mentioned first."""
        sender_id = clean_sender(sender_id)
        with db.session_scope(self.url) as session:
            user = self._user(session, sender_id, create=False)
            if user is None:
                return []
            rows = session.execute(
                select(Client)
                .where(Client.user_id == user.id)
                .order_by(Client.last_mentioned_at.desc())
            ).scalars()
            return [_info(c) for c in rows]

    def save_roleplay(
        self,
        sender_id: str,
        *,
        scenario_id: str,
        difficulty: int,
        overall: float,
        scores: dict,
        transcript: list,
        outcome: str | None = None,
        group_code: str | None = None,
    ) -> RoleplayInfo:
        """Store a finished role-play; ``InvalidInput`` if ``overall`` is outside 0–100."""
        sender_id = clean_sender(sender_id)
        if not 0.0 <= float(overall) <= 100.0:
            raise InvalidInput("score_out_of_range")
        with db.session_scope(self.url) as session:
            user = self._user(session, sender_id)
            row = RoleplayResult(
                user_id=user.id,
                scenario_id=scenario_id[:64],
                difficulty=int(difficulty),
                outcome=outcome,
                overall=float(overall),
                scores=json.dumps(scores, ensure_ascii=False),
                transcript=json.dumps(transcript, ensure_ascii=False),
                group_code=group_code,
                finished_at=utcnow(),
            )
            session.add(row)
            session.flush()
            return _roleplay_info(row)

    def roleplays(self, sender_id: str) -> list[RoleplayInfo]:
        """The user's finished role-plays, oldest first."""
        sender_id = clean_sender(sender_id)
        with db.session_scope(self.url) as session:
            user = self._user(session, sender_id, create=False)
            return [_roleplay_info(r) for r in user.roleplays] if user else []

    def export(self, sender_id: str) -> dict:
        """Everything stored about the user as JSON-ready data (the data export)."""
        sender_id = clean_sender(sender_id)
        with db.session_scope(self.url) as session:
            user = self._user(session, sender_id, create=False)
            if user is None:
                return {
                    "sender_id": sender_id,
                    "user": None,
                    "clients": [],
                    "roleplays": [],
                    "boundaries": [],
                    "incidents": [],
                }
            return {
                "sender_id": sender_id,
                "user": {
                    "created_at": user.created_at.isoformat(),
                    "last_seen_at": user.last_seen_at.isoformat(),
                },
                "clients": [
                    {
                        "name": c.name,
                        "mentions": c.mentions,
                        "first_mentioned_at": c.first_mentioned_at.isoformat(),
                        "last_mentioned_at": c.last_mentioned_at.isoformat(),
                        "last_case": c.last_case,
                    }
                    for c in user.clients
                ],
                "roleplays": [
                    {**_roleplay_info(r).__dict__, "finished_at": r.finished_at.isoformat()}
                    for r in user.roleplays
                ],
                "boundaries": [
                    {
                        **_boundary_info(b).__dict__,
                        "created_at": b.created_at.isoformat(),
                        "updated_at": b.updated_at.isoformat(),
                    }
                    for b in user.boundaries
                ],
                "incidents": [
                    {
                        **_incident_info(i).__dict__,
                        "occurred_on": i.occurred_on.isoformat(),
                        "created_at": i.created_at.isoformat(),
                    }
                    for i in _ordered(user.incidents)
                ],
            }

    def delete_user(self, sender_id: str) -> dict[str, int]:
        """Delete the user and all their records; returns how many of each kind went."""
        sender_id = clean_sender(sender_id)
        with db.session_scope(self.url) as session:
            user = self._user(session, sender_id, create=False)
            if user is None:
                return {"users": 0, "clients": 0, "roleplays": 0, "boundaries": 0, "incidents": 0}
            counts = {
                "users": 1,
                "clients": len(user.clients),
                "roleplays": len(user.roleplays),
                "boundaries": len(user.boundaries),
                "incidents": len(user.incidents),
            }
            session.delete(user)
            return counts

    def counts(self, sender_id: str) -> dict[str, int]:
        """How many records of each kind the user has (for export/delete summaries)."""
        sender_id = clean_sender(sender_id)
        with db.session_scope(self.url) as session:
            user = self._user(session, sender_id, create=False)
            if user is None:
                return {"boundaries": 0, "clients": 0, "incidents": 0, "roleplays": 0}
            return {
                kind: session.execute(
                    select(func.count()).select_from(model).where(model.user_id == user.id)
                ).scalar_one()
                for kind, model in (
                    ("boundaries", Boundary),
                    ("clients", Client),
                    ("incidents", Incident),
                    ("roleplays", RoleplayResult),
                )
            }

    # ------------------------------------------------------------------ boundaries
    def set_boundary(
        self,
        sender_id: str,
        behavior: str,
        max_count: int | None = None,
        period_days: int | None = None,
        note: str | None = None,
        *,
        label: str | None = None,
    ) -> tuple[BoundaryInfo, BoundaryInfo | None]:
        """Create or replace the user's boundary for ``behavior``; returns (new, previous).

        A ``custom:…`` behaviour needs its ``label`` (the user's own words).
        """
        sender_id = clean_sender(sender_id)
        behavior = clean_behavior(behavior)
        label = clean_label(behavior, label)
        note = clean_note(note)
        if max_count is not None and int(max_count) <= 1:
            max_count, period_days = None, None
        if max_count is not None:
            max_count, period_days = int(max_count), int(period_days or 30)
            if max_count > MAX_BOUNDARY_COUNT or not 1 <= period_days <= MAX_BOUNDARY_DAYS:
                raise InvalidInput("threshold_range")
        with db.session_scope(self.url) as session:
            user = self._user(session, sender_id)
            row = session.execute(
                select(Boundary).where(Boundary.user_id == user.id, Boundary.behavior == behavior)
            ).scalar_one_or_none()
            previous = _boundary_info(row) if row is not None else None
            now = utcnow()
            if row is None:
                row = Boundary(user_id=user.id, behavior=behavior, created_at=now)
                session.add(row)
            row.max_count, row.period_days, row.note, row.updated_at = (
                max_count,
                period_days,
                note,
                now,
            )
            row.label = label
            session.flush()
            return _boundary_info(row), previous

    def boundaries(self, sender_id: str) -> list[BoundaryInfo]:
        """The user's boundaries."""
        sender_id = clean_sender(sender_id)
        with db.session_scope(self.url) as session:
            user = self._user(session, sender_id, create=False)
            return [_boundary_info(b) for b in user.boundaries] if user else []

    def remove_boundary(self, sender_id: str, behavior: str) -> BoundaryInfo | None:
        """Delete the user's boundary for ``behavior``.

        Returns:
            The removed boundary, or None if there was none.
        """
        sender_id = clean_sender(sender_id)
        behavior = clean_behavior(behavior)
        with db.session_scope(self.url) as session:
            user = self._user(session, sender_id, create=False)
            if user is None:
                return None
            row = session.execute(
                select(Boundary).where(Boundary.user_id == user.id, Boundary.behavior == behavior)
            ).scalar_one_or_none()
            if row is None:
                return None
            info = _boundary_info(row)
            session.delete(row)
            return info

    # ------------------------------------------------------------------ incidents
    def log_incident(
        self,
        sender_id: str,
        client_name: str,
        behavior: str,
        occurred_on: date,
        note: str | None = None,
        *,
        source: str = "chat",
        case: str | None = None,
        level_hint: int | None = None,
        today: date | None = None,
        label: str | None = None,
    ) -> IncidentInfo:
        """Record an incident with a client (created if new). Validates everything first.

        The client is the stored one with the same name or core of the name ("Herrn
        Brandt" -> "Herr Brandt"); a ``custom:…`` behaviour needs its ``label``.
        """
        sender_id = clean_sender(sender_id)
        name = clean_incident_client(client_name)
        behavior = clean_behavior(behavior)
        label = clean_label(behavior, label)
        note = clean_note(note)
        if not isinstance(occurred_on, date) or isinstance(occurred_on, datetime):
            raise InvalidInput("date_unknown")
        if today is None:
            from bot.dates import today as _today

            today = _today()
        if occurred_on > today:
            raise InvalidInput("date_future")
        if (today - occurred_on).days > MAX_INCIDENT_AGE_DAYS:
            raise InvalidInput("date_too_old")
        if source not in ("chat", "case"):
            raise InvalidInput("source_unknown")
        if level_hint is not None and not 0 <= int(level_hint) <= 10:
            raise InvalidInput("level_hint_out_of_range")
        with db.session_scope(self.url) as session:
            user = self._user(session, sender_id)
            now = utcnow()
            user.last_seen_at = now
            client = _mention_client(session, user, name, case, now)
            row = Incident(
                user_id=user.id,
                client_id=client.id,
                behavior=behavior,
                label=label,
                occurred_on=occurred_on,
                note=note,
                source=source,
                case=(case or None) and str(case)[:32],
                level_hint=None if level_hint is None else int(level_hint),
                created_at=now,
            )
            session.add(row)
            session.flush()
            return _incident_info(row)

    def incidents(self, sender_id: str, client_name: str | None = None) -> list[IncidentInfo]:
        """The user's incidents, oldest first; only those with ``client_name`` if given."""
        sender_id = clean_sender(sender_id)
        with db.session_scope(self.url) as session:
            user = self._user(session, sender_id, create=False)
            if user is None:
                return []
            query = select(Incident).where(Incident.user_id == user.id)
            if client_name is not None:
                query = query.join(Client, Client.id == Incident.client_id).where(
                    Client.user_id == user.id,
                    Client.name_key == client_key(clean_client_name(client_name)),
                )
            rows = session.execute(query.order_by(Incident.occurred_on, Incident.id)).scalars()
            return [_incident_info(i) for i in rows]

    def find_client(self, sender_id: str, name: str) -> ClientInfo | None:
        """The user's client with this name (compared case-insensitively), or None."""
        sender_id = clean_sender(sender_id)
        try:
            key = client_key(clean_client_name(name))
        except InvalidInput:
            return None
        with db.session_scope(self.url) as session:
            user = self._user(session, sender_id, create=False)
            if user is None:
                return None
            client = session.execute(
                select(Client).where(Client.user_id == user.id, Client.name_key == key)
            ).scalar_one_or_none()
            return _info(client) if client is not None else None

    # ------------------------------------------------------------------ retention (all users)
    def purge_older_than(self, cutoff: date, *, dry_run: bool = False) -> dict[str, int]:
        """Retention for all users: remove what is older than ``cutoff``.

        Deletes incidents before ``cutoff``, empties the transcripts of role-plays finished
        before it and drops clients neither mentioned since nor with incidents left.
        ``dry_run`` only counts.

        Returns:
            How many incidents, transcripts and clients are (or would be) affected.
        """
        cutoff_at = datetime.combine(cutoff, time.min)
        with db.session_scope(self.url) as session:
            old_incidents = Incident.occurred_on < cutoff
            old_transcripts = (RoleplayResult.finished_at < cutoff_at) & (
                RoleplayResult.transcript != "[]"
            )
            remaining = select(Incident.id).where(Incident.client_id == Client.id, ~old_incidents)
            stale_clients = (Client.last_mentioned_at < cutoff_at) & ~remaining.exists()
            counts = {
                "incidents": session.execute(
                    select(func.count()).select_from(Incident).where(old_incidents)
                ).scalar_one(),
                "transcripts": session.execute(
                    select(func.count()).select_from(RoleplayResult).where(old_transcripts)
                ).scalar_one(),
                "clients": session.execute(
                    select(func.count()).select_from(Client).where(stale_clients)
                ).scalar_one(),
            }
            if not dry_run:
                session.execute(
                    delete(Incident)
                    .where(old_incidents)
                    .execution_options(synchronize_session=False)
                )
                session.execute(
                    update(RoleplayResult)
                    .where(old_transcripts)
                    .values(transcript="[]")
                    .execution_options(synchronize_session=False)
                )
                session.execute(
                    delete(Client).where(stale_clients).execution_options(synchronize_session=False)
                )
            return counts


def _info(c: Client) -> ClientInfo:
    return ClientInfo(c.name, c.mentions, c.first_mentioned_at, c.last_mentioned_at, c.last_case)


def _boundary_info(b: Boundary) -> BoundaryInfo:
    return BoundaryInfo(
        b.behavior, b.max_count, b.period_days, b.note, b.created_at, b.updated_at, b.label
    )


def _incident_info(i: Incident) -> IncidentInfo:
    return IncidentInfo(
        i.id,
        i.client.name,
        i.behavior,
        i.occurred_on,
        i.note,
        i.source,
        i.case,
        i.level_hint,
        i.created_at,
        i.label,
    )


def _ordered(incidents) -> list:
    return sorted(incidents, key=lambda i: (i.occurred_on, i.id))


def _roleplay_info(r: RoleplayResult) -> RoleplayInfo:
    return RoleplayInfo(
        r.scenario_id,
        r.difficulty,
        r.outcome,
        r.overall,
        json.loads(r.scores),
        json.loads(r.transcript),
        r.group_code,
        r.finished_at,
    )
