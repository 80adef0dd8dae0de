"""Feasibility input and output over the API (the criteria document itself is read by
lims/requests/criteria: parse_criteria names each problem by its path)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from lims.web import Schema


class FeasibilityIn(Schema):
    # The document of docs/user/request-criteria.md; checked by parse_criteria, not here.
    criteria = fields.Dict(keys=fields.String(), required=True)


class CountOut(Schema):
    shown = fields.String()  # "fewer than 5", "40", or the exact count for staff
    value = fields.Integer(allow_none=True)  # None when hidden
    exact = fields.Boolean()


class CountRowOut(Schema):
    diagnosis = fields.Method("_diagnosis", allow_none=True)
    subjects = fields.Nested(CountOut)
    visits = fields.Nested(CountOut)
    aliquots = fields.Nested(CountOut)

    def _diagnosis(self, row: Any) -> str | None:
        return row.diagnosis.value if row.diagnosis else None


class FeasibilityOut(Schema):
    criteria = fields.Method("_criteria")
    criteria_hash = fields.String()
    is_exact = fields.Boolean()
    k = fields.Integer()
    total = fields.Nested(CountRowOut)
    by_diagnosis = fields.List(fields.Nested(CountRowOut), attribute="rows")

    def _criteria(self, answer: Any) -> dict[str, Any]:
        document: dict[str, Any] = answer.criteria.document()
        return document


class UnlockIn(Schema):
    note = fields.String(required=True, validate=validate.Length(min=3, max=500))


class LockoutOut(Schema):
    lockout_id = fields.Integer()
    username = fields.String()
    locked_at = fields.DateTime()
    distinct_criteria = fields.Integer()
