"""The append-only, hash-chained audit trail."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lims.db import Base

GENESIS_HASH = "0" * 64
# key_id of the rows hashed with plain SHA-256 before the chain was keyed (migration 0002).
LEGACY_KEY_ID = "sha256"

# Audit types stored under another name before each audited class declared its own: the old
# code derived them from table names ("boxes" -> "boxe"). The rows stay as written (the trail is
# append-only); reads look under both names. tests/audit/test_types.py checks this is complete.
LEGACY_TYPES: dict[str, tuple[str, ...]] = {"box": ("boxe",)}
CURRENT_TYPES = {old: new for new, olds in LEGACY_TYPES.items() for old in olds}


class Action(StrEnum):
    """Every audited action, `noun.verb` in the past tense."""

    USER_CREATED = "user.created"
    USER_DEACTIVATED = "user.deactivated"
    USER_REACTIVATED = "user.reactivated"
    USER_UNLOCKED = "user.unlocked"
    USER_PASSWORD_CHANGED = "user.password_changed"
    USER_SIGNED_IN = "user.signed_in"
    USER_SIGN_IN_FAILED = "user.sign_in_failed"
    USER_SIGNED_OUT = "user.signed_out"
    TOKEN_ISSUED = "token.issued"
    TOKEN_REVOKED = "token.revoked"
    SITE_CREATED = "site.created"
    SITE_TIME_ZONE_SET = "site.time_zone_set"
    INSTALLATION_NUMBERED = "installation.numbered"
    SUBJECT_REGISTERED = "subject.registered"
    SUBJECT_CONSENT_WITHDRAWN = "subject.consent_withdrawn"
    SUBJECT_NINDS_GUID_CHANGED = "subject.ninds_guid_changed"
    CONSENT_RECORDED = "consent.recorded"
    CONSENT_DOCUMENT_CREATED = "consent_document.created"
    VISIT_REGISTERED = "visit.registered"
    SPECIMEN_ACCESSIONED = "specimen.accessioned"
    SPECIMEN_NOTES_CHANGED = "specimen.notes_changed"
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
    ALIQUOT_VOIDED = "aliquot.voided"
    ALIQUOT_RETURNED = "aliquot.returned"
    # Fulfilling a request (issue 19): each tube reserved, picked at the freezer, or let go.
    ALIQUOT_RESERVED = "aliquot.reserved"
    ALIQUOT_PICKED = "aliquot.picked"
    ALIQUOT_UNRESERVED = "aliquot.unreserved"
    REQUEST_SHIPMENT_PACKED = "request.shipment_packed"
    SHIPMENT_TUBE_UNPACKED = "shipment.tube_unpacked"
    TUBE_NOT_COLLECTED = "uncollected_tube.recorded"
    LABELS_PRINTED = "labels.printed"
    PRINTER_ADDED = "printer.added"
    PRINTER_CHANGED = "printer.changed"
    AUDIT_TRAIL_KEYED = "audit_trail.keyed"
    # One event per batch of `demo generate` (issue #20), summarising the rows written in bulk.
    DEMO_GENERATED = "demo.generated"
    PHENOTYPE_RECORDED = "phenotype.recorded"
    PHENOTYPE_CHANGED = "phenotype.changed"
    PHENOTYPES_IMPORTED = "phenotypes.imported"
    FEASIBILITY_QUERIED = "feasibility.queried"
    FEASIBILITY_LOCKED_OUT = "feasibility.locked_out"
    FEASIBILITY_UNLOCKED = "feasibility.unlocked"
    SHIPPING_ADDRESS_CREATED = "shipping_address.created"
    SHIPMENT_CREATED = "shipment.created"
    SHIPMENT_BOX_PACKED = "shipment.box_packed"
    SHIPMENT_SHIPPED = "shipment.shipped"
    SHIPMENT_ARRIVAL_RECORDED = "shipment.arrival_recorded"
    SHIPMENT_RECEIVED = "shipment.received"
    SHIPMENT_DELIVERED = "shipment.delivered"
    SHIPMENT_ITEM_UNEXPECTED = "shipment_item.unexpected"
    SHIPMENT_ITEM_RESOLVED = "shipment_item.resolved"
    ALIQUOT_SHIPPED = "aliquot.shipped"
    ALIQUOT_RECEIVED = "aliquot.received"
    ALIQUOT_RELEASED = "aliquot.released"
    # Investigators' requests (issue 19): each move of the lifecycle has its own action, so the
    # trail (and the request's history page) reads as the lab would tell it.
    REQUEST_CREATED = "request.created"
    REQUEST_EDITED = "request.edited"
    REQUEST_SUBMITTED = "request.submitted"
    REQUEST_REVIEW_STARTED = "request.review_started"
    REQUEST_REVISION_REQUESTED = "request.revision_requested"
    REQUEST_APPROVED = "request.approved"
    REQUEST_REJECTED = "request.rejected"
    REQUEST_FULFILMENT_STARTED = "request.fulfilment_started"
    REQUEST_SHIPPED = "request.shipped"
    REQUEST_CLOSED = "request.closed"
    REQUEST_WITHDRAWN = "request.withdrawn"
    REQUEST_COMMENTED = "request.commented"
    REQUEST_VOTED = "request.voted"
    REQUEST_FILE_ATTACHED = "request.file_attached"
    # A request's release (issue 19): its tubes delivered, and each data set file handed out.
    REQUEST_RELEASED = "request.released"
    REQUEST_ITEM_RELEASED = "request_item.released"
    REQUEST_DATA_SET_DOWNLOADED = "request.data_set_downloaded"


class AuditEvent(Base):
    """One state change. Nothing updates or deletes these rows; a trigger refuses it."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_object", "object_type", "object_id"),
        # The trail page's time range and user filters (bench/audit_trail.py, issue #16): the
        # newest page of one day, or of one user, without walking the events after it.
        Index("ix_audit_events_occurred_at", "occurred_at"),
        Index("ix_audit_events_actor_username_id", "actor_username", "id"),
    )

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
    # Which key of the keyring made row_hash (an HMAC), or LEGACY_KEY_ID for plain SHA-256.
    key_id: Mapped[str] = mapped_column(String(32))

    @property
    def before(self) -> dict[str, Any] | None:
        return json.loads(self.before_json) if self.before_json else None

    @property
    def after(self) -> dict[str, Any] | None:
        return json.loads(self.after_json) if self.after_json else None

    @property
    def canonical_type(self) -> str:
        """The object's audit type by today's name (a legacy "boxe" reads as "box")."""
        return CURRENT_TYPES.get(self.object_type, self.object_type)

    def compute_hash(self, key: bytes | None) -> str:
        """This row's hash: HMAC-SHA256 under `key`, or plain SHA-256 for a legacy row (None)."""
        return chain_hash(
            {c: getattr(self, c) for c in ("prev_hash", *HASHED_COLUMNS)},
            key,
        )


