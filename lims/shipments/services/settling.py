"""Settling what a receipt left open: a missing tube written off, an unexpected one taken in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.errors import Conflict, InvalidInput, NotFound
from lims.shipments.models import ItemState, Shipment, ShipmentItem
from lims.shipments.services._common import expected_elsewhere, lock_shipment
from lims.specimens.models import Aliquot, AliquotStatus
from lims.specimens.services import find_aliquot, locked

St = ItemState


def _item(shipment: Shipment, item_id: int) -> ShipmentItem:
    item = next((i for i in shipment.items if i.id == item_id), None)
    if item is None:
        raise NotFound(f"Shipment {shipment.code} has no item {item_id}", field="item")
    return item


def write_off_missing(
    session: Session, actor: Actor, *, shipment_id: int, item_id: int, reason: str | None
) -> ShipmentItem:
    """Give up a missing tube (reason required): our aliquot is then marked missing."""
    actor.require(Role.TECHNICIAN)
    shipment = lock_shipment(session, shipment_id)
    item = _item(shipment, item_id)
    if item.state is not St.MISSING:
        raise Conflict(f"{item.barcode} is {item.state.value}, not missing", field="item")
    why = (reason or "").strip()
    if not why:
        raise InvalidInput("Say why the tube is written off", field="reason")
    item.state, item.resolution = St.LOST, why
    if item.aliquot_id is not None:
        aliquot = session.scalars(
            locked(select(Aliquot).where(Aliquot.id == item.aliquot_id))
        ).one()
        before = aliquot.status
        aliquot.require_transition(AliquotStatus.MISSING)
        aliquot.status = AliquotStatus.MISSING
        audit.record(
            session,
            actor,
            Action.ALIQUOT_MARKED_MISSING,
            aliquot,
            before={"status": before},
            reason=why,
            status=aliquot.status,
            shipment=shipment.code,
        )
    audit.record(
        session,
        actor,
        Action.SHIPMENT_ITEM_RESOLVED,
        shipment,
        barcode=item.barcode,
        state=item.state,
        reason=why,
    )
    session.commit()
    return item


def accept_unexpected(
    session: Session, actor: Actor, *, shipment_id: int, item_id: int
) -> ShipmentItem:
    """Take an unexpected tube in: an aliquot of ours on its way (or expected) is received."""
    actor.require(Role.TECHNICIAN)
    shipment = lock_shipment(session, shipment_id)
    item = _item(shipment, item_id)
    if item.state is not St.UNEXPECTED:
        raise Conflict(f"{item.barcode} is {item.state.value}, not unexpected", field="item")
    elsewhere = expected_elsewhere(session, shipment, [item.barcode])
    if item.barcode in elsewhere:
        raise Conflict(
            f"{item.barcode} is expected in shipment {elsewhere[item.barcode]}: receive it there",
            field="item",
        )
    if item.aliquot_id is None:
        raise Conflict(
            f"{item.barcode} is not an aliquot of ours; accession it from the sender's manifest "
            "row instead",
            field="item",
        )
    aliquot = find_aliquot(session, actor, item.barcode, for_update=True)
    before = aliquot.status
    aliquot.require_transition(AliquotStatus.RECEIVED)
    aliquot.status = AliquotStatus.RECEIVED
    item.state, item.resolution = St.RECEIVED, "accepted as unexpected"
    audit.record(
        session,
        actor,
        Action.ALIQUOT_RECEIVED,
        aliquot,
        before={"status": before},
        status=aliquot.status,
        shipment=shipment.code,
        unexpected=True,
    )
    audit.record(
        session,
        actor,
        Action.SHIPMENT_ITEM_RESOLVED,
        shipment,
        barcode=item.barcode,
        state=item.state,
    )
    session.commit()
    return item
