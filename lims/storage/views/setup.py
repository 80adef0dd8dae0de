"""Setting up storage: freezers, racks, boxes; the box page and the capacity page."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from lims.actors import Role
from lims.db import get_session
from lims.errors import LimsError
from lims.storage import services
from lims.storage.schemas import BoxIn, FreezerIn, MoveBoxIn, RackIn
from lims.storage.views._helpers import form_values
from lims.web import current_actor, flash_problem


def _index(errors: dict[str, str] | None = None, values: Any = None) -> str:
    session, actor = get_session(), current_actor()
    return render_template(
        "storage/index.html",
        report=services.capacity_report(session, actor),
        freezers={f.id: f for f in services.list_freezers(session, actor)},
        errors=errors or {},
        values=values or {},
    )


@login_required
def index() -> ResponseReturnValue:
    return _index()


@login_required
def create_freezer() -> ResponseReturnValue:
    try:
        form = FreezerIn().load(form_values("name", "temperature_c", "room", "site_code"))
        freezer = services.create_freezer(get_session(), current_actor(), **form)
    except LimsError as err:
        flash_problem(err)
        return _index(err.field_errors, request.form), err.status
    flash(f"Freezer {freezer.name} added; now add its racks or shelves.", "success")
    return redirect(url_for("storage.freezer", freezer_id=freezer.id), 303)


def _freezer_page(freezer_id: int, errors: dict[str, str] | None = None, values: Any = None) -> str:
    session, actor = get_session(), current_actor()
    freezer = services.get_freezer(session, actor, freezer_id)
    (fill,) = services.capacity_report(session, actor, freezer_id=freezer.id)
    by_rack: dict[str | None, list[services.BoxFill]] = {}
    for box in fill.boxes:
        by_rack.setdefault(box.rack, []).append(box)
    return render_template(
        "storage/freezer.html",
        freezer=freezer,
        fill=fill,
        by_rack=by_rack,
        errors=errors or {},
        values=values or {},
    )


@login_required
def freezer(freezer_id: int) -> ResponseReturnValue:
    return _freezer_page(freezer_id)


@login_required
def create_rack(freezer_id: int) -> ResponseReturnValue:
    try:
        form = RackIn().load(form_values("name"))
        rack = services.create_rack(get_session(), current_actor(), freezer_id=freezer_id, **form)
    except LimsError as err:
        flash_problem(err)
        return _freezer_page(freezer_id, err.field_errors, request.form), err.status
    flash(f"{rack.name} added to {rack.freezer.name}.", "success")
    return redirect(url_for("storage.freezer", freezer_id=freezer_id), 303)


@login_required
def create_box() -> ResponseReturnValue:
    freezer_id = request.form.get("freezer_id", type=int)
    try:
        form = BoxIn().load(
            form_values("name", "n_rows", "n_cols", "rack_id", "barcode", "specimen_type")
        )
        box = services.create_box(get_session(), current_actor(), **form)
    except LimsError as err:
        flash_problem(err)
        if freezer_id is None:
            return redirect(url_for("storage.index"), 303)
        return _freezer_page(freezer_id, err.field_errors, request.form), err.status
    flash(f"Box {box.barcode} ({box.n_rows}x{box.n_cols}) added.", "success")
    return redirect(url_for("storage.box", box_id=box.id), 303)


@login_required
def box(box_id: int) -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    grid = services.box_grid(session, actor, box_id)
    # The move form offers the racks of the box's own freezer: a consortium's freezers hold
    # a thousand racks, and one <select> of them all made the page four times slower. Another
    # freezer's rack is chosen on the move page, which lists them all.
    here = grid.box.rack.freezer_id if grid.box.rack is not None else None  # None: every rack
    movable = actor.role in (Role.TECHNICIAN, Role.ADMIN)
    return render_template(
        "storage/box.html",
        grid=grid,
        racks=services.list_racks(session, actor, freezer_id=here) if movable else [],
        highlight=request.args.get("position", "").upper(),
    )


@login_required
def box_by_barcode(code: str) -> ResponseReturnValue:
    found = services.find_box(get_session(), current_actor(), code)
    return redirect(url_for("storage.box", box_id=found.id))


@login_required
def move_box(box_id: int) -> ResponseReturnValue:
    try:
        form = MoveBoxIn().load(form_values("rack_id"))
        moved = services.move_box(get_session(), current_actor(), box_id=box_id, **form)
    except LimsError as err:
        flash_problem(err)
    else:
        flash(f"Box {moved.barcode} is now in {moved.location_path()}.", "success")
    return redirect(url_for("storage.box", box_id=box_id), 303)


@login_required
def capacity() -> ResponseReturnValue:
    report = services.capacity_report(get_session(), current_actor())
    return render_template("storage/capacity.html", report=report)
