"""SQLAlchemy models. Every record belongs to exactly one user (the channel's sender id).

Schema changes go through Alembic migrations in ``migrations/versions``.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, UniqueConstraint
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
