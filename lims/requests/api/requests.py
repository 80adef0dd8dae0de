"""API: requests, their review and attachments, and the signed-in user's notifications (issue
19). Every endpoint reaches a request through find_request, so an investigator's token reaches
only their own (another's answers 404, as a missing one)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from marshmallow import fields

from lims.actors import Actor
from lims.db import get_session
from lims.errors import InvalidInput
from lims.requests import services
from lims.requests.files import attachment_response, file_settings, read_upload
from lims.requests.models import RequestState, SpecimenRequest
from lims.requests.schemas import (
    AttachmentIn,
    AttachmentOut,
    DecisionIn,
    HistoryOut,
    MarkedOut,
    NoteIn,
    NotificationOut,
    NotificationsOut,
    ReadIn,
    RequestIn,
    RequestOut,
    RequestPageOut,
    RequestQueryIn,
    ReviewForInvestigatorOut,
    ReviewIn,
    ReviewOut,
)
from lims.requests.services import AttachmentKind
from lims.requests.services.release_fields import request_fields
from lims.web import Schema, current_actor, documented, dump, json_body, token_required

bp = Blueprint("requests_requests_api", __name__, url_prefix="/api/v1")
S = RequestState


class OfferedFieldOut(Schema):
    """A phenotype field the request's data set offers: its column, and whether it is asked."""

    name = fields.Function(lambda f: f.column.name, metadata={"type": "string"})
    label = fields.Function(lambda f: f.column.label, metadata={"type": "string"})
    kind = fields.Function(lambda f: f.column.kind, metadata={"type": "string"})
    unit = fields.Function(
        lambda f: f.column.unit or None, metadata={"type": "string", "nullable": True}
    )
    codes = fields.Function(
        lambda f: {c.code: c.label for c in f.column.choices},
        metadata={"type": "object", "description": "a coded field's codes and their meanings"},
    )
    group = fields.String(metadata={"description": "the request form's group"})
    requested = fields.Boolean(attribute="is_requested")


class OfferedFieldsOut(Schema):
    code = fields.String()
    fields_ = fields.List(fields.Nested(OfferedFieldOut), attribute="fields", data_key="fields")


def request_document(actor: Actor, req: SpecimenRequest) -> dict[str, Any]:
    """One request as this reader may see it: votes for staff only, their actions."""
    session = get_session()
    reviews = services.visible_reviews(actor, req)
    review_schema = ReviewOut if actor.is_staff else ReviewForInvestigatorOut
    body = dump(RequestOut(exclude=("reviews", "votes", "history", "actions")), req)
    body["reviews"] = review_schema(many=True).dump(reviews)
    body["votes"] = (
        {v.value: n for v, n in services.vote_tally(req).items()} if actor.is_staff else None
    )
    body["history"] = HistoryOut(many=True).dump(services.request_history(session, actor, req))
    body["actions"] = services.actions_for(actor, req)
    return body


def _answer(req: SpecimenRequest, status: int = 200) -> ResponseReturnValue:
    return request_document(current_actor(), req), status


@bp.get("/requests")
@token_required
@documented(
    summary="Requests, newest first: an investigator's own, all of them for staff; by state",
    query=RequestQueryIn,
    response=RequestPageOut,
)
def list_requests() -> ResponseReturnValue:
    args = RequestQueryIn().load(request.args)
    rows, total = services.list_requests(get_session(), current_actor(), **args)
    page = {"items": rows, "total": total, "page": args["page"], "per_page": args["per_page"]}
    return dump(RequestPageOut(), page)


@bp.post("/requests")
@token_required
@documented(
    summary="Start a request as a draft (investigator)",
    body=RequestIn,
    response=RequestOut,
    status=201,
)
def create_request() -> ResponseReturnValue:
    body = RequestIn().load(json_body())
    return _answer(services.create_draft(get_session(), current_actor(), **body), 201)


@bp.get("/requests/<code>")
@token_required
@documented(
    summary="One request: criteria, attachments, reviews, history and what you may do now",
    response=RequestOut,
)
def get_request(code: str) -> ResponseReturnValue:
    return _answer(services.find_request(get_session(), current_actor(), code))


@bp.patch("/requests/<code>")
@token_required
@documented(
    summary="Change a draft or a request sent back for revision (its investigator)",
    body=RequestIn,
    response=RequestOut,
)
def edit_request(code: str) -> ResponseReturnValue:
    body = RequestIn(partial=True).load(json_body())
    return _answer(services.edit_draft(get_session(), current_actor(), request=code, **body))


