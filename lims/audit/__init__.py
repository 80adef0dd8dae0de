"""The audit trail: `audit.record(...)` inside every state-changing service."""

from lims.audit.services import record

__all__ = ["record"]
