"""A request's picked tubes into an outbound shipment, and shipping it (issue 19, "Fulfilment";
issue 18's "outbound shipment from a pick list").

Every shipment rule stays in lims.shipments: these services call its steps (create, pack, ship)
inside their own transaction and then move the request, so the shipment and the request change
together or not at all. shipments imports nothing of requests.

Lock order: the request first (find_request for_update), then what the shipment steps lock:
the shipment, its aliquots in ascending id, the boxes they leave.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor
from lims.audit.models import Action
from lims.errors import Conflict, InvalidInput, plural
from lims.requests.models import ItemStatus, RequestState, SpecimenRequest
from lims.requests.services.fulfilment import PICKERS, require_state
from lims.requests.services.workflow import find_request, move_state
from lims.shipments.models import Shipment, ShippingAddress
from lims.shipments.services import (
    Dispatch,
    create_shipment_step,
    list_addresses,
    pack_box_step,
    ship_step,
)
from lims.shipments.services.dispatch import PACKING_CAPACITY

S = RequestState


def destinations(session: Session, actor: Actor) -> list[ShippingAddress]:
    """Where a request's tubes may go: every address but the biorepository's own."""
    actor.require(*PICKERS)
    return [a for a in list_addresses(session, actor) if not a.is_biorepository]


def pack_request_shipment(
    session: Session, actor: Actor, *, request: str | int, to_address_id: int
) -> Shipment:
    """Make the outbound shipment of a request's picked tubes, packed box by box (81 a box, in
    pick order), for the request's DUO purpose and modifiers."""
    actor.require(*PICKERS)
    req = find_request(session, actor, request, for_update=True)
    require_state(req, S.FULFILLING, doing="packed")
    if req.shipment_id is not None:
        raise Conflict(f"Request {req.code} is already packed in shipment {_code(req)}")
    waiting = [i.aliquot.barcode for i in req.items if i.status is ItemStatus.RESERVED]
    if waiting:
        raise Conflict(
            f"{plural(len(waiting), 'tube')} of {req.code} still to be picked or let go: "
            + ", ".join(waiting[:10]),
            field="barcode",
        )
    picked = [i for i in req.items if i.status is ItemStatus.PICKED]
    if not picked:
        raise Conflict(f"Request {req.code} has no picked tube to pack", field="barcode")
    source = session.scalar(select(ShippingAddress).where(ShippingAddress.is_biorepository))
    if source is None:
        raise InvalidInput(
            "The biorepository has no shipping address yet: an admin adds it under Shipments",
            field="to_address_id",
        )
    codes = [i.aliquot.barcode for i in sorted(picked, key=lambda i: (i.pick_order, i.id))]
    shipment = create_shipment_step(
        session,
        actor,
        from_address_id=source.id,
        to_address_id=to_address_id,
        purpose=req.purpose,
        modifiers=req.modifiers,
        barcodes=codes,
    )
    for start in range(0, len(codes), PACKING_CAPACITY):
        box = codes[start : start + PACKING_CAPACITY]
        pack_box_step(session, actor, shipment_id=shipment.id, barcodes=box)
    req.shipment = shipment
    audit.record(
        session,
        actor,
        Action.REQUEST_SHIPMENT_PACKED,
        req,
        shipment=shipment.code,
        boxes=len(shipment.boxes),
        tubes=len(codes),
    )
    session.commit()
    return shipment


def ship_request(
    session: Session,
    actor: Actor,
    *,
    request: str | int,
    courier: str,
    tracking_number: str,
    shipped_at: datetime,
    dry_ice_kg: float | None = None,
    logger_id: str | None = None,
    arrives_on: date | None = None,
) -> Dispatch:
    """Hand the request's shipment to the courier: consent is checked again for every tube (a
    withdrawal since reservation stops it), then the tubes and the request are shipped."""
    actor.require(*PICKERS)
    req = find_request(session, actor, request, for_update=True)
    require_state(req, S.FULFILLING, doing="shipped")
    if req.shipment_id is None:
        raise Conflict(f"Request {req.code} has no shipment yet: pack its picked tubes first")
    dispatch = ship_step(
        session,
        actor,
        shipment_id=req.shipment_id,
        courier=courier,
        tracking_number=tracking_number,
        shipped_at=shipped_at,
        dry_ice_kg=dry_ice_kg,
        logger_id=logger_id,
        arrives_on=arrives_on,
    )
    for item in req.items:
        if item.status is ItemStatus.PICKED:
            item.status = ItemStatus.SHIPPED
    move_state(
        session, actor, req, S.SHIPPED, note=f"shipment {dispatch.shipment.code}", at=shipped_at
    )
    session.commit()
    return dispatch


def _code(req: SpecimenRequest) -> str:
    return req.shipment.code if req.shipment is not None else str(req.shipment_id)
