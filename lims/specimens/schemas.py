"""Input (forms and JSON) and output schemas of the specimens feature."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC
from typing import Any, ClassVar

from marshmallow import fields, post_load, pre_load, validate

from lims.auth import timezones
from lims.errors import FIELD_LABELS
from lims.specimens import sprec
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
from lims.specimens.services import PreAnalytics, StatementSpec
from lims.web import PageOut, PageQuery, Schema, column_string


def _value(member: Any) -> str | None:
    return None if member is None else str(member)


class AliquotOut(Schema):
    """An aliquot as staff see it (coded subject id only; never identifying data)."""

    barcode = fields.String()
    subject_code = fields.Function(lambda a: a.specimen.visit.subject.study_code)
    site = fields.Function(lambda a: a.specimen.visit.subject.site.code)
    visit_number = fields.Function(lambda a: a.specimen.visit.visit_number)
    specimen_barcode = fields.Function(lambda a: a.specimen.barcode)
    specimen_type = fields.Function(lambda a: str(a.specimen_type))
    volume_ul = fields.Integer(metadata={"description": "what remains in the tube (µL)"})
    drawn_ul = fields.Integer(metadata={"description": "what went into it when it was made"})
    concentration_ng_ul = fields.Float(allow_none=True)
    a260_280 = fields.Float(allow_none=True)
    total_ug = fields.Float(allow_none=True)
    status = fields.Function(lambda a: str(a.status))
    freeze_thaw_count = fields.Integer()
    parent_barcode = fields.Function(lambda a: a.parent.barcode if a.parent else None)
    # Issue #16: this tube's own SPREC (and the version its tables follow), DNA QC, extraction.
    sprec_code = fields.String(allow_none=True)
    sprec_version = fields.String(allow_none=True)
    a260_230 = fields.Float(allow_none=True)
    quantification_method = fields.Function(lambda a: _value(a.quantification_method))
    din = fields.Float(allow_none=True)
    gel_integrity = fields.Function(lambda a: _value(a.gel_integrity))
    dilution_factor = fields.Float(allow_none=True)
    extraction_method = fields.Function(lambda a: _value(a.extraction_method))
    extraction_kit = fields.String(allow_none=True)
    extracted_on = fields.Date(allow_none=True)
    extracted_by = fields.String(allow_none=True)
    consent_withdrawn = fields.Function(lambda a: not a.subject.has_consent)
    collected_at = fields.Function(
        lambda a: timezones.iso(a.specimen.collected_at, a.specimen.collection_zone),
        metadata={"description": "ISO 8601 with the collecting site's offset"},
    )


# ---- input ----------------------------------------------------------------------------------


class Input(Schema):
    """Forms and JSON alike: blank values count as not given; the CSRF field is not data."""

    # The fields as the specimen forms show them (templates/specimens/).
    LABELS: ClassVar[Mapping[str, str]] = {
        "study_code": "Study code",
        "site_code": "Site",
        "visit_number": "Visit number",
        "visit_on": "Visit date",
        "tube_type": "Tube type",
        "specimen_type": "Specimen type",
        "volume_ml": "Volume (mL)",
        "volume_ul": "Volume (µL)",
        "count": "Number of aliquots",
        "collected_at": "Collected at",
        "received_at": "Received at",
        "processing_started_at": "Processing started at",
        "processed_at": "Processed at",
        "centrifuge_g": "Centrifuge (g)",
        "centrifuge_minutes": "Centrifuge (min)",
        "storage_temperature_c": "Storage temperature (°C)",
        "concentration_ng_ul": "Concentration (ng/µL)",
        "a260_280": "A260/280",
        "barcodes": "Barcodes",
        "parent_barcode": "Stock barcode",
        "document_id": "Consent form",
        "consented_on": "Date signed",
        "withdrawn_at": "Withdrawn at",
        "effective_on": "Effective from",
        "irb_reference": "IRB reference",
        "duo_id": "DUO term",
        "disease_id": "Disease (MONDO id)",
    }

    FIELD_LABELS.update(LABELS)  # every message and error list of the app spells them so

    @pre_load
    def _drop_blanks(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        return {
            key: value.strip() if isinstance(value, str) else value
            for key, value in data.items()
            if key != "csrf_token" and not (isinstance(value, str) and not value.strip())
        }


def _aware(**kwargs: Any) -> fields.AwareDateTime:
    # Times without a zone are UTC in this first version (the forms say so).
    return fields.AwareDateTime(default_timezone=UTC, **kwargs)


def _wall_clock(zone_of: str, **kwargs: Any) -> fields.DateTime:
    """A time as the site lived it: without an offset it is read on `zone_of`'s clock."""
    meaning = (
        f"ISO 8601. Without an offset it is the wall-clock time at {zone_of} (its IANA time "
        "zone); with one (2026-11-01T01:30-07:00) it is taken as given. A time that did not "
        "exist or happened twice at a daylight-saving change is refused: give the offset."
    )
    return fields.DateTime(metadata={"description": meaning}, **kwargs)


