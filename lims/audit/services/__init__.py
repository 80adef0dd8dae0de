"""The audit feature's use cases: recording events, reading them, checking the chain."""

from lims.audit.services.reading import events_for
from lims.audit.services.recording import Event, audit_type, record, record_many, ref
from lims.audit.services.trail import (
    KIND_WORDS,
    Change,
    Directory,
    Named,
    TrailPage,
    TrailQuery,
    TrailRow,
    actions_starting,
    changes,
    read_trail,
)
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
    "KIND_WORDS",
    "ChainReport",
    "Change",
    "Checkpoint",
    "Directory",
    "Event",
    "Head",
    "Named",
    "TrailPage",
    "TrailQuery",
    "TrailRow",
    "actions_starting",
    "audit_type",
    "chain_head",
    "changes",
    "check_checkpoint",
    "events_for",
    "read_trail",
    "record",
    "record_many",
    "ref",
    "take_checkpoint",
    "verify_chain",
]
