"""Investigators' specimen requests (issue 19): the request and its lifecycle, the reviewers'
comments and votes, the uploaded protocol, the aliquots picked for it, the in-application
notifications, and the log of feasibility queries that rate-limits and locks out an investigator.

The criteria are stored as the JSON document the criteria engine reads (lims/requests/criteria.py;
docs/user/requests.md); the purpose as GA4GH DUO terms, checked against consent by
lims.specimens' consent_permits at fulfilment and again when the shipment leaves.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.auth.models import User
from lims.db import Base, str_enum, utcnow
from lims.errors import Conflict
from lims.shipments.models import Shipment
from lims.specimens.duo import DuoTerm
from lims.specimens.models import Aliquot


class RequestState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    REVISION_REQUESTED = "revision_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    FULFILLING = "fulfilling"
    SHIPPED = "shipped"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


R = RequestState
# The one place a request's allowed moves live; who may make each move is the service's rule
# (lims/requests/services/workflow.py), read through require_transition.
REQUEST_TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    R.DRAFT: frozenset({R.SUBMITTED, R.WITHDRAWN}),
    R.SUBMITTED: frozenset({R.UNDER_REVIEW, R.WITHDRAWN}),
    R.UNDER_REVIEW: frozenset({R.REVISION_REQUESTED, R.APPROVED, R.REJECTED, R.WITHDRAWN}),
    R.REVISION_REQUESTED: frozenset({R.SUBMITTED, R.WITHDRAWN}),
    R.APPROVED: frozenset({R.FULFILLING, R.WITHDRAWN}),
    R.FULFILLING: frozenset({R.SHIPPED, R.WITHDRAWN}),
    R.SHIPPED: frozenset({R.CLOSED}),
    R.REJECTED: frozenset(),
    R.CLOSED: frozenset(),
    R.WITHDRAWN: frozenset(),
}
# The investigator may still edit the request's content in these states.
EDITABLE_STATES = frozenset({R.DRAFT, R.REVISION_REQUESTED})


class SpecimenRequest(Base):
    """What an investigator asks for, and where the request stands."""

    __tablename__ = "specimen_requests"
    __audit_type__: ClassVar[str] = "specimen_request"
    __table_args__ = (
        CheckConstraint("quantity_ul > 0", name="quantity_positive"),
        CheckConstraint("aliquots_per_visit >= 1", name="aliquots_per_visit_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "REQ-0007": what people say and what the audit trail shows.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    investigator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[RequestState] = mapped_column(
        str_enum(RequestState, 20), default=RequestState.DRAFT, index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    aims: Mapped[str] = mapped_column(Text)
    # The criteria engine's JSON document, canonical (sorted keys), as submitted.
    criteria: Mapped[str] = mapped_column(Text)
    quantity_ul: Mapped[float]  # per aliquot
    aliquots_per_visit: Mapped[int] = mapped_column(default=1)
    # May the pick list take the last aliquot a visit has left? (issue 19: never, unless allowed)
    allow_last_aliquot: Mapped[bool] = mapped_column(default=False)
    # Phenotype fields wanted in the data set, space-separated release column names.
    phenotype_fields: Mapped[str] = mapped_column(Text, default="")
    purpose: Mapped[DuoTerm] = mapped_column(str_enum(DuoTerm, 16, name="purpose"))
    purpose_modifiers: Mapped[str | None] = mapped_column(String(200))
    # The per-request secret that keys the data set's subject pseudonyms (phenotype_link.
    # deidentify.pseudonym): two requests cannot be joined on subject.
    pseudonym_secret: Mapped[bytes] = mapped_column(LargeBinary(32))
    # The outbound shipment the reserved aliquots travel in, once made.
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"), index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    investigator: Mapped[User] = relationship(foreign_keys=[investigator_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    shipment: Mapped[Shipment | None] = relationship()
    reviews: Mapped[list[RequestReview]] = relationship(
        back_populates="request", order_by="RequestReview.id"
    )
    attachments: Mapped[list[RequestAttachment]] = relationship(
        back_populates="request", order_by="RequestAttachment.id"
    )
    items: Mapped[list[RequestItem]] = relationship(
        back_populates="request", order_by="RequestItem.id"
    )

    @property
    def modifiers(self) -> tuple[DuoTerm, ...]:
        return tuple(DuoTerm(t) for t in (self.purpose_modifiers or "").split())

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES

    def require_transition(self, to: RequestState) -> None:
        """Refuse a move the request's lifecycle does not allow, naming where it stands."""
        if to not in REQUEST_TRANSITIONS[self.state]:
            raise Conflict(
                f"Request {self.code} is {self.state.label} and cannot become {to.label}",
                field="state",
            )