COLLECTING_SITE = "the collecting site (the subject's site)"
PROCESSING_LAB = "the processing lab (the recording user's site, else the collecting site)"


class SubjectIn(Input):
    study_code = column_string("subjects.study_code", 20, min_length=1, required=True)
    site_code = column_string("sites.code", 8, min_length=1, required=True)
    sex = fields.Enum(Sex, by_value=True, required=True)
    primary_diagnosis = fields.Enum(Dystonia, by_value=True, required=True)
    ninds_guid = column_string("subjects.ninds_guid", 20, load_default=None)


class VisitIn(Input):
    visit_number = fields.Integer(required=True, validate=validate.Range(min=1, max=999))
    visit_on = fields.Date(required=True)


class SubjectQueryIn(PageQuery):
    """Filters of the subject list; loads into list_subjects' keyword arguments. An empty
    value is refused (the list page drops its form's blank choices before loading)."""

    site_code = column_string("sites.code", 8, min_length=1, data_key="site", load_default=None)
    diagnosis = fields.Enum(Dystonia, by_value=True, load_default=None)
    enrolment_status = fields.Enum(EnrolmentStatus, by_value=True, load_default=None)


class ConsentWithdrawalIn(Input):
    withdrawn_at = _wall_clock(COLLECTING_SITE, required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    level = fields.Enum(WithdrawalLevel, by_value=True, load_default=WithdrawalLevel.NO_FURTHER_USE)


class ConsentIn(Input):
    """A signed consent: the document, the date signed and a yes/no per statement code. The
    form sends each answer as a radio named answer_<code>; JSON sends {"answers": {code: bool}}."""

    document_id = fields.Integer(required=True)
    consented_on = fields.Date(required=True)
    answers = fields.Dict(
        keys=fields.String(validate=validate.Length(max=40)),
        values=fields.Boolean(),
        load_default=dict,
        validate=validate.Length(max=50),
    )

    @pre_load
    def _radios(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, Mapping) or "answers" in data:
            return data
        radios = {k.removeprefix("answer_"): v for k, v in data.items() if k.startswith("answer_")}
        rest = {k: v for k, v in data.items() if not k.startswith("answer_")}
        return {**rest, "answers": radios}


class ConsentQueryIn(Input):
    on = fields.Date(load_default=None)  # as of this date; today (UTC) when not given


class StatementIn(Schema):
    code = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=40),
            validate.Regexp(
                r"^[a-z][a-z0-9_]*$",
                error="lower-case letters, digits and _, beginning with a letter (e.g. genetic)",
            ),
        ],
        metadata={"column": "consent_statements.code"},
    )
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    kind = fields.Enum(StatementKind, by_value=True, required=True)
    duo_id = fields.Enum(DuoTerm, by_value=True, load_default=None)
    disease_id = fields.String(
        load_default=None,
        validate=[
            validate.Length(max=20),
            validate.Regexp(r"^MONDO:\d{7}$", error="a MONDO id, e.g. MONDO:0003441"),
        ],
        metadata={"column": "consent_statements.disease_id"},
    )
    restricts_on = fields.Boolean(load_default=None)

    @post_load
    def _spec(self, data: dict[str, Any], **_: Any) -> StatementSpec:
        return StatementSpec(**data)


