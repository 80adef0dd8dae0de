"""Phenotype over the API (mounted under /api/v1): a subject's longitudinal record, the REDCap
dictionary, the import, and the summary the aliquot endpoint carries."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from flask.typing import ResponseReturnValue

from lims.db import get_session
from lims.phenotype import services
from lims.phenotype.schemas import PhenotypeSummaryOut, SubjectPhenotypeOut
from lims.specimens.models import Aliquot
from lims.web import current_actor, documented, dump, token_required
from phenotype_link.catalog import lims_instruments
from phenotype_link.redcap import dictionary_csv

bp = Blueprint("phenotype_api", __name__, url_prefix="/api/v1")


def aliquot_summary(aliquot: Aliquot) -> dict[str, Any]:
    """The phenotype summary GET /api/v1/aliquots/{barcode} carries; create_app hands it to
    storage, which sits beside phenotype and may not import it."""
    summary = services.aliquot_phenotype(get_session(), current_actor(), aliquot)
    return dump(PhenotypeSummaryOut(), summary)


@bp.get("/subjects/<study_code>/phenotype")
@token_required
@documented(
    summary="A subject's phenotype visit by visit: diagnoses, body regions, scales, treatments, "
    "findings and tubes (staff only: it names the subject and its dates)",
    response=SubjectPhenotypeOut,
)
def subject_phenotype(study_code: str) -> ResponseReturnValue:
    line = services.subject_timeline(get_session(), current_actor(), study_code)
    return dump(SubjectPhenotypeOut(), line)


@bp.get("/phenotype/redcap-dictionary.csv")
@token_required
@documented(
    summary="The LIMS's instruments as a REDCap data dictionary (upload it in REDCap's Data "
    "Dictionary page to build a project the import reads)",
    content_type="text/csv",
)
def redcap_dictionary() -> ResponseReturnValue:
    current_actor()  # any signed-in role: the dictionary holds no subject data
    return Response(
        dictionary_csv(lims_instruments()),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=lims-redcap-dictionary.csv"},
    )
