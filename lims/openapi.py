"""GET /api/v1/openapi.json: an OpenAPI 3 document built from the endpoints' marshmallow schemas."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, current_app
from flask.typing import ResponseReturnValue

from lims.web import INT_MAX

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")
API_PREFIX = "/api/v1"
_RULE_ARG = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")

TEXT = {"type": "string"}
# What a path segment may hold: the shapes lims.specimens.barcodes and the subject schema accept.
PATH_PARAMS: dict[str, dict[str, Any]] = {
    "barcode": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9-]{3,31}$"},
    "study_code": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9-]{0,19}$"},
    "box_id": {"type": "integer", "minimum": 1, "maximum": INT_MAX},
    "freezer_id": {"type": "integer", "minimum": 1, "maximum": INT_MAX},
    "token_id": {"type": "integer", "minimum": 1, "maximum": INT_MAX},
    "username": {"type": "string", "minLength": 2, "maxLength": 64},
}

# A CSV upload: a multipart form's 'file' field, or the request body itself. Both must hold a
# header row; the size limit (MAX_CONTENT_LENGTH) answers 413, the row limit 422.
CSV_TEXT = {"type": "string", "minLength": 1, "description": "CSV text, header row first"}
CSV_BODIES: dict[str, dict[str, Any]] = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary"}},
        }
    },
    "text/csv": {"schema": CSV_TEXT},
}

PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "row": {"type": "integer"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}


@bp.get("/openapi.json")
def openapi_json() -> ResponseReturnValue:
    return build_spec(current_app)


def _schema_name(schema: type[ma.Schema] | ma.Schema) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    return cls.__name__.removesuffix("Schema")


def _content(schema: Any, content_type: str) -> dict[str, Any]:
    if content_type != "application/json":
        return {content_type: {"schema": {"type": "string", "format": "binary"}}}
    return {content_type: {"schema": schema}}


def _operation(view: Any, method: str, args: list[str]) -> dict[str, Any]:
    meta = view._openapi
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    responses: dict[str, Any] = {
        str(meta["status"]): {"description": "Success"},
        "422": {"description": "Invalid input", "content": problem},
        "default": {"description": "A problem (RFC 9457)", "content": problem},
    }
    if meta["response"] is not None:
        responses[str(meta["status"])]["content"] = _content(meta["response"], meta["content_type"])
    elif meta["content_type"] != "application/json":
        responses[str(meta["status"])]["content"] = _content(None, meta["content_type"])
    if meta["csv_upload"]:
        responses["413"] = {"description": "Larger than LIMS_MAX_UPLOAD_MB", "content": problem}
    if not meta["public"]:
        responses["401"] = {"description": "No valid bearer token", "content": problem}
        responses["403"] = {"description": "Your role may not do this", "content": problem}
    op: dict[str, Any] = {
        "summary": meta["summary"],
        "responses": responses,
        "operationId": view.__name__,
    }
    params = [
        {"in": "path", "name": a, "required": True, "schema": PATH_PARAMS.get(a, TEXT)}
        for a in args
    ]
    if meta["query"] is not None:
        params.append({"in": "query", "schema": meta["query"]})
    if params:
        op["parameters"] = params
    content = {"application/json": {"schema": meta["body"]}} if meta["body"] is not None else {}
    content |= {kind: CSV_BODIES[kind] for kind in meta["csv_upload"]}
    if content:
        op["requestBody"] = {"required": True, "content": content}
    if meta["public"]:
        op["security"] = []
    return op


def build_spec(app: Flask) -> dict[str, Any]:
    """Walk the URL map: every /api/v1 rule must carry @documented (tests check it)."""
    spec = APISpec(
        title="Dystonia Biobank LIMS API",
        version="1",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
        info={
            "description": "Bearer tokens from POST /api/v1/tokens; errors are "
            "application/problem+json (RFC 9457). Times: every time is answered in ISO 8601 "
            "with the offset of the site whose clock it was read on. A time sent with an offset "
            "is taken as given; a time without one is the wall clock of the site it belongs to "
            "(a collection: the subject's site; receipt and processing: the token user's site, "
            "else the collecting site). A wall-clock time that did not exist or happened twice "
            "at a daylight-saving change is refused (422) with the offsets to write instead."
        },
        servers=[{"url": "/"}],
    )
    spec.components.schema("Problem", PROBLEM)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.options["security"] = [{"bearer": []}]
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        if not rule.rule.startswith(API_PREFIX) or not hasattr(view, "_openapi"):
            continue
        path = _RULE_ARG.sub(r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(
                view, method, _RULE_ARG.findall(rule.rule)
            )
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    document: dict[str, Any] = spec.to_dict()
    document["security"] = [{"bearer": []}]
    return document
