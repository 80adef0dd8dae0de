"""Sites, user accounts, API tokens, and the Actor that services check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.db import Base, str_enum, utcnow
from lims.errors import Forbidden


class Role(StrEnum):
    ADMIN = "admin"
    TECHNICIAN = "technician"
    INVESTIGATOR = "investigator"
    REVIEWER = "reviewer"


class Site(Base):
    """A collecting centre of the consortium."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2

    users: Mapped[list[User]] = relationship(back_populates="site")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("length(username) >= 2", name="username_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, 16))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[Site | None] = relationship(back_populates="users")

    # Flask-Login's protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class ApiToken(Base):
    """A bearer token for /api/v1; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship()


@dataclass(frozen=True)
class Actor:
    """Who is acting: the signed-in user (or a CLI operator), as services see them."""

    user_id: int | None
    username: str
    role: Role
    site_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user_id=user.id, username=user.username, role=user.role, site_id=user.site_id)

    @classmethod
    def system(cls, username: str = "system") -> Actor:
        """The operator of a command-line task (migrations, demo data, user creation)."""
        return cls(user_id=None, username=username, role=Role.ADMIN)

    def require(self, *roles: Role) -> None:
        """Refuse unless the actor has one of the roles; admins may do everything."""
        if self.role is Role.ADMIN or self.role in roles:
            return
        allowed = ", ".join(r.value for r in roles) or "admin"
        raise Forbidden(f"{self.username} ({self.role.value}) may not do this; needs {allowed}")

    def owns(self, owner_id: int | None) -> bool:
        return self.user_id is not None and self.user_id == owner_id
