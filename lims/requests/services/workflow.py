"""A request's lifecycle: finding it (the object check), its code, the draft, and every move
between states with who may make it (issue 19, "Request and review").

move_state is the one door for a state change: the fulfilment and release services call it
inside their own transaction (approved -> fulfilling -> shipped, shipped -> closed), so the
rule of who may move a request, its audit event and its notifications live here once.

Lock order: the request row first, then whatever the caller locks next (aliquots, boxes, a
shipment), as in lims/specimens/services/common.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims import audit
from lims.actors import STAFF, Actor, Role
from lims.audit.models import Action
from lims.db import utcnow
from lims.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from lims.requests.models import (
    EDITABLE_STATES,
    REQUEST_TRANSITIONS,
    RequestState,
    SpecimenRequest,
)
from lims.requests.services.notifications import notify, notify_roles
from lims.specimens.duo import PERMISSIONS, DuoTerm
from lims.specimens.services import issue_serials, locked
from phenotype_link.deidentify import new_request_secret

S = RequestState
REQUEST_COUNTER = "specimen_request"
_CODE = re.compile(r"^REQ-(\d{1,9})$")

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


def create_draft(
    session: Session,
    actor: Actor,
    *,
    title: str = "",
    aims: str = "",
    criteria: Mapping[str, Any] | None = None,
    quantity_ul: float,
    aliquots_per_visit: int = 1,
    allow_last_aliquot: bool = False,
    phenotype_fields: Sequence[str] = (),
    purpose: DuoTerm,
    purpose_modifiers: Sequence[DuoTerm] = (),
) -> SpecimenRequest:
    """Start a request as a draft; the investigator completes and submits it later."""
    actor.require(Role.INVESTIGATOR)
    if actor.user_id is None:
        raise Forbidden("A request belongs to a signed-in investigator")
    req = SpecimenRequest(
        code=new_request_code(session),
        investigator_id=actor.user_id,
        state=S.DRAFT,
        pseudonym_secret=b"",  # none until approved (move_state); pseudonym() refuses b""
    )
    _fill(
        req,
        title=title,
        aims=aims,
        criteria=criteria or {},
        quantity_ul=quantity_ul,
        aliquots_per_visit=aliquots_per_visit,
        allow_last_aliquot=allow_last_aliquot,
        phenotype_fields=phenotype_fields,
        purpose=purpose,
        purpose_modifiers=purpose_modifiers,
    )
    session.add(req)
    audit.record(session, actor, Action.REQUEST_CREATED, req, code=req.code, title=req.title)
    session.commit()
    return req


def edit_draft(
    session: Session, actor: Actor, *, request: str | int, **changes: Any
) -> SpecimenRequest:
    """Change a draft (or a request sent back for revision): only its investigator may."""
    req = find_request(session, actor, request, for_update=True)
    if req.investigator_id != actor.user_id:
        raise Forbidden(f"Only the investigator who made {req.code} may edit it")
    if req.state not in EDITABLE_STATES:
        raise Conflict(
            f"Request {req.code} is {req.state.label}; only a draft or a request sent back "
            "for revision can be edited",
            field="state",
        )
    before = _snapshot(req)
    _fill(req, **changes)
    after = _snapshot(req)
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    if changed:
        audit.record(
            session,
            actor,
            Action.REQUEST_EDITED,
            req,
            before={k: before[k] for k in changed},
            **changed,
        )
    session.commit()
    return req


def _fill(req: SpecimenRequest, **values: Any) -> None:
    """Copy the given fields onto the request, in the shape the columns keep."""
    for name, value in values.items():
        if name == "criteria":
            # TODO(#19): lims.requests.criteria.parse_criteria(value).document() once `criteria`
            # is merged; until then the JSON is kept canonical, as given.
            req.criteria = json.dumps(value, sort_keys=True, separators=(",", ":"))
        elif name == "phenotype_fields":
            req.phenotype_fields = " ".join(dict.fromkeys(value))
        elif name == "purpose_modifiers":
            req.purpose_modifiers = " ".join(t.value for t in value) or None
        elif name in {"title", "aims"}:
            setattr(req, name, value.strip())
        elif name in _PLAIN:
            setattr(req, name, value)
        else:
            raise InvalidInput(f"{name} cannot be changed on a request", field=name)


_PLAIN = frozenset({"quantity_ul", "aliquots_per_visit", "allow_last_aliquot", "purpose"})


def _snapshot(req: SpecimenRequest) -> dict[str, Any]:
    return {
        "title": req.title,
        "aims": req.aims,
        "criteria": req.criteria,
        "quantity_ul": req.quantity_ul,
        "aliquots_per_visit": req.aliquots_per_visit,
        "allow_last_aliquot": req.allow_last_aliquot,
        "phenotype_fields": req.phenotype_fields,
        "purpose": req.purpose,
        "purpose_modifiers": req.purpose_modifiers,
    }


def submission_problems(req: SpecimenRequest) -> list[FieldError]:
    """What a request still lacks before it can be submitted (the form shows each by its field)."""
    problems: list[FieldError] = []
    if not req.title.strip():
        problems.append({"field": "title", "message": "give the request a title"})
    if not req.aims.strip():
        problems.append({"field": "aims", "message": "describe the aims of the study"})
    if not _criteria_given(req.criteria):
        problems.append({"field": "criteria", "message": "give at least one criterion"})
    if req.purpose not in PERMISSIONS:
        problems.append(
            {
                "field": "purpose",
                "message": f"{req.purpose.value} is a modifier; the purpose is one of "
                + ", ".join(f"{t.value} ({t.label})" for t in sorted(PERMISSIONS)),
            }
        )
    if not req.attachments:
        problems.append(
            {"field": "file", "message": "attach the protocol or data use agreement (PDF)"}
        )
    return problems


def _criteria_given(document: str) -> bool:
    # TODO(#19): parse_criteria(json.loads(document)) from `criteria`, its errors as problems.
    try:
        return bool(json.loads(document or "{}"))
    except ValueError:
        return False


def submit_request(
    session: Session, actor: Actor, *, request: str | int, at: datetime | None = None
) -> SpecimenRequest:
    """Send a complete request for review; reviewers and admins are told."""
    req = find_request(session, actor, request, for_update=True)
    req.require_transition(S.SUBMITTED)
    if problems := submission_problems(req):
        shown = "; ".join(p["message"] for p in problems)
        raise InvalidInput(f"Request {req.code} cannot be submitted yet: {shown}", errors=problems)
    move_state(session, actor, req, S.SUBMITTED, at=at)
    session.commit()
    return req


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
