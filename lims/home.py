"""The front page: what is in the biobank, at a glance."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims.auth.models import Site
from lims.db import get_session
from lims.specimens.models import Aliquot, Specimen, Subject, Visit
from lims.storage.models import Box, Freezer, Placement
from lims.storage.services import capacity_report
from lims.web import current_actor

bp = Blueprint("home", __name__)


def inventory_summary(session: Session) -> dict[str, object]:
    """Counts for the front page; no rule is involved, every signed-in role may see them."""
    by_type_status = session.execute(
        select(Aliquot.specimen_type, Aliquot.status, func.count())
        .group_by(Aliquot.specimen_type, Aliquot.status)
        .order_by(Aliquot.specimen_type, Aliquot.status)
    ).all()
    by_site = session.execute(
        select(Site.code, Site.name, func.count(Subject.id))
        .join(Subject, Subject.site_id == Site.id, isouter=True)
        .group_by(Site.code, Site.name)
        .order_by(Site.code)
    ).all()
    return {
        "subjects": session.scalar(select(func.count(Subject.id))) or 0,
        "visits": session.scalar(select(func.count(Visit.id))) or 0,
        "specimens": session.scalar(select(func.count(Specimen.id))) or 0,
        "aliquots": session.scalar(select(func.count(Aliquot.id))) or 0,
        "freezers": session.scalar(select(func.count(Freezer.id))) or 0,
        "boxes": session.scalar(select(func.count(Box.id))) or 0,
        "placed": session.scalar(select(func.count(Placement.id))) or 0,
        "by_type_status": by_type_status,
        "by_site": by_site,
    }


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    session = get_session()
    actor = current_actor()
    # The search box and the capacity summary are for staff; an investigator sees the counts.
    is_staff = actor.is_staff
    return render_template(
        "home/index.html",
        summary=inventory_summary(session),
        capacity=capacity_report(session, actor) if is_staff else None,
        is_staff=is_staff,
        query=request.args.get("q", ""),
    )
