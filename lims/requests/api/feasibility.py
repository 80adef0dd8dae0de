"""API: feasibility counts (issue 19) and the administrator's lockout list and unlock."""

from __future__ import annotations

from flask import Blueprint, current_app
from flask.typing import ResponseReturnValue

from lims.db import get_session, replica_session, utcnow
from lims.requests.feasibility_schemas import FeasibilityIn, FeasibilityOut, LockoutOut, UnlockIn
from lims.requests.services import feasibility as services
from lims.web import current_actor, documented, dump, json_body, token_required

bp = Blueprint("requests_feasibility_api", __name__, url_prefix="/api/v1")


@bp.post("/feasibility")
@token_required
@documented(
    summary="How many subjects, visits and aliquots match the criteria, per diagnosis "
    "(protected for investigators; exact for staff); rate-limited (429) and audited",
    body=FeasibilityIn,
    response=FeasibilityOut,
)
def feasibility() -> ResponseReturnValue:
    body = FeasibilityIn().load(json_body())
    settings = services.FeasibilitySettings.from_config(current_app.config)
    counting = replica_session()  # the count reads the standby when there is one
    try:
        answer = services.check_feasibility(
            get_session(), current_actor(), criteria=body["criteria"], settings=settings,
            now=utcnow(), counting=counting,
        )  # fmt: skip
    finally:
        if counting is not None:
            counting.close()
    return dump(FeasibilityOut(), answer)


@bp.get("/feasibility/lockouts")
@token_required
@documented(summary="Investigators locked out of feasibility queries (admin)")
def feasibility_lockouts() -> ResponseReturnValue:
    rows = services.list_lockouts(get_session(), current_actor())
    return {"items": LockoutOut(many=True).dump(rows)}


@bp.post("/feasibility/lockouts/<int:lockout_id>/unlock")
@token_required
@documented(summary="Lift a feasibility lockout (admin), with a note; audited", body=UnlockIn)
def unlock_feasibility(lockout_id: int) -> ResponseReturnValue:
    body = UnlockIn().load(json_body())
    lock = services.unlock_feasibility(
        get_session(), current_actor(), lockout_id=lockout_id, note=body["note"], now=utcnow()
    )
    return {
        "lockout_id": lock.id,
        "unlocked_at": lock.unlocked_at.isoformat() if lock.unlocked_at else None,
    }
