"""Phenotype over the API (mounted under /api/v1): a subject's longitudinal record, the REDCap
dictionary, the import, and the summary the aliquot endpoint carries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from lims.db import get_session
from lims.errors import InvalidInput
from lims.phenotype import services
from lims.phenotype.schemas import (
    ImportOut,
    ImportQueryIn,
    PhenotypeSummaryOut,
    SubjectPhenotypeOut,
)
from lims.specimens.models import Aliquot
from lims.web import current_actor, documented, dump, token_required
from phenotype_link.catalog import lims_instruments
from phenotype_link.redcap import dictionary_csv

bp = Blueprint("phenotype_api", __name__, url_prefix="/api/v1")


_SUMMARY_OUT = PhenotypeSummaryOut()  # built once: every aliquot lookup dumps one


def aliquot_summary(aliquot: Aliquot) -> dict[str, Any]:
    """The phenotype summary GET /api/v1/aliquots/{barcode} carries; create_app hands it to
    storage, which sits beside phenotype and may not import it."""
    summary = services.aliquot_phenotype(get_session(), current_actor(), aliquot)
    return dump(_SUMMARY_OUT, summary)


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


@bp.post("/phenotype-imports")
@token_required
@documented(
    summary="Import a REDCap export (multipart field 'file'; optional field 'mapping', a mapping "
    "file for a project with other names); all or nothing: 422 lists row, record, event and "
    "field of every problem; ?dry_run=true answers what would be created and changed",
    query=ImportQueryIn,
    response=ImportOut,
    status=201,
    csv_upload=("multipart/form-data",),
)
def import_phenotype() -> ResponseReturnValue:
    args = ImportQueryIn().load(request.args)
    if (upload := request.files.get("file")) is None:
        raise InvalidInput(
            "Send the REDCap export as multipart/form-data field 'file'", field="file"
        )
    mapping = request.files.get("mapping")
    result = services.import_redcap(
        get_session(),
        current_actor(),
        data=upload.read(),
        mapping=mapping.read().decode("utf-8", "replace") if mapping is not None else None,
        filename=upload.filename,
        dry_run=args["dry_run"],
        today=datetime.now(UTC).date(),
    )
    return dump(ImportOut(), result), 200 if result.is_dry_run else 201
