"""Helpers shared by views and API endpoints: the actor, input schemas, tokens, flashing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from functools import wraps
from typing import Any, ClassVar, ParamSpec, TypeVar
from urllib.parse import unquote, urlsplit

import marshmallow as ma
from flask import current_app, flash, g, request
from flask_login import current_user
from werkzeug.routing import IntegerConverter, Map

from lims.actors import Actor, Role
from lims.db import rollback_request_session
from lims.errors import (
    FieldError,
    InvalidInput,
    LimsError,
    NotAuthenticated,
    field_label,
    shown,
)

P = ParamSpec("P")
R = TypeVar("R")


# PostgreSQL's INTEGER, which every id, count and volume column is: a larger number reaches the
# driver and fails there (a 500), so every Integer field of a schema is held to it.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
NUL_MESSAGE = "must not contain a NUL character (\\x00)"  # PostgreSQL text cannot hold one
DIGITS_MESSAGE = "must be a whole number written with the digits 0-9"
REPEATED_MESSAGE = "is given more than once; give it once"
_DIGITS = re.compile(r"-?[0-9]{1,12}")


class Schema(ma.Schema):
    """Our schema base: unknown fields are refused, and failures become InvalidInput.

    Two limits hold for every field of every schema, so no field can forget them: no string
    holds a NUL character, and no whole number leaves the database's INTEGER range.
    """

    class Meta:
        unknown = ma.RAISE

    # A schema nested in another reports its problems to the outer one, which names them by
    # their path (statements.1.code) and raises once.
    is_nested = False

    def on_bind_field(self, field_name: str, field_obj: ma.fields.Field) -> None:
        field = field_obj.inner if isinstance(field_obj, ma.fields.List) else field_obj
        if isinstance(field, ma.fields.Integer):
            _bound_to_integer_column(field)
        if isinstance(field, ma.fields.Nested) and isinstance(field.schema, Schema):
            field.schema.is_nested = True

    @ma.pre_load(pass_collection=True)
    def _refuse_nul(self, data: Any, **_: Any) -> Any:
        if found := sorted(nul_paths(data)):
            raise ma.ValidationError({path or "input": [NUL_MESSAGE] for path in found})
        if found := sorted(self._unwritten_numbers(data)):
            raise ma.ValidationError({name: [DIGITS_MESSAGE] for name in found})
        if found := sorted(self._repeated(data)):
            raise ma.ValidationError({name: [REPEATED_MESSAGE] for name in found})
        return data

    def _repeated(self, data: Any) -> Iterator[str]:
        """A query or form value given twice (?page=2&page=x) where the field takes one: the
        first would win silently, so the second, perhaps invalid, would never be checked."""
        if not hasattr(data, "getlist"):
            return
        for name, field in self.load_fields.items():
            key = field.data_key or name
            if not isinstance(field, ma.fields.List) and len(data.getlist(key)) > 1:
                yield key

    def _unwritten_numbers(self, data: Any) -> Iterator[str]:
        """Whole numbers typed as text must be ASCII digits: Python's int() also takes "5_000",
        " 7", "+3" and other scripts' digits ("٣", "５"), which the documented contract (and a
        reader of the trail) would not call a number."""
        if not isinstance(data, Mapping):
            return
        for name, field in self.load_fields.items():
            inner = field.inner if isinstance(field, ma.fields.List) else field
            key = field.data_key or name
            if not isinstance(inner, ma.fields.Integer) or key not in data:
                continue
            values = data.getlist(key) if hasattr(data, "getlist") else [data[key]]
            values = [
                v for value in values for v in (value if isinstance(value, list) else [value])
            ]
            if any(isinstance(v, str) and v != "" and not _DIGITS.fullmatch(v) for v in values):
                yield key

    def handle_error(
        self, error: ma.ValidationError, data: Any, *, many: bool, **kwargs: Any
    ) -> None:
        if self.is_nested:
            return
        problems = [
            FieldError(field=shown(p["field"]), message=p["message"])
            for p in _field_errors(error.messages)
        ]
        detail = (
            "; ".join(f"{self.label_of(p['field'])}: {p['message']}" for p in problems[:5])
            or "The input is not valid"
        )
        raise InvalidInput(detail, errors=problems) from error

    # The words the forms show for this schema's fields, by field name ("Volume (µL)" for
    # volume_ul); a field's metadata "label" wins over this map.
    LABELS: ClassVar[Mapping[str, str]] = {}

    def label_of(self, name: str) -> str:
        """The words the form shows for a field, for messages; the shared spelling-out
        (lims.errors.field_label) when it has none. The API's `errors` keep the name, for
        scripts."""
        if "." in name:  # statements.1.code: "Statement 2, code"
            return field_label(name)
        field = self.fields.get(name)
        label = field.metadata.get("label") if field is not None else None
        return str(label or self.LABELS.get(name) or field_label(name))


def column_string(
    column: str, max_length: int, *, min_length: int | None = None, **kwargs: Any
) -> ma.fields.String:
    """A string field that fills or filters on `column` ("freezers.name"): at most max_length
    characters, the column's length (tests/test_input_limits.py checks the two agree)."""
    return ma.fields.String(
        validate=ma.validate.Length(min=min_length, max=max_length),
        metadata={"column": column, **kwargs.pop("metadata", {})},
        **kwargs,
    )


