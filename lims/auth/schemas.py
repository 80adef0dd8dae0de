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


class TokenInfoOut(Schema):
    """A token as its owner sees it later: never the token itself, only its hash is kept."""

    id = fields.Integer()
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)


class TokenListOut(Schema):
    items = fields.List(fields.Nested(TokenInfoOut))


class AccountOut(Schema):
    """A row of the administrator's user list."""

    username = fields.String(attribute="user.username")
    role = fields.Function(lambda a: a.user.role.value)
    site = fields.Function(lambda a: a.user.site.code if a.user.site else None)
    is_active = fields.Boolean(attribute="user.is_active")
    is_locked = fields.Boolean()
    active_tokens = fields.Integer()


class AccountListOut(Schema):
    items = fields.List(fields.Nested(AccountOut))


class TokensRevokedOut(Schema):
    revoked = fields.Integer()


class SiteTimeZoneIn(Schema):
    """The sites page's time-zone form: an IANA name (the service checks it is one)."""

    time_zone = column_string("sites.time_zone", 64, min_length=1, required=True)
    csrf_token = fields.String(load_default=None, validate=validate.Length(max=200))
