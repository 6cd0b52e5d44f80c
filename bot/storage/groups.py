"""Trainer group sessions: trainers, their sessions (scenario, level, join code), members.

Trainer rights come only from configuration (KLARTEXT_TRAINERS) or a verified trainer code,
never from anything a chat message can set (slots, entities).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, UniqueConstraint, select

from bot.storage import db
from bot.storage.models import Base, RoleplayResult, User, utcnow
from bot.storage.repository import CoachRepository, InvalidInput, clean_sender

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 6


class TrainerGrant(Base):
    """Trainer rights of a user, granted after a verified trainer code."""

    __tablename__ = "trainer_grants"

    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    granted_at = Column(DateTime, nullable=False, default=utcnow)


class GroupSession(Base):
    """A trainer's group session: one scenario and level, joined with ``code``."""

    __tablename__ = "group_sessions"

    id = Column(Integer, primary_key=True)
    code = Column(String(16), nullable=False, unique=True)
    trainer_user_id = Column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    scenario_id = Column(String(64), nullable=False)
    difficulty = Column(Integer, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class GroupMember(Base):
    """A user who joined a group session (once per session)."""

    __tablename__ = "group_members"
    __table_args__ = (UniqueConstraint("session_id", "user_id", name="uq_group_members"),)

    id = Column(Integer, primary_key=True)
    session_id = Column(
        Integer, ForeignKey("group_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id = Column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    joined_at = Column(DateTime, nullable=False, default=utcnow)


@dataclass(frozen=True)
class SessionInfo:
    """A group session as plain data."""

    code: str
    scenario_id: str
    difficulty: int
    created_at: datetime


@dataclass(frozen=True)
class MemberResult:
    """One finished role-play of a session member: scores and transcript."""

    sender_id: str
    overall: float
    scores: dict
    transcript: list
    finished_at: datetime


def normalize_code(code: str) -> str:
    """The code in upper case without spaces, dashes or other separators."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def is_code(code: str) -> bool:
    """Whether ``code`` is a join code.

    Join codes have CODE_LENGTH characters of CODE_ALPHABET, at least one letter and one digit.
    """
    return (
        len(code) == CODE_LENGTH
        and all(ch in CODE_ALPHABET for ch in code)
        and any(ch.isdigit() for ch in code)
        and any(ch.isalpha() for ch in code)
    )


def new_code() -> str:
    """A random join code (not checked against existing sessions)."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if is_code(code):
            return code


class GroupRepository(CoachRepository):
    """Group-session storage; every read checks who is asking."""

    def grant_trainer(self, sender_id: str) -> None:
        """Give ``sender_id`` trainer rights (idempotent); call only after a verified code."""
        sender_id = clean_sender(sender_id)
        with db.session_scope(self.url) as session:
            user = self._user(session, sender_id)
            if session.get(TrainerGrant, user.id) is None:
                session.add(TrainerGrant(user_id=user.id))

    def has_trainer_grant(self, sender_id: str) -> bool:
        """Whether ``sender_id`` was granted trainer rights by code."""
        sender_id = clean_sender(sender_id)
        with db.session_scope(self.url) as session:
            user = self._user(session, sender_id, create=False)
            return bool(user and session.get(TrainerGrant, user.id))

    def open_session(self, trainer_sender: str, scenario_id: str, difficulty: int) -> SessionInfo:
        """Create a session with a fresh join code; ``InvalidInput`` for a level outside 1–3."""
        trainer_sender = clean_sender(trainer_sender)
        if difficulty not in (1, 2, 3):
            raise InvalidInput("difficulty_out_of_range")
        with db.session_scope(self.url) as session:
            user = self._user(session, trainer_sender)
            for _ in range(20):
                code = new_code()
                if (
                    session.execute(
                        select(GroupSession.id).where(GroupSession.code == code)
                    ).first()
                    is None
                ):
                    break
            row = GroupSession(
                code=code, trainer_user_id=user.id, scenario_id=scenario_id, difficulty=difficulty
            )
            session.add(row)
            session.flush()
            return SessionInfo(row.code, row.scenario_id, row.difficulty, row.created_at)

    def find_session(self, code: str) -> SessionInfo | None:
        """The session with this join code, or None."""
        with db.session_scope(self.url) as session:
            row = session.execute(
                select(GroupSession).where(GroupSession.code == normalize_code(code))
            ).scalar_one_or_none()
            return (
                SessionInfo(row.code, row.scenario_id, row.difficulty, row.created_at)
                if row
                else None
            )

    def join(self, sender_id: str, code: str) -> SessionInfo | None:
        """Add ``sender_id`` to the session (idempotent); None if the code is unknown."""
        sender_id = clean_sender(sender_id)
        with db.session_scope(self.url) as session:
            row = session.execute(
                select(GroupSession).where(GroupSession.code == normalize_code(code))
            ).scalar_one_or_none()
            if row is None:
                return None
            user = self._user(session, sender_id)
            exists = session.execute(
                select(GroupMember.id).where(
                    GroupMember.session_id == row.id, GroupMember.user_id == user.id
                )
            ).first()
            if exists is None:
                session.add(GroupMember(session_id=row.id, user_id=user.id))
            return SessionInfo(row.code, row.scenario_id, row.difficulty, row.created_at)

    def is_member(self, sender_id: str, code: str) -> bool:
        """Whether ``sender_id`` joined the session with this code."""
        sender_id = clean_sender(sender_id)
        with db.session_scope(self.url) as session:
            return (
                session.execute(
                    select(GroupMember.id)
                    .join(GroupSession, GroupSession.id == GroupMember.session_id)
                    .join(User, User.id == GroupMember.user_id)
                    .where(User.sender_id == sender_id, GroupSession.code == normalize_code(code))
                ).first()
                is not None
            )

    def sessions_of(self, trainer_sender: str) -> list[SessionInfo]:
        """The sessions the trainer opened, newest first."""
        trainer_sender = clean_sender(trainer_sender)
        with db.session_scope(self.url) as session:
            rows = session.execute(
                select(GroupSession)
                .join(User, User.id == GroupSession.trainer_user_id)
                .where(User.sender_id == trainer_sender)
                .order_by(GroupSession.created_at.desc(), GroupSession.id.desc())
            ).scalars()
            return [SessionInfo(r.code, r.scenario_id, r.difficulty, r.created_at) for r in rows]

    def results(self, trainer_sender: str, code: str) -> list[MemberResult] | None:
        """The role-play results of a session – None unless ``trainer_sender`` runs that session."""
        trainer_sender = clean_sender(trainer_sender)
        code = normalize_code(code)
        with db.session_scope(self.url) as session:
            owned = session.execute(
                select(GroupSession.id)
                .join(User, User.id == GroupSession.trainer_user_id)
                .where(User.sender_id == trainer_sender, GroupSession.code == code)
            ).first()
            if owned is None:
                return None
            rows = session.execute(
                select(RoleplayResult, User.sender_id)
                .join(User, User.id == RoleplayResult.user_id)
                .where(RoleplayResult.group_code == code)
                .order_by(RoleplayResult.finished_at)
            ).all()
            return [
                MemberResult(
                    sender, r.overall, json.loads(r.scores), json.loads(r.transcript), r.finished_at
                )
                for r, sender in rows
            ]

    def member_count(self, trainer_sender: str, code: str) -> int | None:
        """How many joined the session – None unless ``trainer_sender`` runs that session."""
        trainer_sender = clean_sender(trainer_sender)
        with db.session_scope(self.url) as session:
            owned = session.execute(
                select(GroupSession.id)
                .join(User, User.id == GroupSession.trainer_user_id)
                .where(User.sender_id == trainer_sender, GroupSession.code == normalize_code(code))
            ).scalar_one_or_none()
            if owned is None:
                return None
            return len(
                session.execute(select(GroupMember.id).where(GroupMember.session_id == owned)).all()
            )
