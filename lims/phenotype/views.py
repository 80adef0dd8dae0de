"""HTML pages of the phenotype feature: a subject's timeline, and the REDCap import."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required

from lims.actors import Role
from lims.db import get_session
from lims.errors import InvalidInput, LimsError
from lims.phenotype import charts, services
from lims.web import NAV, current_actor, flash_problem

bp = Blueprint("phenotype", __name__)
NAV.append(("phenotype.import_form", "Import phenotype", (Role.TECHNICIAN, Role.ADMIN)))


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


@bp.get("/phenotype/import")
@login_required
def import_form() -> ResponseReturnValue:
    return render_template("phenotype/import.html", problems=[], result=None)


@bp.post("/phenotype/import")
@login_required
def import_export() -> ResponseReturnValue:
    """Preview (a dry run) or import a REDCap export; every problem is listed by row and field."""
    upload, mapping = request.files.get("file"), request.files.get("mapping")
    mapping_text = (
        mapping.read().decode("utf-8", "replace") if mapping and mapping.filename else None
    )
    # Not "action": a field of that name would hide form.action from progress.js.
    is_dry_run = request.form.get("step") != "import"
    try:
        if upload is None or not upload.filename:
            raise InvalidInput("Choose a REDCap export (CSV) to import", field="file")
        result = services.import_redcap(
            get_session(),
            current_actor(),
            data=upload.read(),
            mapping=mapping_text,
            filename=upload.filename,
            dry_run=is_dry_run,
            today=datetime.now(UTC).date(),
        )
    except LimsError as err:
        flash_problem(err)
        return render_template(
            "phenotype/import.html", problems=err.errors, result=None
        ), err.status
    if not result.is_dry_run:
        flash(
            f"Imported: {result.created} created, {result.changed} changed, "
            f"{result.unchanged} unchanged (file SHA-256 {result.sha256[:12]}…)",
            "success",
        )
    return render_template("phenotype/import.html", problems=[], result=result)