class Vote(StrEnum):
    APPROVE = "approve"
    REVISE = "revise"
    REJECT = "reject"


class RequestReview(Base):
    """A reviewer's comment, with or without a vote; the investigator may comment too."""

    __tablename__ = "request_reviews"
    __audit_type__: ClassVar[str] = "request_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("specimen_requests.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    vote: Mapped[Vote | None] = mapped_column(str_enum(Vote, 8))
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[SpecimenRequest] = relationship(back_populates="reviews")
    author: Mapped[User] = relationship()


class RequestAttachment(Base):
    """An uploaded protocol or data use agreement (PDF). The bytes live in the configured
    directory (REQUEST_FILES_DIR) under `stored_name`; the row keeps their SHA-256."""

    __tablename__ = "request_attachments"
    __audit_type__: ClassVar[str] = "request_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("specimen_requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "protocol" or "dua"
    filename: Mapped[str] = mapped_column(String(200))  # as uploaded, for the download
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int]
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[SpecimenRequest] = relationship(back_populates="attachments")


class ItemStatus(StrEnum):
    RESERVED = "reserved"  # on the pick list, the aliquot reserved for this request
    PICKED = "picked"  # scanned at the freezer
    SHIPPED = "shipped"  # packed into the request's outbound shipment
    RELEASED = "released"  # delivered, in the data set
    CANCELLED = "cancelled"  # let go (not found, consent refused at shipment, withdrawn)


OPEN_ITEM_STATUSES = frozenset({ItemStatus.RESERVED, ItemStatus.PICKED, ItemStatus.SHIPPED})


class RequestItem(Base):
    """An aliquot reserved for a request. `open_aliquot_id` is the aliquot while the item is
    open, else NULL: its unique constraint keeps two requests from reserving one aliquot even
    when two technicians fulfil at the same moment."""

    __tablename__ = "request_items"
    __audit_type__: ClassVar[str] = "request_item"
    __table_args__ = (UniqueConstraint("request_id", "aliquot_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("specimen_requests.id"), index=True)
    aliquot_id: Mapped[int] = mapped_column(ForeignKey("aliquots.id"), index=True)
    open_aliquot_id: Mapped[int | None] = mapped_column(ForeignKey("aliquots.id"), unique=True)
    status: Mapped[ItemStatus] = mapped_column(
        str_enum(ItemStatus, 10), default=ItemStatus.RESERVED
    )
    # Where the tube was when reserved, in walking order (freezer, rack, box, position).
    pick_order: Mapped[int] = mapped_column(default=0)
    picked_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[SpecimenRequest] = relationship(back_populates="items")
    aliquot: Mapped[Aliquot] = relationship(foreign_keys=[aliquot_id])


class Notification(Base):
    """An in-application message: a request moved, a reviewer commented."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("specimen_requests.id"))
    message: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class FeasibilityQuery(Base):
    """One feasibility query as asked: who, when, the criteria's hash and the true subject count,
    which the lockout reads (protection.repeated_count_lockout). Staff-only, like exact counts;
    the investigator saw only the protected answer. Also the per-investigator rate limit's log."""

    __tablename__ = "feasibility_queries"
    __audit_type__: ClassVar[str] = "feasibility_query"
    __table_args__ = (Index("ix_feasibility_queries_user_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    criteria_hash: Mapped[str] = mapped_column(String(64))
    true_subjects: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
