"""Sites, user accounts, API tokens and sign-in attempts (Actor and Role live in lims.actors)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.actors import Role
from lims.db import Base, str_enum, utcnow


class Site(Base):
    """A collecting centre of the consortium."""

    __tablename__ = "sites"
    __audit_type__: ClassVar[str] = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    # IANA name; times typed at the site are its wall clock (lims/auth/timezones.py).
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")

    users: Mapped[list[User]] = relationship(back_populates="site")


class User(Base):
    __tablename__ = "users"
    __audit_type__: ClassVar[str] = "user"
    __table_args__ = (CheckConstraint("length(username) >= 2", name="username_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, 16))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Part of every session's id: bumping it (sign-out, deactivation) ends all of the user's
    # sessions on the server, including cookies copied before.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    site: Mapped[Site | None] = relationship(back_populates="users")

    # Flask-Login's protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """The session's user id: "<id>.<generation>", so an older generation no longer loads."""
        return f"{self.id}.{self.session_generation}"


class ApiToken(Base):
    """A bearer token for /api/v1; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


class AttemptOutcome(StrEnum):
    FAILED = "failed"
    SUCCEEDED = "succeeded"
    REFUSED = "refused"  # not checked: the throttle was already closed


class SignInAttempt(Base):
    """One sign-in attempt, for the throttle; the audit trail keeps its own record of sign-ins.

    Rows are deleted when they stop mattering (a success clears its username and address, an
    administrator's unlock clears the username), which the append-only trail could not allow.
    """

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_username_attempted_at", "username", "attempted_at"),
        Index("ix_sign_in_attempts_source_address_attempted_at", "source_address", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Not a foreign key: unknown usernames are throttled too.
    username: Mapped[str] = mapped_column(String(64))
    source_address: Mapped[str] = mapped_column(String(45))  # the longest IPv6 text form
    attempted_at: Mapped[datetime]
    outcome: Mapped[AttemptOutcome] = mapped_column(str_enum(AttemptOutcome, 16))
