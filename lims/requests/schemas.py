"""Request input (forms and JSON) and API output (issue 19).

Each audience has its own output: the investigator's view of a request never carries the
committee's votes, and no output carries the pseudonym secret.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from marshmallow import ValidationError, fields, post_load, pre_load, validate

from lims.requests.models import RequestState, Vote
from lims.requests.services import AttachmentKind
from lims.requests.services.workflow import DECISIONS
from lims.specimens.duo import PERMISSIONS, DuoTerm
from lims.web import PageOut, PageQuery, Schema, column_string

AIMS_MAX = 20_000
NOTE_MAX = 2_000
# Release column names (phenotype_link's data dictionary spells them this way).
FIELD_NAME = validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$", error="a column name such as twstrs_total")
MODIFIERS = sorted((t for t in DuoTerm if t not in PERMISSIONS), key=lambda t: t.value)


def _form_dict(data: Any) -> Any:
    """A submitted form as a plain dict (the CSRF token dropped), lists kept for list fields."""
    if not hasattr(data, "getlist"):
        return data
    lists = {"purpose_modifiers", "phenotype_fields"}
    return {k: (data.getlist(k) if k in lists else data.get(k)) for k in data if k != "csrf_token"}


class RequestIn(Schema):
    """A draft's content; PATCH loads it partially. Forms send the criteria as JSON text."""

    LABELS: ClassVar[Mapping[str, str]] = {
        "quantity_ul": "Quantity per aliquot (µL)",
        "aliquots_per_visit": "Aliquots per subject-visit",
        "purpose": "Research purpose (DUO)",
        "purpose_modifiers": "Conditions of use (DUO)",
    }

    title = column_string("specimen_requests.title", 200, load_default="")
    aims = fields.String(load_default="", validate=validate.Length(max=AIMS_MAX))
    criteria = fields.Dict(
        keys=fields.String(),
        load_default=None,
        metadata={"description": "the criteria document (docs/user/request-criteria.md)"},
    )
    quantity_ul = fields.Float(required=True, validate=validate.Range(min=1, max=100_000))
    aliquots_per_visit = fields.Integer(load_default=1, validate=validate.Range(min=1, max=20))
    allow_last_aliquot = fields.Boolean(load_default=False)
    phenotype_fields = fields.List(
        fields.String(validate=FIELD_NAME),
        load_default=list,
        validate=validate.Length(max=400),
        metadata={
            "description": "release column names the data set offers (docs/user/requests.md); "
            "any other name is refused"
        },
    )
    purpose = fields.Enum(
        DuoTerm,
        by_value=True,
        load_default=None,
        metadata={
            "description": "a DUO permission: "
            + ", ".join(sorted(PERMISSIONS))
            + "; or give it in the criteria (criteria.purpose)"
        },
    )
    purpose_modifiers = fields.List(
        fields.Enum(DuoTerm, by_value=True), load_default=None, validate=validate.Length(max=15)
    )

    @pre_load
    def _from_form(self, data: Any, **_: Any) -> Any:
        data = _form_dict(data)
        if not isinstance(data, dict):
            return data
        data = {k: v for k, v in data.items() if v != "" or k in {"title", "aims"}}
        if isinstance(text := data.get("criteria"), str):
            try:
                data["criteria"] = json.loads(text)
            except ValueError as err:
                raise ValidationError({"criteria": [f"is not valid JSON ({err})"]}) from err
        names = data.get("phenotype_fields")
        if isinstance(names, str):
            names = [names]
        if isinstance(names, list):
            data["phenotype_fields"] = [n for name in names for n in str(name).split()]
        return data

    @post_load
    def _modifiers(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if given := data.get("purpose_modifiers"):
            if wrong := [t.value for t in given if t in PERMISSIONS]:
                raise ValidationError(
                    {"purpose_modifiers": [f"{', '.join(wrong)} is a purpose, not a condition"]}
                )
            data["purpose_modifiers"] = list(dict.fromkeys(given))
        return data


class RequestQueryIn(PageQuery):
    state = fields.Enum(RequestState, by_value=True, load_default=None)

    @pre_load
    def _blank(self, data: Any, **_: Any) -> Any:
        if hasattr(data, "getlist") and data.get("state") == "":
            return {k: v for k, v in data.items() if k != "state"}
        return data


class NoteIn(Schema):
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=NOTE_MAX))

    @pre_load
    def _form(self, data: Any, **_: Any) -> Any:
        return _form_dict(data)


