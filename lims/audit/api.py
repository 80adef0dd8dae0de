"""The audit trail over the API, for the biobank manager's own tools."""

from __future__ import annotations

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue

from lims.actors import Role
from lims.audit import services
from lims.audit.schemas import AuditPageOut, AuditQueryIn, ChainReportOut
from lims.db import get_session
from lims.web import current_actor, documented, dump, token_required

bp = Blueprint("audit_api", __name__, url_prefix="/api/v1")


@bp.get("/audit-events")
@token_required
@documented(
    summary="The audit trail, newest first, filtered; page with before/after (admin, reviewer)",
    query=AuditQueryIn,
    response=AuditPageOut,
)
def list_events() -> ResponseReturnValue:
    query = services.TrailQuery(**AuditQueryIn().load(request.args))
    directory: services.Directory = current_app.extensions["lims_audit_directory"]
    page = services.read_trail(get_session(), current_actor(), query=query, directory=directory)
    return dump(AuditPageOut(), page)


@bp.get("/audit-events/verification")
@token_required
@documented(
    summary="Verify the hash chain: the first broken link, and the head (admin)",
    response=ChainReportOut,
)
def verify() -> ResponseReturnValue:
    current_actor().require(Role.ADMIN)
    return dump(ChainReportOut(), services.verify_chain(get_session()))
