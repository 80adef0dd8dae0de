"""Checking the trail: the keyed chain, its head, and signed checkpoints of the head.

A chain, keyed or not, cannot show that its newest events were deleted or that an older backup
replaced it: the shorter chain is still a valid chain. A checkpoint (head id, head hash, event
count, signed with the audit key) that an administrator keeps elsewhere can: the trail must still
hold that event with that hash, and as many events up to it.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims.audit import keys
from lims.audit.models import GENESIS_HASH, LEGACY_KEY_ID, AuditEvent
from lims.db import utcnow


@dataclass(frozen=True)
class Head:
    """The newest event: its id (the chain's sequence number) and hash, and the event count."""

    id: int
    row_hash: str
    count: int


def chain_head(session: Session) -> Head:
    """The head now; one statement, so the count and the newest row come from one snapshot."""
    count = select(func.count()).select_from(AuditEvent).scalar_subquery()
    newest = session.execute(
        select(AuditEvent.id, AuditEvent.row_hash, count).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    if newest is None:
        return Head(0, GENESIS_HASH, 0)
    return Head(newest[0], newest[1], newest[2])


@dataclass(frozen=True)
class ChainReport:
    events_checked: int
    first_broken_id: int | None
    problem: str | None
    head: Head

    @property
    def is_intact(self) -> bool:
        return self.first_broken_id is None

    @property
    def head_id(self) -> int:
        return self.head.id

    @property
    def head_hash(self) -> str:
        return self.head.row_hash


def verify_chain(
    session: Session, *, keyring: keys.Keyring | None = None, batch_size: int = 5000
) -> ChainReport:
    """Walk the chain in id order and report the first row whose links or hash do not hold.

    Plain SHA-256 rows are accepted only before the first keyed row, and the newest row must be
    keyed: whoever edits a row without the key must re-hash every later one without it too.
    The walk stops at the head read when it starts, which the report names; later appends wait
    for the next run.
    """
    keyring = keyring or keys.active()
    head = chain_head(session)
    expected_prev, last_id, checked, keyed = GENESIS_HASH, 0, 0, False
    while True:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.id > last_id, AuditEvent.id <= head.id)
            .order_by(AuditEvent.id)
            .limit(batch_size)
        ).all()
        if not rows:
            break
        for event in rows:
            if problem := _check_event(event, expected_prev, keyring, keyed=keyed):
                return ChainReport(checked, event.id, problem, head)
            keyed = keyed or event.key_id != LEGACY_KEY_ID
            expected_prev, last_id, checked = event.row_hash, event.id, checked + 1
        session.expunge_all()
    if checked and not keyed:
        return ChainReport(checked, last_id, "no event is keyed: the trail was re-hashed", head)
    return ChainReport(checked, None, None, head)


def _check_event(
    event: AuditEvent, expected_prev: str, keyring: keys.Keyring, *, keyed: bool
) -> str | None:
    if event.prev_hash != expected_prev:
        return "its previous-hash link does not match"
    if event.key_id == LEGACY_KEY_ID and keyed:
        return "it is hashed without a key after keyed events"
    if not keyring.has(event.key_id):
        return f"it is keyed with {event.key_id!r}, which the keyring lacks"
    if event.compute_hash(keyring.key(event.key_id)) != event.row_hash:
        return "its content does not match its hash"
    return None


@dataclass(frozen=True)
class Checkpoint:
    head_id: int
    head_hash: str
    event_count: int
    taken_at: str
    key_id: str
    signature: str = ""

    def signed_content(self) -> bytes:
        content = {k: v for k, v in asdict(self).items() if k != "signature"}
        return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        """Read a checkpoint file; ValueError names what is missing or malformed."""
        try:
            data: dict[str, Any] = json.loads(text)
            checkpoint = cls(
                head_id=int(data["head_id"]),
                head_hash=str(data["head_hash"]),
                event_count=int(data["event_count"]),
                taken_at=str(data["taken_at"]),
                key_id=str(data["key_id"]),
                signature=str(data["signature"]),
            )
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"not an audit checkpoint file: {err}") from err
        return checkpoint


def take_checkpoint(
    session: Session,
    *,
    head: Head | None = None,
    keyring: keys.Keyring | None = None,
    at: datetime | None = None,
) -> Checkpoint:
    """The chain's head (now, or the one a verification just walked to), signed with the key."""
    keyring = keyring or keys.active()
    head = head or chain_head(session)
    unsigned = Checkpoint(
        head_id=head.id,
        head_hash=head.row_hash,
        event_count=head.count,
        taken_at=(at or utcnow()).isoformat(timespec="seconds"),
        key_id=keyring.current_id,
    )
    signature = keyring.sign(unsigned.signed_content())
    return Checkpoint(**{**asdict(unsigned), "signature": signature})


def check_checkpoint(
    session: Session, checkpoint: Checkpoint, *, keyring: keys.Keyring | None = None
) -> str | None:
    """Why the trail does not extend the checkpoint (None when it does)."""
    keyring = keyring or keys.active()
    if not keyring.has(checkpoint.key_id):
        return f"the checkpoint is signed with key {checkpoint.key_id!r}, which the keyring lacks"
    expected = keyring.sign(checkpoint.signed_content(), checkpoint.key_id)
    if not hmac.compare_digest(expected, checkpoint.signature):
        return "the checkpoint's signature does not match: it was edited or signed elsewhere"
    head = chain_head(session)
    if head.id < checkpoint.head_id:
        return (
            f"the trail is behind the checkpoint: it ends at event {head.id}, the checkpoint of "
            f"{checkpoint.taken_at} saw event {checkpoint.head_id} ({checkpoint.event_count} "
            "events); events were deleted from the end, or an older backup was restored"
        )
    found = session.scalar(select(AuditEvent.row_hash).where(AuditEvent.id == checkpoint.head_id))
    if checkpoint.head_id == 0:
        found = GENESIS_HASH
    if found != checkpoint.head_hash:
        return (
            f"the trail diverges from the checkpoint at event {checkpoint.head_id}: "
            f"hash {found or 'missing'}, the checkpoint says {checkpoint.head_hash}"
        )
    count = session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.id <= checkpoint.head_id)
    )
    if count != checkpoint.event_count:
        return (
            f"the trail holds {count} events up to event {checkpoint.head_id}, "
            f"the checkpoint counted {checkpoint.event_count}"
        )
    return None