@bp.post("/requests/<code>/submit")
@token_required
@documented(
    summary="Submit for review: needs title, aims, criteria, a DUO purpose and a PDF attached",
    response=RequestOut,
)
def submit_request(code: str) -> ResponseReturnValue:
    return _answer(services.submit_request(get_session(), current_actor(), request=code))


def _move(code: str, to: RequestState) -> ResponseReturnValue:
    body = NoteIn().load(json_body())
    req = services.change_state(get_session(), current_actor(), request=code, to=to, **body)
    return _answer(req)


@bp.post("/requests/<code>/review")
@token_required
@documented(summary="Start the review (reviewer, admin)", body=NoteIn, response=RequestOut)
def start_review(code: str) -> ResponseReturnValue:
    return _move(code, S.UNDER_REVIEW)


@bp.post("/requests/<code>/withdraw")
@token_required
@documented(
    summary="Withdraw the request before it ships (its investigator)",
    body=NoteIn,
    response=RequestOut,
)
def withdraw_request(code: str) -> ResponseReturnValue:
    return _move(code, S.WITHDRAWN)


@bp.post("/requests/<code>/close")
@token_required
@documented(summary="Close a shipped request (admin)", body=NoteIn, response=RequestOut)
def close_request(code: str) -> ResponseReturnValue:
    return _move(code, S.CLOSED)


@bp.post("/requests/<code>/reviews")
@token_required
@documented(
    summary="Comment or vote on a request (reviewers, admins; the investigator comments)",
    body=ReviewIn,
    response=RequestOut,
    status=201,
)
def add_review(code: str) -> ResponseReturnValue:
    body = ReviewIn().load(json_body())
    session, actor = get_session(), current_actor()
    review = services.add_review(session, actor, request=code, **body)
    return _answer(review.request, 201)


@bp.post("/requests/<code>/decision")
@token_required
@documented(
    summary="Record the decision after review: approved, rejected or revision_requested (admin)",
    body=DecisionIn,
    response=RequestOut,
)
def decide_request(code: str) -> ResponseReturnValue:
    body = DecisionIn().load(json_body())
    return _answer(services.decide_request(get_session(), current_actor(), request=code, **body))


@bp.post("/requests/<code>/attachments")
@token_required
@documented(
    summary="Attach the protocol or data use agreement: a PDF, as JSON (base64) or a "
    "multipart form's 'file' (with 'kind')",
    body=AttachmentIn,
    response=AttachmentOut,
    status=201,
    csv_upload=("multipart/form-data",),
)
def attach_file(code: str) -> ResponseReturnValue:
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise InvalidInput("Send the PDF in the form field 'file'", field="file")
        kind = request.form.get("kind") or AttachmentKind.PROTOCOL.value
        if kind not in set(AttachmentKind):
            raise InvalidInput("kind is protocol or dua", field="kind")
        body: dict[str, Any] = {
            "kind": AttachmentKind(kind),
            "filename": upload.filename or "document.pdf",
            "data": read_upload(upload.stream),
        }
    else:
        body = AttachmentIn().load(json_body())
    attachment = services.attach_file(
        get_session(), current_actor(), request=code, **body, **file_settings()
    )
    return dump(AttachmentOut(), attachment), 201


@bp.get("/requests/<code>/attachments/<int:attachment_id>")
@token_required
@documented(summary="Download an attached PDF", content_type="application/pdf")
def download_file(code: str, attachment_id: int) -> ResponseReturnValue:
    return attachment_response(code, attachment_id)


@bp.get("/notifications")
@token_required
@documented(
    summary="Your notifications, newest first, and how many are unread", response=NotificationsOut
)
def list_notifications() -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    rows = services.list_notifications(session, actor)
    return {
        "unread": services.unread_count(session, actor),
        "items": NotificationOut(many=True).dump(rows),
    }


@bp.post("/notifications/read")
@token_required
@documented(
    summary="Mark your notifications read: these ids, or all of them",
    body=ReadIn,
    response=MarkedOut,
)
def mark_read() -> ResponseReturnValue:
    body = ReadIn().load(json_body())
    session, actor = get_session(), current_actor()
    marked = services.mark_read(session, actor, **body)
    return {"marked": marked, "unread": services.unread_count(session, actor)}


@bp.get("/requests/<code>/phenotype-fields")
@token_required
@documented(
    summary="The phenotype fields the request's data set offers (names for phenotype_fields), "
    "in the request form's groups, each marked requested or not",
    response=OfferedFieldsOut,
)
def phenotype_fields(code: str) -> ResponseReturnValue:
    offered = request_fields(get_session(), current_actor(), request_id=code)
    return dump(OfferedFieldsOut(), offered)
