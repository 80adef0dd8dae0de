"""The investigator's part of a request: the draft, its criteria, and submitting it for review
(issue 19). The criteria are the criteria engine's canonical document (lims.requests.criteria),
with the research purpose inside them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.errors import Conflict, FieldError, Forbidden, InvalidInput
from lims.requests.criteria import duo_term, parse_criteria
from lims.requests.models import EDITABLE_STATES, RequestState, SpecimenRequest
from lims.requests.services.release_fields import unknown_fields
from lims.requests.services.workflow import find_request, move_state, new_request_code
from lims.specimens.duo import PERMISSIONS, DuoTerm

S = RequestState


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
    purpose: DuoTerm | None = None,
    purpose_modifiers: Sequence[DuoTerm] | None = None,
) -> SpecimenRequest:
    """Start a request as a draft; the investigator completes and submits it later.

    The criteria are checked and stored in the engine's canonical form now (a draft holds a
    question the engine can answer); the purpose may come inside them or beside them.
    """
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
    criteria = values.pop("criteria", None)
    purpose = values.pop("purpose", None)
    modifiers = values.pop("purpose_modifiers", None)
    if criteria is not None or purpose is not None or modifiers is not None or not req.criteria:
        _set_criteria(req, criteria=criteria, purpose=purpose, modifiers=modifiers)
    for name, value in values.items():
        if name == "phenotype_fields":
            if unknown := unknown_fields(value):
                shown = "; ".join(f"{n}: {why}" for n, why in unknown.items())
                raise InvalidInput(f"The data set cannot have {shown}", field="phenotype_fields")
            req.phenotype_fields = " ".join(dict.fromkeys(value))
        elif name in {"title", "aims"}:
            setattr(req, name, value.strip())
        elif name in _PLAIN:
            setattr(req, name, value)
        else:
            raise InvalidInput(f"{name} cannot be changed on a request", field=name)


def _set_criteria(
    req: SpecimenRequest,
    *,
    criteria: Mapping[str, Any] | None,
    purpose: DuoTerm | None,
    modifiers: Sequence[DuoTerm] | None,
) -> None:
    """Store the criteria in the engine's canonical form, with the request's purpose in them.

    The purpose lives once, in the criteria document (the engine's consent rule reads it there);
    the request's purpose columns mirror it for consent_permits at shipment. It may be given in
    the criteria, or as `purpose` and `purpose_modifiers`, or both if they agree; criteria
    changed without a purpose keep the request's.
    """
    stored = json.loads(req.criteria) if req.criteria else {}
    doc = dict(criteria if criteria is not None else stored)
    if "purpose" not in doc and "purpose" in stored:
        doc["purpose"] = stored["purpose"]
    if purpose is not None or modifiers is not None:
        term, mods = _purpose_of(doc)
        wanted = (purpose or term, frozenset(modifiers) if modifiers is not None else mods)
        if criteria is not None and "purpose" in criteria and (term, mods) != wanted:
            raise InvalidInput(
                "The criteria's purpose and the request's purpose differ; give it once",
                field="purpose",
            )
        given = doc.get("purpose")
        old: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
        doc["purpose"] = {
            **old,
            "term": wanted[0].value if wanted[0] else None,
            "modifiers": sorted(m.value for m in wanted[1]),
        }
    parsed = parse_criteria(doc)
    req.criteria = json.dumps(parsed.document(), sort_keys=True, separators=(",", ":"))
    req.purpose = parsed.purpose.term
    req.purpose_modifiers = " ".join(sorted(m.value for m in parsed.purpose.modifiers)) or None


def _purpose_of(doc: Mapping[str, Any]) -> tuple[DuoTerm | None, frozenset[DuoTerm]]:
    """The purpose a criteria document states, as far as it reads (parse_criteria says why not)."""
    given = doc.get("purpose")
    if not isinstance(given, Mapping):
        return None, frozenset()
    try:
        term: DuoTerm | None = duo_term(given.get("term"))
    except ValueError:
        term = None
    mods = set()
    for item in given.get("modifiers") or []:
        try:
            mods.add(duo_term(item))
        except ValueError:
            continue
    return term, frozenset(mods)


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
    """Whether the criteria ask for something: a purpose alone would ask for every tube."""
    return any(key != "purpose" for key in json.loads(document or "{}"))


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