class DecisionIn(Schema):
    decision = fields.Enum(
        RequestState,
        by_value=True,
        required=True,
        validate=validate.OneOf(sorted(DECISIONS)),
        metadata={"description": "approved, rejected or revision_requested"},
    )
    note = fields.String(required=True, validate=validate.Length(min=1, max=NOTE_MAX))

    @pre_load
    def _form(self, data: Any, **_: Any) -> Any:
        return _form_dict(data)


class ReviewIn(Schema):
    comment = fields.String(load_default="", validate=validate.Length(max=10_000))
    vote = fields.Enum(Vote, by_value=True, load_default=None, allow_none=True)

    @pre_load
    def _form(self, data: Any, **_: Any) -> Any:
        data = _form_dict(data)
        if isinstance(data, dict) and data.get("vote") == "":
            data = {**data, "vote": None}
        return data


class AttachmentIn(Schema):
    """A PDF sent as JSON (base64); a multipart form's 'file' (and 'kind') works too."""

    kind = fields.Enum(AttachmentKind, by_value=True, load_default=AttachmentKind.PROTOCOL)
    filename = column_string("request_attachments.filename", 200, load_default="document.pdf")
    content_base64 = fields.String(
        required=True,
        validate=validate.Length(min=1, max=15_000_000),
        metadata={"description": "the PDF, base64-encoded (RFC 4648)"},
    )

    @post_load
    def _decode(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        try:
            data["data"] = base64.b64decode(data.pop("content_base64"), validate=True)
        except (binascii.Error, ValueError) as err:
            raise ValidationError({"content_base64": ["is not base64"]}) from err
        return data


class ReadIn(Schema):
    ids = fields.List(
        fields.Integer(validate=validate.Range(min=1)),
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=1000),
        metadata={"description": "the notifications to mark read; all of them when left out"},
    )


class AttachmentOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    filename = fields.String()
    sha256 = fields.String()
    size_bytes = fields.Integer()
    created_at = fields.DateTime()


class ReviewOut(Schema):
    id = fields.Integer()
    author = fields.Function(lambda r: r.author.username, metadata={"type": "string"})
    comment = fields.String()
    vote = fields.String(allow_none=True)
    created_at = fields.DateTime()


class ReviewForInvestigatorOut(ReviewOut):
    class Meta:
        exclude = ("vote",)


class HistoryOut(Schema):
    at = fields.DateTime()
    who = fields.String()
    what = fields.String()
    note = fields.String(allow_none=True)


class RequestSummaryOut(Schema):
    id = fields.Integer()
    code = fields.String()
    state = fields.String()
    title = fields.String()
    investigator = fields.Function(lambda r: r.investigator.username, metadata={"type": "string"})
    purpose = fields.String()
    submitted_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class RequestOut(RequestSummaryOut):
    aims = fields.String()
    criteria = fields.Function(
        lambda r: json.loads(r.criteria or "{}"), metadata={"type": "object"}
    )
    quantity_ul = fields.Float()
    aliquots_per_visit = fields.Integer()
    allow_last_aliquot = fields.Boolean()
    phenotype_fields = fields.Function(
        lambda r: r.phenotype_fields.split(),
        metadata={"type": "array", "items": {"type": "string"}},
    )
    purpose_modifiers = fields.Function(
        lambda r: [m.value for m in r.modifiers],
        metadata={"type": "array", "items": {"type": "string"}},
    )
    decision_note = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    attachments = fields.List(fields.Nested(AttachmentOut))
    # Filled by the API per reader (lims/requests/api/requests.py: request_document).
    reviews = fields.List(fields.Nested(ReviewOut), dump_default=list)
    votes = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        allow_none=True,
        metadata={"description": "each vote's current count; staff only (null otherwise)"},
    )
    history = fields.List(fields.Nested(HistoryOut))
    actions = fields.List(
        fields.String(), metadata={"description": "what the reader may do with it now"}
    )


class RequestPageOut(PageOut):
    items = fields.List(fields.Nested(RequestSummaryOut))


class NotificationOut(Schema):
    id = fields.Integer()
    message = fields.String()
    request = fields.Function(
        lambda n: n.request_code, metadata={"type": "string", "nullable": True}
    )
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class NotificationsOut(Schema):
    unread = fields.Integer()
    items = fields.List(fields.Nested(NotificationOut))


class MarkedOut(Schema):
    marked = fields.Integer()
    unread = fields.Integer()