class ConsentDocumentIn(Input):
    name = column_string("consent_documents.name", 120, min_length=1, required=True)
    version = column_string("consent_documents.version", 20, min_length=1, required=True)
    effective_on = fields.Date(required=True)
    irb_reference = column_string(
        "consent_documents.irb_reference", 60, min_length=1, required=True
    )
    statements = fields.List(
        fields.Nested(StatementIn), required=True, validate=validate.Length(min=1, max=50)
    )


STATEMENT_FIELDS = ("code", "text", "kind", "duo_id", "disease_id", "restricts_on")
FORM_STATEMENT = re.compile(r"^statements-(\d{1,2})-([a-z_]+)$")


class ConsentDocumentFormIn(ConsentDocumentIn):
    """The web form of a consent document: its statements come as rows of fields named
    statements-<n>-<field>; a row left blank is not a statement."""

    @staticmethod
    def rows(form: Mapping[str, str]) -> list[dict[str, str]]:
        """The statement rows the form filled in, in order, blank rows left out."""
        found: dict[int, dict[str, str]] = {}
        for key, value in form.items():
            if (m := FORM_STATEMENT.match(key)) and m[2] in STATEMENT_FIELDS and value.strip():
                found.setdefault(int(m[1]), {})[m[2]] = value.strip()
        return [found[n] for n in sorted(found)]

    @pre_load
    def _statement_rows(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, Mapping) or "statements" in data:
            return data
        rest = {k: v for k, v in data.items() if not FORM_STATEMENT.match(k)}
        return {**rest, "statements": self.rows(data)}


class TubeIn(Input):
    """A primary tube and its pre-analytical record, as the accession form sends it."""

    barcode = column_string("specimens.barcode", 32, load_default=None)
    specimen_type = fields.Enum(SpecimenType, by_value=True, load_default=SpecimenType.WHOLE_BLOOD)
    tube_type = fields.Enum(TubeType, by_value=True, required=True)
    volume_ml = fields.Float(load_default=None, validate=validate.Range(min=0, min_inclusive=False))
    collected_at = _wall_clock(COLLECTING_SITE, required=True)
    received_at = _wall_clock(PROCESSING_LAB, load_default=None)
    processing_started_at = _wall_clock(PROCESSING_LAB, load_default=None)
    pre_processing_temperature = fields.Enum(Temperature, by_value=True, load_default=None)
    centrifuge_g = fields.Integer(load_default=None)
    centrifuge_minutes = fields.Integer(load_default=None)
    centrifuge_temperature = fields.Enum(Temperature, by_value=True, load_default=None)
    centrifuge_braked = fields.Boolean(load_default=None)
    processed_at = _wall_clock(PROCESSING_LAB, load_default=None)
    storage_temperature_c = fields.Integer(load_default=None)
    is_second_spun = fields.Boolean(load_default=None)
    hemolysis = fields.Enum(InterferenceGrade, by_value=True, load_default=None)
    lipemia = fields.Enum(InterferenceGrade, by_value=True, load_default=None)
    icterus = fields.Enum(InterferenceGrade, by_value=True, load_default=None)
    is_fasting = fields.Boolean(load_default=None)
    clotting_minutes = fields.Integer(load_default=None)
    notes = fields.String(load_default=None, validate=validate.Length(max=2000))

    @post_load
    def _pre_analytics(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """Gather the pre-analytical values into the PreAnalytics the service takes."""
        names = PreAnalytics.__dataclass_fields__
        pre = PreAnalytics(**{k: data.pop(k) for k in list(data) if k in names})
        return {**data, "pre": pre}


class AccessionIn(TubeIn):
    study_code = column_string("subjects.study_code", 20, min_length=1, required=True)
    visit_number = fields.Integer(required=True, validate=validate.Range(min=1, max=999))


class UncollectedIn(Input):
    """A tube the visit called for that was not collected, or was missed, and why."""

    specimen_type = fields.Enum(SpecimenType, by_value=True, required=True)
    tube_type = fields.Enum(TubeType, by_value=True, required=True)
    outcome = fields.Enum(
        CollectionOutcome,
        by_value=True,
        required=True,
        metadata={
            "description": "not_collected (the visit took place, this tube was not drawn) or "
            "missed (the collection did not take place)"
        },
    )
    reason = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=500), validate.Regexp(r"\S", error="say why")],
    )


