"""Pages: requests and their review (issue 19): the list (an investigator's own; staff all, by
state), the new and edit forms, the request page with what the reader may do, and the signed-in
user's notifications."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from lims.actors import Actor, Role
from lims.db import get_session
from lims.errors import Forbidden, InvalidInput, LimsError, NotFound
from lims.requests import services
from lims.requests.files import attachment_response, file_settings, read_upload
from lims.requests.models import RequestState, SpecimenRequest, Vote
from lims.requests.schemas import (
    MODIFIERS,
    DecisionIn,
    NoteIn,
    RequestIn,
    RequestQueryIn,
    ReviewIn,
)
from lims.requests.services import AttachmentKind
from lims.requests.services.workflow import DECISIONS
from lims.specimens.duo import PERMISSIONS
from lims.web import NAV, PAGE_ROLES, current_actor, flash_problem

S = RequestState
PURPOSES = sorted(PERMISSIONS, key=lambda t: t.value)


def _page(code: str) -> ResponseReturnValue:
    return redirect(url_for("requests.request_page", code=code), 303)


@login_required
def index() -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    args = RequestQueryIn().load(request.args)
    rows, total = services.list_requests(session, actor, **args)
    return render_template(
        "requests/index.html",
        requests=rows,
        total=total,
        state=args["state"],
        states=list(RequestState),
        page=args["page"],
        per_page=args["per_page"],
    )


def _form(
    actor: Actor, req: SpecimenRequest | None, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What the new and edit forms show: the request's values, or what was just typed."""
    if values is None and req is not None:
        values = {
            "title": req.title,
            "aims": req.aims,
            "criteria": json.dumps(json.loads(req.criteria or "{}"), indent=2, sort_keys=True),
            "quantity_ul": req.quantity_ul,
            "aliquots_per_visit": req.aliquots_per_visit,
            "allow_last_aliquot": req.allow_last_aliquot,
            "phenotype_fields": req.phenotype_fields,
            "purpose": req.purpose.value,
            "purpose_modifiers": [m.value for m in req.modifiers],
        }
    return {
        "req": req,
        "values": values or {"criteria": "{}", "aliquots_per_visit": 1, "purpose_modifiers": []},
        "purposes": PURPOSES,
        "modifiers": MODIFIERS,
    }


def _typed() -> dict[str, Any]:
    form = request.form
    return {k: form.getlist(k) if k == "purpose_modifiers" else form.get(k) for k in form}


@login_required
def new_form() -> ResponseReturnValue:
    actor = current_actor()
    actor.require(Role.INVESTIGATOR)
    return render_template("requests/form.html", **_form(actor, None))


@login_required
def create() -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    try:
        form = RequestIn().load(request.form)
        req = services.create_draft(session, actor, **form)
    except LimsError as err:
        flash_problem(err)
        context = _form(actor, None, _typed())
        return render_template("requests/form.html", errors=err.field_errors, **context), err.status
    flash(f"Request {req.code} saved as a draft; attach the protocol, then submit it", "success")
    return _page(req.code)


@login_required
def edit_form(code: str) -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    req = services.find_request(session, actor, code)
    return render_template("requests/form.html", **_form(actor, req))


@login_required
def edit(code: str) -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    try:
        form = RequestIn().load(request.form)
        req = services.edit_draft(session, actor, request=code, **form)
    except LimsError as err:
        flash_problem(err)
        req = services.find_request(session, actor, code)
        context = _form(actor, req, _typed())
        return render_template("requests/form.html", errors=err.field_errors, **context), err.status
    flash(f"Request {req.code} saved", "success")
    return _page(req.code)


@login_required
def request_page(code: str) -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    req = services.find_request(session, actor, code)
    return render_template(
        "requests/request.html",
        req=req,
        criteria=criteria_in_words(req.criteria),
        reviews=services.visible_reviews(actor, req),
        votes=services.vote_tally(req) if actor.is_staff else None,
        history=services.request_history(session, actor, req),
        actions=services.actions_for(actor, req),
        problems=services.submission_problems(req) if req.is_editable else [],
        kinds=list(AttachmentKind),
        vote_choices=list(Vote),
        decisions=sorted(DECISIONS),
    )


def criteria_in_words(document: str) -> list[str]:
    """The criteria as lines a reader follows.

    TODO(#19): the criteria engine's own description (lims.requests.criteria) once `criteria` is
    merged; until then each key and its value.
    """
    try:
        parsed = json.loads(document or "{}")
    except ValueError:
        return [document]
    if not isinstance(parsed, dict):
        return [str(parsed)]
    return [f"{key.replace('_', ' ')}: {_words(value)}" for key, value in sorted(parsed.items())]


