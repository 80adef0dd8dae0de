"""The audit trail: `audit.record(...)` inside every state-changing service, `audit.record_many`
for a batch; both append to the keyed hash chain that this feature alone writes."""

from lims.audit.services import Event, record, record_many, ref

__all__ = ["Event", "record", "record_many", "ref"]