# The columns each event's hash covers, after the previous event's hash.
HASHED_COLUMNS = (
    "occurred_at",
    "actor_id",
    "actor_username",
    "action",
    "object_type",
    "object_id",
    "before_json",
    "after_json",
    "reason",
)


# What json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True) uses, built
# once: dumps builds it on every call, which a 184,000-event import felt (2026-12-02).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def chain_hash(row: Mapping[str, Any], key: bytes | None) -> str:
    """The hash of a row's columns chained to the previous row's hash (21 CFR 11.10(e); the
    keyed chain of Schneier & Kelsey, "Secure Audit Logs to Support Computer Forensics", ACM
    TISSEC 2(2), 1999).

    Without a key anyone who can write the table can recompute the chain after an edit; with the
    key (kept outside the database) only its holder can. The content is a canonical JSON, so
    both databases and every Python version give the same bytes.
    """
    content = {
        "occurred_at": row["occurred_at"].isoformat(timespec="microseconds"),
        "actor_id": row["actor_id"],
        "actor_username": row["actor_username"],
        "action": str(row["action"]),
        "object_type": row["object_type"],
        "object_id": row["object_id"],
        "before": row["before_json"],
        "after": row["after_json"],
        "reason": row["reason"],
    }
    canonical = _CANONICAL.encode(content)
    message = (row["prev_hash"] + canonical).encode()
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.digest(key, message, "sha256").hex()  # one-shot HMAC, faster than hmac.new
