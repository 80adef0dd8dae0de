"""Putting tubes into positions: storing, scanning into a box, moving, taking out."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, joinedload

from lims import audit
from lims.actors import STAFF, Actor, Role
from lims.audit.models import Action
from lims.db import get_one
from lims.errors import Conflict, NotFound
from lims.specimens.models import Aliquot, AliquotStatus, OutCondition
from lims.specimens.services import (
    BenchWork,
    aliquot_origin,
    checked_code,
    find_aliquot,
    lock_aliquots,
    require_consent,
)
from lims.storage.models import Box, Placement, Rack
from lims.storage.services._common import (
    change_status,
    choose_position,
    flush_placement,
    free_position,
    lock_box,
    placement_of,
    record_change,
    require_box_type,
    require_reason,
    require_status,
    where,
)

S = AliquotStatus
# A tube that sits in its position may be moved; one that is out (checked out, missing) may not.
MOVABLE = (S.STORED, S.RESERVED, S.QUARANTINED)


def location_of(aliquot: Aliquot) -> dict[str, Any] | None:
    """Freezer, rack, box and position of an aliquot, or None when it is not in a box."""
    session = Session.object_session(aliquot)
    if session is None:
        return None
    return location_from(placement_of(session, aliquot))


def location_from(placement: Placement | None) -> dict[str, Any] | None:
    """Freezer, rack, box and position of a placement loaded with its box, rack and freezer."""
    if placement is None:
        return None
    box, rack = placement.box, placement.box.rack
    return {
        "freezer": rack.freezer.name if rack else None,
        "rack": rack.name if rack else None,
        "box": box.name,
        "box_barcode": box.barcode,
        "box_id": box.id,
        "position": placement.position,
    }


@cache
def _located() -> Select[Aliquot, Placement]:
    """find_located's statement, built once: building a statement of nine joined tables and
    its cache key took a tenth of a lookup's CPU (issue #20)."""
    return (
        select(Aliquot, Placement)
        .outerjoin(Placement, Placement.aliquot_id == Aliquot.id)
        .where(Aliquot.barcode == bindparam("barcode"))
        .options(
            *aliquot_origin(),
            joinedload(Placement.box).joinedload(Box.rack).joinedload(Rack.freezer),
        )
    )


def find_located(
    session: Session, actor: Actor, barcode: str
) -> tuple[Aliquot, dict[str, Any] | None]:
    """An aliquot by barcode with where it sits, for reading (the API's lookup, the most frequent
    request at the bench): the tube, visit, subject, site and the placement's box, rack and
    freezer in one query, where find_aliquot and location_of take two."""
    actor.require(*STAFF)
    code = checked_code(barcode)
    row = session.execute(_located(), {"barcode": code}).first()
    if row is None:
        raise NotFound(f"No aliquot has barcode {code}", field="barcode")
    return row[0], location_from(row[1])


def next_free_position(box: Box) -> tuple[int, int] | None:
    """Row-major first empty position, the order a technician fills a box."""
    return box.first_free_position()


def count_thaw(aliquot: Aliquot, box: Box) -> None:
    """The one freeze-thaw rule: a tube that thawed while it was out (asked at check-out or on
    its return) and goes back into a freezer below 0 °C has gone through one more cycle. One that
    travelled on dry ice has not (ISBER Best Practices 4th ed.: keep frozen material frozen in
    transit). Either way it is back in storage, so how it travelled is forgotten."""
    thawed = aliquot.out_condition is OutCondition.THAWED
    if thawed and box.freezer is not None and box.freezer.is_frozen:
        aliquot.freeze_thaw_count += 1
    aliquot.out_condition = None


def place_new(
    session: Session, actor: Actor, aliquot: Aliquot, box: Box, row: int, col: int, **extra: Any
) -> Placement:
    """Give an unplaced received (or taken-out) tube a position and make it stored."""
    require_box_type(box, aliquot)
    before = change_status(aliquot, S.STORED)
    count_thaw(aliquot, box)  # a new tube has no thaw to count; a returned one may
    placement = Placement(aliquot=aliquot, box=box, row=row, col=col)
    session.add(placement)
    flush_placement(session, box, row, col)
    record_change(
        session,
        actor,
        Action.ALIQUOT_STORED,
        aliquot,
        before_status=before,
        before_place=where(None),
        freeze_thaw_count=aliquot.freeze_thaw_count,
        **extra,
    )
    return placement


