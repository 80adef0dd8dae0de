"""A request's lifecycle: finding it (the object check), its code, and every move between
states with who may make it (issue 19, "Request and review"); the draft is drafting.py's.

move_state is the one door for a state change: the fulfilment and release services call it
inside their own transaction (approved -> fulfilling -> shipped, shipped -> closed), so the
rule of who may move a request, its audit event and its notifications live here once.

Lock order: the request row first, then whatever the caller locks next (aliquots, boxes, a
shipment), as in lims/specimens/services/common.py.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims import audit
from lims.actors import STAFF, Actor, Role
from lims.audit.models import Action
from lims.db import utcnow
from lims.errors import Conflict, Forbidden, NotFound, plural
from lims.requests.models import (
    OPEN_ITEM_STATUSES,
    REQUEST_TRANSITIONS,
    RequestState,
    SpecimenRequest,
)
from lims.requests.services.notifications import notify, notify_roles
from lims.specimens.services import issue_serials, locked
from phenotype_link.deidentify import new_request_secret

S = RequestState
REQUEST_COUNTER = "specimen_request"

# Who may make each move. OWN: the investigator who made the request (and no other); the roles
# are checked with Actor.require, so an admin may make every move. The lifecycle itself (which
# moves exist) is REQUEST_TRANSITIONS in the model; a move missing here is refused to everyone.
OWN = "own"
MOVERS: dict[tuple[RequestState, RequestState], tuple[Role | str, ...]] = {
    (S.DRAFT, S.SUBMITTED): (OWN,),
    (S.REVISION_REQUESTED, S.SUBMITTED): (OWN,),
    (S.SUBMITTED, S.UNDER_REVIEW): (Role.REVIEWER,),
    (S.UNDER_REVIEW, S.REVISION_REQUESTED): (Role.ADMIN,),
    (S.UNDER_REVIEW, S.APPROVED): (Role.ADMIN,),
    (S.UNDER_REVIEW, S.REJECTED): (Role.ADMIN,),
    (S.APPROVED, S.FULFILLING): (Role.TECHNICIAN,),
    (S.FULFILLING, S.SHIPPED): (Role.TECHNICIAN,),
    (S.SHIPPED, S.CLOSED): (Role.ADMIN,),
    **{
        (state, S.WITHDRAWN): (OWN,)
        for state, to in REQUEST_TRANSITIONS.items()
        if S.WITHDRAWN in to
    },
}

# The audit action of each arrival; one per state, so the history reads as the lab says it.
ARRIVALS: dict[RequestState, Action] = {
    S.SUBMITTED: Action.REQUEST_SUBMITTED,
    S.UNDER_REVIEW: Action.REQUEST_REVIEW_STARTED,
    S.REVISION_REQUESTED: Action.REQUEST_REVISION_REQUESTED,
    S.APPROVED: Action.REQUEST_APPROVED,
    S.REJECTED: Action.REQUEST_REJECTED,
    S.FULFILLING: Action.REQUEST_FULFILMENT_STARTED,
    S.SHIPPED: Action.REQUEST_SHIPPED,
    S.CLOSED: Action.REQUEST_CLOSED,
    S.WITHDRAWN: Action.REQUEST_WITHDRAWN,
}
# The decisions an admin records after review; each keeps who decided, when and why.
DECISIONS = frozenset({S.REVISION_REQUESTED, S.APPROVED, S.REJECTED})


def new_request_code(session: Session) -> str:
    """The next request code, "REQ-0001"; the counter row serialises two investigators."""
    serial = issue_serials(session, REQUEST_COUNTER, 1)[0]
    return f"REQ-{serial:04d}"


def find_request(
    session: Session, actor: Actor, code_or_id: str | int, *, for_update: bool = False
) -> SpecimenRequest:
    """A request by its code ("REQ-0007") or id, if the actor may see it.

    The object check, in one place: an investigator reaches only their own requests; another's
    answers exactly as a missing one (404, not 403), so codes cannot be probed. Staff and admins
    reach all. Services that change the request pass for_update=True (locked until commit).
    """
    actor.require(Role.INVESTIGATOR, *STAFF)
    stmt = select(SpecimenRequest).where(_identified(code_or_id))
    found = session.scalar(locked(stmt) if for_update else stmt)
    if found is None or not may_see(actor, found):
        raise NotFound(f"No request {code_or_id} that you may see", field="request")
    return found


def _identified(code_or_id: str | int) -> Any:
    if isinstance(code_or_id, int):
        return SpecimenRequest.id == code_or_id
    text = code_or_id.strip().upper()
    if text.isdigit() and len(text) < 10:
        return SpecimenRequest.id == int(text)
    return SpecimenRequest.code == text


def may_see(actor: Actor, req: SpecimenRequest) -> bool:
    return actor.is_staff or (
        actor.role is Role.INVESTIGATOR and req.investigator_id == actor.user_id
    )


def may_move(actor: Actor, req: SpecimenRequest, to: RequestState) -> bool:
    """Whether this actor may move this request to `to` now: the pages offer only these."""
    if to not in REQUEST_TRANSITIONS[req.state]:
        return False
    movers = MOVERS.get((req.state, to), ())
    if actor.role is Role.ADMIN and movers:
        return True
    if OWN in movers and req.investigator_id == actor.user_id:
        return True
    return actor.role in movers


def move_state(
    session: Session,
    actor: Actor,
    req: SpecimenRequest,
    to: RequestState,
    *,
    note: str | None = None,
    at: datetime | None = None,
) -> None:
    """Move the request to `to`: who may, the lifecycle, the audit event, the notifications.

    Does not commit: the caller's service does, once (the caller has locked the request).
    """
    req.require_transition(to)
    if not may_move(actor, req, to):
        raise Forbidden(
            f"{actor.username} ({actor.role.value}) may not move request {req.code} from "
            f"{req.state.label} to {to.label}"
        )
    if to is S.WITHDRAWN and (held := [i for i in req.items if i.status in OPEN_ITEM_STATUSES]):
        # A reserved tube is kept from every other request until it is let go; a withdrawn
        # request can no longer let it go (fulfilment changes only a fulfilling request).
        raise Conflict(
            f"Request {req.code} holds {plural(len(held), 'reserved tube')}; a technician lets "
            "them go (cancel each reservation) before it can be withdrawn",
            field="state",
        )
    at = at or utcnow()
    before = req.state
    note = (note or "").strip() or None
    req.state = to
    if to is S.SUBMITTED:
        req.submitted_at = at
    if to in DECISIONS:
        req.decided_by_id, req.decided_at, req.decision_note = actor.user_id, at, note
    if to is S.APPROVED and not req.pseudonym_secret:
        req.pseudonym_secret = new_request_secret()
    audit.record(
        session, actor, ARRIVALS[to], req, before={"state": before}, state=to, note=note, at=at
    )
    said = f"Request {req.code} is now {to.label}" + (f": {note}" if note else "")
    if req.investigator_id != actor.user_id:
        notify(session, [req.investigator_id], req, said[:300])
    if to is S.SUBMITTED:
        notify_roles(
            session, (Role.REVIEWER, Role.ADMIN), req, f"{req.code} submitted: {req.title}"[:300]
        )


def change_state(
    session: Session,
    actor: Actor,
    *,
    request: str | int,
    to: RequestState,
    note: str | None = None,
    at: datetime | None = None,
) -> SpecimenRequest:
    """One move that needs nothing but the rule: start review, withdraw, close."""
    req = find_request(session, actor, request, for_update=True)
    move_state(session, actor, req, to, note=note, at=at)
    session.commit()
    return req


def list_requests(
    session: Session,
    actor: Actor,
    *,
    state: RequestState | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[SpecimenRequest], int]:
    """Requests, newest first: an investigator's own, or all of them for staff."""
    actor.require(Role.INVESTIGATOR, *STAFF)
    stmt = select(SpecimenRequest)
    if not actor.is_staff:
        stmt = stmt.where(SpecimenRequest.investigator_id == actor.user_id)
    if state is not None:
        stmt = stmt.where(SpecimenRequest.state == state)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(SpecimenRequest.id.desc()).limit(per_page).offset((page - 1) * per_page)
    )
    return list(rows), total


def request_codes(
    session: Session, refs: Collection[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """The codes ("REQ-0007") of the requests among audited `refs`, in bulk (the trail page)."""
    ids = {int(i) for kind, i in refs if kind == SpecimenRequest.__audit_type__ and i.isdigit()}
    if not ids:
        return {}
    stmt = select(SpecimenRequest.id, SpecimenRequest.code).where(SpecimenRequest.id.in_(ids))
    return {(SpecimenRequest.__audit_type__, str(i)): code for i, code in session.execute(stmt)}
