"""SQLAlchemy models. Every record belongs to exactly one user (the channel's sender id).

Schema changes go through Alembic migrations in ``migrations/versions``.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()

SENDER_MAX = 128
CLIENT_NAME_MAX = 120


def utcnow() -> datetime:
    """The current UTC time without tzinfo (how all timestamps are stored)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class User(Base):
    """A chat user, identified by the channel's sender id; owns all other records."""

    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(SENDER_MAX), nullable=False, unique=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_seen_at = Column(DateTime, nullable=False, default=utcnow)

    clients = relationship("Client", back_populates="user", cascade="all, delete-orphan")
    roleplays = relationship(
        "RoleplayResult",
        back_populates="user",
        cascade="all, delete-orphan",
        order_by="RoleplayResult.finished_at",
    )
    boundaries = relationship(
        "Boundary",
        back_populates="user",
        cascade="all, delete-orphan",
        order_by="Boundary.created_at",
    )
    incidents = relationship(
        "Incident",
        back_populates="user",
        cascade="all, delete-orphan",
        order_by="Incident.occurred_on",
    )


class Client(Base):
    """A client (person or company) the user talked about."""

    __tablename__ = "clients"
    __table_args__ = (UniqueConstraint("user_id", "name_key", name="uq_clients_user_name"),)

    id = Column(Integer, primary_key=True)
    user_id = Column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name = Column(String(CLIENT_NAME_MAX), nullable=False)
    name_key = Column(String(CLIENT_NAME_MAX), nullable=False)
    mentions = Column(Integer, nullable=False, default=1)
    first_mentioned_at = Column(DateTime, nullable=False, default=utcnow)
    last_mentioned_at = Column(DateTime, nullable=False, default=utcnow)
    last_case = Column(String(32), nullable=True)

    user = relationship("User", back_populates="clients")
    incidents = relationship(
        "Incident",
        back_populates="client",
        cascade="all, delete-orphan",
        order_by="Incident.occurred_on",
    )


class RoleplayResult(Base):
    """One finished role-play: scenario, difficulty, per-criterion scores and the transcript."""

    __tablename__ = "roleplay_results"

    id = Column(Integer, primary_key=True)
    user_id = Column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    scenario_id = Column(String(64), nullable=False)
    difficulty = Column(Integer, nullable=False)
    outcome = Column(String(16), nullable=True)
    overall = Column(Float, nullable=False)
    scores = Column(Text, nullable=False)  # JSON: criterion -> 0..1
    transcript = Column(Text, nullable=False)  # JSON: list of {speaker, text, scores?}
    group_code = Column(String(32), nullable=True, index=True)  # trainer session, if any
    finished_at = Column(DateTime, nullable=False, default=utcnow)

    user = relationship("User", back_populates="roleplays")


# --------------------------------------------------------------------------- boundaries, incidents
BEHAVIOR_MAX = 32
NOTE_MAX = 500
LABEL_MAX = 120  # a behaviour in the user's own words (migration 0005)


class Boundary(Base):
    """A personal limit: a behaviour category and when it is crossed (seed 003).

    ``max_count`` None: an absolute no-go; otherwise crossed at the ``max_count``-th
    incident of that behaviour within ``period_days`` days. One boundary per category.
    A behaviour in the user's own words has a ``custom:…`` key and its words as ``label``.
    """

    __tablename__ = "boundaries"
    __table_args__ = (UniqueConstraint("user_id", "behavior", name="uq_boundaries_user_behavior"),)

    id = Column(Integer, primary_key=True)
    user_id = Column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    behavior = Column(String(BEHAVIOR_MAX), nullable=False)
    label = Column(String(LABEL_MAX), nullable=True)  # own words of a custom behaviour
    max_count = Column(Integer, nullable=True)
    period_days = Column(Integer, nullable=True)
    note = Column(Text, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow)

    user = relationship("User", back_populates="boundaries")


class Incident(Base):
    """Something a client did, on a day, with a short note.

    A client's incidents make up the escalation history.
    """

    __tablename__ = "incidents"

    id = Column(Integer, primary_key=True)
    user_id = Column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    client_id = Column(
        Integer, ForeignKey("clients.id", ondelete="CASCADE"), nullable=False, index=True
    )
    behavior = Column(String(BEHAVIOR_MAX), nullable=False)
    label = Column(String(LABEL_MAX), nullable=True)  # own words of a custom behaviour
    occurred_on = Column(Date, nullable=False, index=True)
    note = Column(Text, nullable=True)
    source = Column(String(16), nullable=False, default="chat")  # chat | case
    case = Column(String(32), nullable=True)
    level_hint = Column(Integer, nullable=True)  # step the case advice already called for
    created_at = Column(DateTime, nullable=False, default=utcnow)

    user = relationship("User", back_populates="incidents")
    client = relationship("Client", back_populates="incidents")
