"""The audit trail page for the biobank manager and reviewers."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required

from lims.actors import Role
from lims.audit import services
from lims.audit.models import Action
from lims.audit.schemas import AuditQueryIn
from lims.db import get_session
from lims.errors import InvalidInput
from lims.web import current_actor, flash_problem

bp = Blueprint("audit", __name__, url_prefix="/audit")

FILTERS = ("code", "user", "action", "object_type", "since", "until")


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    # A blank box in the form means "any", not an empty value to match.
    given = {k: v.strip() for k, v in request.args.items() if v.strip()}
    directory: services.Directory = current_app.extensions["lims_audit_directory"]
    session, actor = get_session(), current_actor()
    try:
        query = services.TrailQuery(**AuditQueryIn().load(given))
        page = services.read_trail(session, actor, query=query, directory=directory)
        status = 200
    except InvalidInput as err:
        actor.require(Role.REVIEWER)  # a refused filter must not show anyone else the page
        flash_problem(err)
        page = services.TrailPage([], None, None, directory.zone_of(session, actor), [])
        status = err.status
    filters = {k: given[k] for k in FILTERS if k in given}
    return render_template(
        "audit/index.html",
        page=page,
        filters=filters,
        kind_words=services.KIND_WORDS,
        action_prefixes=sorted({a.value.partition(".")[0] + "." for a in Action}),
    ), status
