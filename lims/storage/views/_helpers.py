"""What the storage pages share: reading forms, and wording for custody events."""

from __future__ import annotations

from typing import Any

from flask import request

from lims.audit.models import AuditEvent
from lims.db import get_session
from lims.storage import services
from lims.web import current_actor


def form_values(*names: str) -> dict[str, str]:
    """The named form fields that were filled in (blank inputs count as not given)."""
    return {n: v.strip() for n in names if (v := request.form.get(n, "")).strip()}


def box_id_from(values: dict[str, Any]) -> int | None:
    """A destination box given by id or by its scanned barcode."""
    return services.resolve_box(
        get_session(),
        current_actor(),
        box_id=values.get("box_id"),
        box_barcode=values.get("box_barcode"),
    )


ACTION_WORDS = {
    "aliquot.created": "Created",
    "aliquot.stored": "Stored",
    "aliquot.moved": "Moved",
    "aliquot.removed": "Taken out of its box",
    "aliquot.checked_out": "Checked out",
    "aliquot.checked_in": "Checked in",
    "aliquot.consumed": "Used up",
    "aliquot.volume_used": "Part used",
    "aliquot.disposed": "Disposed",
    "aliquot.marked_missing": "Marked missing",
    "aliquot.found": "Found",
    "aliquot.quarantined": "Quarantined",
    "aliquot.cleared": "Released from quarantine",
    "aliquot.voided": "Voided (entered in error)",
    "aliquot.returned": "Returned by the investigator",
    "subject.consent_withdrawn": "Subject withdrew consent",
}
_PLACE_KEYS = ("freezer", "rack", "box", "position", "status", "volume_ul", "aliquot_barcodes")


def place_words(values: dict[str, Any] | None) -> str:
    """'F1 Serum -80 / Rack 1 / B0000013 A1', or 'out of storage'."""
    if not values or not values.get("box"):
        return "not in a box"
    path = [values.get("freezer"), values.get("rack"), f"{values['box']} {values['position']}"]
    return " / ".join(str(p) for p in path if p)


def custody_rows(events: list[AuditEvent]) -> list[dict[str, Any]]:
    """Each event as the timeline shows it: when, who, what, from where to where, why."""
    rows = []
    for event in events:
        before, after = event.before or {}, event.after or {}
        moved = "box" in after or "box" in before
        rows.append(
            {
                "event": event,
                "what": ACTION_WORDS.get(str(event.action), str(event.action)),
                "status": (before.get("status"), after.get("status")),
                "from": place_words(before) if moved else None,
                "to": place_words(after) if moved else None,
                "details": {k: v for k, v in after.items() if k not in _PLACE_KEYS},
                "volume": (before.get("volume_ul"), after.get("volume_ul")),
            }
        )
    return rows
