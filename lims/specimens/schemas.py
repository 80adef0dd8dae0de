from __future__ import annotations

from marshmallow import fields

from lims.web import Schema


class AliquotOut(Schema):
    """An aliquot as staff see it (coded subject id only; never identifying data)."""

    barcode = fields.String()
    subject_code = fields.Function(lambda a: a.specimen.visit.subject.study_code)
    site = fields.Function(lambda a: a.specimen.visit.subject.site.code)
    visit_number = fields.Function(lambda a: a.specimen.visit.visit_number)
    specimen_type = fields.Function(lambda a: str(a.specimen_type))
    volume_ul = fields.Integer()
    concentration_ng_ul = fields.Float(allow_none=True)
    a260_280 = fields.Float(allow_none=True)
    status = fields.Function(lambda a: str(a.status))
    freeze_thaw_count = fields.Integer()
    parent_barcode = fields.Function(lambda a: a.parent.barcode if a.parent else None)
    consent_withdrawn = fields.Function(lambda a: not a.subject.has_consent)
    collected_at = fields.Function(lambda a: a.specimen.collected_at.isoformat())
