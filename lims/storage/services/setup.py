"""Setting up storage: freezers, racks or shelves, boxes; and how full they are."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from lims import audit
from lims.actors import STAFF, Actor, Role
from lims.audit.models import Action
from lims.auth.services import find_site
from lims.db import get_one
from lims.errors import Conflict, InvalidInput, NotFound
from lims.specimens import barcodes
from lims.specimens.models import SpecimenType
from lims.specimens.services import issue_serials
from lims.storage.models import Box, Freezer, Placement, Rack


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
    if not name:
        raise InvalidInput("Give the freezer a name", field="name")
    if session.scalar(select(Freezer).where(Freezer.name == name)):
        raise Conflict(f"Freezer {name} already exists", field="name")
    if not -200 <= temperature_c <= 8:
        raise InvalidInput(
            f"temperature_c {temperature_c} is not a storage temperature (-200 to 8 °C)",
            field="temperature_c",
        )
    site = find_site(session, site_code) if site_code else None
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
        site=site.code if site else None,
    )
    session.commit()
    return freezer


def create_rack(session: Session, actor: Actor, *, freezer_id: int, name: str) -> Rack:
    """Add a rack, drawer or shelf to a freezer."""
    actor.require(Role.TECHNICIAN)
    freezer = get_one(session, Freezer, freezer_id)
    name = name.strip()
    if not name:
        raise InvalidInput("Give the rack or shelf a name", field="name")
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
    specimen_type: SpecimenType | None = None,
) -> Box:
    """Add a box with a rows x columns grid; it gets an issued B-barcode unless one is given.
    A box set up for one specimen type (serum) refuses others; None is a mixed box."""
    actor.require(Role.TECHNICIAN)
    if not (1 <= n_rows <= 26 and 1 <= n_cols <= 30):
        raise InvalidInput(
            f"A box grid is 1-26 rows by 1-30 columns, not {n_rows}x{n_cols}", field="n_rows"
        )
    rack = get_one(session, Rack, rack_id) if rack_id is not None else None
    if not barcode:
        code = barcodes.box_barcode(issue_serials(session, "box", 1)[0])
    else:
        code = barcodes.normalise(barcode)
        if problem := barcodes.check_problem(code):
            raise InvalidInput(problem, field="barcode")
        if session.scalar(select(Box).where(Box.barcode == code)):
            raise Conflict(f"Box barcode {code} is already in use", field="barcode")
    box = Box(
        barcode=code,
        name=name.strip() or code,
        n_rows=n_rows,
        n_cols=n_cols,
        rack=rack,
        specimen_type=specimen_type,
    )
    session.add(box)
    audit.record(
        session,
        actor,
        Action.BOX_CREATED,
        box,
        barcode=code,
        name=box.name,
        grid=f"{n_rows}x{n_cols}",
        specimen_type=specimen_type.value if specimen_type else "mixed",
        rack=rack.name if rack else None,
        freezer=rack.freezer.name if rack else None,
    )
    session.commit()
    return box


def find_box(session: Session, actor: Actor, barcode: str) -> Box:
    """A box by its scanned barcode."""
    actor.require(*STAFF)
    code = barcodes.normalise(barcode)
    if problem := barcodes.check_problem(code):
        raise InvalidInput(problem, field="box")
    box = session.scalar(select(Box).where(Box.barcode == code))
    if box is None:
        raise NotFound(f"No box has barcode {code}", field="box")
    return box


def get_box(session: Session, actor: Actor, box_id: int) -> Box:
    """A box by id, for staff, with its rack and freezer (its page names them)."""
    actor.require(*STAFF)
    box = session.get(Box, box_id, options=[joinedload(Box.rack).joinedload(Rack.freezer)])
    if box is None:
        raise NotFound(f"Box {box_id} does not exist")
    return box


def get_freezer(session: Session, actor: Actor, freezer_id: int) -> Freezer:
    """A freezer with its racks and their boxes, for staff."""
    actor.require(*STAFF)
    return get_one(session, Freezer, freezer_id)


def list_freezers(session: Session, actor: Actor) -> list[Freezer]:
    actor.require(*STAFF)
    stmt = select(Freezer).options(selectinload(Freezer.racks)).order_by(Freezer.name)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class RackChoice:
    id: int
    name: str
    freezer: str  # the freezer's name


def list_racks(
    session: Session, actor: Actor, *, freezer_id: int | None = None
) -> list[RackChoice]:
    """Every rack (or one freezer's) with its freezer's name, for choosing where a box goes."""
    actor.require(*STAFF)
    # Plain columns, not Rack objects: the move page lists every rack (1,051 in the generated
    # 2,000,000-aliquot demo), and building ORM objects for them was most of its time.
    stmt = (
        select(Rack.id, Rack.name, Freezer.name)
        .join(Rack.freezer)
        .order_by(Freezer.name, Rack.name)
    )
    if freezer_id is not None:
        stmt = stmt.where(Rack.freezer_id == freezer_id)
    return [RackChoice(*row) for row in session.execute(stmt)]


@dataclass(frozen=True)
class FreezerChoice:
    id: int
    name: str


def freezer_choices(session: Session, actor: Actor) -> list[FreezerChoice]:
    """Every freezer's id and name, for a filter: one light query, where list_freezers also
    loads every rack (1,051 at consortium scale) on every list page."""
    actor.require(*STAFF)
    stmt = select(Freezer.id, Freezer.name).order_by(Freezer.name)
    return [FreezerChoice(*row) for row in session.execute(stmt)]


@dataclass(frozen=True)
class BoxFill:
    box_id: int
    barcode: str
    name: str
    rack: str | None
    capacity: int
    used: int

    @property
    def free(self) -> int:
        return self.capacity - self.used

    @property
    def percent_used(self) -> float:
        return 100.0 * self.used / self.capacity if self.capacity else 0.0


@dataclass
class FreezerFill:
    freezer_id: int | None
    name: str
    temperature_c: int | None
    room: str
    boxes: list[BoxFill] = field(default_factory=list)

    @property
    def capacity(self) -> int:
        return sum(b.capacity for b in self.boxes)

    @property
    def used(self) -> int:
        return sum(b.used for b in self.boxes)

    @property
    def free(self) -> int:
        return self.capacity - self.used

    @property
    def percent_used(self) -> float:
        return 100.0 * self.used / self.capacity if self.capacity else 0.0


def capacity_report(
    session: Session, actor: Actor, *, freezer_id: int | None = None
) -> list[FreezerFill]:
    """Free positions per freezer and per box (held positions of checked-out tubes count used).

    Boxes outside any rack come last, under "Not in a freezer".
    """
    actor.require(*STAFF)
    used = dict(
        session.execute(select(Placement.box_id, func.count()).group_by(Placement.box_id)).all()
    )
    freezers = {
        f.id: FreezerFill(f.id, f.name, f.temperature_c, f.room)
        for f in session.scalars(select(Freezer).order_by(Freezer.name))
        if freezer_id is None or f.id == freezer_id
    }
    loose = FreezerFill(None, "Not in a freezer", None, "")
    stmt = (
        select(Box, Rack)
        .join(Rack, Box.rack_id == Rack.id, isouter=True)
        .order_by(Rack.name, Box.name)
    )
    for box, rack in session.execute(stmt):
        group = freezers.get(rack.freezer_id) if rack else (loose if freezer_id is None else None)
        if group is None:
            continue
        group.boxes.append(
            BoxFill(
                box.id,
                box.barcode,
                box.name,
                rack.name if rack else None,
                box.capacity,
                used.get(box.id, 0),
            )
        )
    return [*freezers.values(), *([loose] if loose.boxes else [])]


def list_boxes(
    session: Session, actor: Actor, *, freezer_id: int | None = None, rack_id: int | None = None
) -> list[Box]:
    """Boxes, optionally of one freezer or rack, by name."""
    actor.require(*STAFF)
    stmt = select(Box).options(selectinload(Box.placements)).order_by(Box.name)
    if rack_id is not None:
        stmt = stmt.where(Box.rack_id == rack_id)
    if freezer_id is not None:
        stmt = stmt.join(Rack, Box.rack_id == Rack.id).where(Rack.freezer_id == freezer_id)
    return list(session.scalars(stmt))


def resolve_box(
    session: Session, actor: Actor, *, box_id: int | None, box_barcode: str | None
) -> int | None:
    """A destination box given by id or by its scanned barcode (None when neither is given)."""
    if box_id is not None:
        return box_id
    if box_barcode:
        return find_box(session, actor, box_barcode).id
    return None