class UncollectedApiIn(UncollectedIn):
    study_code = column_string("subjects.study_code", 20, min_length=1, required=True)
    visit_number = fields.Integer(required=True, validate=validate.Range(min=1, max=999))


class UncollectedOut(Schema):
    id = fields.Integer()
    study_code = fields.Function(lambda u: u.visit.subject.study_code)
    visit_number = fields.Function(lambda u: u.visit.visit_number, metadata={"type": "integer"})
    specimen_type = fields.Function(lambda u: u.specimen_type.value)
    tube_type = fields.Function(lambda u: u.tube_type.value)
    outcome = fields.Function(lambda u: u.outcome.value)
    reason = fields.String()
    recorded_at = fields.DateTime()


def _scanned_lines(data: Any) -> Any:
    """A textarea of scans, one per line, becomes a list; count defaults to how many."""
    if not isinstance(data, Mapping):
        return data
    data = dict(data)
    scans = data.get("barcodes")
    if isinstance(scans, str):
        data["barcodes"] = [line.strip() for line in scans.splitlines() if line.strip()]
    if not data.get("barcodes"):
        data.pop("barcodes", None)
    elif "count" not in data:
        data["count"] = len(data["barcodes"])
    return data


class AliquotsIn(Input):
    specimen_type = fields.Enum(SpecimenType, by_value=True, load_default=SpecimenType.SERUM)
    count = fields.Integer(required=True, validate=validate.Range(min=1, max=100))
    volume_ul = fields.Integer(required=True, validate=validate.Range(min=1))
    barcodes = fields.List(column_string("aliquots.barcode", 32), load_default=None)

    @pre_load
    def _lines(self, data: Any, **_: Any) -> Any:
        return _scanned_lines(data)


class SubAliquotsIn(Input):
    count = fields.Integer(required=True, validate=validate.Range(min=1, max=100))
    volume_ul = fields.Integer(required=True, validate=validate.Range(min=1))
    dilution_factor = fields.Float(
        load_default=None, validate=validate.Range(min=1, min_inclusive=False, max=1_000_000)
    )
    barcodes = fields.List(column_string("aliquots.barcode", 32), load_default=None)

    @pre_load
    def _lines(self, data: Any, **_: Any) -> Any:
        return _scanned_lines(data)


class SubAliquotsFormIn(SubAliquotsIn):
    """The web form names the stock in a field; the API names it in the URL."""

    parent_barcode = column_string("aliquots.barcode", 32, min_length=1, required=True)


