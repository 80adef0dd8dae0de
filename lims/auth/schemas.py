from __future__ import annotations

from marshmallow import fields, validate

from lims.actors import Role
from lims.web import Schema, column_string


class TokenIn(Schema):
    username = column_string("users.username", 64, min_length=1, required=True)
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class TokenOut(Schema):
    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)


class LoginIn(Schema):
    username = column_string("users.username", 64, min_length=1, required=True)
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    next = fields.String(load_default=None, validate=validate.Length(max=2000))  # a local path
    csrf_token = fields.String(load_default=None, validate=validate.Length(max=200))


class UserOut(Schema):
    id = fields.Integer()
    username = fields.String()
    role = fields.Enum(Role, by_value=True)
    site = fields.Function(lambda u: u.site.code if u.site else None)
    is_active = fields.Boolean()
