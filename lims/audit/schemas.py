from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from lims.web import INT_MAX, MAX_PER_PAGE, Schema, column_string


class ChangeOut(Schema):
    field = fields.String()
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)
    had_before = fields.Boolean(metadata={"description": "false: the field is new"})


class AuditEventOut(Schema):
    id = fields.Integer()
    occurred_at = fields.DateTime()
    actor = fields.String(attribute="actor_username")
    action = fields.Function(lambda e: str(e.action))
    object_type = fields.String(attribute="canonical_type")
    object_id = fields.String()
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    reason = fields.String(allow_none=True)
    row_hash = fields.String()
    key_id = fields.String()


class TrailRowOut(Schema):
    """An event, its object's code ("NA1-0007 V2", a barcode) and only the fields it changed."""

    event = fields.Nested(AuditEventOut)
    object_code = fields.String(attribute="code")
    changes = fields.List(fields.Nested(ChangeOut))


class AuditPageOut(Schema):
    items = fields.List(fields.Nested(TrailRowOut), attribute="rows")
    newer = fields.Integer(
        allow_none=True, metadata={"description": "pass as ?after= for newer events; null: none"}
    )
    older = fields.Integer(
        allow_none=True, metadata={"description": "pass as ?before= for older events; null: none"}
    )
    time_zone = fields.String(
        attribute="zone", metadata={"description": "the zone since/until without offset are in"}
    )


def _cursor(description: str) -> fields.Integer:
    return fields.Integer(
        load_default=None,
        validate=validate.Range(min=0, max=INT_MAX),
        metadata={"description": description},
    )


class AuditQueryIn(Schema):
    """The trail's filters, each optional; pages are walked with before/after (event ids)."""

    code = column_string(
        "audit_events.object_id",
        64,
        load_default=None,
        metadata={"description": "a barcode or code: an aliquot, tube, box, subject, visit..."},
    )
    user = column_string("audit_events.actor_username", 64, load_default=None)
    action = column_string(
        "audit_events.action",
        40,
        load_default=None,
        metadata={"description": "a prefix: aliquot. (every aliquot action) or aliquot.stored"},
    )
    object_type = column_string("audit_events.object_type", 40, load_default=None)
    since = fields.DateTime(
        load_default=None,
        metadata={"description": "from this time on; without an offset, the user's site's zone"},
    )
    until = fields.DateTime(load_default=None, metadata={"description": "before this time"})
    before = _cursor("events older than this event id (a page's `older`)")
    after = _cursor("events newer than this event id (a page's `newer`)")
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))

    @validates_schema
    def _one_direction(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("before") is not None and data.get("after") is not None:
            raise ValidationError("give before or after, not both", "after")


class ChainReportOut(Schema):
    events_checked = fields.Integer()
    is_intact = fields.Boolean()
    first_broken_id = fields.Integer(allow_none=True)
    problem = fields.String(allow_none=True)
    head_id = fields.Integer(metadata={"description": "id of the newest event (0: none yet)"})
    head_hash = fields.String(metadata={"description": "row_hash of the newest event"})
