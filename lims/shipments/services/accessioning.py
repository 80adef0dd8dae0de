"""Accessioning a tube of another installation from its sender's manifest row: the row goes
through the aliquot import's checks and writes (subject registered here, visit and primary
tube made when new), so a tube received this way meets the same rules as an imported one."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.db import utcnow
from lims.errors import Conflict, InvalidInput
from lims.shipments.models import ItemState, ShipmentItem
from lims.shipments.services._common import lock_shipment
from lims.specimens.models import Aliquot, SpecimenType, TubeType
from lims.specimens.services.import_checks import Row, plan_import
from lims.specimens.services.import_writes import write_import
from lims.specimens.services.imports import COLUMN_NAMES
from lims.specimens.services.tubes import processing_site


def accession_from_manifest(
    session: Session, actor: Actor, *, shipment_id: int, item_id: int
) -> ShipmentItem:
    """Make our aliquot record for a received (or unexpected) tube from the sender's row."""
    actor.require(Role.TECHNICIAN)
    shipment = lock_shipment(session, shipment_id)
    item = next((i for i in shipment.items if i.id == item_id), None)
    if item is None:
        raise InvalidInput(f"Shipment {shipment.code} has no item {item_id}", field="item")
    if item.aliquot_id is not None:
        raise Conflict(f"{item.barcode} is an aliquot of ours already", field="item")
    if item.state not in (ItemState.RECEIVED, ItemState.UNEXPECTED):
        raise Conflict(f"{item.barcode} is {item.state.value}; scan it in first", field="item")
    source = item.manifest_row or _row_elsewhere(session, item.barcode)
    if source is None:
        raise Conflict(
            f"No sender's manifest row names {item.barcode}; load the manifest it is on",
            field="item",
        )
    values = _import_values(json.loads(source))
    plan, problems = plan_import(
        session, [Row(2, values)], now=utcnow(), lab=processing_site(session, actor)
    )
    if problems:
        detail = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
        raise InvalidInput(f"{item.barcode} cannot be accessioned: {detail}", errors=problems)
    sha256 = hashlib.sha256(source.encode()).hexdigest()
    write_import(session, actor, plan, sha256=sha256, filename=f"manifest of {shipment.code}")
    item.aliquot = session.scalars(select(Aliquot).where(Aliquot.barcode == item.barcode)).one()
    was = item.state
    item.state = ItemState.RECEIVED
    audit.record(
        session,
        actor,
        Action.SHIPMENT_ITEM_RESOLVED,
        shipment,
        barcode=item.barcode,
        state=item.state,
        was=was,
        accessioned=True,
    )
    session.commit()
    return item


def _row_elsewhere(session: Session, barcode: str) -> str | None:
    """An unexpected tube's row on another loaded manifest (it travelled in the wrong box)."""
    stmt = select(ShipmentItem.manifest_row).where(
        ShipmentItem.barcode == barcode, ShipmentItem.manifest_row.is_not(None)
    )
    return session.scalars(stmt.order_by(ShipmentItem.id.desc())).first()


def _import_values(row: dict[str, Any]) -> dict[str, Any]:
    """The manifest row in the aliquot import's columns (parsed values, as read_rows gives)."""
    values: dict[str, Any] = dict.fromkeys(COLUMN_NAMES)
    collected = datetime.fromisoformat(row["collected_at"]) if row.get("collected_at") else None
    quantity = Decimal(str(row["quantity"]))
    values.update(
        study_code=row.get("study_code"),
        visit_number=row.get("visit_number"),
        visit_on=collected.date() if collected else None,
        tube_barcode=row.get("specimen_barcode"),
        tube_type=_enum(TubeType, row.get("tube_type")),
        collected_at=collected,
        aliquot_barcode=row["barcode"],
        specimen_type=_enum(SpecimenType, str(row["specimen_type"]).lower().replace(" ", "_")),
        volume_ul=int(quantity) if str(row.get("unit", "")).lower() in ("ul", "µl") else None,
        parent_barcode=row.get("parent_barcode"),
    )
    missing = [k for k in ("study_code", "visit_number", "tube_barcode", "specimen_type",
                           "volume_ul") if values[k] is None]  # fmt: skip
    if missing:
        raise InvalidInput(
            f"The sender's row for {row['barcode']} lacks {', '.join(missing)}", field="item"
        )
    return values


def _enum(cls: Any, value: Any) -> Any:
    try:
        return cls(value) if value else None
    except ValueError:
        return None
