"""SQLAlchemy models. Every record belongs to exactly one user (the channel's sender id).

Schema changes go through Alembic migrations in ``migrations/versions``.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()

SENDER_MAX = 128
CLIENT_NAME_MAX = 120


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(SENDER_MAX), nullable=False, unique=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_seen_at = Column(DateTime, nullable=False, default=utcnow)

    clients = relationship("Client", back_populates="user", cascade="all, delete-orphan")
    roleplays = relationship("RoleplayResult", back_populates="user", cascade="all, delete-orphan",
                             order_by="RoleplayResult.finished_at")


class Client(Base):
    """A client (person or company) the user talked about."""

    __tablename__ = "clients"
    __table_args__ = (UniqueConstraint("user_id", "name_key", name="uq_clients_user_name"),)

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    name = Column(String(CLIENT_NAME_MAX), nullable=False)
    name_key = Column(String(CLIENT_NAME_MAX), nullable=False)
    mentions = Column(Integer, nullable=False, default=1)
    first_mentioned_at = Column(DateTime, nullable=False, default=utcnow)
    last_mentioned_at = Column(DateTime, nullable=False, default=utcnow)
    last_case = Column(String(32), nullable=True)

    user = relationship("User", back_populates="clients")


class RoleplayResult(Base):
    """One finished role-play: scenario, difficulty, per-criterion scores and the transcript."""

    __tablename__ = "roleplay_results"

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    scenario_id = Column(String(64), nullable=False)
    difficulty = Column(Integer, nullable=False)
    outcome = Column(String(16), nullable=True)
    overall = Column(Float, nullable=False)
    scores = Column(Text, nullable=False)  # JSON: criterion -> 0..1
    transcript = Column(Text, nullable=False)  # JSON: list of {speaker, text, scores?}
    group_code = Column(String(32), nullable=True, index=True)  # trainer session, if any
    finished_at = Column(DateTime, nullable=False, default=utcnow)

    user = relationship("User", back_populates="roleplays")
