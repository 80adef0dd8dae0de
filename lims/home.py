"""The front page: what is in the biobank, at a glance. It composes the features' read services
(it sits above every feature, like create_app; no feature imports it)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import login_required

from lims.db import get_session
from lims.specimens.services import specimen_overview
from lims.storage.services import capacity_report, storage_overview
from lims.web import current_actor

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    session = get_session()
    actor = current_actor()
    # The capacity summary is for staff; an investigator sees the counts (the find box is in
    # every page's header, lims/find.py).
    is_staff = actor.is_staff
    return render_template(
        "home/index.html",
        specimens=specimen_overview(session, actor),
        storage=storage_overview(session, actor),
        capacity=capacity_report(session, actor) if is_staff else None,
        is_staff=is_staff,
    )
