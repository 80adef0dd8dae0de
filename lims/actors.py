"""Who is acting, and the roles services check: a leaf module every feature may import."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from lims.errors import Forbidden


class Role(StrEnum):
    ADMIN = "admin"
    TECHNICIAN = "technician"
    INVESTIGATOR = "investigator"
    REVIEWER = "reviewer"


# The biobank's own staff: they see every subject, tube and aliquot (admins always may).
STAFF: tuple[Role, ...] = (Role.TECHNICIAN, Role.REVIEWER)
# The same group with admins spelled out, for navigation entries and page checks.
STAFF_AND_ADMIN: tuple[Role, ...] = (Role.ADMIN, *STAFF)


class _Account(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def role(self) -> Role: ...
    @property
    def site_id(self) -> int | None: ...


@dataclass(frozen=True)
class Actor:
    """Who is acting: the signed-in user (or a CLI operator), as services see them."""

    user_id: int | None
    username: str
    role: Role
    site_id: int | None = None

    @classmethod
    def of(cls, user: _Account) -> Actor:
        return cls(user_id=user.id, username=user.username, role=user.role, site_id=user.site_id)

    @classmethod
    def system(cls, username: str = "system") -> Actor:
        """The operator of a command-line task (migrations, demo data, user creation)."""
        return cls(user_id=None, username=username, role=Role.ADMIN)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_AND_ADMIN

    def require(self, *roles: Role) -> None:
        """Refuse unless the actor has one of the roles; admins may do everything."""
        if self.role is Role.ADMIN or self.role in roles:
            return
        allowed = ", ".join(r.value for r in roles) or "admin"
        raise Forbidden(f"{self.username} ({self.role.value}) may not do this; needs {allowed}")
