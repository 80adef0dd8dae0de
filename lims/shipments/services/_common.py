"""Steps the shipment use cases share. They never commit: the public service does, once.

Lock order (see lims/specimens/services/common.py): the shipment first, then its aliquots in
ascending id, then the boxes they leave. Every shipment service takes them in that order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.errors import Conflict, FieldError, InvalidInput, NotFound
from lims.shipments.models import (
    OPEN_STATUSES,
    ItemState,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
)
from lims.specimens import barcodes
from lims.specimens.models import ALIQUOT_TRANSITIONS, Aliquot, AliquotStatus
from lims.specimens.services import BenchWork, consent_permits, lock_aliquots, locked
from lims.storage.models import Placement

SHIPMENT_COUNTER = "shipment"
SHIPMENT_PREFIX = "S"
SHIPMENT_SERIAL_DIGITS = 6


def shipment_code(serial: int) -> str:
    """'S0000123' + a Damm check digit, so a mistyped shipment id is refused like a tube's."""
    body = f"{serial:0{SHIPMENT_SERIAL_DIGITS}d}"
    return SHIPMENT_PREFIX + body + barcodes.damm_digit(body)


def is_shipment_code(code: str) -> bool:
    body = code.removeprefix(SHIPMENT_PREFIX)
    return (
        code.startswith(SHIPMENT_PREFIX)
        and len(body) == SHIPMENT_SERIAL_DIGITS + 1
        and barcodes.is_valid_damm(body)
    )


def lock_shipment(session: Session, shipment_id: int) -> Shipment:
    """The shipment, locked until commit: one bench packs, ships or receives it at a time."""
    shipment = session.scalars(locked(select(Shipment).where(Shipment.id == shipment_id))).first()
    if shipment is None:
        raise NotFound(f"Shipment {shipment_id} does not exist", field="shipment")
    return shipment


def require_status(shipment: Shipment, *statuses: ShipmentStatus, doing: str) -> None:
    if shipment.status not in statuses:
        wanted = " or ".join(s.value for s in statuses)
        raise Conflict(
            f"Shipment {shipment.code} is {shipment.status.value}; only a {wanted} shipment "
            f"can be {doing}",
            field="status",
        )


def scanned_codes(given: list[str], field: str = "barcodes") -> list[str]:
    """Scanned barcodes, normalised, in scan order, each once; a wrong check digit is refused."""
    codes = list(dict.fromkeys(barcodes.normalise(c) for c in given if c.strip()))
    if not codes:
        raise InvalidInput("Scan at least one tube", field=field)
    problems: list[FieldError] = [
        {"field": field, "message": problem}
        for code in codes
        if (problem := barcodes.check_problem(code))
    ]
    if problems:
        raise InvalidInput(f"{len(problems)} barcodes cannot be read", errors=problems)
    return codes


def consent_problem(session: Session, aliquot: Aliquot, shipment: Shipment) -> str | None:
    """Why the subject's consent does not let this tube travel for the shipment's purpose.

    The one consent rule decides: a DUO purpose for a shipment to an investigator, custody (the
    bench's keeping of what exists) for a site sending its tubes to the biorepository. Asked as
    of the last day, as the bench does: a withdrawal stops packing from the moment it is recorded.
    """
    decision = consent_permits(
        session,
        aliquot.subject,
        on=date.max,
        purpose=shipment.purpose or BenchWork.CUSTODY,
        modifiers=shipment.modifiers,
    )
    if decision.permitted:
        return None
    return f"{aliquot.barcode}: " + "; ".join(decision.reasons)


def open_item_of(session: Session, aliquot: Aliquot) -> ShipmentItem | None:
    """The item holding this aliquot in an open shipment, if any."""
    return session.scalar(select(ShipmentItem).where(ShipmentItem.open_aliquot_id == aliquot.id))


