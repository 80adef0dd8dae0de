"""The audit feature's use cases: recording events, reading them, checking the chain."""

from lims.audit.services.reading import events_for, list_events
from lims.audit.services.recording import Event, audit_type, record, record_many, ref
from lims.audit.services.verification import (
    ChainReport,
    Checkpoint,
    Head,
    chain_head,
    check_checkpoint,
    take_checkpoint,
    verify_chain,
)

__all__ = [
    "ChainReport",
    "Checkpoint",
    "Event",
    "Head",
    "audit_type",
    "chain_head",
    "check_checkpoint",
    "events_for",
    "list_events",
    "record",
    "record_many",
    "ref",
    "take_checkpoint",
    "verify_chain",
]
