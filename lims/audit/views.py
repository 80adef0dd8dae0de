"""The audit trail page for the biobank manager."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required

from lims.audit import services
from lims.audit.schemas import AuditQueryIn
from lims.db import get_session
from lims.web import current_actor

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    args = AuditQueryIn().load(request.args)
    events, total = services.list_events(get_session(), current_actor(), **args)
    return render_template("audit/index.html", events=events, total=total, args=args)
