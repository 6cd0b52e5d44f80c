"""Role-play scenarios written by trainers: one row per scenario, every saved version kept.

A scenario has a slug (its ``id`` in the YAML), one owner (the trainer who created it) and a
published flag. Every save adds a version (number, the YAML text, author, time); nothing old
is ever changed or removed, so an earlier version can always be looked up again. Which
version is *used* (the newest valid one) and whether a text is valid is decided by
``bot.roleplay.library``; this module only stores and scopes.

Only the owner can add versions or change the published flag. Slugs are unique across
trainers (the database enforces it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError

from bot.storage import db
from bot.storage.models import Base, User, utcnow
from bot.storage.repository import CoachRepository, InvalidInput, clean_sender

SLUG_MAX = 64


class TrainerScenario(Base):
    """A scenario a trainer created: slug, owner, published flag (migration 0006)."""

    __tablename__ = "trainer_scenarios"

    id = Column(Integer, primary_key=True)
    slug = Column(String(SLUG_MAX), nullable=False, unique=True)
    owner_user_id = Column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    published = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow)


class TrainerScenarioVersion(Base):
    """One saved version of a trainer's scenario: its number, the YAML text, who and when."""

    __tablename__ = "trainer_scenario_versions"
    __table_args__ = (
        UniqueConstraint("scenario_id", "number", name="uq_trainer_scenario_versions"),
    )

    id = Column(Integer, primary_key=True)
    scenario_id = Column(
        Integer,
        ForeignKey("trainer_scenarios.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    number = Column(Integer, nullable=False)
    yaml_text = Column(Text, nullable=False)
    author = Column(String(128), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


@dataclass(frozen=True)
class VersionInfo:
    """One stored version of a trainer scenario."""

    number: int
    yaml_text: str
    author: str
    created_at: datetime


@dataclass(frozen=True)
class StoredScenario:
    """A trainer scenario as plain data; ``versions`` newest first (may be only the newest)."""

    slug: str
    owner: str
    published: bool
    created_at: datetime
    updated_at: datetime
    versions: tuple[VersionInfo, ...]

    @property
    def newest(self) -> VersionInfo:
        """The newest stored version."""
        return self.versions[0]


class ScenarioTaken(InvalidInput):
    """The slug belongs to another trainer's scenario."""

    def __init__(self, slug: str):
        """Name the slug (the owner is not revealed)."""
        super().__init__("scenario_taken", slug)
        self.slug = slug


class ScenarioRepository(CoachRepository):
    """Storage of trainer scenarios; writes check the owner."""

    def save_version(
        self, trainer: str, slug: str, yaml_text: str, *, published: bool | None = None
    ) -> StoredScenario:
        """Store ``yaml_text`` as the next version of ``trainer``'s scenario ``slug``.

        Creates the scenario on its first save. ``published`` None keeps the flag. The text
        must have been validated by the caller.

        Raises:
            ScenarioTaken: another trainer owns ``slug``.
            InvalidInput: empty slug or text.
        """
        trainer = clean_sender(trainer)
        if not slug or len(slug) > SLUG_MAX:
            raise InvalidInput("scenario_slug_invalid", slug[:80])
        if not isinstance(yaml_text, str) or not yaml_text.strip():
            raise InvalidInput("scenario_text_missing")
        try:
            with db.session_scope(self.url) as session:
                user = self._user(session, trainer)
                row = self._row(session, slug)
                if row is None:
                    row = TrainerScenario(slug=slug, owner_user_id=user.id, published=False)
                    session.add(row)
                    session.flush()
                elif row.owner_user_id != user.id:
                    raise ScenarioTaken(slug)
                number = (
                    session.execute(
                        select(func.max(TrainerScenarioVersion.number)).where(
                            TrainerScenarioVersion.scenario_id == row.id
                        )
                    ).scalar_one_or_none()
                    or 0
                ) + 1
                now = utcnow()
                session.add(
                    TrainerScenarioVersion(
                        scenario_id=row.id,
                        number=number,
                        yaml_text=yaml_text,
                        author=trainer,
                        created_at=now,
                    )
                )
                if published is not None:
                    row.published = bool(published)
                row.updated_at = now
                session.flush()
                return self._info(session, row, trainer, newest_only=False)
        except IntegrityError:  # two first saves of one slug at once: the other one won
            raise ScenarioTaken(slug) from None

    def set_published(self, trainer: str, slug: str, published: bool) -> StoredScenario | None:
        """Publish or withdraw ``trainer``'s scenario; None if it is not theirs."""
        trainer = clean_sender(trainer)
        with db.session_scope(self.url) as session:
            row = self._row(session, slug)
            user = self._user(session, trainer, create=False)
            if row is None or user is None or row.owner_user_id != user.id:
                return None
            row.published = bool(published)
            row.updated_at = utcnow()
            return self._info(session, row, trainer, newest_only=True)

    def find(self, slug: str, *, all_versions: bool = False) -> StoredScenario | None:
        """The scenario ``slug`` (newest version, or all), whoever owns it; None if unknown."""
        with db.session_scope(self.url) as session:
            row = self._row(session, slug)
            if row is None:
                return None
            owner = session.get(User, row.owner_user_id).sender_id
            return self._info(session, row, owner, newest_only=not all_versions)

    def owned_by(self, trainer: str, *, all_versions: bool = False) -> list[StoredScenario]:
        """The trainer's own scenarios, sorted by slug."""
        trainer = clean_sender(trainer)
        with db.session_scope(self.url) as session:
            rows = session.execute(
                select(TrainerScenario)
                .join(User, User.id == TrainerScenario.owner_user_id)
                .where(User.sender_id == trainer)
                .order_by(TrainerScenario.slug)
            ).scalars()
            return [
                self._info(session, r, trainer, newest_only=not all_versions) for r in list(rows)
            ]

    def published(self) -> list[StoredScenario]:
        """Every published scenario (newest versions), sorted by slug."""
        with db.session_scope(self.url) as session:
            rows = session.execute(
                select(TrainerScenario, User.sender_id)
                .join(User, User.id == TrainerScenario.owner_user_id)
                .where(TrainerScenario.published.is_(True))
                .order_by(TrainerScenario.slug)
            ).all()
            return [self._info(session, r, owner, newest_only=True) for r, owner in rows]

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _row(session, slug: str) -> TrainerScenario | None:
        return session.execute(
            select(TrainerScenario).where(TrainerScenario.slug == slug)
        ).scalar_one_or_none()

    @staticmethod
    def _info(session, row: TrainerScenario, owner: str, *, newest_only: bool) -> StoredScenario:
        query = (
            select(TrainerScenarioVersion)
            .where(TrainerScenarioVersion.scenario_id == row.id)
            .order_by(TrainerScenarioVersion.number.desc())
        )
        if newest_only:
            query = query.limit(1)
        versions = tuple(
            VersionInfo(v.number, v.yaml_text, v.author, v.created_at)
            for v in session.execute(query).scalars()
        )
        return StoredScenario(
            slug=row.slug,
            owner=owner,
            published=bool(row.published),
            created_at=row.created_at,
            updated_at=row.updated_at,
            versions=versions,
        )
