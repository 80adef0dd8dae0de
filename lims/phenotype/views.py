"""HTML pages of the phenotype feature: a subject's timeline, and the REDCap import."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import login_required

from lims.db import get_session
from lims.phenotype import charts, services
from lims.web import current_actor

bp = Blueprint("phenotype", __name__)


@bp.get("/subjects/<study_code>/timeline")
@login_required
def timeline(study_code: str) -> ResponseReturnValue:
    line = services.subject_timeline(get_session(), current_actor(), study_code)
    toxin = line.toxin_days
    scale_charts = [
        (s, charts.scale_chart(s.name, s.points, maximum=s.maximum, last_day=line.last_day,
                               toxin_days=toxin))
        for s in line.series
    ]  # fmt: skip
    regions = charts.region_chart(
        line.regions, [(f"V{e.visit.visit_number}", e.regions, e.new_regions) for e in line.visits]
    )
    return render_template(
        "phenotype/timeline.html", line=line, scale_charts=scale_charts, region_chart=regions
    )
