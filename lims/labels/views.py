"""The label printing page: choose a stock, preview the first label, print."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import login_required

from lims.actors import Role
from lims.db import get_session
from lims.errors import InvalidInput, LimsError, plural
from lims.labels import printers, services
from lims.labels.models import Printer
from lims.labels.schemas import PrinterFormIn, PrintFormIn, split_codes
from lims.specimens.barcodes import is_box_barcode, normalise
from lims.web import NAV, current_actor, flash_problem

bp = Blueprint("labels", __name__, url_prefix="/labels")
NAV.append(("labels.print_form", "Labels", (Role.TECHNICIAN,)))
NAV.append(("labels.printers_page", "Printers", (Role.ADMIN,)))


def _page(
    barcodes: list[str],
    stock_id: str,
    *,
    first_position: int = 1,
    errors: dict[str, str] | None = None,
) -> str:
    actor = current_actor()
    actor.require(Role.TECHNICIAN)
    stocks = services.list_stocks()
    available = printers.list_printers(get_session(), actor)
    return render_template(
        "labels/print.html",
        printers=available,
        printer=_chosen_printer(available),
        barcodes=barcodes,
        stocks=stocks,
        stock_id=stock_id,
        first_position=first_position,
        errors=errors or {},
        jobs=services.list_jobs(get_session(), actor),
    )


@bp.get("/print")
@login_required
def print_form() -> ResponseReturnValue:
    barcodes = split_codes(request.args.get("barcodes", ""))
    default = (
        "box-2x1-203"
        if barcodes and all(is_box_barcode(normalise(b)) for b in barcodes)
        else "cryo-1.28x0.5-203"
    )
    return _page(barcodes, request.args.get("stock", default))


@bp.post("/print")
@login_required
def print_labels() -> ResponseReturnValue:
    form_data = request.form.to_dict()
    try:
        form = PrintFormIn().load(form_data)
        output = services.print_labels(
            get_session(),
            current_actor(),
            barcodes=form["barcodes"],
            stock_id=form["stock"],
            output_format=form["format"],
            first_position=form["first_position"],
        )
    except LimsError as err:
        flash_problem(err)
        page = _page(
            split_codes(form_data.get("barcodes", "")),
            form_data.get("stock", ""),
            errors={e.get("field", ""): e["message"] for e in err.errors},
        )
        return page, err.status
    disposition = "inline" if output.media_type == "application/pdf" else "attachment"
    return Response(
        output.content,
        mimetype=output.media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{output.filename}"'},
    )


@bp.get("/preview.png")
@login_required
def preview() -> ResponseReturnValue:
    png = services.preview_png(
        get_session(),
        current_actor(),
        barcodes=split_codes(request.args.get("barcodes", "")),
        stock_id=request.args.get("stock", ""),
    )
    return Response(png, mimetype="image/png", headers={"Cache-Control": "no-store"})


def _chosen_printer(available: list[Printer]) -> Printer | None:
    """The printer this technician picked for the session, if it is still set up."""
    chosen = session.get("printer_id")
    return next((p for p in available if p.id == chosen), None)


@bp.post("/printer")
@login_required
def choose_printer() -> ResponseReturnValue:
    """Pick the printer for this session: every send goes there until changed."""
    available = printers.list_printers(get_session(), current_actor())
    wanted = request.form.get("printer_id", "")
    printer = next((p for p in available if str(p.id) == wanted), None)
    if printer is None:
        session.pop("printer_id", None)
        flash("No printer chosen: labels open as a PDF or download as ZPL.", "info")
    else:
        session["printer_id"] = printer.id
        flash(f"Labels go to {printer.name} ({printer.address}) for this session.", "success")
    return redirect(url_for("labels.print_form"))


@bp.post("/send")
@login_required
def send() -> ResponseReturnValue:
    """Send the scanned or pasted barcodes to the session's printer (Enter after a scan)."""
    form_data = request.form.to_dict()
    codes = split_codes(form_data.get("barcodes", ""))
    printer_id = session.get("printer_id")
    try:
        if printer_id is None:
            raise InvalidInput("Choose a printer first", field="printer")
        job = printers.send_labels(
            get_session(),
            current_actor(),
            printer_id=printer_id,
            barcodes=codes,
            first_position=int(form_data.get("first_position") or 1),
            print_command=current_app.config["LABEL_PRINT_COMMAND"],
            timeout_s=current_app.config["PRINTER_TIMEOUT_S"],
        )
    except (LimsError, ValueError) as err:
        problem = err if isinstance(err, LimsError) else InvalidInput(str(err))
        flash_problem(problem)
        errors = {e.get("field", ""): e["message"] for e in problem.errors}
        return _page(codes, form_data.get("stock", ""), errors=errors), problem.status
    count = job.label_count
    assert job.printer is not None
    flash(
        f"Sent {plural(count, 'label')} to {job.printer.name} "
        f"({job.printer.address}), job #{job.id}" + (" (reprint)" if job.is_reprint else ""),
        "success",
    )
    return redirect(url_for("labels.print_form", sent=1))


@bp.get("/calibration.pdf")
@login_required
def calibration() -> ResponseReturnValue:
    """A sheet's calibration page, shifted by the chosen printer's offsets."""
    printer_id = request.args.get("printer", type=int)
    pdf = printers.calibration_pdf(
        get_session(),
        current_actor(),
        stock_id=request.args.get("stock", ""),
        printer_id=printer_id,
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": 'inline; filename="calibration.pdf"'},
    )


@bp.get("/printers")
@login_required
def printers_page() -> ResponseReturnValue:
    return _printers_page()


def _printers_page(errors: dict[str, str] | None = None, form: dict[str, str] | None = None) -> str:
    actor = current_actor()
    actor.require(Role.ADMIN)
    return render_template(
        "labels/printers.html",
        printers=printers.list_printers(get_session(), actor, active_only=False),
        stocks=services.list_stocks(),
        errors=errors or {},
        form=form or {},
    )


@bp.post("/printers")
@login_required
def add_printer() -> ResponseReturnValue:
    form_data = request.form.to_dict()
    try:
        values = PrinterFormIn().load(form_data)
        values.pop("csrf_token", None)
        printer = printers.add_printer(get_session(), current_actor(), **values)
    except LimsError as err:
        flash_problem(err)
        errors = {e.get("field", ""): e["message"] for e in err.errors}
        return _printers_page(errors, form_data), err.status
    flash(f"Printer {printer.name} set up ({printer.address}).", "success")
    return redirect(url_for("labels.printers_page"))


@bp.post("/printers/<int:printer_id>")
@login_required
def change_printer(printer_id: int) -> ResponseReturnValue:
    try:
        values = PrinterFormIn().load(request.form.to_dict())
        values.pop("csrf_token", None)
        printer = printers.change_printer(
            get_session(), current_actor(), printer_id=printer_id, **values
        )
    except LimsError as err:
        flash_problem(err)
        return _printers_page({e.get("field", ""): e["message"] for e in err.errors}), err.status
    flash(f"Printer {printer.name} saved.", "success")
    return redirect(url_for("labels.printers_page"))


@bp.get("/jobs/<int:job_id>")
@login_required
def print_job(job_id: int) -> ResponseReturnValue:
    """One print job: who printed what, when, on which stock and printer (the find box's PJ-42)."""
    job = services.get_job(get_session(), current_actor(), job_id)
    return render_template("labels/job.html", job=job, code=services.job_code(job.id))