class DnaExtractionIn(Input):
    volume_ul = fields.Integer(required=True, validate=validate.Range(min=1))
    concentration_ng_ul = fields.Float(required=True, validate=validate.Range(min=0))
    a260_280 = fields.Float(
        load_default=None,
        validate=validate.Range(min=0, max=5, min_inclusive=False, max_inclusive=False),
    )
    barcode = column_string("aliquots.barcode", 32, load_default=None)
    a260_230 = fields.Float(
        load_default=None,
        validate=validate.Range(min=0, max=5, min_inclusive=False, max_inclusive=False),
    )
    quantification_method = fields.Enum(QuantificationMethod, by_value=True, load_default=None)
    din = fields.Float(load_default=None, validate=validate.Range(min=1, max=10))
    gel_integrity = fields.Enum(GelIntegrity, by_value=True, load_default=None)
    extraction_method = fields.Enum(ExtractionMethod, by_value=True, load_default=None)
    extraction_kit = column_string("aliquots.extraction_kit", 80, load_default=None)
    extracted_on = fields.Date(load_default=None)
    extracted_by = column_string("aliquots.extracted_by", 80, load_default=None)


# ---- output ---------------------------------------------------------------------------------


class SubjectOut(Schema):
    study_code = fields.String()
    site = fields.Function(lambda s: s.site.code)
    sex = fields.Function(lambda s: str(s.sex))
    primary_diagnosis = fields.Function(lambda s: str(s.primary_diagnosis))
    enrolment_status = fields.Function(lambda s: str(s.enrolment_status))
    has_consent = fields.Boolean()
    consent_withdrawn_at = fields.DateTime(allow_none=True)
    ninds_guid = fields.String(allow_none=True)


class SubjectRowOut(SubjectOut):
    visits = fields.Integer()
    aliquots = fields.Integer()


class SubjectPageOut(PageOut):
    items = fields.List(fields.Nested(SubjectRowOut))


def _local(name: str, zone: str) -> fields.Function:
    """An instant as ISO 8601 with the offset of the site whose clock it was read on."""
    return fields.Function(
        lambda s: timezones.iso(getattr(s, name), getattr(s, zone)),
        allow_none=True,
        metadata={"type": "string", "format": "date-time", "nullable": True},
    )


class SpecimenOut(Schema):
    """A primary tube with its pre-analytical record, SPREC code and aliquots."""

    barcode = fields.String()
    subject_code = fields.Function(lambda s: s.visit.subject.study_code)
    visit_number = fields.Function(lambda s: s.visit.visit_number)
    specimen_type = fields.Function(lambda s: str(s.specimen_type))
    tube_type = fields.Function(lambda s: str(s.tube_type))
    volume_ml = fields.Float(allow_none=True)
    collection_time_zone = fields.String(attribute="collection_zone")
    processing_time_zone = fields.String(attribute="processing_zone")
    collected_at = _local("collected_at", "collection_zone")
    received_at = _local("received_at", "processing_zone")
    processing_started_at = _local("processing_started_at", "processing_zone")
    pre_processing_temperature = fields.Function(
        lambda s: str(s.pre_processing_temperature) if s.pre_processing_temperature else None
    )
    centrifuge_g = fields.Integer(allow_none=True)
    centrifuge_minutes = fields.Integer(allow_none=True)
    centrifuge_temperature = fields.Function(
        lambda s: str(s.centrifuge_temperature) if s.centrifuge_temperature else None
    )
    centrifuge_braked = fields.Boolean(allow_none=True)
    processed_at = _local("processed_at", "processing_zone")
    storage_temperature_c = fields.Integer(allow_none=True)
    is_second_spun = fields.Boolean(allow_none=True)
    sprec_code = fields.String(allow_none=True)
    # Tubes accessioned before the version was stored followed the same (2.0) tables.
    sprec_version = fields.Function(lambda s: s.sprec_version or sprec.FLUID_VERSION)
    hemolysis = fields.Function(lambda s: _value(s.hemolysis))
    lipemia = fields.Function(lambda s: _value(s.lipemia))
    icterus = fields.Function(lambda s: _value(s.icterus))
    is_fasting = fields.Boolean(allow_none=True)
    clotting_minutes = fields.Integer(allow_none=True)
    notes = fields.String(allow_none=True)
    aliquots = fields.List(fields.Nested(AliquotOut))