def addable_problem(session: Session, shipment: Shipment, aliquot: Aliquot) -> str | None:
    """Why this tube cannot join this shipment: its state, another open shipment, consent."""
    # Only a tube that may go in transit (ALIQUOT_TRANSITIONS decides) joins a shipment.
    if AliquotStatus.IN_TRANSIT not in ALIQUOT_TRANSITIONS[aliquot.status]:
        return f"{aliquot.barcode} is {aliquot.status.value} and cannot be shipped"
    held = open_item_of(session, aliquot)
    if held is not None and held.shipment_id != shipment.id:
        return f"{aliquot.barcode} is already in open shipment {held.shipment.code}"
    return consent_problem(session, aliquot, shipment)


def new_item(aliquot: Aliquot) -> ShipmentItem:
    return ShipmentItem(
        barcode=aliquot.barcode,
        aliquot=aliquot,
        open_aliquot_id=aliquot.id,
        specimen_type=aliquot.specimen_type.value,
        quantity=float(aliquot.volume_ul),
        unit="uL",
    )


@dataclass(frozen=True)
class LeftFrom:
    box: str | None
    position: str | None
    freezer: str | None


def leave_box(session: Session, aliquot: Aliquot) -> LeftFrom:
    """Empty the tube's position as it leaves for transit; say where it was."""
    placement = session.scalar(locked(select(Placement).where(Placement.aliquot_id == aliquot.id)))
    if placement is None:
        return LeftFrom(None, None, None)
    box = placement.box
    left = LeftFrom(box.barcode, placement.position, box.freezer.name if box.freezer else None)
    box.placements.remove(placement)
    session.delete(placement)
    return left


def add_tubes(session: Session, shipment: Shipment, codes: list[str]) -> list[Aliquot]:
    """Add scanned tubes to a shipment, all or none; returns them in scan order.

    The aliquots are locked (ascending id) before the rule is checked, so of two benches adding
    one tube to two shipments the second waits, then finds it taken; the unique open_aliquot_id
    holds on SQLite and against any path that skipped the lock.
    """
    stmt = select(Aliquot).where(Aliquot.barcode.in_(codes))
    found = {a.barcode: a for a in session.scalars(stmt)}
    problems: list[FieldError] = [
        {"field": "barcodes", "message": f"No aliquot has barcode {code}"}
        for code in codes
        if code not in found
    ]
    lock_aliquots(session, sorted(a.id for a in found.values()))
    have = {item.barcode for item in shipment.items}
    added = []
    for code in codes:
        aliquot = found.get(code)
        if aliquot is None or code in have:
            continue
        if problem := addable_problem(session, shipment, aliquot):
            problems.append({"field": "barcodes", "message": problem})
        added.append(aliquot)
    if problems:
        raise refused(
            f"{len(problems)} of {len(codes)} tubes cannot join shipment {shipment.code}; "
            "nothing was added",
            problems,
        )
    shipment.items.extend(new_item(aliquot) for aliquot in added)
    session.flush()
    return added


def refused(headline: str, problems: list[FieldError]) -> Conflict:
    """One 409 for a batch: the headline and the first problems in the detail, all in errors."""
    shown = "; ".join(p["message"] for p in problems[:3])
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return Conflict(f"{headline}: {shown}{more}", errors=problems)


def expected_elsewhere(session: Session, shipment: Shipment, codes: list[str]) -> dict[str, str]:
    """Which other open shipment expects each of these barcodes (a tube packed in the wrong box)."""
    if not codes:
        return {}
    stmt = (
        select(ShipmentItem.barcode, Shipment.code)
        .join(Shipment, ShipmentItem.shipment_id == Shipment.id)
        .where(
            ShipmentItem.barcode.in_(codes),
            ShipmentItem.shipment_id != shipment.id,
            ShipmentItem.state == ItemState.EXPECTED,
            Shipment.status.in_(OPEN_STATUSES),
        )
    )
    return {barcode: code for barcode, code in session.execute(stmt)}
