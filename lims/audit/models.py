"""The append-only, hash-chained audit trail."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lims.db import Base

GENESIS_HASH = "0" * 64


class Action(StrEnum):
    """Every audited action, `noun.verb` in the past tense."""

    USER_CREATED = "user.created"
    USER_DEACTIVATED = "user.deactivated"
    USER_SIGNED_IN = "user.signed_in"
    USER_SIGN_IN_FAILED = "user.sign_in_failed"
    TOKEN_ISSUED = "token.issued"
    SITE_CREATED = "site.created"
    SUBJECT_REGISTERED = "subject.registered"
    SUBJECT_CONSENT_WITHDRAWN = "subject.consent_withdrawn"
    VISIT_REGISTERED = "visit.registered"
    SPECIMEN_ACCESSIONED = "specimen.accessioned"
    ALIQUOT_CREATED = "aliquot.created"
    ALIQUOT_STORED = "aliquot.stored"
    ALIQUOT_MOVED = "aliquot.moved"
    ALIQUOT_REMOVED = "aliquot.removed"
    ALIQUOT_CHECKED_OUT = "aliquot.checked_out"
    ALIQUOT_CHECKED_IN = "aliquot.checked_in"
    ALIQUOT_DISPOSED = "aliquot.disposed"
    ALIQUOTS_IMPORTED = "aliquots.imported"
    ALIQUOT_SUB_ALIQUOTED = "aliquot.sub_aliquoted"
    FREEZER_CREATED = "freezer.created"
    RACK_CREATED = "rack.created"
    BOX_CREATED = "box.created"
    BOX_MOVED = "box.moved"
    ALIQUOT_CONSUMED = "aliquot.consumed"
    ALIQUOT_VOLUME_USED = "aliquot.volume_used"
    ALIQUOT_MARKED_MISSING = "aliquot.marked_missing"
    ALIQUOT_FOUND = "aliquot.found"
    ALIQUOT_QUARANTINED = "aliquot.quarantined"
    ALIQUOT_CLEARED = "aliquot.cleared"
    LABELS_PRINTED = "labels.printed"


class AuditEvent(Base):
    """One state change. Nothing updates or deletes these rows; a trigger refuses it."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_username: Mapped[str] = mapped_column(String(64))
    # No CHECK on the action: the vocabulary grows with features, and rows are written only by
    # record(), which takes an Action. Unknown values read back as plain strings.
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(64))
    before_json: Mapped[str | None] = mapped_column(Text)
    after_json: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    # The chain: each row carries the previous row's hash; unique, so the chain cannot fork.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    row_hash: Mapped[str] = mapped_column(String(64), unique=True)

    @property
    def before(self) -> dict[str, Any] | None:
        return json.loads(self.before_json) if self.before_json else None

    @property
    def after(self) -> dict[str, Any] | None:
        return json.loads(self.after_json) if self.after_json else None

    def compute_hash(self) -> str:
        """SHA-256 of the previous hash and a canonical JSON of this row: a hash chain, as in
        Schneier & Kelsey, "Secure Audit Logs to Support Computer Forensics", ACM TISSEC 1999."""
        content = {
            "occurred_at": self.occurred_at.isoformat(timespec="microseconds"),
            "actor_id": self.actor_id,
            "actor_username": self.actor_username,
            "action": str(self.action),
            "object_type": self.object_type,
            "object_id": self.object_id,
            "before": self.before_json,
            "after": self.after_json,
            "reason": self.reason,
        }
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256((self.prev_hash + canonical).encode()).hexdigest()
