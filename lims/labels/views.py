"""The label printing page: choose a stock, preview the first label, print."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required

from lims.actors import Role
from lims.db import get_session
from lims.errors import LimsError
from lims.labels import services
from lims.labels.schemas import PrintFormIn, split_codes
from lims.specimens.barcodes import is_box_barcode, normalise
from lims.web import NAV, current_actor, flash_problem

bp = Blueprint("labels", __name__, url_prefix="/labels")
NAV.append(("labels.print_form", "Labels", (Role.TECHNICIAN,)))


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
    return render_template(
        "labels/print.html",
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
