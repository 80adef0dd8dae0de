"""Phenotype over the API: the aliquot's summary, a subject's longitudinal record (staff), and
the import's query and answer.

The aliquot summary is the investigator-safe one: no study code, date or free text. The
longitudinal record names the subject and its dates, so only staff get it (the service checks).
"""

from __future__ import annotations

import json
from typing import Any

from marshmallow import fields

from lims.web import Schema


class PhenotypeSummaryOut(Schema):
    """What an aliquot's visit says of the subject; no study code, date or free text."""

    diagnoses = fields.List(fields.String(), metadata={"description": "e.g. ['cervical']"})
    body_regions = fields.List(fields.String())
    distribution = fields.String(allow_none=True, metadata={"description": "focal, segmental…"})
    scale_totals = fields.Dict(
        keys=fields.String(),
        values=fields.Float(allow_none=True),
        metadata={"description": "scale id -> total (computed, else as imported)"},
    )
    days_since_botulinum_toxin = fields.Integer(
        allow_none=True, metadata={"description": "at collection; null: no injection before it"}
    )


class DiagnosisOut(Schema):
    dystonia = fields.Function(lambda d: d.dystonia.value)
    subtype = fields.String(allow_none=True)
    body_regions = fields.List(fields.String())
    age_at_onset_years = fields.Integer(allow_none=True)


class ScaleAdministrationOut(Schema):
    scale_id = fields.String()
    scale_version = fields.String()
    repeat_instance = fields.Integer()
    answers = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True))
    total_score = fields.Float(allow_none=True)
    subscale_scores = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True))
    imported_total = fields.Float(allow_none=True)
    flags = fields.List(fields.String())
    rater = fields.String(allow_none=True)


class TreatmentOut(Schema):
    kind = fields.Function(lambda t: t.kind.value)
    repeat_instance = fields.Integer()
    product = fields.String()
    dose_units = fields.Float(allow_none=True)
    muscles = fields.List(fields.String())
    dbs_targets = fields.List(fields.String())
    given_on = fields.Date(allow_none=True)


class FindingOut(Schema):
    kind = fields.Function(lambda f: f.kind.value)
    item = fields.String()
    value = fields.String()


class TubeOut(Schema):
    barcode = fields.String()
    specimen_type = fields.String()
    aliquots = fields.Integer()
    in_storage = fields.Integer()


class VisitPhenotypeOut(Schema):
    visit_number = fields.Function(lambda e: e.visit.visit_number)
    visit_on = fields.Function(lambda e: e.visit.visit_on.isoformat(), metadata={"format": "date"})
    day = fields.Integer(metadata={"description": "days since the first visit"})
    body_regions = fields.List(fields.String(), attribute="regions")
    new_body_regions = fields.List(fields.String(), attribute="new_regions")
    distribution = fields.String(allow_none=True)
    diagnoses = fields.List(fields.Nested(DiagnosisOut))
    scales = fields.List(fields.Nested(ScaleAdministrationOut))
    treatments = fields.List(fields.Nested(TreatmentOut))
    findings = fields.List(fields.Nested(FindingOut))
    tubes = fields.List(fields.Nested(TubeOut))


class SubjectPhenotypeOut(Schema):
    """A subject's longitudinal phenotype, visit by visit (staff only)."""

    study_code = fields.Function(lambda t: t.subject.study_code)
    primary_diagnosis = fields.Function(lambda t: t.subject.primary_diagnosis.value)
    visits = fields.List(fields.Nested(VisitPhenotypeOut))


def _plain(values: Any) -> Any:
    """Row values as JSON holds them (dates as ISO text)."""
    return json.loads(json.dumps(values, default=str)) if values is not None else None


class ImportQueryIn(Schema):
    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "true: answer what would change, write none"}
    )


class ChangeOut(Schema):
    label = fields.String(metadata={"description": "e.g. 'NA1-0007 V2 twstrs #1'"})
    kind = fields.String(metadata={"description": "created or changed"})
    before = fields.Function(lambda c: _plain(c.before), metadata={"type": "object"})
    after = fields.Function(lambda c: _plain(c.after), metadata={"type": "object"})


class ImportOut(Schema):
    sha256 = fields.String()
    is_dry_run = fields.Boolean()
    created = fields.Integer()
    changed = fields.Integer()
    unchanged = fields.Integer()
    changes = fields.List(fields.Nested(ChangeOut), metadata={"description": "the first 500"})