def _bound_to_integer_column(field: ma.fields.Integer) -> None:
    """Add the INTEGER bound on whichever side the field's own Range leaves open."""
    ranges = [v for v in field.validators if isinstance(v, ma.validate.Range)]
    if not any(r.min is not None and r.min >= INT_MIN for r in ranges):
        field.validators.append(ma.validate.Range(min=INT_MIN))
    if not any(r.max is not None and r.max <= INT_MAX for r in ranges):
        field.validators.append(ma.validate.Range(max=INT_MAX))


def nul_paths(data: Any, prefix: str = "") -> Iterator[str]:
    """Where a NUL character sits in a JSON value or form: "name", "barcodes.3", "" (the value)."""
    if isinstance(data, str):
        if "\x00" in data:
            yield prefix
    elif isinstance(data, Mapping):
        for key, value in data.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if "\x00" in str(key):
                yield name
            yield from nul_paths(value, name)
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            yield from nul_paths(value, f"{prefix}.{i}" if prefix else str(i))


def _field_errors(messages: Any, prefix: str = "") -> Any:
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                name = prefix or "input"
            yield from _field_errors(value, name)
    elif isinstance(messages, list):
        for message in messages:
            if isinstance(message, str):
                yield FieldError(field=prefix or "input", message=message)
            else:
                yield from _field_errors(message, prefix)


class IdConverter(IntegerConverter):
    """<int:...> in our routes: ASCII digits only, within INTEGER, so "²" or 2**31 is a 404."""

    regex = "[0-9]+"  # werkzeug's \\d also matches other scripts' digits

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


def refuse_nul_in_request() -> None:
    """Before each request: a NUL in a path value, query argument or form field is a 422 naming
    it (JSON bodies are checked by the Schema base)."""
    pairs = [
        *(request.view_args or {}).items(),
        *request.args.items(multi=True),
        *request.form.items(multi=True),
    ]
    for name, value in pairs:
        name = str(name)  # a multipart part may come without a name
        if "\x00" in name or (isinstance(value, str) and "\x00" in value):
            raise InvalidInput(f"{name}: {NUL_MESSAGE}", field=name)


def dump(schema: ma.Schema, obj: Any) -> dict[str, Any]:
    """A schema's output, typed for the views (marshmallow returns Any)."""
    result: dict[str, Any] = schema.dump(obj)
    return result


def json_body() -> dict[str, Any]:
    """The request's JSON object; an empty body is {}, anything else that is not an object is
    refused (malformed JSON must not pass as 'no fields given')."""
    if not request.get_data(cache=True):
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput(
            "The body must be a JSON object (Content-Type: application/json)", field="body"
        )
    return body


def current_actor() -> Actor:
    """The actor of this request: the API token's user, else the signed-in user."""
    if (user := g.get("api_user")) is not None:
        return Actor.of(user)
    if current_user.is_authenticated:
        return Actor.of(current_user)
    raise NotAuthenticated("Sign in first")