def storable_problem(session: Session, aliquot: Aliquot) -> Conflict | None:
    """Why this tube cannot be put into a new position, or None."""
    if (held := placement_of(session, aliquot)) is not None:
        if aliquot.status is S.CHECKED_OUT:
            return Conflict(
                f"{aliquot.barcode} is checked out from {held.box.barcode} {held.position}; "
                "check it in there",
                field="barcode",
            )
        return Conflict(
            f"{aliquot.barcode} is already in {held.box.barcode} {held.position}; move it instead",
            field="barcode",
        )
    try:
        aliquot.require_transition(S.STORED)
        require_status(aliquot, S.RECEIVED, S.CHECKED_OUT, doing="stored")
        require_consent(
            aliquot.subject, f"storing {aliquot.barcode}", field="barcode", work=BenchWork.CUSTODY
        )
    except Conflict as err:
        return err
    return None


def _store(
    session: Session, actor: Actor, aliquot: Aliquot, box_id: int, position: str | None
) -> Placement:
    box = lock_box(session, box_id)
    if (problem := storable_problem(session, aliquot)) is not None:
        raise problem
    row, col = choose_position(box, position)
    return place_new(session, actor, aliquot, box, row, col)


def store_aliquot(
    session: Session, actor: Actor, *, barcode: str, box_id: int, position: str | None = None
) -> Placement:
    """Put a scanned aliquot into a box: the chosen position, or the next free one."""
    actor.require(Role.TECHNICIAN)
    aliquot = find_aliquot(session, actor, barcode, for_update=True)
    placement = _store(session, actor, aliquot, box_id, position)
    session.commit()
    return placement


@dataclass(frozen=True)
class ScanResult:
    """What a scan at the bench did: 'stored', 'checked_in' or 'already_here' (nothing)."""

    outcome: str
    barcode: str
    box_barcode: str
    position: str

    @property
    def message(self) -> str:
        where_ = f"{self.box_barcode} {self.position}"
        if self.outcome == "already_here":
            return f"{self.barcode} is already in {where_}; nothing changed"
        if self.outcome == "checked_in":
            return f"{self.barcode} checked in at {where_}"
        return f"{self.barcode} stored at {where_}"


def scan_into_box(
    session: Session, actor: Actor, *, box_id: int, barcode: str, position: str | None = None
) -> ScanResult:
    """A tube scanned at the bench with a box selected. A repeated scan changes nothing."""
    actor.require(Role.TECHNICIAN)
    aliquot = find_aliquot(session, actor, barcode, for_update=True)
    held = placement_of(session, aliquot)
    if held is not None and held.box_id == box_id:
        if aliquot.status is not S.CHECKED_OUT:
            return ScanResult("already_here", aliquot.barcode, held.box.barcode, held.position)
        # The tube comes back to the position held for it while it was out.
        check_in_step(session, actor, aliquot, before_place=where(held), placement=held)
        session.commit()
        return ScanResult("checked_in", aliquot.barcode, held.box.barcode, held.position)
    placement = _store(session, actor, aliquot, box_id, position)
    session.commit()
    return ScanResult("stored", aliquot.barcode, placement.box.barcode, placement.position)


def check_in_step(
    session: Session,
    actor: Actor,
    aliquot: Aliquot,
    *,
    before_place: dict[str, Any],
    placement: Placement,
) -> None:
    """The check-in step: a checked-out tube is stored again in `placement`; if it left thawed
    and the freezer is below 0 °C, freeze_thaw_count + 1 (count_thaw). The caller commits."""
    require_status(aliquot, S.CHECKED_OUT, doing="checked in")
    before = change_status(aliquot, S.STORED)
    came = aliquot.out_condition
    count_thaw(aliquot, placement.box)
    record_change(
        session,
        actor,
        Action.ALIQUOT_CHECKED_IN,
        aliquot,
        before_status=before,
        before_place=before_place,
        freeze_thaw_count=aliquot.freeze_thaw_count,
        condition=came,
    )


def put_back(
    session: Session, aliquot: Aliquot, box_id: int | None, position: str | None
) -> Placement:
    """The position held for a tube, or a new one in the box given (freeing the held one)."""
    held = placement_of(session, aliquot)
    if box_id is None:
        if held is None:
            raise Conflict(
                f"{aliquot.barcode} has no position held for it; give the box it goes into",
                field="box",
            )
        return held
    box = lock_box(session, box_id)
    require_box_type(box, aliquot)
    if held is not None and held.box_id == box.id:  # noqa: SIM102 (reads better apart)
        if not position or box.parse_position(position) == (held.row, held.col):
            return held
    row, col = choose_position(box, position)
    if held is None:
        held = Placement(aliquot=aliquot, box=box, row=row, col=col)
        session.add(held)
    else:
        held.box, held.row, held.col = box, row, col
    flush_placement(session, box, row, col)
    return held


