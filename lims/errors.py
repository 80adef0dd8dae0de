"""The LimsError tree, and how it is rendered: problem+json under /api/, HTML elsewhere."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypedDict

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class FieldError(TypedDict, total=False):
    field: str
    row: int
    message: str


ECHO_MAX = 40  # characters of a user's value a message may quote back


def shown(value: object, limit: int = ECHO_MAX) -> str:
    """A user's value as a message quotes it: at most `limit` characters, cut with an ellipsis,
    so a pasted page in a field is not echoed back whole (issue 15)."""
    text = str(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def plural(count: int, word: str, words: str | None = None) -> str:
    """A count and its noun as a message says it: "1 problem", "3 problems", "2 sub-aliquots",
    "1,204 boxes" (`words` for a plural that is not word + "s"). Pages use it as a filter."""
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


# The words the forms show for a field, by its internal name. Features add theirs (as they add
# navigation entries); a name not listed is spelled out from its parts (field_label below).
FIELD_LABELS: dict[str, str] = {"a260_280": "A260/280", "a260_230": "A260/230", "din": "DIN"}
_UNITS = {"ul": "(µL)", "ml": "(mL)", "c": "(°C)", "g": "(g)", "ug": "(µg)", "ng_ul": "(ng/µL)"}


def field_label(name: str) -> str:
    """A field as people read it, for every message and error list (issue 15): "Volume (µL)"
    for volume_ul, "Statement 2, code" for statements.1.code; never more than 40 characters of
    a name a client made up."""
    head, _, rest = name.partition(".")
    if rest:
        index, _, inner = rest.partition(".")
        if index.isdigit():
            item = f"{_singular(field_label(head))} {int(index) + 1}"
            return f"{item}, {_inner(field_label(inner))}" if inner else item
        return f"{field_label(head)}, {_inner(field_label(rest))}"
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    words = shown(name).split("_")
    for size in (2, 1):  # a unit at the end: volume_ul, concentration_ng_ul
        unit = "_".join(words[-size:])
        if len(words) > size and unit in _UNITS:
            words = [*words[:-size], _UNITS[unit]]
            break
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else name


def _inner(label: str) -> str:
    """A label inside another: "code", but "DUO term" keeps its capitals."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _singular(label: str) -> str:
    return label[:-1] if label.endswith("s") and not label.endswith("ss") else label


class LimsError(Exception):
    status, slug, title = 400, "bad-request", "The request could not be processed"

    def __init__(
        self, detail: str, *, field: str | None = None, errors: Sequence[FieldError] = ()
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors: list[FieldError] = list(errors)
        if field is not None and not self.errors:
            self.errors = [{"field": field, "message": detail}]

    @property
    def field_errors(self) -> dict[str, str]:
        """Messages keyed by field name, for marking form inputs."""
        return {e["field"]: e["message"] for e in self.errors if "field" in e}

    def to_problem(self) -> dict[str, Any]:
        problem: dict[str, Any] = {
            "type": f"/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            problem["errors"] = self.errors
        return problem


class InvalidInput(LimsError):
    status, slug, title = 422, "invalid-input", "Some values are not valid"


class Conflict(LimsError):
    """Well formed, but the record's current state does not allow it."""

    status, slug, title = 409, "conflict", "Not possible in the current state"


class NotAuthenticated(LimsError):
    status, slug, title = 401, "not-authenticated", "Sign-in required"


class Forbidden(LimsError):
    status, slug, title = 403, "forbidden", "Not allowed for your role"


class NotFound(LimsError):
    status, slug, title = 404, "not-found", "No such record"


class Busy(LimsError):
    """Another request holds what this one needs for too long; nothing was saved."""

    status, slug, title = 503, "busy", "The database is busy; try again"


class TooManyAttempts(LimsError):
    status, slug, title = 429, "too-many-attempts", "Too many failed attempts"


class RateLimited(LimsError):
    """Too many requests of one kind in a window; `retry_after_s` goes out as Retry-After."""

    status, slug, title = 429, "rate-limited", "Too many requests; try again later"

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = max(1, retry_after_s)


PROBLEM_JSON = "application/problem+json"


def problem_response(problem: dict[str, Any]) -> Response:
    response = jsonify(problem)
    response.status_code = problem["status"]
    response.mimetype = PROBLEM_JSON
    if problem["status"] == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lims"'
    if problem["status"] == 503:
        response.headers["Retry-After"] = "2"
    return response


def _wants_problem_json() -> bool:
    return request.path.startswith("/api/")


def _too_large(app: Flask) -> str:
    limit = app.config["MAX_CONTENT_LENGTH"]
    size = request.content_length
    if size is not None and size <= limit:  # the body fits: a form's text field did not
        field_limit = app.config["MAX_FORM_MEMORY_SIZE"]
        return f"A form field is larger than {field_limit:,} bytes; upload the text as a file"
    return (
        f"The request is larger than the limit of {limit // 2**20} MiB ({limit:,} bytes); "
        "split the file, or ask the administrator to raise LIMS_MAX_UPLOAD_MB"
    )


def register(app: Flask, *, rollback: Callable[[], None]) -> None:
    """One handler for LimsError, and the same treatment for Flask's own HTTP errors.

    Every handler first calls `rollback`: the transaction boundary. Whatever a failed service
    added or flushed is forgotten before the error page is rendered from the same session, and
    the next request on that session starts clean (web and API alike).
    """

    @app.errorhandler(LimsError)
    def _lims_error(err: LimsError) -> Any:
        rollback()
        retry = {"Retry-After": str(err.retry_after_s)} if isinstance(err, RateLimited) else {}
        if _wants_problem_json():
            response = problem_response(err.to_problem())
            response.headers.update(retry)
            return response
        page = render_template("error.html", title=err.title, detail=err.detail, errors=err.errors)
        return page, err.status, retry

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Any:
        rollback()
        status = err.code or 500
        title = err.name
        detail = _too_large(app) if status == 413 else err.description or title
        # A 405 must say which methods the URL does allow (RFC 9110 §15.5.6).
        allow = {k: v for k, v in err.get_headers() if k == "Allow"}
        if _wants_problem_json():
            slug = title.lower().replace(" ", "-")
            response = problem_response(
                {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
            )
            response.headers.update(allow)
            return response
        page = render_template("error.html", title=title, detail=detail, errors=[])
        return page, status, allow

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Any:
        rollback()
        log.exception("unexpected error on %s %s", request.method, request.path)
        detail = "An unexpected error occurred; it has been logged."
        if _wants_problem_json():
            return problem_response(
                {
                    "type": "/problems/internal",
                    "title": "Internal error",
                    "status": 500,
                    "detail": detail,
                }
            )
        return render_template("error.html", title="Internal error", detail=detail, errors=[]), 500
