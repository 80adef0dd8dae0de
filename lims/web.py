"""Helpers shared by views and API endpoints: the actor, input schemas, tokens, flashing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, ParamSpec, TypeVar
from urllib.parse import unquote, urlsplit

import marshmallow as ma
from flask import flash, g, request
from flask_login import current_user

from lims.actors import Actor, Role
from lims.db import rollback_request_session
from lims.errors import FieldError, InvalidInput, LimsError, NotAuthenticated

P = ParamSpec("P")
R = TypeVar("R")


class Schema(ma.Schema):
    """Our schema base: unknown fields are refused, and failures become InvalidInput."""

    class Meta:
        unknown = ma.RAISE

    def handle_error(
        self, error: ma.ValidationError, data: Any, *, many: bool, **kwargs: Any
    ) -> None:
        problems = list(_field_errors(error.messages))
        detail = (
            "; ".join(f"{p.get('field', 'input')}: {p['message']}" for p in problems[:5])
            or "The input is not valid"
        )
        raise InvalidInput(detail, errors=problems) from error


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
        from lims.auth import services  # auth's services import this module's neighbours
        from lims.db import get_session

        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated(
                "Send 'Authorization: Bearer <token>'; get one at POST /api/v1/tokens"
            )
        g.api_user = services.user_for_token(get_session(), token.strip())
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
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Attach what the OpenAPI document says of an endpoint (lims/openapi.py reads it)."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        view._openapi = {  # type: ignore[attr-defined]
            "summary": summary,
            "body": body,
            "query": query,
            "response": response,
            "status": status,
            "content_type": content_type,
            "public": public,
        }
        return view

    return decorate


# Navigation: (endpoint, label, roles that see it; empty = everyone signed in). Features add theirs.
NAV: list[tuple[str, str, tuple[Role, ...]]] = [
    ("home.index", "Overview", ()),
    ("audit.index", "Audit trail", (Role.ADMIN, Role.REVIEWER)),
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
            "specimens.import_form",
            "audit.index",
        ]
    )
}


def nav_links() -> list[tuple[str, str]]:
    """The navigation entries the signed-in user's role may use."""
    from flask import current_app

    role = current_user.role if current_user.is_authenticated else None
    entries = sorted(NAV, key=lambda entry: _NAV_ORDER.get(entry[0], len(_NAV_ORDER)))
    return [
        (endpoint, label)
        for endpoint, label, roles in entries
        if endpoint in current_app.view_functions and (not roles or role in roles)
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
