"""Freezers, racks, boxes, and putting aliquots into positions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims import audit
from lims.audit.models import Action
from lims.auth.models import Actor, Role, Site
from lims.db import get_one
from lims.errors import Conflict, InvalidInput, NotFound
from lims.specimens import barcodes
from lims.specimens.models import Aliquot, AliquotStatus
from lims.specimens.services import find_aliquot, issue_serials
from lims.storage.models import Box, Freezer, Placement, Rack, position_name


def location_of(aliquot: Aliquot) -> dict[str, Any] | None:
    """Freezer, rack, box and position of an aliquot, or None when it is not in a box."""
    session = Session.object_session(aliquot)
    if session is None:
        return None
    placement = session.scalar(select(Placement).where(Placement.aliquot_id == aliquot.id))
    if placement is None:
        return None
    box, rack = placement.box, placement.box.rack
    return {
        "freezer": rack.freezer.name if rack else None,
        "rack": rack.name if rack else None,
        "box": box.name,
        "box_barcode": box.barcode,
        "position": placement.position,
    }


def create_freezer(
    session: Session,
    actor: Actor,
    *,
    name: str,
    temperature_c: int,
    room: str,
    site_code: str | None = None,
) -> Freezer:
    """Register a freezer (or LN2 tank) with its set-point."""
    actor.require(Role.TECHNICIAN)
    name = name.strip()
    if session.scalar(select(Freezer).where(Freezer.name == name)):
        raise Conflict(f"Freezer {name} already exists", field="name")
    if not -200 <= temperature_c <= 8:
        raise InvalidInput(
            f"temperature_c {temperature_c} is not a storage temperature (-200 to 8 °C)",
            field="temperature_c",
        )
    site = session.scalar(select(Site).where(Site.code == site_code)) if site_code else None
    freezer = Freezer(name=name, temperature_c=temperature_c, room=room.strip(), site=site)
    session.add(freezer)
    audit.record(
        session,
        actor,
        Action.FREEZER_CREATED,
        freezer,
        name=name,
        temperature_c=temperature_c,
        room=freezer.room,
    )
    session.commit()
    return freezer


def create_rack(session: Session, actor: Actor, *, freezer_id: int, name: str) -> Rack:
    """Add a rack, drawer or shelf to a freezer."""
    actor.require(Role.TECHNICIAN)
    freezer = get_one(session, Freezer, freezer_id)
    name = name.strip()
    if any(r.name == name for r in freezer.racks):
        raise Conflict(f"{freezer.name} already has a rack named {name}", field="name")
    rack = Rack(freezer=freezer, name=name)
    session.add(rack)
    audit.record(session, actor, Action.RACK_CREATED, rack, freezer=freezer.name, name=name)
    session.commit()
    return rack


def create_box(
    session: Session,
    actor: Actor,
    *,
    name: str,
    n_rows: int,
    n_cols: int,
    rack_id: int | None = None,
    barcode: str | None = None,
) -> Box:
    """Add a box with a rows x columns grid; it gets an issued B-barcode unless one is given."""
    actor.require(Role.TECHNICIAN)
    if not (1 <= n_rows <= 26 and 1 <= n_cols <= 30):
        raise InvalidInput(
            f"A box grid is 1-26 rows by 1-30 columns, not {n_rows}x{n_cols}", field="n_rows"
        )
    rack = get_one(session, Rack, rack_id) if rack_id is not None else None
    if barcode is None:
        code = barcodes.box_barcode(issue_serials(session, "box", 1)[0])
    else:
        code = barcodes.normalise(barcode)
        if problem := barcodes.check_problem(code):
            raise InvalidInput(problem, field="barcode")
        if session.scalar(select(Box).where(Box.barcode == code)):
            raise Conflict(f"Box barcode {code} is already in use", field="barcode")
    box = Box(barcode=code, name=name.strip(), n_rows=n_rows, n_cols=n_cols, rack=rack)
    session.add(box)
    audit.record(
        session,
        actor,
        Action.BOX_CREATED,
        box,
        barcode=code,
        name=box.name,
        grid=f"{n_rows}x{n_cols}",
        rack=rack.name if rack else None,
    )
    session.commit()
    return box


def find_box(session: Session, actor: Actor, barcode: str) -> Box:
    """A box by its scanned barcode."""
    actor.require(Role.TECHNICIAN, Role.REVIEWER)
    code = barcodes.normalise(barcode)
    if problem := barcodes.check_problem(code):
        raise InvalidInput(problem, field="box")
    box = session.scalar(select(Box).where(Box.barcode == code))
    if box is None:
        raise NotFound(f"No box has barcode {code}", field="box")
    return box


def next_free_position(box: Box) -> tuple[int, int] | None:
    """Row-major first empty position, the order a technician fills a box."""
    taken = {(p.row, p.col) for p in box.placements}
    for row in range(box.n_rows):
        for col in range(box.n_cols):
            if (row, col) not in taken:
                return row, col
    return None


def store_aliquot(
    session: Session, actor: Actor, *, barcode: str, box_id: int, position: str | None = None
) -> Placement:
    """Put a scanned aliquot into a box: the chosen position, or the next free one."""
    actor.require(Role.TECHNICIAN)
    aliquot = find_aliquot(session, actor, barcode)
    # Lock the box row: two benches scanning into one box must not both see A1 as free.
    # SQLite ignores FOR UPDATE; there the unique constraint on the position still holds.
    box = session.scalars(select(Box).where(Box.id == box_id).with_for_update()).first()
    if box is None:
        raise NotFound(f"Box {box_id} does not exist", field="box")
    if session.scalar(select(Placement).where(Placement.aliquot_id == aliquot.id)):
        raise Conflict(f"{aliquot.barcode} is already in a box; move it instead", field="barcode")
    if not aliquot.subject.has_consent:
        raise Conflict(f"{aliquot.barcode}: its subject withdrew consent", field="barcode")
    if position:
        row, col = box.parse_position(position)
        if (held := box.aliquot_at(row, col)) is not None:
            raise Conflict(
                f"{box.barcode} {position.upper()} already holds {held.barcode}", field="position"
            )
    elif (free := next_free_position(box)) is not None:
        row, col = free
    else:
        raise Conflict(f"Box {box.barcode} is full ({box.capacity} positions)", field="box")
    before = aliquot.status
    aliquot.require_transition(AliquotStatus.STORED)
    aliquot.status = AliquotStatus.STORED
    placement = Placement(aliquot=aliquot, box=box, row=row, col=col)
    session.add(placement)
    audit.record(
        session,
        actor,
        Action.ALIQUOT_STORED,
        aliquot,
        before={"status": before},
        status=aliquot.status,
        box=box.barcode,
        position=position_name(row, col),
    )
    session.commit()
    return placement
