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
from werkzeug.datastructures import MultiDict

from lims.actors import Role
from lims.db import get_session
from lims.errors import Forbidden, InvalidInput, LimsError, NotFound
from lims.requests import services
from lims.requests.criteria import (
    criteria_choices,
    criteria_from_form,
    form_errors,
    form_values,
)
from lims.requests.files import attachment_response, file_settings, read_upload
from lims.requests.models import RequestState, SpecimenRequest, Vote
from lims.requests.schemas import (
    DecisionIn,
    NoteIn,
    RequestIn,
    RequestQueryIn,
    ReviewIn,
)
from lims.requests.services import AttachmentKind
from lims.requests.services.release_fields import field_groups
from lims.requests.services.workflow import DECISIONS
from lims.web import NAV, PAGE_ROLES, current_actor, flash_problem

S = RequestState


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


# The request's own fields on the form; the criteria (purpose included) come from the criteria
# form's inputs (templates/requests/_criteria_form.html), named by their document path.
OWN_FIELDS = (
    "title",
    "aims",
    "quantity_ul",
    "aliquots_per_visit",
    "allow_last_aliquot",
    "phenotype_fields",
)


def _form(
    req: SpecimenRequest | None,
    typed: MultiDict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What the new and edit forms show: the request's values, or what was just typed."""
    if typed is None:
        typed = MultiDict()
        if req is not None:
            typed = form_values(json.loads(req.criteria or "{}"))
            typed.update(
                {
                    "title": req.title,
                    "aims": req.aims,
                    "quantity_ul": f"{req.quantity_ul:g}",
                    "aliquots_per_visit": str(req.aliquots_per_visit),
                    "phenotype_fields": req.phenotype_fields,
                }
            )
            if req.allow_last_aliquot:
                typed["allow_last_aliquot"] = "true"
    return {
        "req": req,
        "form": typed,
        "errors": errors or {},
        "choices": criteria_choices(),
        "field_groups": field_groups(),
        "asked": {n for v in typed.getlist("phenotype_fields") for n in v.split()},
    }


def _submitted() -> dict[str, Any]:
    """The form as the services take it: the request's fields and the criteria document."""
    own: dict[str, Any] = {k: request.form[k] for k in OWN_FIELDS if k in request.form}
    own["phenotype_fields"] = request.form.getlist("phenotype_fields")  # one box a field
    body: dict[str, Any] = RequestIn().load(own)
    body["criteria"] = criteria_from_form(request.form)
    return body


def _refused(err: LimsError, req: SpecimenRequest | None) -> ResponseReturnValue:
    flash_problem(err)
    context = _form(req, request.form, form_errors(err))
    return render_template("requests/form.html", **context), err.status


@login_required
def new_form() -> ResponseReturnValue:
    current_actor().require(Role.INVESTIGATOR)
    return render_template("requests/form.html", **_form(None))


@login_required
def create() -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    try:
        req = services.create_draft(session, actor, **_submitted())
    except LimsError as err:
        return _refused(err, None)
    flash(f"Request {req.code} saved as a draft; attach the protocol, then submit it", "success")
    return _page(req.code)


@login_required
def edit_form(code: str) -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    req = services.find_request(session, actor, code)
    return render_template("requests/form.html", **_form(req))


@login_required
def edit(code: str) -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    try:
        req = services.edit_draft(session, actor, request=code, **_submitted())
    except LimsError as err:
        return _refused(err, services.find_request(session, actor, code))
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


# How each criterion reads on the request page (docs/user/request-criteria.md names them).
_CHOICES = {
    "diagnoses": "Diagnosis",
    "body_regions": "Body regions at the visit",
    "specimen_types": "Specimen type",
    "sexes": "Sex",
    "sites": "Sites",
}
_RANGES = {
    "age": ("Age at collection", "years"),
    "disease_duration_years": ("Disease duration at collection", "years"),
    "toxin_weeks": ("Weeks since the last botulinum toxin injection", "weeks"),
}


def criteria_in_words(document: str) -> list[str]:
    """The canonical criteria document as lines a reader follows; the purpose has its own row."""
    doc = json.loads(document or "{}")
    lines = [f"{label}: {', '.join(doc[key]).replace('_', ' ')}"
             for key, label in _CHOICES.items() if doc.get(key)]  # fmt: skip
    lines += [f"{label}: {_bounds(doc[key], unit)}"
              for key, (label, unit) in _RANGES.items() if doc.get(key)]  # fmt: skip
    for score in doc.get("scores", []):
        name = score["scale"].upper() + (f" {score['subscale']}" if score.get("subscale") else "")
        lines.append(f"{name} at the visit of collection: {_bounds(score, 'points')}")
    if doc.get("min_visits"):
        lines.append(f"At least {doc['min_visits']} visits with matching specimens per subject")
    if doc.get("min_volume_ul") is not None:
        lines.append(f"At least {doc['min_volume_ul']} µL in each aliquot")
    if doc.get("max_freeze_thaw") is not None:
        lines.append(f"At most {doc['max_freeze_thaw']} freeze-thaw cycles")
    for element, letters in (doc.get("sprec") or {}).items():
        lines.append(f"SPREC {element.replace('_', ' ')}: {', '.join(letters)}")
    return lines


def _bounds(bounds: dict[str, Any], unit: str) -> str:
    low, high = bounds.get("min"), bounds.get("max")
    if low is not None and high is not None:
        return f"{low:g} to {high:g} {unit}"
    return f"at least {low:g} {unit}" if low is not None else f"at most {high:g} {unit}"


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
