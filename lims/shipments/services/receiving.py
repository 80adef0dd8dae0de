"""Receiving by scan: the shipment barcode, then each tube; the running reconciliation; the
condition on arrival; completing the receipt; settling missing and unexpected tubes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

import shipping
from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.errors import Conflict, InvalidInput
from lims.shipments.models import Direction, ItemState, Shipment, ShipmentItem, ShipmentStatus
from lims.shipments.services._common import (
    expected_elsewhere,
    lock_shipment,
    require_status,
)
from lims.specimens.models import ALIQUOT_TRANSITIONS, Aliquot, AliquotStatus
from lims.specimens.services import lock_aliquots, locked
from lims.specimens.services.common import checked_code

T, St = ShipmentStatus, ItemState
RECEIVING = (T.SHIPPED, T.RECEIVED)  # a missing tube that turns up later is still scanned in


def _require_receivable(shipment: Shipment) -> None:
    """Only the biorepository receives here: an outbound shipment is received by its recipient
    (we confirm its delivery: confirm_delivery)."""
    require_status(shipment, *RECEIVING, doing="received")
    if shipment.direction is not Direction.INBOUND:
        raise Conflict(
            f"Shipment {shipment.code} is outbound, to {shipment.to_address.name}; "
            "it is received there (confirm its delivery instead)",
            field="shipment",
        )


def reconciliation(session: Session, shipment: Shipment) -> shipping.Reconciliation:
    """What arrived against what the manifest promised, from the scans recorded so far."""
    expected = [i.barcode for i in shipment.items if i.state is not St.UNEXPECTED]
    scanned_items = sorted(
        (i for i in shipment.items if i.scan_count), key=lambda i: (i.scanned_at, i.id)
    )
    scans = [i.barcode for i in scanned_items for _ in range(i.scan_count)]
    strays = [i.barcode for i in shipment.items if i.state is St.UNEXPECTED]
    return shipping.reconcile(expected, scans, expected_elsewhere(session, shipment, strays))


@dataclass(frozen=True)
class ScanOutcome:
    """One scan at the receiving bench: what it was and where the reconciliation stands."""

    kind: str  # received, duplicate, unexpected, wrong_shipment
    barcode: str
    message: str
    reconciliation: shipping.Reconciliation


def receive_scan(
    session: Session, actor: Actor, *, shipment_id: int, barcode: str, scanned_at: datetime
) -> ScanOutcome:
    """One tube scanned out of the package: received when expected, recorded when not."""
    actor.require(Role.TECHNICIAN)
    shipment = lock_shipment(session, shipment_id)
    _require_receivable(shipment)
    kind, code, message = _scan(session, actor, shipment, barcode, scanned_at)
    session.flush()
    result = reconciliation(session, shipment)
    session.commit()
    return ScanOutcome(kind, code, message, result)


@dataclass(frozen=True)
class Receipt:
    """Several scans posted at once: each one's outcome, then where the reconciliation stands."""

    shipment: Shipment
    scans: list[ScanOutcome]
    reconciliation: shipping.Reconciliation


def receive_scans(
    session: Session,
    actor: Actor,
    *,
    shipment_id: int,
    barcodes: Sequence[str],
    scanned_at: datetime,
    complete: bool = False,
) -> Receipt:
    """A batch of scans (a rack reader, a script), in one transaction; optionally completing the
    receipt after them."""
    actor.require(Role.TECHNICIAN)
    shipment = lock_shipment(session, shipment_id)
    _require_receivable(shipment)
    scans = []
    for barcode in barcodes:
        kind, code, message = _scan(session, actor, shipment, barcode, scanned_at)
        session.flush()
        scans.append(ScanOutcome(kind, code, message, reconciliation(session, shipment)))
    if complete:
        _complete(session, actor, shipment, scanned_at)
    result = reconciliation(session, shipment)
    session.commit()
    return Receipt(shipment, scans, result)


def _scan(
    session: Session, actor: Actor, shipment: Shipment, barcode: str, at: datetime
) -> tuple[str, str, str]:
    code = checked_code(barcode)
    item = next((i for i in shipment.items if i.barcode == code), None)
    if item is not None and item.scan_count:
        item.scan_count += 1
        return "duplicate", code, f"{code} was already scanned; counted once"
    if item is not None:
        _receive(session, actor, shipment, item, at)
        place = f" (box {item.box.label} {item.position})" if item.box else ""
        return "received", code, f"{code} received{place}"
    _unexpected(session, actor, shipment, code, at)
    elsewhere = expected_elsewhere(session, shipment, [code])
    if code in elsewhere:
        return (
            "wrong_shipment",
            code,
            f"{code} belongs to shipment {elsewhere[code]}, not {shipment.code}",
        )
    return "unexpected", code, f"{code} is not on the manifest of {shipment.code}"


def _receive(
    session: Session, actor: Actor, shipment: Shipment, item: ShipmentItem, at: datetime
) -> None:
    """An expected (or missing) tube arrived: its aliquot, if ours, becomes received."""
    before_state = item.state
    item.state, item.scanned_at, item.scan_count = St.RECEIVED, at, 1
    item.resolution = (
        "scanned after the receipt was completed" if before_state is St.MISSING else None
    )
    if item.aliquot_id is None:
        return
    aliquot = session.scalars(locked(select(Aliquot).where(Aliquot.id == item.aliquot_id))).one()
    if item.is_thawed and aliquot.status is AliquotStatus.QUARANTINED:
        return  # here now, and held back until someone judges the thawed tube
    aliquot.require_transition(AliquotStatus.RECEIVED)
    before = aliquot.status
    aliquot.status = AliquotStatus.RECEIVED
    audit.record(
        session,
        actor,
        Action.ALIQUOT_RECEIVED,
        aliquot,
        before={"status": before},
        status=aliquot.status,
        shipment=shipment.code,
        box=None,
        position=None,
    )


