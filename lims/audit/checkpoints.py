"""Signed checkpoints of the chain's head, kept outside the database.

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
from lims.audit.models import GENESIS_HASH, AuditEvent
from lims.audit.services import Head, chain_head
from lims.db import utcnow


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
