"""The bench: scanning tubes into a box, moving, taking out, disposing, lists of scanned tubes
(check out, check in, use), importing placements.

Plain forms that POST and redirect back, so a scanner (which types the code and presses Enter)
works without JavaScript; lims/static/storage.js only keeps the focus, beeps and lets a click on
an empty cell choose the next position.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from lims.actors import Role
from lims.db import get_session
from lims.errors import InvalidInput, LimsError, NotFound, plural
from lims.specimens import barcodes
from lims.specimens.models import DisposalReason, OutCondition
from lims.storage import services
from lims.storage.schemas import CheckOutIn, DisposeIn, MoveAliquotIn, TakeOutIn, UseIn
from lims.storage.views._helpers import box_id_from, form_values
from lims.web import current_actor, flash_problem, safe_next

_POSITION = re.compile(r"^[A-Z][0-9]{1,2}$")  # shorter than any barcode (4+ characters)


def _scan_url(box_id: int | None, **args: Any) -> str:
    return url_for("storage.scan", box=box_id, **{k: v for k, v in args.items() if v})


@login_required
def scan() -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    actor.require(Role.TECHNICIAN)
    box_id = request.args.get("box", type=int)
    grid = services.box_grid(session, actor, box_id) if box_id else None
    target = request.args.get("position", "").upper()
    next_free = None
    if grid is not None and not target:
        free = services.next_free_position(grid.box)
        next_free = f"{grid.row_letters[free[0]]}{free[1] + 1}" if free else None
    return render_template(
        "storage/scan.html",
        grid=grid,
        target=target,
        next_free=next_free,
        last=request.args.get("last", "").upper(),
        failed=request.args.get("failed", "").upper(),
    )


@login_required
def scan_submit() -> ResponseReturnValue:
    """One scan: a box barcode selects the box, a position sets the target, a tube is stored."""
    session, actor = get_session(), current_actor()
    box_id = request.form.get("box_id", type=int)
    code = barcodes.normalise(request.form.get("code", ""))
    target = barcodes.normalise(request.form.get("position", ""))
    if not code and target:
        code, target = target, ""
    try:
        if not code:
            raise InvalidInput("Nothing was scanned", field="code")
        if box_id and _POSITION.match(code):
            services.get_box(session, actor, box_id).parse_position(code)
            flash(f"Next tube goes to {code}", "info")
            return redirect(_scan_url(box_id, position=code), 303)
        if not box_id or barcodes.is_box_barcode(code):
            return redirect(_scan_url(_select_box(code, had_box=bool(box_id))), 303)
        result = _scan_tube(box_id, code, target)
    except LimsError as err:
        flash_problem(err)
        if "position" in err.field_errors:  # that position is taken or wrong: forget it
            return redirect(_scan_url(box_id, failed=target), 303)
        return redirect(_scan_url(box_id, position=target), 303)
    if isinstance(result, int):  # a pre-printed box barcode: switch boxes
        return redirect(_scan_url(result), 303)
    category = "warning" if result.outcome == "already_here" else "success"
    flash(result.message, category)
    return redirect(_scan_url(box_id, last=result.position), 303)


def _select_box(code: str, *, had_box: bool) -> int:
    try:
        return services.find_box(get_session(), current_actor(), code).id
    except NotFound as err:
        if had_box:
            raise
        raise NotFound(f"{code} is not a box: scan the box first", field="code") from err


def _scan_tube(box_id: int, code: str, target: str) -> services.ScanResult | int:
    session, actor = get_session(), current_actor()
    try:
        return services.scan_into_box(
            session, actor, box_id=box_id, barcode=code, position=target or None
        )
    except NotFound:
        try:
            return services.find_box(session, actor, code).id
        except LimsError:
            pass
        raise


@login_required
def move() -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    actor.require(Role.TECHNICIAN)
    return render_template("storage/move.html", racks=services.list_racks(session, actor))


@login_required
def move_aliquot() -> ResponseReturnValue:
    try:
        form = MoveAliquotIn().load(form_values("box_barcode", "position"))
        code = request.form.get("barcode", "")
        placement = services.move_aliquot(
            get_session(),
            current_actor(),
            barcode=code,
            box_id=box_id_from(form) or 0,
            position=form["position"],
        )
    except LimsError as err:
        flash_problem(err)
    else:
        flash(
            f"{placement.aliquot.barcode} moved to {placement.box.barcode} {placement.position}",
            "success",
        )
    return redirect(url_for("storage.move"), 303)


@login_required
def move_box_by_barcode() -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    try:
        box = services.find_box(session, actor, request.form.get("box_barcode", ""))
        rack_id = request.form.get("rack_id", type=int)
        if rack_id is None:
            raise InvalidInput("Choose the rack the box goes to", field="rack_id")
        moved = services.move_box(session, actor, box_id=box.id, rack_id=rack_id)
    except LimsError as err:
        flash_problem(err)
    else:
        flash(f"Box {moved.barcode} is now in {moved.location_path()}", "success")
    return redirect(url_for("storage.move"), 303)


@login_required
def take_out() -> ResponseReturnValue:
    try:
        form = TakeOutIn().load(form_values("reason", "condition"))
        aliquot = services.take_out(
            get_session(), current_actor(), barcode=request.form.get("barcode", ""), **form
        )
    except LimsError as err:
        flash_problem(err)
    else:
        flash(f"{aliquot.barcode} taken out; its position is free", "success")
    return redirect(safe_next(request.form.get("next"), url_for("storage.move")), 303)


def _scanned_lines() -> list[str]:
    """The scanned list, one barcode a line as the page showed it (blank lines keep their
    number, so a problem's line matches the screen); the subject page sends one field a tube."""
    return [line for value in request.form.getlist("barcodes") for line in value.splitlines()]


def _list_page(
    template: str, codes: list[str], status: int = 200, **context: Any
) -> tuple[str, int]:
    session, actor = get_session(), current_actor()
    page = render_template(
        template,
        barcodes="\n".join(codes),
        values=form_values(*LIST_FIELDS),
        conditions=list(OutCondition),
        disposal_reasons=list(DisposalReason),
        authorisers=services.disposal_authorisers(session, actor),
        **{"problems": [], **context},
    )
    return page, status


LIST_FIELDS = ("reason", "note", "authorised_by", "condition", "volume_ul", "consume_all")


@login_required
def dispose_form() -> ResponseReturnValue:
    current_actor().require(Role.TECHNICIAN)
    return _list_page("storage/dispose.html", request.args.getlist("barcodes"))


@login_required
def dispose() -> ResponseReturnValue:
    """Batch disposal: `barcodes` (repeated, or one per line), the reason from the list, a note,
    who authorised it; reviewed first, then all or none."""
    codes = _scanned_lines()
    back = safe_next(request.form.get("next"), "")
    if request.form.get("confirm") != "true":  # the second step: say what will happen, then ask
        return _list_page(
            "storage/dispose.html", codes, confirming=[c for c in codes if c.strip()], next=back
        )
    try:
        form = DisposeIn().load(form_values("reason", "note", "authorised_by"))
        done = services.dispose_aliquots(get_session(), current_actor(), barcodes=codes, **form)
    except LimsError as err:
        flash_problem(err)
        if back:
            for problem in err.errors:
                flash(problem["message"], "error")
            return redirect(back, 303)
        return _list_page("storage/dispose.html", codes, err.status, problems=err.errors)
    tubes = plural(len(done), "aliquot")
    flash(f"{tubes} disposed of: {', '.join(a.barcode for a in done)}", "success")
    return redirect(back or url_for("storage.dispose_form"), 303)


# The scanned-list page: what each choice runs, and how the result reads.
LIST_STEPS: dict[str, tuple[str, str]] = {
    "check-out": ("Check out", "checked out"),
    "check-in": ("Check in", "checked in to their held positions"),
    "use": ("Record use", "used"),
}


@login_required
def tube_list_form() -> ResponseReturnValue:
    current_actor().require(Role.TECHNICIAN)
    step = request.args.get("step", "check-out")
    return _list_page("storage/tube_list.html", [], step=step if step in LIST_STEPS else "")


def _run_list(step: str, codes: list[str]) -> list[Any]:
    session, actor = get_session(), current_actor()
    if step == "check-out":
        form = CheckOutIn().load(form_values("condition", "reason"))
        return services.check_out_many(session, actor, barcodes=codes, **form)
    if step == "check-in":
        return services.check_in_many(session, actor, barcodes=codes)
    if step == "use":
        form = UseIn().load(form_values("volume_ul", "consume_all"))
        return services.use_many(session, actor, barcodes=codes, **form)
    raise InvalidInput("Choose what to do with the tubes", field="step")


@login_required
def tube_list() -> ResponseReturnValue:
    """A scanned list of tubes checked out, checked in or used: all of them, or none."""
    step = request.form.get("step", "")
    codes = _scanned_lines()
    try:
        done = _run_list(step, codes)
    except LimsError as err:
        flash_problem(err)
        page = "storage/tube_list.html"
        return _list_page(page, codes, err.status, problems=err.errors, step=step)
    words = LIST_STEPS[step][1]
    tubes = plural(len(done), "tube")
    flash(f"{tubes} {words}: {', '.join(a.barcode for a in done)}", "success")
    return redirect(url_for("storage.tube_list_form", step=step), 303)


@login_required
def import_form() -> ResponseReturnValue:
    current_actor().require(Role.TECHNICIAN)
    return render_template("storage/import.html", problems=[], text="")


@login_required
def import_placements() -> ResponseReturnValue:
    upload = request.files.get("file")
    text = request.form.get("text", "")
    try:
        source = upload.stream if upload and upload.filename else text
        rows = services.read_placement_csv(source, max_rows=current_app.config["MAX_IMPORT_ROWS"])
        placed = services.import_placements(get_session(), current_actor(), rows=rows)
    except LimsError as err:
        flash_problem(err)
        page = render_template("storage/import.html", problems=err.errors, text=text)
        return page, err.status
    boxes = sorted({p.box.barcode for p in placed})
    flash(f"{plural(len(placed), 'tube')} placed into {', '.join(boxes)}", "success")
    return redirect(url_for("storage.import_form"), 303)
