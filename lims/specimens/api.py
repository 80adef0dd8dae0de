"""The specimens feature over the API (mounted under /api/v1)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue

from lims.db import get_session
from lims.errors import InvalidInput
from lims.specimens import services
from lims.specimens.models import Aliquot
from lims.specimens.schemas import (
    AccessionIn,
    AliquotOut,
    AliquotsIn,
    AliquotsOut,
    ConsentDocumentIn,
    ConsentDocumentListOut,
    ConsentDocumentOut,
    ConsentEventOut,
    ConsentIn,
    ConsentQueryIn,
    ConsentWithdrawalIn,
    ConsentWithdrawalOut,
    DnaExtractionIn,
    ImportOut,
    SpecimenOut,
    SubAliquotsIn,
    SubjectConsentOut,
    SubjectDetailOut,
    SubjectImportOut,
    SubjectIn,
    SubjectOut,
    SubjectPageOut,
    SubjectQueryIn,
    UncollectedApiIn,
    UncollectedOut,
    VisitIn,
    VisitOut,
)
from lims.specimens.services.plausibility import checks_from
from lims.web import current_actor, documented, dump, json_body, token_required

bp = Blueprint("specimens_api", __name__, url_prefix="/api/v1")


def today() -> date:
    """The date consent is asked about when the caller gives none (UTC)."""
    return datetime.now(UTC).date()


def _made(aliquots: Sequence[Aliquot]) -> dict[str, Any]:
    codes = ",".join(a.barcode for a in aliquots)
    return dump(
        AliquotsOut(),
        {"aliquots": aliquots, "print_labels_url": f"/labels/print?barcodes={codes}"},
    )


@bp.get("/subjects")
@token_required
@documented(
    summary="Subjects, filtered by site, diagnosis and enrolment status, a page at a time",
    query=SubjectQueryIn,
    response=SubjectPageOut,
)
def list_subjects() -> ResponseReturnValue:
    args = SubjectQueryIn().load(request.args)
    rows, total = services.list_subjects(get_session(), current_actor(), **args)
    items = [
        {**SubjectOut().dump(r.subject), "visits": r.visits, "aliquots": r.aliquots} for r in rows
    ]
    return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}


@bp.get("/subjects/<study_code>")
@token_required
@documented(
    summary="One subject with visits, primary tubes (pre-analytics, SPREC) and aliquots",
    response=SubjectDetailOut,
)
def get_subject(study_code: str) -> ResponseReturnValue:
    subject = services.subject_record(get_session(), current_actor(), study_code)
    return dump(SubjectDetailOut(), subject)


@bp.post("/subjects")
@token_required
@documented(
    summary="Register a subject (technician)", body=SubjectIn, response=SubjectOut, status=201
)
def register_subject() -> ResponseReturnValue:
    body = SubjectIn().load(json_body())
    subject = services.register_subject(get_session(), current_actor(), **body)
    return dump(SubjectOut(), subject), 201


@bp.post("/subjects/<study_code>/visits")
@token_required
@documented(
    summary="Register a visit of a subject (technician)",
    body=VisitIn,
    response=VisitOut,
    status=201,
)
def register_visit(study_code: str) -> ResponseReturnValue:
    body = VisitIn().load(json_body())
    visit = services.register_visit(get_session(), current_actor(), study_code=study_code, **body)
    return dump(VisitOut(), visit), 201


@bp.post("/subjects/<study_code>/consent-withdrawal")
@token_required
@documented(
    summary="Record a withdrawal of consent at a level; no further use flags every aliquot",
    body=ConsentWithdrawalIn,
    response=ConsentWithdrawalOut,
)
def withdraw_consent(study_code: str) -> ResponseReturnValue:
    body = ConsentWithdrawalIn().load(json_body())
    withdrawal = services.withdraw_consent(
        get_session(), current_actor(), study_code=study_code, **body
    )
    return dump(ConsentWithdrawalOut(), withdrawal)


@bp.get("/subjects/<study_code>/consent")
@token_required
@documented(
    summary="A subject's consent history and what it permits as of a date (GRU, HMB, DS, POA)",
    query=ConsentQueryIn,
    response=SubjectConsentOut,
)
def get_consent(study_code: str) -> ResponseReturnValue:
    on = ConsentQueryIn().load(request.args)["on"] or today()
    session, actor = get_session(), current_actor()
    subject = services.get_subject(session, actor, study_code)
    return dump(SubjectConsentOut(), services.consent_summary(session, actor, subject, on=on))


@bp.post("/subjects/<study_code>/consent-events")
@token_required
@documented(
    summary="Record a signed consent (or re-consent on a new version) with its answers",
    body=ConsentIn,
    response=ConsentEventOut,
    status=201,
)
def record_consent(study_code: str) -> ResponseReturnValue:
    body = ConsentIn().load(json_body())
    event = services.record_consent(get_session(), current_actor(), study_code=study_code, **body)
    return dump(ConsentEventOut(), event), 201


@bp.get("/consent-documents")
@token_required
@documented(
    summary="Consent documents and their DUO-mapped statements", response=ConsentDocumentListOut
)
def list_consent_documents() -> ResponseReturnValue:
    documents = services.list_consent_documents(get_session(), current_actor())
    return dump(ConsentDocumentListOut(), {"items": documents})


@bp.post("/consent-documents")
@token_required
@documented(
    summary="Register a consent document version and its statements (administrator)",
    body=ConsentDocumentIn,
    response=ConsentDocumentOut,
    status=201,
)
def create_consent_document() -> ResponseReturnValue:
    body = ConsentDocumentIn().load(json_body())
    document = services.create_consent_document(get_session(), current_actor(), **body)
    return dump(ConsentDocumentOut(), document), 201


@bp.post("/specimens")
@token_required
@documented(
    summary="Accession a primary tube collected at a visit, with pre-analytics (technician)",
    body=AccessionIn,
    response=SpecimenOut,
    status=201,
)
def accession_specimen() -> ResponseReturnValue:
    body = AccessionIn().load(json_body())
    specimen = services.accession_specimen(
        get_session(), current_actor(), **body, **checks_from(current_app.config)
    )
    return dump(SpecimenOut(), specimen), 201


@bp.post("/uncollected-tubes")
@token_required
@documented(
    summary="Record that a planned tube of a visit was not collected, or was missed, and why",
    body=UncollectedApiIn,
    response=UncollectedOut,
    status=201,
)
def record_uncollected_tube() -> ResponseReturnValue:
    body = UncollectedApiIn().load(json_body())
    planned = services.record_uncollected_tube(get_session(), current_actor(), **body)
    return dump(UncollectedOut(), planned), 201


@bp.get("/specimens/<barcode>")
@token_required
@documented(
    summary="One primary tube with its pre-analytics, SPREC code and aliquots", response=SpecimenOut
)
def get_specimen(barcode: str) -> ResponseReturnValue:
    return dump(SpecimenOut(), services.get_specimen(get_session(), current_actor(), barcode))


@bp.post("/specimens/<barcode>/aliquots")
@token_required
@documented(
    summary="Split a primary tube into N aliquots of V µL, e.g. serum (technician)",
    body=AliquotsIn,
    response=AliquotsOut,
    status=201,
)
def aliquot_specimen(barcode: str) -> ResponseReturnValue:
    body = AliquotsIn().load(json_body())
    made = services.aliquot_specimen(
        get_session(),
        current_actor(),
        specimen_barcode=barcode,
        specimen_type=body["specimen_type"],
        count=body["count"],
        volume_ul=body["volume_ul"],
        barcodes_given=body["barcodes"],
    )
    return _made(made), 201


@bp.post("/specimens/<barcode>/dna-extractions")
@token_required
@documented(
    summary="Record a DNA extraction from a whole-blood tube: a DNA stock with its yield",
    body=DnaExtractionIn,
    response=AliquotOut,
    status=201,
)
def extract_dna(barcode: str) -> ResponseReturnValue:
    body = DnaExtractionIn().load(json_body())
    stock = services.extract_dna(get_session(), current_actor(), specimen_barcode=barcode, **body)
    return dump(AliquotOut(), stock), 201


@bp.post("/aliquots/<barcode>/sub-aliquots")
@token_required
@documented(
    summary="Draw sub-aliquots from a stock (e.g. DNA); the stock's volume goes down",
    body=SubAliquotsIn,
    response=AliquotsOut,
    status=201,
)
def sub_aliquot(barcode: str) -> ResponseReturnValue:
    body = SubAliquotsIn().load(json_body())
    made = services.sub_aliquot(
        get_session(),
        current_actor(),
        parent_barcode=barcode,
        count=body["count"],
        volume_ul=body["volume_ul"],
        barcodes_given=body["barcodes"],
        dilution_factor=body["dilution_factor"],
    )
    return _made(made), 201


@bp.post("/subjects/import")
@token_required
@documented(
    summary="Enrol subjects from a CSV (multipart field 'file', or a text/csv body), each with "
    "the consent signed (consent_version, consented_on, yes/no per statement code); all or "
    "nothing (422 lists row, field and reason)",
    response=SubjectImportOut,
    status=201,
    csv_upload=("multipart/form-data", "text/csv"),
)
def import_subjects() -> ResponseReturnValue:
    if request.mimetype == "text/csv":
        data = request.stream
    elif (upload := request.files.get("file")) is not None:
        data = upload.stream
    else:
        raise InvalidInput(
            "Send the CSV as multipart/form-data field 'file' or as a text/csv body",
            field="file",
        )
    result = services.import_subjects(get_session(), current_actor(), data=data)
    return dump(SubjectImportOut(), result), 201


@bp.post("/aliquot-imports")
@token_required
@documented(
    summary="Import a CSV of aliquots (multipart field 'file', or a text/csv body); "
    "all rows are checked first and nothing is written if any is wrong (422 lists row, "
    "field and reason)",
    response=ImportOut,
    status=201,
    csv_upload=("multipart/form-data", "text/csv"),
)
def import_aliquots() -> ResponseReturnValue:
    if request.mimetype == "text/csv":  # read as it arrives, never held whole
        data, filename = request.stream, "request-body.csv"
    elif (upload := request.files.get("file")) is not None:
        data, filename = upload.stream, upload.filename or "upload.csv"
    else:
        raise InvalidInput(
            "Send the CSV as multipart/form-data field 'file' or as a text/csv body",
            field="file",
        )
    result = services.import_aliquots(
        get_session(),
        current_actor(),
        data=data,
        filename=filename,
        max_rows=current_app.config["MAX_IMPORT_ROWS"],
        **checks_from(current_app.config),
    )
    return dump(ImportOut(), result), 201