def token_required(view: Callable[P, R]) -> Callable[P, R]:
    """Answer 401 unless the request carries a valid, unexpired bearer token."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated(
                "Send 'Authorization: Bearer <token>'; get one at POST /api/v1/tokens"
            )
        # Registered by create_app from auth (web sits below every feature and imports none).
        load: Callable[[str], Any] = current_app.extensions["lims_token_loader"]
        g.api_user = load(token.strip())
        return view(*args, **kwargs)

    return wrapper


def documented(
    *,
    summary: str,
    body: type[ma.Schema] | None = None,
    query: type[ma.Schema] | None = None,
    response: type[ma.Schema] | ma.Schema | None = None,
    status: int = 200,
    content_type: str = "application/json",
    public: bool = False,
    csv_upload: tuple[str, ...] = (),
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Attach what the OpenAPI document says of an endpoint (lims/openapi.py reads it).

    csv_upload names the media types a CSV may come in besides `body`: "multipart/form-data"
    (form field 'file') and "text/csv" (the request body itself)."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        view._openapi = {  # type: ignore[attr-defined]
            "summary": summary,
            "body": body,
            "query": query,
            "response": response,
            "status": status,
            "content_type": content_type,
            "public": public,
            "csv_upload": csv_upload,
        }
        return view

    return decorate


# Navigation: (endpoint, label, roles that see it; empty = everyone signed in). Features add theirs.
NAV: list[tuple[str, str, tuple[Role, ...]]] = [
    ("home.index", "Overview", ()),
    ("audit.index", "Audit trail", (Role.ADMIN, Role.REVIEWER)),
    ("auth.users", "Users", (Role.ADMIN,)),
]


# The order a bench works in: scan first, then subjects, tubes, storage, labels, the rest.
_NAV_ORDER = {
    endpoint: i
    for i, endpoint in enumerate(
        [
            "home.index",
            "storage.scan",
            "specimens.subjects",
            "storage.aliquots",
            "storage.index",
            "labels.print_form",
            "shipments.receive",
            "shipments.index",
            "specimens.import_form",
            "audit.index",
            "auth.users",
        ]
    )
}


# Pages outside the navigation that only some roles may open (the navigation's own entries
# name their roles in NAV). Features add theirs, as they add to NAV.
PAGE_ROLES: dict[str, tuple[Role, ...]] = {}


def may_open(endpoint: str) -> bool:
    """Whether the signed-in user may open a page: the one rule behind the navigation and every
    link to a page some roles may not use (a link that answers 403 is not shown). As in
    Actor.require, admins may open every page."""
    return _may_open(_signed_in_role(), endpoint)


def _signed_in_role() -> Role | None:
    # current_user is a proxy that looks the user up on every attribute read; every page asks
    # this once per navigation entry, so it is read once here (docs/benchmarks.md).
    user = current_user._get_current_object()
    return user.role if user.is_authenticated else None


def _may_open(role: Role | None, endpoint: str) -> bool:
    if role is None:
        return False
    roles = PAGE_ROLES.get(endpoint) or next((r for e, _, r in NAV if e == endpoint), ())
    return role is Role.ADMIN or not roles or role in roles


def nav_links() -> list[tuple[str, str]]:
    """The navigation entries the signed-in user's role may use."""
    role = _signed_in_role()
    entries = sorted(NAV, key=lambda entry: _NAV_ORDER.get(entry[0], len(_NAV_ORDER)))
    return [
        (endpoint, label)
        for endpoint, label, _ in entries
        if endpoint in current_app.view_functions and _may_open(role, endpoint)
    ]


def safe_next(url: str | None, default: str) -> str:
    """Where to go back to after a form: a path on this site, else `default` (no open redirect).

    Only a relative path with a single leading '/'. Browsers read '//host' and '/\\host' as
    another site (they treat a backslash like a slash), so neither may start the path, even
    percent-encoded; nor may a scheme, a host or a control character appear anywhere.
    """
    if not url:
        return default
    for text in (url, unquote(url)):
        if not text.startswith("/") or text.startswith("//") or "\\" in text:
            return default
        if any(ord(c) < 32 or ord(c) == 127 for c in text):
            return default
        parts = urlsplit(text)
        if parts.scheme or parts.netloc:
            return default
    return url


def flash_problem(err: LimsError) -> None:
    """The error boundary of a view that answers a failed service with its own page.

    The request's session is rolled back first, so the page is rendered from what is committed,
    never from what the failed service half-wrote; then the detail is flashed.
    """
    rollback_request_session()
    flash(err.detail, "error")


# Far beyond any inventory (x 500 per page), and small enough for every database's OFFSET.
MAX_PAGE = 1_000_000
MAX_PER_PAGE = 500


class PageQuery(Schema):
    """?page=&per_page= of every paged list: 1-based, bounded."""

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    per_page = ma.fields.Integer(
        load_default=50, validate=ma.validate.Range(min=1, max=MAX_PER_PAGE)
    )


class PageOut(Schema):
    """A page of a list; subclasses add `items`."""

    total = ma.fields.Integer()
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
