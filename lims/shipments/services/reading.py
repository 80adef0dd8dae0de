"""Reading shipments: the list, one shipment, a shipment by its scanned barcode."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from lims.actors import STAFF, Actor
from lims.errors import InvalidInput, NotFound
from lims.shipments.models import Direction, Shipment, ShipmentItem, ShipmentStatus
from lims.shipments.services._common import is_shipment_code
from lims.specimens import barcodes


def list_shipments(
    session: Session,
    actor: Actor,
    *,
    direction: Direction | None = None,
    status: ShipmentStatus | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Shipment], int]:
    """Shipments, newest first, with the total for paging."""
    actor.require(*STAFF)
    stmt = select(Shipment)
    if direction is not None:
        stmt = stmt.where(Shipment.direction == direction)
    if status is not None:
        stmt = stmt.where(Shipment.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.options(selectinload(Shipment.items).selectinload(ShipmentItem.box))
        .order_by(Shipment.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(rows), total


def get_shipment(session: Session, actor: Actor, shipment_id: int) -> Shipment:
    actor.require(*STAFF)
    shipment = session.get(Shipment, shipment_id)
    if shipment is None:
        raise NotFound(f"Shipment {shipment_id} does not exist", field="shipment")
    return shipment


def find_shipment(session: Session, actor: Actor, code: str) -> Shipment:
    """A shipment by its scanned barcode (ours, or the sender's id from its manifest)."""
    actor.require(*STAFF)
    scanned = barcodes.normalise(code)
    if not scanned:
        raise InvalidInput("Scan the shipment barcode", field="code")
    if scanned.startswith("S") and scanned[1:].isdigit() and not is_shipment_code(scanned):
        raise InvalidInput(f"{scanned} has a wrong check digit; rescan it", field="code")
    stmt = select(Shipment).where(
        (Shipment.code == scanned) | (Shipment.sender_reference == scanned)
    )
    shipment = session.scalars(stmt.order_by(Shipment.id)).first()
    if shipment is None:
        raise NotFound(f"No shipment has barcode {scanned}", field="code")
    return shipment