class VisitOut(Schema):
    study_code = fields.Function(lambda v: v.subject.study_code)
    visit_number = fields.Integer()
    visit_on = fields.Date()
    specimens = fields.List(fields.Nested(SpecimenOut))
    uncollected = fields.List(fields.Nested(UncollectedOut))


class SubjectDetailOut(SubjectOut):
    visits = fields.List(fields.Nested(VisitOut))


class ConsentWithdrawalOut(Schema):
    subject = fields.Nested(SubjectOut)
    aliquots_affected = fields.Integer()
    level = fields.Function(lambda w: str(w.level))


class StatementOut(Schema):
    position = fields.Integer()
    code = fields.String()
    text = fields.String()
    kind = fields.Function(lambda s: str(s.kind))
    duo_id = fields.Function(lambda s: str(s.duo_id) if s.duo_id else None)
    duo_code = fields.Function(lambda s: s.duo_id.name if s.duo_id else None)
    duo_label = fields.Function(lambda s: s.duo_id.label if s.duo_id else None)
    disease_id = fields.String(allow_none=True)
    restricts_on = fields.Boolean(allow_none=True)


class ConsentDocumentOut(Schema):
    id = fields.Integer()
    name = fields.String()
    version = fields.String()
    effective_on = fields.Date()
    irb_reference = fields.String()
    statements = fields.List(fields.Nested(StatementOut))


class ConsentDocumentListOut(Schema):
    items = fields.List(fields.Nested(ConsentDocumentOut))


class ConsentEventOut(Schema):
    id = fields.Integer()
    study_code = fields.Function(lambda e: e.subject.study_code)
    kind = fields.Function(lambda e: str(e.kind))
    occurred_on = fields.Date()
    document_id = fields.Integer(allow_none=True)
    document = fields.Function(lambda e: e.document.label if e.document else None)
    withdrawal_level = fields.Function(
        lambda e: str(e.withdrawal_level) if e.withdrawal_level else None
    )
    note = fields.String(allow_none=True)
    answers = fields.Function(lambda e: {a.statement.code: a.answer for a in e.answers})


class ConsentDecisionOut(Schema):
    purpose = fields.Function(lambda d: d.purpose.name)
    duo_id = fields.Function(lambda d: str(d.purpose))
    modifiers = fields.Function(lambda d: sorted(t.name for t in d.modifiers))
    permitted = fields.Boolean()
    reasons = fields.List(fields.String())
    for_reviewer = fields.Function(lambda d: [t.name for t in d.for_reviewer])


class SubjectConsentOut(Schema):
    """A subject's consent history and what the consent in force today permits."""

    study_code = fields.Function(lambda c: c.subject.study_code)
    has_consent = fields.Function(lambda c: c.subject.has_consent)
    events = fields.List(fields.Nested(ConsentEventOut))
    current = fields.Nested(ConsentEventOut, allow_none=True)
    permits = fields.Function(lambda c: [ConsentDecisionOut().dump(d) for d in c.permits])


class AliquotsOut(Schema):
    aliquots = fields.List(fields.Nested(AliquotOut))
    print_labels_url = fields.String()


class ImportOut(Schema):
    aliquots = fields.Integer()
    tubes = fields.Integer()
    visits = fields.Integer()
    sha256 = fields.String()
    first_barcode = fields.String()
    last_barcode = fields.String()


class SubjectImportOut(Schema):
    subjects = fields.Integer()
    consents = fields.Integer()


class NindsGuidIn(Input):
    """A NINDS GUID recorded after enrolment, or corrected; blank removes it."""

    ninds_guid = column_string("subjects.ninds_guid", 20, load_default=None)
    reason = fields.String(load_default=None, validate=validate.Length(max=500))


class TubeNotesIn(Input):
    """A primary tube's notes written or corrected after accession; blank removes them."""

    notes = fields.String(load_default=None, validate=validate.Length(max=2000))
    reason = fields.String(load_default=None, validate=validate.Length(max=500))
