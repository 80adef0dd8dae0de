"""Feasibility lockouts (issue 19): an investigator refused further counts until an admin
unlocks them. The queries themselves are logged in models.FeasibilityQuery."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.auth.models import User
from lims.db import Base, utcnow


class FeasibilityLockout(Base):
    """One lockout: when it began, how many different criteria gave one true count (never the
    count), and who lifted it. Open while `unlocked_at` is NULL; the next lockout looks only at
    queries asked after the last unlock, so an unlocked investigator starts afresh."""

    __tablename__ = "feasibility_lockouts"
    __audit_type__: ClassVar[str] = "feasibility_lockout"
    __table_args__ = (Index("ix_feasibility_lockouts_user_at", "user_id", "locked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    locked_at: Mapped[datetime] = mapped_column(default=utcnow)
    distinct_criteria: Mapped[int]
    unlocked_at: Mapped[datetime | None]
    unlocked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unlock_note: Mapped[str | None] = mapped_column(String(500))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    unlocked_by: Mapped[User | None] = relationship(foreign_keys=[unlocked_by_id])