def _words(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_words(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')} {_words(v)}" for k, v in value.items())
    return str(value).replace("_", " ")


def _step(code: str, run: Callable[[], Any], done: str) -> ResponseReturnValue:
    """Run one step of the workflow from the request page; say what happened there."""
    try:
        run()
    except (NotFound, Forbidden):
        # Another investigator's request answers as a missing one (404), a step the role may
        # never take as 403: the page offers neither, so only a hand-made request meets them.
        raise
    except LimsError as err:
        flash_problem(err)
        for problem in err.errors[:10]:
            flash(problem["message"], "error")
    else:
        flash(done, "success")
    return _page(code)


@login_required
def attach(code: str) -> ResponseReturnValue:
    def run() -> None:
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise InvalidInput("Choose the PDF to attach", field="file")
        kind = request.form.get("kind", AttachmentKind.PROTOCOL.value)
        if kind not in set(AttachmentKind):
            raise InvalidInput("Choose protocol or data use agreement", field="kind")
        services.attach_file(
            get_session(),
            current_actor(),
            request=code,
            kind=AttachmentKind(kind),
            filename=upload.filename,
            data=read_upload(upload.stream),
            **file_settings(),
        )

    return _step(code, run, "File attached")


@login_required
def download(code: str, attachment_id: int) -> ResponseReturnValue:
    return attachment_response(code, attachment_id)


@login_required
def submit(code: str) -> ResponseReturnValue:
    def run() -> None:
        services.submit_request(get_session(), current_actor(), request=code)

    return _step(code, run, "Submitted: the reviewers have been told")


def _move(code: str, to: RequestState, done: str) -> ResponseReturnValue:
    def run() -> None:
        body = NoteIn().load(request.form)
        services.change_state(get_session(), current_actor(), request=code, to=to, **body)

    return _step(code, run, done)


@login_required
def start_review(code: str) -> ResponseReturnValue:
    return _move(code, S.UNDER_REVIEW, "Review started")


@login_required
def withdraw(code: str) -> ResponseReturnValue:
    return _move(code, S.WITHDRAWN, "Request withdrawn")


@login_required
def close(code: str) -> ResponseReturnValue:
    return _move(code, S.CLOSED, "Request closed")


@login_required
def review(code: str) -> ResponseReturnValue:
    def run() -> None:
        body = ReviewIn().load(request.form)
        services.add_review(get_session(), current_actor(), request=code, **body)

    return _step(code, run, "Review recorded")


@login_required
def decide(code: str) -> ResponseReturnValue:
    def run() -> None:
        body = DecisionIn().load(request.form)
        services.decide_request(get_session(), current_actor(), request=code, **body)

    return _step(code, run, "Decision recorded; the investigator has been told")


@login_required
def notifications() -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    return render_template(
        "requests/notifications.html",
        notifications=services.list_notifications(session, actor),
    )


@login_required
def mark_read() -> ResponseReturnValue:
    given = request.form.get("id")
    ids = [int(given)] if given and given.isdigit() and len(given) < 10 else None
    services.mark_read(get_session(), current_actor(), ids=ids)
    return redirect(url_for("requests.notifications"), 303)


def unread_notifications() -> int:
    """The header's badge: the signed-in user's unread notifications (0 when signed out)."""
    if not current_user.is_authenticated:
        return 0
    return services.unread_count(get_session(), current_actor())


# (method, rule, view); the endpoint is the view's name: url_for("requests.<view>", ...).
ROUTES: list[tuple[str, str, Callable[..., ResponseReturnValue]]] = [
    ("GET", "/requests/", index),
    ("POST", "/requests/", create),
    ("GET", "/requests/new", new_form),
    ("GET", "/requests/<code>", request_page),
    ("GET", "/requests/<code>/edit", edit_form),
    ("POST", "/requests/<code>/edit", edit),
    ("POST", "/requests/<code>/attachments", attach),
    ("GET", "/requests/<code>/attachments/<int:attachment_id>", download),
    ("POST", "/requests/<code>/submit", submit),
    ("POST", "/requests/<code>/review", start_review),
    ("POST", "/requests/<code>/reviews", review),
    ("POST", "/requests/<code>/decision", decide),
    ("POST", "/requests/<code>/withdraw", withdraw),
    ("POST", "/requests/<code>/close", close),
    ("GET", "/notifications", notifications),
    ("POST", "/notifications/read", mark_read),
]

NAV.append(("requests.index", "Requests", ()))
PAGE_ROLES["requests.new_form"] = (Role.INVESTIGATOR,)
