from __future__ import annotations

from marshmallow import fields, validate

from lims.actors import Role
from lims.web import Schema


class TokenIn(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class TokenOut(Schema):
    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)


class LoginIn(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    next = fields.String(load_default=None)
    csrf_token = fields.String(load_default=None)


class UserOut(Schema):
    id = fields.Integer()
    username = fields.String()
    role = fields.Enum(Role, by_value=True)
    site = fields.Function(lambda u: u.site.code if u.site else None)
    is_active = fields.Boolean()