def _unexpected(
    session: Session, actor: Actor, shipment: Shipment, code: str, at: datetime
) -> ShipmentItem:
    """A tube not on the manifest: kept as a scanned row so it stays on the page until settled."""
    aliquot = session.scalar(select(Aliquot).where(Aliquot.barcode == code))
    item = ShipmentItem(
        barcode=code,
        aliquot=aliquot,
        state=St.UNEXPECTED,
        specimen_type=aliquot.specimen_type.value if aliquot else "unknown",
        quantity=float(aliquot.volume_ul) if aliquot else 0.0,
        unit="uL" if aliquot else "tubes",
        scanned_at=at,
        scan_count=1,
    )
    shipment.items.append(item)
    audit.record(
        session,
        actor,
        Action.SHIPMENT_ITEM_UNEXPECTED,
        shipment,
        barcode=code,
        is_ours=aliquot is not None,
    )
    return item


def record_arrival(
    session: Session,
    actor: Actor,
    *,
    shipment_id: int,
    logger_reading_c: float | None = None,
    dry_ice_left_kg: float | None = None,
    is_damaged: bool = False,
    notes: str | None = None,
    thawed_barcodes: Sequence[str] = (),
) -> Shipment:
    """The package's condition on arrival: logger reading, dry ice left, damage, thawed tubes."""
    actor.require(Role.TECHNICIAN)
    shipment = lock_shipment(session, shipment_id)
    _require_receivable(shipment)
    items = {i.barcode: i for i in shipment.items}
    thawed = [checked_code(c, "thawed_barcodes") for c in thawed_barcodes if c.strip()]
    if unknown := [c for c in thawed if c not in items]:
        raise InvalidInput(
            f"{', '.join(unknown)} is not in shipment {shipment.code}; scan it in first",
            field="thawed_barcodes",
        )
    if dry_ice_left_kg is not None and dry_ice_left_kg < 0:
        raise InvalidInput("Dry ice left cannot be below 0 kg", field="dry_ice_left_kg")
    newly = [items[c] for c in thawed if not items[c].is_thawed]
    for item in newly:
        item.is_thawed = True
    _quarantine_thawed(session, actor, shipment, newly)
    shipment.logger_reading_c = logger_reading_c
    shipment.dry_ice_left_kg = dry_ice_left_kg
    shipment.is_damaged = is_damaged
    shipment.arrival_notes = (notes or "").strip() or None
    audit.record(
        session,
        actor,
        Action.SHIPMENT_ARRIVAL_RECORDED,
        shipment,
        logger_reading_c=logger_reading_c,
        dry_ice_left_kg=dry_ice_left_kg,
        is_damaged=is_damaged,
        notes=shipment.arrival_notes,
        thawed=thawed,
    )
    session.commit()
    return shipment


def _quarantine_thawed(
    session: Session, actor: Actor, shipment: Shipment, items: list[ShipmentItem]
) -> None:
    """A tube that arrived thawed is held back from use until someone judges it (the domain
    notes, 5.6: receipt quarantines anything thawed or unresolved)."""
    ids = sorted(i.aliquot_id for i in items if i.aliquot_id is not None)
    for aliquot in lock_aliquots(session, ids):
        if AliquotStatus.QUARANTINED not in ALIQUOT_TRANSITIONS[aliquot.status]:
            continue  # already quarantined, or gone on (e.g. disposed)
        before = aliquot.status
        aliquot.status = AliquotStatus.QUARANTINED
        audit.record(
            session,
            actor,
            Action.ALIQUOT_QUARANTINED,
            aliquot,
            before={"status": before},
            reason=f"arrived thawed in shipment {shipment.code}",
            status=aliquot.status,
            shipment=shipment.code,
        )


def complete_receipt(
    session: Session, actor: Actor, *, shipment_id: int, received_at: datetime
) -> Shipment:
    """Close the scanning: tubes not scanned become missing (visible until settled)."""
    actor.require(Role.TECHNICIAN)
    shipment = lock_shipment(session, shipment_id)
    _require_receivable(shipment)
    _complete(session, actor, shipment, received_at)
    session.commit()
    return shipment


def _complete(session: Session, actor: Actor, shipment: Shipment, received_at: datetime) -> None:
    shipment.require_transition(T.RECEIVED)
    for item in shipment.items:
        if item.state is St.EXPECTED:
            item.state = St.MISSING
        item.open_aliquot_id = None  # the shipment is no longer open
    shipment.status, shipment.received_at = T.RECEIVED, received_at
    session.flush()
    result = reconciliation(session, shipment)
    audit.record(
        session,
        actor,
        Action.SHIPMENT_RECEIVED,
        shipment,
        received_at=received_at,
        received=len(result.received),
        missing=list(result.missing),
        unexpected=list(result.unexpected),
        wrong_shipment=dict(result.wrong_shipment),
    )
