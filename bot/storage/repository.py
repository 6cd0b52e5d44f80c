"""A small repository layer: every method is scoped to one sender id."""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.storage import db
from bot.storage.models import CLIENT_NAME_MAX, SENDER_MAX, Client, RoleplayResult, User, utcnow


class InvalidInput(ValueError):
    """Input that cannot be stored; ``code`` names the problem for a German message."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


@dataclass(frozen=True)
class RoleplayInfo:
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
    name: str
    mentions: int
    first_mentioned_at: datetime
    last_mentioned_at: datetime
    last_case: str | None


def clean_sender(sender_id: str) -> str:
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


def client_key(name: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", name).casefold()).strip()


class CoachRepository:
    """All reads and writes of the coach's own data for one database URL."""

    def __init__(self, url: str):
        self.url = url

    def _user(self, session, sender_id: str, create: bool = True) -> User | None:
        user = session.execute(select(User).where(User.sender_id == sender_id)).scalar_one_or_none()
        if user is None and create:
            user = User(sender_id=sender_id)
            session.add(user)
            session.flush()
        return user

    def touch_user(self, sender_id: str) -> None:
        sender_id = clean_sender(sender_id)
        with db.session_scope(self.url) as session:
            self._user(session, sender_id).last_seen_at = utcnow()

    def remember_client(self, sender_id: str, name: str, case: str | None = None) -> ClientInfo:
        sender_id = clean_sender(sender_id)
        name = clean_client_name(name)
        with db.session_scope(self.url) as session:
            user = self._user(session, sender_id)
            user.last_seen_at = utcnow()
            key = client_key(name)
            client = session.execute(
                select(Client).where(Client.user_id == user.id, Client.name_key == key)
            ).scalar_one_or_none()
            now = utcnow()
            if client is None:
                client = Client(user_id=user.id, name=name, name_key=key, mentions=1,
                                first_mentioned_at=now, last_mentioned_at=now, last_case=case)
                session.add(client)
            else:
                client.mentions += 1
                client.last_mentioned_at = now
                client.last_case = case or client.last_case
            session.flush()
            return _info(client)

    def clients(self, sender_id: str) -> list[ClientInfo]:
        sender_id = clean_sender(sender_id)
        with db.session_scope(self.url) as session:
            user = self._user(session, sender_id, create=False)
            if user is None:
                return []
            rows = session.execute(
                select(Client).where(Client.user_id == user.id).order_by(Client.last_mentioned_at.desc())
            ).scalars()
            return [_info(c) for c in rows]

    def save_roleplay(self, sender_id: str, *, scenario_id: str, difficulty: int, overall: float,
                      scores: dict, transcript: list, outcome: str | None = None,
                      group_code: str | None = None) -> RoleplayInfo:
        sender_id = clean_sender(sender_id)
        if not 0.0 <= float(overall) <= 100.0:
            raise InvalidInput("score_out_of_range")
        with db.session_scope(self.url) as session:
            user = self._user(session, sender_id)
            row = RoleplayResult(user_id=user.id, scenario_id=scenario_id[:64], difficulty=int(difficulty),
                                 outcome=outcome, overall=float(overall),
                                 scores=json.dumps(scores, ensure_ascii=False),
                                 transcript=json.dumps(transcript, ensure_ascii=False),
                                 group_code=group_code, finished_at=utcnow())
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
        sender_id = clean_sender(sender_id)
        with db.session_scope(self.url) as session:
            user = self._user(session, sender_id, create=False)
            if user is None:
                return {"sender_id": sender_id, "user": None, "clients": [], "roleplays": []}
            return {
                "sender_id": sender_id,
                "user": {"created_at": user.created_at.isoformat(), "last_seen_at": user.last_seen_at.isoformat()},
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
                    {**_roleplay_info(r).__dict__, "finished_at": r.finished_at.isoformat()} for r in user.roleplays
                ],
            }

    def delete_user(self, sender_id: str) -> dict[str, int]:
        sender_id = clean_sender(sender_id)
        with db.session_scope(self.url) as session:
            user = self._user(session, sender_id, create=False)
            if user is None:
                return {"users": 0, "clients": 0, "roleplays": 0}
            counts = {"users": 1, "clients": len(user.clients), "roleplays": len(user.roleplays)}
            session.delete(user)
            return counts


def _info(c: Client) -> ClientInfo:
    return ClientInfo(c.name, c.mentions, c.first_mentioned_at, c.last_mentioned_at, c.last_case)


def _roleplay_info(r: RoleplayResult) -> RoleplayInfo:
    return RoleplayInfo(r.scenario_id, r.difficulty, r.outcome, r.overall, json.loads(r.scores),
                        json.loads(r.transcript), r.group_code, r.finished_at)