def move_aliquot(
    session: Session, actor: Actor, *, barcode: str, box_id: int, position: str | None = None
) -> Placement:
    """Move one tube to another position or box (the next free one unless a position is given)."""
    actor.require(Role.TECHNICIAN)
    aliquot = find_aliquot(session, actor, barcode, for_update=True)
    held = placement_of(session, aliquot)
    if held is None:
        raise Conflict(
            f"{aliquot.barcode} is not in a box; store it by scanning it into one", field="barcode"
        )
    require_status(aliquot, *MOVABLE, doing="moved")
    require_consent(
        aliquot.subject, f"moving {aliquot.barcode}", field="barcode", work=BenchWork.CUSTODY
    )
    before = where(held)
    box = lock_box(session, box_id)
    require_box_type(box, aliquot)
    if held.box_id == box.id and position and box.parse_position(position) == (held.row, held.col):
        raise Conflict(f"{aliquot.barcode} is already at {box.barcode} {held.position}")
    row, col = choose_position(box, position)
    held.box, held.row, held.col = box, row, col
    flush_placement(session, box, row, col)
    record_change(
        session,
        actor,
        Action.ALIQUOT_MOVED,
        aliquot,
        before_status=aliquot.status,
        before_place=before,
        placed=held,
    )
    session.commit()
    return held


def move_box(session: Session, actor: Actor, *, box_id: int, rack_id: int) -> Box:
    """Move a whole box to another rack or freezer; each tube in it records the move too."""
    actor.require(Role.TECHNICIAN)
    box = _lock_box_and_tubes(session, box_id)
    rack = get_one(session, Rack, rack_id, label="Rack")
    if box.rack_id == rack.id:
        raise Conflict(f"Box {box.barcode} is already in {rack.freezer.name} / {rack.name}")
    before = {
        "freezer": box.freezer.name if box.freezer else None,
        "rack": box.rack.name if box.rack else None,
    }
    befores = {p.aliquot_id: where(p) for p in box.placements}
    box.rack = rack
    session.flush()
    audit.record(
        session,
        actor,
        Action.BOX_MOVED,
        box,
        before=before,
        freezer=rack.freezer.name,
        rack=rack.name,
    )
    for placement in box.placements:
        aliquot = placement.aliquot
        record_change(
            session,
            actor,
            Action.ALIQUOT_MOVED,
            aliquot,
            before_status=aliquot.status,
            before_place=befores[aliquot.id],
            reason=f"box {box.barcode} moved",
        )
    session.commit()
    return box


def _lock_box_and_tubes(session: Session, box_id: int) -> Box:
    """The box and every tube in it, locked in the usual order: tubes (by id), then the box.

    Each tube's move is recorded with its status, so no tube may change while the box moves.
    Tubes are locked before the box, as every other service does; a tube stored into the box
    between the two steps (it could not be locked) makes the move a 409 to retry.
    """
    ids = session.scalars(select(Placement.aliquot_id).where(Placement.box_id == box_id)).all()
    lock_aliquots(session, ids)
    box = lock_box(session, box_id)
    if sorted(p.aliquot_id for p in box.placements) != sorted(ids):
        raise Conflict(
            f"Box {box.barcode} changed while it was being moved (a tube was stored or taken "
            "out at the same moment); nothing was moved, try again",
            field="box",
        )
    return box


def take_out(
    session: Session,
    actor: Actor,
    *,
    barcode: str,
    reason: str | None,
    condition: OutCondition = OutCondition.THAWED,
) -> Aliquot:
    """Take a tube out of its box for good, freeing its position (it becomes checked out).

    How it travels decides whether storing it again counts a freeze-thaw; not asked, it is
    counted as thawed, the cautious answer (as before the question existed)."""
    actor.require(Role.TECHNICIAN)
    why = require_reason(reason, "taken out")
    aliquot = find_aliquot(session, actor, barcode, for_update=True)
    held = placement_of(session, aliquot)
    if held is None:
        raise Conflict(f"{aliquot.barcode} is not in a box", field="barcode")
    if aliquot.status is not S.CHECKED_OUT:
        aliquot.require_transition(S.CHECKED_OUT)
        require_consent(aliquot.subject, f"taking {aliquot.barcode} out", field="barcode")
    before_place = where(held)
    before = change_status(aliquot, S.CHECKED_OUT)
    aliquot.out_condition = condition
    free_position(session, held)
    session.flush()
    record_change(
        session,
        actor,
        Action.ALIQUOT_REMOVED,
        aliquot,
        before_status=before,
        before_place=before_place,
        reason=why,
        condition=condition,
    )
    session.commit()
    return aliquot
