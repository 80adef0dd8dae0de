"""Steps shared by the storage use cases. They never commit: the public service does, once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from lims import audit
from lims.actors import Actor
from lims.audit.models import Action
from lims.errors import Conflict, FieldError, InvalidInput, LimsError, NotFound, plural, shown
from lims.specimens import sprec
from lims.specimens.barcodes import normalise
from lims.specimens.models import Aliquot, AliquotStatus
from lims.specimens.services import find_aliquot, lock_aliquots
from lims.storage.models import Box, Placement, Rack, position_name


def lock_box(session: Session, box_id: int) -> Box:
    """The box, locked until commit, after the aliquot it receives (lock order: see
    lims/specimens/services/common.py).

    Two benches scanning into one box must not both see A1 as free. SQLite ignores FOR UPDATE;
    there BEGIN IMMEDIATE serialises writers, and the unique constraint on the position still
    holds (see flush_placement).
    """
    # Its rack and freezer come along unlocked (FOR UPDATE OF boxes): the audit event names
    # them, and lazily they were two more round trips per scan.
    stmt = (
        select(Box)
        .where(Box.id == box_id)
        .options(joinedload(Box.rack).joinedload(Rack.freezer))
        .with_for_update(of=Box)
        .execution_options(populate_existing=True)
    )
    box = session.scalars(stmt).first()
    if box is None:
        raise NotFound(f"Box {box_id} does not exist", field="box")
    return box


def require_box_type(box: Box, aliquot: Aliquot) -> None:
    """A box set up for one specimen type takes only that type (a mixed box takes any)."""
    if problem := box.specimen_type_problem(aliquot):
        raise Conflict(problem, field="box")


def placement_of(session: Session, aliquot: Aliquot) -> Placement | None:
    # The box, its rack and freezer in the same query: every caller names the location, and
    # four lazy loads were most of an aliquot lookup's queries (docs/benchmarks.md, issue #20).
    stmt = (
        select(Placement)
        .where(Placement.aliquot_id == aliquot.id)
        .options(joinedload(Placement.box).joinedload(Box.rack).joinedload(Rack.freezer))
    )
    placement = session.scalar(stmt)
    if placement is not None:
        # Its aliquot is the one at hand: without this, an answer naming the placement's tube
        # after the commit read the aliquot again (one more round trip per scan).
        set_committed_value(placement, "aliquot", aliquot)
    return placement


def where(placement: Placement | None) -> dict[str, Any]:
    """Where a tube sits, as the audit trail records it (from- and to-locations)."""
    if placement is None:
        return {"box": None, "position": None}
    box = placement.box
    freezer = box.freezer
    return {
        "freezer": freezer.name if freezer else None,
        "rack": box.rack.name if box.rack else None,
        "box": box.barcode,
        "position": placement.position,
    }


def choose_position(box: Box, position: str | None) -> tuple[int, int]:
    """The chosen position if it is free, else the next free one in the order a box is filled."""
    if position:
        row, col = box.parse_position(position)
        if (held := box.aliquot_at(row, col)) is not None:
            raise Conflict(
                f"{box.barcode} {position_name(row, col)} already holds {held.barcode}",
                field="position",
            )
        return row, col
    if (free := box.first_free_position()) is not None:
        return free
    raise Conflict(f"Box {box.barcode} is full ({box.capacity} positions)", field="box")


def flush_placement(session: Session, box: Box, row: int, col: int) -> None:
    """Write the placement now, so a race with another bench surfaces here, in the bench's words.

    The unique constraint on (box_id, row, col) refuses the second of two placements that both
    saw the position free (lims.db turns that into a Conflict); the request's error boundary
    then rolls the whole transaction back, so nothing half-written remains.
    """
    where = f"{box.barcode} {position_name(row, col)}"  # read now: a failed flush expires rows
    try:
        session.flush()
    except Conflict as err:
        raise Conflict(
            f"{where} was taken by another bench at the same moment; nothing was stored, "
            "scan again",
            field="position",
        ) from err


def require_status(aliquot: Aliquot, *statuses: AliquotStatus, doing: str) -> None:
    """Which tubes a use case is meant for (e.g. only a checked-out tube is checked in)."""
    if aliquot.status not in statuses:
        names = [s.value for s in statuses]
        wanted = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 2 else names)
        raise Conflict(
            f"Aliquot {aliquot.barcode} is {aliquot.status.value}; only a {wanted} aliquot "
            f"can be {doing}",
            field="status",
        )


def change_status(aliquot: Aliquot, to: AliquotStatus) -> AliquotStatus:
    """Move along ALIQUOT_TRANSITIONS (refusing what it forbids); returns the old status."""
    before = aliquot.status
    aliquot.require_transition(to)
    aliquot.status = to
    return before


def record_change(
    session: Session,
    actor: Actor,
    action: Action,
    aliquot: Aliquot,
    *,
    before_status: AliquotStatus,
    before_place: dict[str, Any],
    reason: str | None = None,
    placed: Placement | None = None,
    **extra: Any,
) -> None:
    """One custody event: status and location before and after, and why; and the tube's SPREC
    when where it is kept (or its freeze-thaw count) changed it.

    placed: the tube's placement as the service left it, when it has one at hand (saves reading
    it again); otherwise it is read."""
    placement = placed if placed is not None else placement_of(session, aliquot)
    after_place = where(placement)
    code_before = aliquot.sprec_code
    sprec_change = restamp_sprec(aliquot, placement)
    audit.record(
        session,
        actor,
        action,
        aliquot,
        before={
            "status": before_status,
            **before_place,
            **({"sprec_code": code_before} if sprec_change else {}),
        },
        reason=reason,
        status=aliquot.status,
        **after_place,
        **sprec_change,
        **extra,
    )


def restamp_sprec(aliquot: Aliquot, placement: Placement | None) -> dict[str, Any]:
    """SPREC element 7 is where this tube is kept: the set point of the freezer it is placed in
    (issue #16). A tube out of any freezer keeps the code of its last storage."""
    freezer = placement.box.freezer if placement is not None else None
    if freezer is None:
        return {}
    return sprec.restamp(aliquot, freezer.temperature_c)


def free_position(session: Session, placement: Placement | None) -> None:
    """Empty the tube's position; a position another request already emptied is a 409."""
    if placement is None:
        return
    box = placement.box
    if box is None or placement not in box.placements:
        raise Conflict(
            f"{placement.aliquot.barcode} has already left position {placement.position} "
            "(another request freed it at the same moment); reload and check",
            field="barcode",
        )
    box.placements.remove(placement)
    session.delete(placement)


def require_reason(reason: str | None, doing: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidInput(f"Say why the aliquot is {doing}", field="reason")
    return text


def scanned_tubes(
    session: Session,
    actor: Actor,
    barcodes: Sequence[str],
    *,
    check: Callable[[Aliquot], None],
    doing: str,
) -> list[Aliquot]:
    """The tubes of a scanned list, locked, once every one has passed `check` (the same rule the
    one-tube service asks); otherwise one error listing each bad line, and nothing is changed.

    Lines are numbered as the list was given (blank lines count), so a problem points at the
    line on the screen. Tubes are locked together in id order, as lock_aliquots does everywhere,
    so two benches working through overlapping lists cannot deadlock.
    """
    lines = [(n, normalise(raw)) for n, raw in enumerate(barcodes, start=1) if raw.strip()]
    if not lines:
        raise InvalidInput("Scan at least one barcode", field="barcodes")
    problems: list[FieldError] = []
    worst: type[LimsError] = Conflict
    first_line: dict[str, int] = {}
    found: list[tuple[int, Aliquot]] = []
    for n, code in lines:
        if code in first_line:
            twice = f"scanned twice (first on line {first_line[code]})"
            problems.append(_line_problem(n, code, twice))
            worst = InvalidInput
            continue
        first_line[code] = n
        try:
            found.append((n, find_aliquot(session, actor, code)))
        except LimsError as err:
            problems.append(_line_problem(n, code, err.detail))
            worst = InvalidInput
    by_id = {a.id: a for a in lock_aliquots(session, [a.id for _, a in found])}
    for n, aliquot in found:
        try:
            check(by_id[aliquot.id])
        except LimsError as err:
            problems.append(_line_problem(n, aliquot.barcode, err.detail))
    if problems:
        problems.sort(key=lambda p: p.get("row", 0))
        tubes = plural(len(lines), "tube")
        raise worst(
            f"{len(problems)} of {tubes} cannot be {doing}; nothing was changed",
            errors=problems,
        )
    return [by_id[a.id] for _, a in found]


def _line_problem(line: int, code: str, why: str) -> FieldError:
    return {"field": "barcodes", "row": line, "message": f"Line {line}, {shown(code)}: {why}"}
