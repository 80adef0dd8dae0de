"""Finding aliquots: the list and its CSV export, the aliquot page and its
lifecycle buttons."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required

from lims.actors import Role
from lims.db import get_session, session_factory
from lims.errors import LimsError, NotFound
from lims.specimens.models import AliquotStatus, DisposalReason, OutCondition, SpecimenType
from lims.storage import services
from lims.storage.schemas import (
    AliquotQueryIn,
    CheckOutIn,
    DisposeFormIn,
    PutBackIn,
    ReasonIn,
    RequiredReasonIn,
    ReturnIn,
    TakeOutIn,
    UseIn,
)
from lims.storage.views._helpers import box_id_from, custody_rows, form_values
from lims.web import Schema, current_actor, flash_problem

_FILTERS = ("site", "subject", "specimen_type", "status", "freezer_id", "box")


def _query() -> dict[str, Any]:
    raw = {
        k: v
        for k, v in request.args.items()
        if v.strip() and k in (*_FILTERS, "page", "per_page", "after", "before")
    }
    return dict(AliquotQueryIn().load(raw))


def _filters(args: dict[str, Any]) -> services.AliquotFilter:
    return services.AliquotFilter(**{k: args[k] for k in _FILTERS})


@login_required
def aliquots() -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    args = _query()
    found = services.list_aliquots(
        session,
        actor,
        filters=_filters(args),
        **{k: args[k] for k in ("after", "before", "page", "per_page")},
    )
    given = {k: request.args[k] for k in _FILTERS if request.args.get(k, "").strip()}
    return render_template(
        "storage/aliquots.html",
        rows=found.rows,
        found=found,
        args=args,
        given=given,
        freezers=services.freezer_choices(session, actor),
        types=list(SpecimenType),
        statuses=list(AliquotStatus),
    )


@login_required
def export() -> ResponseReturnValue:
    """The inventory as CSV, with the list page's filters; streamed, so 250,000 rows are fine."""
    chunks = services.export_inventory(
        session_factory(read_only=True), current_actor(), filters=_filters(_query())
    )
    headers = {"Content-Disposition": "attachment; filename=inventory.csv"}
    return Response(chunks, mimetype="text/csv", headers=headers)


@login_required
def aliquot(barcode: str) -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    found, events = services.custody(session, actor, barcode)
    # Held for the whole view: the session keeps rows only while something refers to them, and
    # the grid below then finds the box (loaded with the placement) without reading it again.
    placement = services.placement_of(session, found)
    location = services.location_from(placement)
    grid = services.box_grid(session, actor, location["box_id"]) if location else None
    actions = services.actions_allowed(found)
    disposing = actor.role in (Role.ADMIN, Role.TECHNICIAN) and any(
        a.slug == "dispose" for a in actions
    )
    return render_template(
        "storage/aliquot.html",
        aliquot=found,
        location=location,
        grid=grid,
        actions=actions,
        movable=location is not None and found.status in services.MOVABLE,
        custody=custody_rows(events),
        conditions=list(OutCondition),
        disposal_reasons=list(DisposalReason),
        authorisers=services.disposal_authorisers(session, actor) if disposing else [],
    )


def _put_back(step: Callable[..., Any]) -> Callable[[str], Any]:
    def run(barcode: str) -> Any:
        form = PutBackIn().load(form_values("box_barcode", "position", "reason"))
        box_id = box_id_from(form)
        extra = {"reason": form["reason"]} if step is services.clear_quarantine else {}
        return step(
            get_session(),
            current_actor(),
            barcode=barcode,
            box_id=box_id,
            position=form["position"] if box_id else None,
            **extra,
        )

    return run


def _with_reason(step: Callable[..., Any]) -> Callable[[str], Any]:
    def run(barcode: str) -> Any:
        form = ReasonIn().load(form_values("reason"))
        return step(get_session(), current_actor(), barcode=barcode, **form)

    return run


def _with(schema: type[Schema], step: Callable[..., Any], *names: str) -> Callable[[str], Any]:
    """A step whose form is exactly its schema's fields."""

    def run(barcode: str) -> Any:
        form = schema().load(form_values(*names))
        return step(get_session(), current_actor(), barcode=barcode, **form)

    return run


def _use(barcode: str) -> Any:
    form = UseIn().load(form_values("volume_ul", "consume_all"))
    return services.use_aliquot(get_session(), current_actor(), barcode=barcode, **form)


def _dispose(barcode: str) -> Any:
    form = DisposeFormIn().load(form_values("reason", "note", "authorised_by", "confirm"))
    form.pop("confirm")
    return services.dispose_aliquot(get_session(), current_actor(), barcode=barcode, **form)


def _move(barcode: str) -> Any:
    form = PutBackIn().load(form_values("box_barcode", "position"))
    box_id = box_id_from(form)
    if box_id is None:
        raise NotFound("Scan or type the box it goes into", field="box_barcode")
    return services.move_aliquot(
        get_session(), current_actor(), barcode=barcode, box_id=box_id, position=form["position"]
    )


STEPS: dict[str, tuple[Callable[[str], Any], str]] = {
    "check-out": (
        _with(CheckOutIn, services.check_out, "condition", "reason"),
        "checked out; its position is held",
    ),
    "check-in": (_put_back(services.check_in), "checked in"),
    "use": (_use, "use recorded"),
    "found": (_put_back(services.mark_found), "back in storage"),
    "clear-quarantine": (_put_back(services.clear_quarantine), "released from quarantine"),
    "quarantine": (_with_reason(services.quarantine), "quarantined"),
    "missing": (_with_reason(services.mark_missing), "marked missing"),
    "dispose": (_dispose, "disposed of"),
    "take-out": (
        _with(TakeOutIn, services.take_out, "reason", "condition"),
        "taken out; its position is free",
    ),
    "void": (
        _with(RequiredReasonIn, services.void_aliquot, "reason"),
        "voided (entered in error); its position is free",
    ),
    "return": (
        _with(ReturnIn, services.return_aliquot, "condition", "volume_ul", "reason"),
        "returned: received again, scan it into a box to store it",
    ),
    "move": (_move, "moved"),
}


@login_required
def aliquot_step(barcode: str, step: str) -> ResponseReturnValue:
    if step not in STEPS:
        raise NotFound(f"No step {step!r} for an aliquot")
    run, done = STEPS[step]
    try:
        run(barcode)
    except LimsError as err:
        flash_problem(err)
    else:
        flash(f"{barcode.strip().upper()} {done}.", "success")
    return redirect(f"/aliquots/{barcode.strip().upper()}", 303)
