"""Packing a shipment box by box, and shipping it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.errors import Conflict, FieldError, InvalidInput
from lims.shipments.models import Shipment, ShipmentBox, ShipmentStatus
from lims.shipments.services._common import (
    add_tubes,
    consent_problem,
    leave_box,
    lock_shipment,
    refused,
    require_status,
    scanned_codes,
)
from lims.shipments.services.manifests import arrival_problems
from lims.specimens.models import AliquotStatus
from lims.specimens.services import lock_aliquots
from lims.storage.models import position_name

T = ShipmentStatus
# A shipping box is a cryobox: 9 x 9 fills row by row in the order the tubes are scanned.
PACKING_COLS = 9
PACKING_CAPACITY = 81


def pack_box(
    session: Session,
    actor: Actor,
    *,
    shipment_id: int,
    barcodes: Sequence[str],
    label: str | None = None,
) -> ShipmentBox:
    """Pack the next box: the scanned tubes, in scan order (A1, A2, ...); tubes not yet in the
    shipment join it, under the same rules as at creation."""
    box = pack_box_step(session, actor, shipment_id=shipment_id, barcodes=barcodes, label=label)
    session.commit()
    return box


def pack_box_step(
    session: Session,
    actor: Actor,
    *,
    shipment_id: int,
    barcodes: Sequence[str],
    label: str | None = None,
) -> ShipmentBox:
    """pack_box without its commit (see create_shipment_step). The caller commits."""
    actor.require(Role.TECHNICIAN)
    shipment = lock_shipment(session, shipment_id)
    require_status(shipment, T.PLANNED, T.PACKING, doing="packed")
    codes = scanned_codes(list(barcodes))
    if len(codes) > PACKING_CAPACITY:
        raise InvalidInput(
            f"{len(codes)} tubes do not fit one box of {PACKING_CAPACITY}", field="barcodes"
        )
    add_tubes(session, shipment, [c for c in codes if c not in _barcodes(shipment)])
    items = {item.barcode: item for item in shipment.items}
    problems: list[FieldError] = []
    for code in codes:
        item = items[code]
        if item.box is not None:
            problems.append(
                {
                    "field": "barcodes",
                    "message": f"{code} is already packed in box {item.box.number}",
                }
            )
        elif item.aliquot is not None and (
            problem := consent_problem(session, item.aliquot, shipment)
        ):
            problems.append({"field": "barcodes", "message": problem})
    if problems:
        raise refused(f"{len(problems)} tubes cannot be packed; nothing was packed", problems)
    number = len(shipment.boxes) + 1
    box = ShipmentBox(number=number, label=(label or "").strip() or f"Box {number}")
    shipment.boxes.append(box)
    for i, code in enumerate(codes):
        items[code].box = box
        items[code].position = position_name(i // PACKING_COLS, i % PACKING_COLS)
    if shipment.status is T.PLANNED:
        shipment.status = T.PACKING
    audit.record(
        session,
        actor,
        Action.SHIPMENT_BOX_PACKED,
        shipment,
        box=number,
        label=box.label,
        barcodes=codes,
    )
    return box


def unpack_tube_step(
    session: Session, actor: Actor, *, shipment_id: int, barcode: str, reason: str
) -> None:
    """Take a tube out of a shipment not yet shipped (its subject withdrew, it broke); its place
    in the shipping box stays empty. The caller commits: a request lets a tube go with it."""
    actor.require(Role.TECHNICIAN)
    shipment = lock_shipment(session, shipment_id)
    require_status(shipment, T.PLANNED, T.PACKING, doing="unpacked")
    item = next((i for i in shipment.items if i.barcode == barcode), None)
    if item is None:
        raise Conflict(f"{barcode} is not in shipment {shipment.code}", field="barcode")
    box = item.box.number if item.box else None
    shipment.items.remove(item)
    session.delete(item)
    audit.record(
        session,
        actor,
        Action.SHIPMENT_TUBE_UNPACKED,
        shipment,
        reason=reason,
        barcode=barcode,
        box=box,
        position=item.position,
    )


def _barcodes(shipment: Shipment) -> set[str]:
    return {item.barcode for item in shipment.items}


@dataclass
class Dispatch:
    """A shipped shipment and what its sender should know (a weekend or holiday arrival)."""

    shipment: Shipment
    warnings: list[str] = field(default_factory=list)


def ship_shipment(
    session: Session,
    actor: Actor,
    *,
    shipment_id: int,
    courier: str,
    tracking_number: str,
    shipped_at: datetime,
    dry_ice_kg: float | None = None,
    logger_id: str | None = None,
    arrives_on: date | None = None,
) -> Dispatch:
    """Hand the packed shipment to the courier: every tube goes in transit and leaves its box
    position (the item keeps where it was)."""
    dispatch = ship_step(
        session,
        actor,
        shipment_id=shipment_id,
        courier=courier,
        tracking_number=tracking_number,
        shipped_at=shipped_at,
        dry_ice_kg=dry_ice_kg,
        logger_id=logger_id,
        arrives_on=arrives_on,
    )
    session.commit()
    return dispatch


def ship_step(
    session: Session,
    actor: Actor,
    *,
    shipment_id: int,
    courier: str,
    tracking_number: str,
    shipped_at: datetime,
    dry_ice_kg: float | None = None,
    logger_id: str | None = None,
    arrives_on: date | None = None,
) -> Dispatch:
    """ship_shipment without its commit: the consent check, the tubes in transit, the audit;
    a request ships its shipment and moves itself in one transaction. The caller commits."""
    actor.require(Role.TECHNICIAN)
    shipment = lock_shipment(session, shipment_id)
    require_status(shipment, T.PACKING, doing="shipped")
    shipment.require_transition(T.SHIPPED)
    if unpacked := [item.barcode for item in shipment.items if item.box is None]:
        raise Conflict(
            f"{len(unpacked)} tubes are not packed yet: {', '.join(unpacked[:10])}",
            field="barcodes",
        )
    if not courier.strip() or not tracking_number.strip():
        raise InvalidInput("Give the courier and the tracking number", field="tracking_number")
    aliquots = lock_aliquots(session, [i.aliquot_id for i in shipment.items if i.aliquot_id])
    problems: list[FieldError] = [
        {"field": "barcodes", "message": p}
        for a in aliquots
        if (p := consent_problem(session, a, shipment))
    ]
    if problems:
        raise refused(f"{len(problems)} tubes may no longer travel; nothing was shipped", problems)
    events = []
    by_aliquot = {item.aliquot_id: item for item in shipment.items}
    for aliquot in aliquots:
        aliquot.require_transition(AliquotStatus.IN_TRANSIT)
        item = by_aliquot[aliquot.id]
        left = leave_box(session, aliquot)
        item.from_box, item.from_position = left.box, left.position
        before = aliquot.status
        aliquot.status = AliquotStatus.IN_TRANSIT
        events.append(
            audit.Event(
                Action.ALIQUOT_SHIPPED,
                aliquot,
                after={
                    "status": aliquot.status,
                    "box": None,
                    "position": None,
                    "shipment": shipment.code,
                },
                before={
                    "status": before,
                    "freezer": left.freezer,
                    "box": left.box,
                    "position": left.position,
                },
            )
        )
    shipment.status = T.SHIPPED
    shipment.courier, shipment.tracking_number = courier.strip(), tracking_number.strip()
    shipment.dry_ice_kg, shipment.logger_id = dry_ice_kg, (logger_id or "").strip() or None
    shipment.shipped_at = shipped_at
    # Overnight priority is the rule for frozen material; the sender may say otherwise.
    arrival = arrives_on or (shipped_at.date() + timedelta(days=1))
    warnings = arrival_problems(shipment, arrival) if dry_ice_kg else []
    session.flush()
    audit.record_many(session, actor, events)
    audit.record(
        session,
        actor,
        Action.SHIPMENT_SHIPPED,
        shipment,
        courier=shipment.courier,
        tracking_number=shipment.tracking_number,
        dry_ice_kg=dry_ice_kg,
        logger_id=shipment.logger_id,
        shipped_at=shipped_at,
        arrives_on=arrival,
        warnings=warnings,
        tubes=len(shipment.items),
    )
    return Dispatch(shipment, warnings)
