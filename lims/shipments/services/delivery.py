"""An outbound shipment's delivery, confirmed by us: the recipient has the tubes, so they are
released to the investigator (IN_TRANSIT -> RELEASED)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.errors import Conflict
from lims.shipments.models import Direction, ItemState, Shipment, ShipmentStatus
from lims.shipments.services._common import lock_shipment, require_status
from lims.specimens.models import AliquotStatus
from lims.specimens.services import lock_aliquots


def confirm_delivery(
    session: Session,
    actor: Actor,
    *,
    shipment_id: int,
    delivered_at: datetime,
    is_damaged: bool = False,
    notes: str | None = None,
) -> Shipment:
    """The recipient confirmed an outbound shipment's arrival: its tubes are released to them."""
    shipment = delivery_step(
        session,
        actor,
        shipment_id=shipment_id,
        delivered_at=delivered_at,
        is_damaged=is_damaged,
        notes=notes,
    )
    session.commit()
    return shipment


def delivery_step(
    session: Session,
    actor: Actor,
    *,
    shipment_id: int,
    delivered_at: datetime,
    is_damaged: bool = False,
    notes: str | None = None,
) -> Shipment:
    """confirm_delivery without the commit, for a service that settles more in the same
    transaction (the requests feature releases the request's items with the tubes)."""
    actor.require(Role.TECHNICIAN)
    shipment = lock_shipment(session, shipment_id)
    require_status(shipment, ShipmentStatus.SHIPPED, doing="confirmed delivered")
    if shipment.direction is not Direction.OUTBOUND:
        raise Conflict(
            f"Shipment {shipment.code} is inbound: receive it by scanning its tubes",
            field="shipment",
        )
    shipment.require_transition(ShipmentStatus.RECEIVED)
    # Lock order: the shipment, then its aliquots in ascending id (lock_aliquots).
    aliquots = lock_aliquots(session, [i.aliquot_id for i in shipment.items if i.aliquot_id])
    for aliquot in aliquots:
        aliquot.require_transition(AliquotStatus.RELEASED)  # all checked before any changes
    events = []
    for aliquot in aliquots:
        before, aliquot.status = aliquot.status, AliquotStatus.RELEASED
        after = {"status": aliquot.status, "shipment": shipment.code}
        events.append(audit.Event(Action.ALIQUOT_RELEASED, aliquot, after, {"status": before}))
    for item in shipment.items:
        item.state, item.open_aliquot_id = ItemState.RECEIVED, None  # no longer open
    shipment.status, shipment.received_at = ShipmentStatus.RECEIVED, delivered_at
    shipment.delivery_confirmed_by_id = actor.user_id
    shipment.is_damaged, shipment.arrival_notes = is_damaged, (notes or "").strip() or None
    session.flush()
    audit.record_many(session, actor, events)
    audit.record(
        session,
        actor,
        Action.SHIPMENT_DELIVERED,
        shipment,
        delivered_at=delivered_at,
        is_damaged=is_damaged,
        notes=shipment.arrival_notes,
        tubes=len(aliquots),
    )
    return shipment
