"""Fulfilling an approved request (issue 19, "Fulfilment"): the proposed pick list, reserving
it, confirming each tube by scan at the freezer, letting a reservation go. The outbound shipment
made from the picked tubes is outbound.py.

The pick list is the criteria engine's one query (lims.requests.criteria.aliquot_matches), so
feasibility, fulfilment and the data set agree on what matches; on top of it come the rules of
the pick: enough volume for the request's quantity, `aliquots_per_visit` per subject-visit,
never a visit's last stored aliquot of that type unless the request allows it, fewest
freeze-thaw cycles first, then walking order (freezer, rack, box, position) so the technician
walks the freezers once.

Lock order: the request, then its aliquots in ascending id (lock_aliquots), as every aliquot
service takes them. Two technicians reserving two overlapping requests at once: the second
waits on the aliquots the first holds, reads them afresh (RESERVED now) and is refused, nothing
reserved; RequestItem.open_aliquot_id's unique constraint holds against any path that skipped
the lock (and on SQLite, where BEGIN IMMEDIATE serialises the two transactions instead).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.db import utcnow
from lims.errors import Conflict, FieldError, InvalidInput, NotFound, plural
from lims.requests.criteria import aliquot_matches, parse_criteria
from lims.requests.models import (
    OPEN_ITEM_STATUSES,
    ItemStatus,
    RequestItem,
    RequestState,
    SpecimenRequest,
)
from lims.requests.services.workflow import find_request, move_state
from lims.shipments.models import ShipmentItem
from lims.shipments.services import unpack_tube_step
from lims.specimens import barcodes
from lims.specimens.models import Aliquot, AliquotStatus, Specimen
from lims.specimens.services import consent_permits, lock_aliquots
from lims.storage.models import Box, Freezer, Placement, Rack, position_name
from shipping.picklist import PickLine as PaperLine
from shipping.picklist import PickList, picklist_pdf

S = RequestState
# Who fetches tubes from the freezers (admins always may): investigators never reach a pick list.
PICKERS = (Role.TECHNICIAN,)


@dataclass(frozen=True)
class PickLine:
    """One tube of a pick list and where it sits."""

    aliquot_id: int
    barcode: str
    visit_id: int
    specimen_type: str
    volume_ul: int
    freeze_thaw_count: int
    freezer: str
    rack: str
    box: str
    position: str


@dataclass(frozen=True)
class PickProposal:
    """What the pick would take now, and what it could not: the visits that gave fewer tubes
    than asked (too few matching, or the rest held back as the visit's last)."""

    request: SpecimenRequest
    lines: list[PickLine]
    visits: int  # subject-visits with at least one matching tube
    short_visits: int
    kept_last: int  # tubes held back because each was its visit's last of its type


def requests_to_fulfil(session: Session, actor: Actor) -> list[SpecimenRequest]:
    """Approved requests waiting for their pick list, and those being picked, oldest first."""
    actor.require(*PICKERS)
    stmt = (
        select(SpecimenRequest)
        .where(SpecimenRequest.state.in_([S.APPROVED, S.FULFILLING]))
        .order_by(SpecimenRequest.decided_at, SpecimenRequest.id)
    )
    return list(session.scalars(stmt))


def propose_pick_list(
    session: Session, actor: Actor, *, request: str | int, on: date | None = None
) -> PickProposal:
    """The pick list the system proposes for an approved request, in walking order."""
    actor.require(*PICKERS)
    req = find_request(session, actor, request)
    require_state(req, S.APPROVED, doing="have a pick list proposed")
    return _propose(session, req, on=on or utcnow().date())


def _propose(session: Session, req: SpecimenRequest, *, on: date) -> PickProposal:
    criteria = parse_criteria(json.loads(req.criteria))
    m = aliquot_matches(criteria, on=on).subquery("matches")
    in_a_shipment = select(ShipmentItem.open_aliquot_id).where(
        ShipmentItem.open_aliquot_id.is_not(None)
    )
    stmt = select(m).where(
        m.c.volume_ul >= req.quantity_ul,
        m.c.aliquot_id.not_in(in_a_shipment),  # a stored tube already packed to go elsewhere
    )
    rows = [_line(row) for row in session.execute(stmt).mappings()]
    by_visit: dict[int, list[PickLine]] = defaultdict(list)
    for line in rows:
        by_visit[line.visit_id].append(line)
    stored = _stored_per_visit(session, by_visit)
    chosen: list[PickLine] = []
    short = kept = 0
    for visit_id, lines in by_visit.items():
        lines.sort(key=lambda t: (t.freeze_thaw_count, walking_order(t), t.aliquot_id))
        take: list[PickLine] = []
        for line in lines:
            left = stored.get((visit_id, line.specimen_type), 0)
            if len(take) == req.aliquots_per_visit:
                break
            if left <= 1 and not req.allow_last_aliquot:
                kept += 1
                continue
            stored[(visit_id, line.specimen_type)] = left - 1
            take.append(line)
        short += len(take) < req.aliquots_per_visit
        chosen.extend(take)
    chosen.sort(key=lambda t: (walking_order(t), t.aliquot_id))
    return PickProposal(req, chosen, len(by_visit), short, kept)


def _line(row: object) -> PickLine:
    r = dict(row)  # type: ignore[call-overload]
    return PickLine(
        aliquot_id=r["aliquot_id"],
        barcode=r["barcode"],
        visit_id=r["visit_id"],
        specimen_type=str(r["specimen_type"]),
        volume_ul=int(r["volume_ul"]),
        freeze_thaw_count=int(r["freeze_thaw_count"]),
        freezer=r["freezer"] or "",
        rack=r["rack"] or "",
        box=r["box"] or "",
        position="" if r["row"] is None else position_name(r["row"], r["col"]),
    )


def _stored_per_visit(session: Session, visits: Iterable[int]) -> dict[tuple[int, str], int]:
    """How many stored tubes each visit has of each type, matching or not: the last one of a
    type stays for the collection unless the request allows taking it."""
    ids = sorted(visits)
    found: dict[tuple[int, str], int] = {}
    # In slices: a bound parameter per id, and PostgreSQL takes at most 65,535 in one statement
    # (a broad request at 50,000 subjects matched more visits than that).
    for start in range(0, len(ids), _IDS_PER_QUERY):
        stmt = (
            select(Specimen.visit_id, Aliquot.specimen_type, func.count())
            .join(Specimen, Specimen.id == Aliquot.specimen_id)
            .where(
                Specimen.visit_id.in_(ids[start : start + _IDS_PER_QUERY]),
                Aliquot.status == AliquotStatus.STORED,
            )
            .group_by(Specimen.visit_id, Aliquot.specimen_type)
        )
        found.update({(v, str(t)): n for v, t, n in session.execute(stmt)})
    return found


_IDS_PER_QUERY = 10_000


_NUMBER = re.compile(r"(\d+)")


def _natural(name: str) -> tuple[tuple[int, int | str], ...]:
    """'Rack 10' after 'Rack 9', as the labels on the freezer read."""
    return tuple((1, int(p)) if p.isdigit() else (0, p.lower()) for p in _NUMBER.split(name) if p)


def walking_order(line: PickLine) -> tuple[object, ...]:
    """Freezer, rack, box, then row and column: one walk along the freezers."""
    row, col = (line.position[:1], int(line.position[1:])) if line.position else ("", 0)
    return (_natural(line.freezer), _natural(line.rack), _natural(line.box), row, col)


@dataclass(frozen=True)
class Reservation:
    request: SpecimenRequest
    items: list[RequestItem]


def reserve_pick_list(
    session: Session,
    actor: Actor,
    *,
    request: str | int,
    aliquot_ids: Sequence[int] | None = None,
    on: date | None = None,
) -> Reservation:
    """Reserve the pick list for the request, all tubes or none; the request is now fulfilling.

    `aliquot_ids` are the tubes of the list the technician saw (all of it if None); each must
    still be on the list proposed now, so a tube another request took meanwhile is refused.
    """
    actor.require(*PICKERS)
    req = find_request(session, actor, request, for_update=True)
    require_state(req, S.APPROVED, doing="reserved")
    proposal = _propose(session, req, on=on or utcnow().date())
    lines = {line.aliquot_id: line for line in proposal.lines}
    wanted = list(lines) if aliquot_ids is None else list(dict.fromkeys(aliquot_ids))
    if not wanted:
        raise Conflict(f"No tube matches request {req.code} now: nothing to reserve")
    gone = [i for i in wanted if i not in lines]
    aliquots = lock_aliquots(session, sorted(i for i in wanted if i in lines))
    problems: list[FieldError] = [
        {"field": "aliquot_ids", "message": f"Aliquot {i} is not on the pick list now"}
        for i in gone
    ]
    problems += _reservable_problems(session, req, aliquots)
    if problems:
        raise _refused(
            f"{plural(len(problems), 'tube')} of {len(wanted)} cannot be reserved for "
            f"{req.code}; nothing was reserved; open the pick list again",
            problems,
        )
    order = {aliquot_id: n for n, aliquot_id in enumerate(lines)}
    items, events = [], []
    for aliquot in aliquots:
        aliquot.require_transition(AliquotStatus.RESERVED)
        before, aliquot.status = aliquot.status, AliquotStatus.RESERVED
        item = RequestItem(
            aliquot=aliquot, open_aliquot_id=aliquot.id, pick_order=order[aliquot.id]
        )
        req.items.append(item)
        items.append(item)
        after = {"status": aliquot.status, "request": req.code}
        events.append(audit.Event(Action.ALIQUOT_RESERVED, aliquot, after, {"status": before}))
    session.flush()  # the unique open_aliquot_id answers a race the locks missed with a 409
    audit.record_many(session, actor, events)
    move_state(session, actor, req, S.FULFILLING, note=f"{plural(len(items), 'tube')} reserved")
    session.commit()
    return Reservation(req, sorted(items, key=lambda i: i.pick_order))


def _reservable_problems(
    session: Session, req: SpecimenRequest, aliquots: Sequence[Aliquot]
) -> list[FieldError]:
    """Read under the lock: a tube reserved, moved or withdrawn from since the list was made."""
    problems: list[FieldError] = []
    decisions: dict[int, str | None] = {}
    shipping = set(
        session.scalars(
            select(ShipmentItem.open_aliquot_id).where(
                ShipmentItem.open_aliquot_id.in_([a.id for a in aliquots])
            )
        )
    )
    for aliquot in aliquots:
        if aliquot.id in shipping:
            problems.append(
                {"field": "aliquot_ids", "message": f"{aliquot.barcode} is in an open shipment"}
            )
            continue
        if aliquot.status is not AliquotStatus.STORED:
            problems.append(
                {
                    "field": "aliquot_ids",
                    "message": f"{aliquot.barcode} is {aliquot.status.value} now",
                }
            )
            continue
        subject = aliquot.subject
        if subject.id not in decisions:
            decision = consent_permits(
                session, subject, on=date.max, purpose=req.purpose, modifiers=req.modifiers
            )
            decisions[subject.id] = None if decision.permitted else "; ".join(decision.reasons)
        if (why := decisions[subject.id]) is not None:
            problems.append({"field": "aliquot_ids", "message": f"{aliquot.barcode}: {why}"})
    return problems


def _refused(headline: str, problems: list[FieldError]) -> Conflict:
    shown = "; ".join(p["message"] for p in problems[:3])
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return Conflict(f"{headline}: {shown}{more}", errors=problems)


def require_state(req: SpecimenRequest, *states: RequestState, doing: str) -> None:
    if req.state not in states:
        wanted = " or ".join(s.label for s in states)
        raise Conflict(
            f"Request {req.code} is {req.state.label}; only an {wanted} request can be {doing}",
            field="state",
        )


# ---- the reserved list, picking by scan, letting a tube go -----------------------------------


@dataclass(frozen=True)
class ItemLine:
    """A reserved tube as the pick page shows it."""

    item: RequestItem
    freezer: str
    rack: str
    box: str
    position: str


@dataclass(frozen=True)
class Fulfilment:
    request: SpecimenRequest
    lines: list[ItemLine]  # open items in pick order, then the cancelled ones

    @property
    def open_lines(self) -> list[ItemLine]:
        return [line for line in self.lines if line.item.status in OPEN_ITEM_STATUSES]

    @property
    def picked(self) -> int:
        done = (ItemStatus.PICKED, ItemStatus.SHIPPED, ItemStatus.RELEASED)
        return sum(1 for line in self.lines if line.item.status in done)

    @property
    def total(self) -> int:
        return sum(1 for line in self.lines if line.item.status is not ItemStatus.CANCELLED)

    @property
    def progress(self) -> str:
        return f"{self.picked} of {self.total} picked"


def fulfilment_of(session: Session, actor: Actor, *, request: str | int) -> Fulfilment:
    """The request's reserved tubes, where each sits, and how far the picking has come."""
    actor.require(*PICKERS)
    req = find_request(session, actor, request)
    return _fulfilment(session, req)


def _fulfilment(session: Session, req: SpecimenRequest) -> Fulfilment:
    stmt = (
        select(RequestItem, Freezer.name, Rack.name, Box.name, Placement.row, Placement.col)
        .outerjoin(Placement, Placement.aliquot_id == RequestItem.aliquot_id)
        .outerjoin(Box, Box.id == Placement.box_id)
        .outerjoin(Rack, Rack.id == Box.rack_id)
        .outerjoin(Freezer, Freezer.id == Rack.freezer_id)
        .where(RequestItem.request_id == req.id)
        .order_by(RequestItem.pick_order, RequestItem.id)
    )
    lines = [
        ItemLine(item, f or "", r or "", b or "", "" if row is None else position_name(row, col))
        for item, f, r, b, row, col in session.execute(stmt)
    ]
    lines.sort(key=lambda line: line.item.status is ItemStatus.CANCELLED)
    return Fulfilment(req, lines)


def pick_list_pdf(
    session: Session, actor: Actor, *, request: str | int, at: datetime
) -> tuple[str, bytes]:
    """The pick list to print: the proposal while approved, the reserved tubes after."""
    actor.require(*PICKERS)
    req = find_request(session, actor, request)
    if req.state is S.APPROVED:
        proposal = _propose(session, req, on=at.date())
        paper = [
            PaperLine(
                t.barcode,
                t.freezer,
                t.rack,
                t.box,
                t.position,
                t.specimen_type,
                t.volume_ul,
                t.freeze_thaw_count,
            )
            for t in proposal.lines
        ]
    else:
        paper = [
            PaperLine(
                line.item.aliquot.barcode,
                line.freezer,
                line.rack,
                line.box,
                line.position,
                str(line.item.aliquot.specimen_type),
                line.item.aliquot.volume_ul,
                line.item.aliquot.freeze_thaw_count,
            )
            for line in _fulfilment(session, req).open_lines
        ]
    doc = PickList(req.code, req.title, at, actor.username, paper)
    return f"pick-list-{req.code}.pdf", picklist_pdf(doc)


@dataclass(frozen=True)
class PickOutcome:
    item: RequestItem
    fulfilment: Fulfilment


def confirm_pick(
    session: Session, actor: Actor, *, request: str | int, barcode: str, picked_at: datetime
) -> PickOutcome:
    """The technician scanned a tube at the freezer: it is one of this request's, now picked."""
    actor.require(*PICKERS)
    code = barcodes.normalise(barcode)
    if problem := barcodes.check_problem(code):
        raise InvalidInput(problem, field="barcode")  # a misread: rescan, nothing looked up
    req = find_request(session, actor, request, for_update=True)
    require_state(req, S.FULFILLING, doing="picked")
    item = _item_by_barcode(req, code)
    if item.status is ItemStatus.PICKED:
        raise Conflict(f"{code} was already picked for {req.code}", field="barcode")
    if item.status is not ItemStatus.RESERVED:
        raise Conflict(f"{code} is {item.status.value} on {req.code}", field="barcode")
    item.status, item.picked_at = ItemStatus.PICKED, picked_at
    audit.record(
        session, actor, Action.ALIQUOT_PICKED, item.aliquot, request=req.code, at=picked_at
    )
    session.commit()
    return PickOutcome(item, _fulfilment(session, req))


def _item_by_barcode(req: SpecimenRequest, code: str) -> RequestItem:
    """This request's item for a scanned tube; a tube of no item is refused by name."""
    for item in req.items:
        if item.aliquot.barcode == code and item.status is not ItemStatus.CANCELLED:
            return item
    raise Conflict(
        f"{code} is not on the pick list of {req.code}: put it back and scan the next tube",
        field="barcode",
    )


def cancel_reservation(
    session: Session, actor: Actor, *, request: str | int, item_id: int, reason: str
) -> RequestItem:
    """Let one reserved tube go (not found, damaged, consent withdrawn): off the list and out of
    the request's shipment if packed, back to stored."""
    actor.require(*PICKERS)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Say why the tube is let go (e.g. not found)", field="reason")
    req = find_request(session, actor, request, for_update=True)
    require_state(req, S.FULFILLING, doing="changed")
    item = next((i for i in req.items if i.id == item_id), None)
    if item is None:
        raise NotFound(f"Request {req.code} has no item {item_id}", field="item")
    if item.status not in (ItemStatus.RESERVED, ItemStatus.PICKED):
        raise Conflict(f"{item.aliquot.barcode} is {item.status.value}", field="item")
    if req.shipment_id is not None:
        # Packed but not shipped (a withdrawal stopped it): out of the shipment too.
        unpack_tube_step(
            session, actor, shipment_id=req.shipment_id, barcode=item.aliquot.barcode, reason=reason
        )
    (aliquot,) = lock_aliquots(session, [item.aliquot_id])
    before = aliquot.status
    if aliquot.status is AliquotStatus.RESERVED:
        aliquot.status = AliquotStatus.STORED
    item.status, item.open_aliquot_id, item.cancel_reason = ItemStatus.CANCELLED, None, reason
    audit.record(
        session,
        actor,
        Action.ALIQUOT_UNRESERVED,
        aliquot,
        before={"status": before},
        reason=reason,
        status=aliquot.status,
        request=req.code,
    )
    session.commit()
    return item
