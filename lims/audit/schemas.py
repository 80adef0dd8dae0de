from __future__ import annotations

from marshmallow import fields

from lims.web import PageOut, PageQuery, Schema, column_string


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


class AuditPageOut(PageOut):
    items = fields.List(fields.Nested(AuditEventOut))


class AuditQueryIn(PageQuery):
    action = column_string("audit_events.action", 40, load_default=None)
    object_type = column_string("audit_events.object_type", 40, load_default=None)


class ChainReportOut(Schema):
    events_checked = fields.Integer()
    is_intact = fields.Boolean()
    first_broken_id = fields.Integer(allow_none=True)
    problem = fields.String(allow_none=True)
    head_id = fields.Integer(metadata={"description": "id of the newest event (0: none yet)"})
    head_hash = fields.String(metadata={"description": "row_hash of the newest event"})
