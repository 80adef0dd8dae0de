"""HTML pages of the specimens feature: subjects, visits, accession, processing, imports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from lims.actors import STAFF_AND_ADMIN, Role
from lims.auth.models import Site
from lims.db import get_session
from lims.errors import InvalidInput, LimsError, plural
from lims.specimens import services, sprec
from lims.specimens.consent_models import StatementKind, WithdrawalLevel
from lims.specimens.duo import DuoTerm
from lims.specimens.models import (
    CollectionOutcome,
    Dystonia,
    EnrolmentStatus,
    Sex,
    SpecimenType,
    Temperature,
    TubeType,
)
from lims.specimens.quality import (
    ExtractionMethod,
    GelIntegrity,
    InterferenceGrade,
    QuantificationMethod,
)
from lims.specimens.schemas import (
    AliquotsIn,
    ConsentDocumentFormIn,
    ConsentIn,
    ConsentWithdrawalIn,
    DnaExtractionIn,
    NindsGuidIn,
    SubAliquotsFormIn,
    SubjectIn,
    SubjectQueryIn,
    TubeIn,
    TubeNotesIn,
    UncollectedIn,
    VisitIn,
)
from lims.specimens.services.imports import COLUMNS
from lims.specimens.services.plausibility import checks_from
from lims.web import NAV, current_actor, flash_problem

bp = Blueprint("specimens", __name__)

NAV.append(("specimens.subjects", "Subjects", STAFF_AND_ADMIN))
NAV.append(("specimens.consent_documents", "Consent forms", STAFF_AND_ADMIN))
NAV.append(("specimens.import_form", "Import aliquots", (Role.TECHNICIAN, Role.ADMIN)))
NAV.append(("specimens.subject_import_form", "Import subjects", (Role.TECHNICIAN, Role.ADMIN)))

CHOICES = {
    "sexes": list(Sex),
    "diagnoses": list(Dystonia),
    "statuses": list(EnrolmentStatus),
    "tube_types": list(TubeType),
    "outcomes": list(CollectionOutcome),
    "specimen_types": list(SpecimenType),
    "temperatures": list(Temperature),
    "interference_grades": list(InterferenceGrade),
    "quantification_methods": list(QuantificationMethod),
    "gel_integrities": list(GelIntegrity),
    "extraction_methods": list(ExtractionMethod),
}
TUBE_DESCRIPTIONS = {
    TubeType.PED: "potassium EDTA (lavender)",
    TubeType.SED: "sodium EDTA",
    TubeType.SST: "serum separator, clot activator + gel (gold)",
    TubeType.CAT: "serum tube WITHOUT clot activator (not BD's 'CAT')",
    TubeType.SCI: "sodium citrate (light blue)",
    TubeType.HEP: "lithium heparin (green)",
    TubeType.PXD: "PAXgene blood DNA",
    TubeType.ZZZ: "other",
}


@bp.context_processor
def _choices() -> dict[str, Any]:
    return {
        "can_handle_tubes": current_user.is_authenticated
        and current_user.role in (Role.TECHNICIAN, Role.ADMIN),
        "sprec_version": sprec.SPREC_VERSION,
        "tube_descriptions": TUBE_DESCRIPTIONS,
        **CHOICES,
    }


def _problem_page(err: LimsError, template: str, **context: Any) -> ResponseReturnValue:
    flash_problem(err)
    return render_template(template, errors=err.field_errors, **context), err.status


# ---- subjects -------------------------------------------------------------------------------


@bp.get("/subjects")
@login_required
def subjects() -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    given = {k: v.strip() for k, v in request.args.items() if v.strip()}  # "" = any
    args = SubjectQueryIn().load(given)
    rows, total = services.list_subjects(session, actor, **args)
    sites = [site.code for site in services.list_sites(session, actor)]
    return render_template(
        "specimens/subjects.html", rows=rows, total=total, args=args, sites=sites
    )


@bp.get("/subjects/new")
@login_required
def new_subject() -> ResponseReturnValue:
    current_actor().require(Role.TECHNICIAN)
    site = current_user.site.code if current_user.site else ""
    form = {"site_code": site}
    return render_template("specimens/subject_new.html", form=form, errors={}, sites=_sites())


def _sites() -> list[Site]:
    return services.list_sites(get_session(), current_actor())


@bp.post("/subjects")
@login_required
def register_subject() -> ResponseReturnValue:
    try:
        form = SubjectIn().load(request.form)
        subject = services.register_subject(get_session(), current_actor(), **form)
    except LimsError as err:
        return _problem_page(err, "specimens/subject_new.html", form=request.form, sites=_sites())
    flash(f"Subject {subject.study_code} registered.", "success")
    return redirect(url_for("specimens.subject", study_code=subject.study_code))


def _subject_page(study_code: str, **context: Any) -> str:
    session, actor = get_session(), current_actor()
    subject = services.subject_record(session, actor, study_code)
    consent = services.consent_summary(session, actor, subject, on=datetime.now(UTC).date())
    context.setdefault("errors", {})
    context.setdefault("form", {})
    chosen = context["form"].get("document_id") or request.args.get("document", "")
    document = next(
        (d for d in consent.documents if str(d.id) == str(chosen)),
        consent.documents[0] if consent.documents else None,
    )
    return render_template(
        "specimens/subject.html",
        subject=subject,
        open_aliquots=services.open_aliquots(subject),
        next_visit=max((v.visit_number for v in subject.visits), default=0) + 1,
        consent=consent,
        consent_document=document,
        withdrawal_levels=list(WithdrawalLevel),
        **context,
    )


@bp.get("/subjects/import")
@login_required
def subject_import_form() -> ResponseReturnValue:
    current_actor().require(Role.TECHNICIAN)
    return render_template("specimens/subject_import.html", problems=[])


@bp.post("/subjects/import")
@login_required
def import_subjects() -> ResponseReturnValue:
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise InvalidInput("Choose a CSV file to import", field="file")
        result = services.import_subjects(get_session(), current_actor(), data=upload.stream)
    except LimsError as err:
        flash_problem(err)
        return render_template("specimens/subject_import.html", problems=err.errors), err.status
    flash(
        f"Enrolled {plural(result.subjects, 'subject')}, {result.consents} with consent.", "success"
    )
    return redirect(url_for("specimens.subjects"))


@bp.get("/subjects/<study_code>")
@login_required
def subject(study_code: str) -> ResponseReturnValue:
    return _subject_page(study_code)


@bp.post("/subjects/<study_code>/visits")
@login_required
def register_visit(study_code: str) -> ResponseReturnValue:
    try:
        form = VisitIn().load(request.form)
        visit = services.register_visit(
            get_session(), current_actor(), study_code=study_code, **form
        )
    except LimsError as err:
        flash_problem(err)
        return _subject_page(study_code, errors=err.field_errors, form=request.form), err.status
    flash(f"Visit {visit.label} registered; accession its tubes below.", "success")
    return redirect(url_for("specimens.subject", study_code=visit.subject.study_code))


@bp.post("/subjects/<study_code>/consent-events")
@login_required
def record_consent(study_code: str) -> ResponseReturnValue:
    try:
        form = ConsentIn().load(request.form)
        event = services.record_consent(
            get_session(), current_actor(), study_code=study_code, **form
        )
    except LimsError as err:
        flash_problem(err)
        return _subject_page(study_code, errors=err.field_errors, form=request.form), err.status
    flash(
        f"Consent on {event.document.label if event.document else 'the form'} "
        f"signed {event.occurred_on} recorded for {event.subject.study_code}.",
        "success",
    )
    return redirect(url_for("specimens.subject", study_code=event.subject.study_code))


@bp.post("/subjects/<study_code>/consent-withdrawal")
@login_required
def withdraw_consent(study_code: str) -> ResponseReturnValue:
    try:
        form = ConsentWithdrawalIn().load(request.form)
        withdrawal = services.withdraw_consent(
            get_session(), current_actor(), study_code=study_code, **form
        )
    except LimsError as err:
        flash_problem(err)
        return _subject_page(study_code, errors=err.field_errors, form=request.form), err.status
    code = withdrawal.subject.study_code
    if withdrawal.level is WithdrawalLevel.NO_FURTHER_USE:
        flash(
            f"Consent withdrawal recorded for {code}; "
            f"{plural(withdrawal.aliquots_affected, 'aliquot')} flagged. Dispose of them below "
            "if required.",
            "warning",
        )
    else:
        flash(f"Withdrawal ({withdrawal.level.label}) recorded for {code}.", "warning")
    return redirect(url_for("specimens.subject", study_code=code))


@bp.post("/subjects/<study_code>/ninds-guid")
@login_required
def set_ninds_guid(study_code: str) -> ResponseReturnValue:
    try:
        form = NindsGuidIn().load(request.form)
        subject = services.set_ninds_guid(
            get_session(), current_actor(), study_code=study_code, **form
        )
    except LimsError as err:
        flash_problem(err)
        return _subject_page(study_code, errors=err.field_errors, form=request.form), err.status
    guid = subject.ninds_guid or "removed"
    flash(f"NINDS GUID of {subject.study_code}: {guid}.", "success")
    return redirect(url_for("specimens.subject", study_code=subject.study_code))


# ---- consent documents ----------------------------------------------------------------------

# Blank statement rows the new-document form offers beyond those it starts with.
SPARE_STATEMENT_ROWS = 4


@bp.get("/consent-documents")
@login_required
def consent_documents() -> ResponseReturnValue:
    documents = services.list_consent_documents(get_session(), current_actor())
    return render_template("specimens/consent_documents.html", documents=documents)


@bp.get("/consent-documents/<int:document_id>")
@login_required
def consent_document(document_id: int) -> ResponseReturnValue:
    document = services.get_consent_document(get_session(), current_actor(), document_id)
    return render_template("specimens/consent_document.html", document=document)


def _document_form(form: dict[str, str], **context: Any) -> str:
    """The new-document page, with the statement rows the form holds and some blank ones."""
    context.setdefault("errors", {})
    context.setdefault("problems", [])
    rows = ConsentDocumentFormIn.rows(form)
    return render_template(
        "specimens/consent_document_new.html",
        form=form,
        rows=[*rows, *({} for _ in range(SPARE_STATEMENT_ROWS))],
        kinds=list(StatementKind),
        duo_terms=list(DuoTerm),
        **context,
    )


@bp.get("/consent-documents/new")
@login_required
def new_consent_document() -> ResponseReturnValue:
    """A new document, or (?from=<id>) a new version of one, its statements copied to edit."""
    session, actor = get_session(), current_actor()
    actor.require(Role.ADMIN)
    form: dict[str, str] = {}
    if (source := request.args.get("from", "")).isdigit():
        earlier = services.get_consent_document(session, actor, int(source))
        form = {"name": earlier.name, "irb_reference": earlier.irb_reference}
        for n, st in enumerate(earlier.statements):
            values = {
                "code": st.code,
                "text": st.text,
                "kind": st.kind.value,
                "duo_id": st.duo_id.value if st.duo_id else "",
                "disease_id": st.disease_id or "",
                "restricts_on": {True: "yes", False: "no", None: ""}[st.restricts_on],
            }
            form |= {f"statements-{n}-{k}": v for k, v in values.items()}
    return _document_form(form, source=source)


@bp.post("/consent-documents")
@login_required
def create_consent_document() -> ResponseReturnValue:
    # Rows renumbered without the blank ones, so a message's row is the row shown again.
    form = {k: v for k, v in request.form.items() if not k.startswith("statements-")}
    for n, row in enumerate(ConsentDocumentFormIn.rows(request.form)):
        form |= {f"statements-{n}-{k}": v for k, v in row.items()}
    try:
        values = ConsentDocumentFormIn().load(form)
        document = services.create_consent_document(get_session(), current_actor(), **values)
    except LimsError as err:
        flash_problem(err)
        page = _document_form(form, errors=err.field_errors, problems=err.errors)
        return page, err.status
    statements = plural(len(document.statements), "statement")
    flash(f"{document.label} registered with {statements}.", "success")
    return redirect(url_for("specimens.consent_document", document_id=document.id))


# ---- accession ------------------------------------------------------------------------------


def _accession_page(study_code: str, visit_number: int, **context: Any) -> str:
    visit = services.find_visit(
        get_session(), current_actor(), study_code=study_code, visit_number=visit_number
    )
    context.setdefault("errors", {})
    context.setdefault("form", {"storage_temperature_c": "-80"})
    # Receipt and processing are read on the recording technician's site's clock (tubes.py).
    lab = current_user.site or visit.subject.site
    return render_template("specimens/accession.html", visit=visit, lab=lab, **context)


@bp.get("/subjects/<study_code>/visits/<int:visit_number>/accession")
@login_required
def accession_form(study_code: str, visit_number: int) -> ResponseReturnValue:
    current_actor().require(Role.TECHNICIAN)
    return _accession_page(study_code, visit_number)


@bp.post("/subjects/<study_code>/visits/<int:visit_number>/accession")
@login_required
def accession(study_code: str, visit_number: int) -> ResponseReturnValue:
    try:
        form = TubeIn().load(request.form)
        specimen = services.accession_specimen(
            get_session(),
            current_actor(),
            study_code=study_code,
            visit_number=visit_number,
            **form,
            **checks_from(current_app.config),
        )
    except LimsError as err:
        flash_problem(err)
        page = _accession_page(study_code, visit_number, errors=err.field_errors, form=request.form)
        return page, err.status
    flash(
        f"Tube {specimen.barcode} accessioned (SPREC {specimen.sprec_code}). "
        "Scan the next tube, or process this one.",
        "success",
    )
    return redirect(url_for("specimens.specimen", barcode=specimen.barcode))


@bp.post("/subjects/<study_code>/visits/<int:visit_number>/uncollected")
@login_required
def record_uncollected(study_code: str, visit_number: int) -> ResponseReturnValue:
    """A planned tube that was not collected or was missed, recorded from the accession page."""
    try:
        form = UncollectedIn().load(request.form)
        planned = services.record_uncollected_tube(
            get_session(),
            current_actor(),
            study_code=study_code,
            visit_number=visit_number,
            **form,
        )
    except LimsError as err:
        flash_problem(err)
        page = _accession_page(
            study_code, visit_number, uncollected_errors=err.field_errors, uncollected=request.form
        )
        return page, err.status
    flash(
        f"{planned.tube_type.value} tube ({planned.specimen_type.value}) recorded as "
        f"{planned.outcome.label} for visit {visit_number}.",
        "success",
    )
    return redirect(url_for("specimens.subject", study_code=planned.visit.subject.study_code))


# ---- processing -----------------------------------------------------------------------------


def _specimen_page(barcode: str, **context: Any) -> str:
    specimen = services.get_specimen(get_session(), current_actor(), barcode)
    # Only this tube's own aliquots: the list comes from the URL.
    own = {a.barcode for a in specimen.aliquots}
    made = [c for c in request.args.get("made", "").split(",") if c in own]
    context.setdefault("errors", {})
    context.setdefault("form", {})
    return render_template(
        "specimens/specimen.html",
        specimen=specimen,
        made=made,
        stocks=[
            a for a in specimen.aliquots if a.parent is None and a.specimen_type == SpecimenType.DNA
        ],
        codes_by_type={
            t: sprec.fluid_code(
                specimen,
                tube_type=specimen.tube_type,
                sample=t,
                storage_temperature_c=specimen.storage_temperature_c,
            )
            for t in sorted({a.specimen_type for a in specimen.aliquots})
            if t not in sprec.DERIVATIVES
        },
        **context,
    )


@bp.post("/specimens/<barcode>/notes")
@login_required
def set_tube_notes(barcode: str) -> ResponseReturnValue:
    try:
        form = TubeNotesIn().load(request.form)
        specimen = services.set_tube_notes(get_session(), current_actor(), barcode=barcode, **form)
    except LimsError as err:
        flash_problem(err)
        page = _specimen_page(barcode, errors=err.field_errors, form=request.form, failed="notes")
        return page, err.status
    flash(f"Notes of {specimen.barcode} saved.", "success")
    return redirect(url_for("specimens.specimen", barcode=specimen.barcode))


@bp.get("/specimens/<barcode>")
@login_required
def specimen(barcode: str) -> ResponseReturnValue:
    return _specimen_page(barcode)


def _after_processing(barcode: str, made: list[str], what: str) -> ResponseReturnValue:
    flash(f"{what}: {', '.join(made)}. Print their labels now.", "success")
    return redirect(url_for("specimens.specimen", barcode=barcode, made=",".join(made)))


def _processing_failed(barcode: str, err: LimsError, form_name: str) -> ResponseReturnValue:
    flash_problem(err)
    page = _specimen_page(barcode, errors=err.field_errors, form=request.form, failed=form_name)
    return page, err.status


@bp.post("/specimens/<barcode>/aliquots")
@login_required
def aliquot_specimen(barcode: str) -> ResponseReturnValue:
    try:
        form = AliquotsIn().load(request.form)
        made = services.aliquot_specimen(
            get_session(),
            current_actor(),
            specimen_barcode=barcode,
            specimen_type=form["specimen_type"],
            count=form["count"],
            volume_ul=form["volume_ul"],
            barcodes_given=form["barcodes"],
        )
    except LimsError as err:
        return _processing_failed(barcode, err, "aliquots")
    kind = made[0].specimen_type.value
    return _after_processing(
        made[0].specimen.barcode,
        [a.barcode for a in made],
        plural(len(made), f"{kind} aliquot"),
    )


@bp.post("/specimens/<barcode>/dna-extractions")
@login_required
def extract_dna(barcode: str) -> ResponseReturnValue:
    try:
        form = DnaExtractionIn().load(request.form)
        stock = services.extract_dna(
            get_session(), current_actor(), specimen_barcode=barcode, **form
        )
    except LimsError as err:
        return _processing_failed(barcode, err, "dna")
    return _after_processing(
        stock.specimen.barcode,
        [stock.barcode],
        f"DNA stock ({stock.total_ug} µg in {stock.volume_ul} µL)",
    )


@bp.post("/specimens/<barcode>/sub-aliquots")
@login_required
def sub_aliquot(barcode: str) -> ResponseReturnValue:
    try:
        form = SubAliquotsFormIn().load(request.form)
        made = services.sub_aliquot(
            get_session(),
            current_actor(),
            parent_barcode=form["parent_barcode"],
            count=form["count"],
            volume_ul=form["volume_ul"],
            barcodes_given=form["barcodes"],
            dilution_factor=form["dilution_factor"],
        )
    except LimsError as err:
        return _processing_failed(barcode, err, "sub")
    return _after_processing(
        made[0].specimen.barcode, [a.barcode for a in made], plural(len(made), "sub-aliquot")
    )


# ---- bulk import ----------------------------------------------------------------------------


@bp.get("/specimens/import")
@login_required
def import_form() -> ResponseReturnValue:
    current_actor().require(Role.TECHNICIAN)
    return render_template("specimens/import.html", columns=COLUMNS, problems=[])


@bp.get("/specimens/import/template.csv")
@login_required
def import_template() -> ResponseReturnValue:
    return Response(
        services.template_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=aliquot-import-template.csv"},
    )


@bp.post("/specimens/import")
@login_required
def import_aliquots() -> ResponseReturnValue:
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise InvalidInput("Choose a CSV file to upload", field="file")
        result = services.import_aliquots(
            get_session(),
            current_actor(),
            data=upload.stream,
            filename=upload.filename,
            max_rows=current_app.config["MAX_IMPORT_ROWS"],
            **checks_from(current_app.config),
        )
    except LimsError as err:
        flash_problem(err)
        page = render_template("specimens/import.html", columns=COLUMNS, problems=err.errors)
        return page, err.status
    flash(
        f"Imported {result.aliquots} aliquots ({result.tubes} new tubes, {result.visits} new "
        f"visits) from {upload.filename}, {result.first_barcode} to {result.last_barcode}. "
        f"SHA-256 {result.sha256[:16]}…",
        "success",
    )
    return redirect(url_for("specimens.import_form"))
