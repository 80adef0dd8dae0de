"""Label stocks and label printing over the API."""

from __future__ import annotations

from flask import Blueprint, Response, current_app
from flask.typing import ResponseReturnValue

from lims.db import get_session
from lims.labels import printers, services
from lims.labels.schemas import (
    LabelsIn,
    LabelStocksOut,
    PrinterIn,
    PrinterJobIn,
    PrinterOut,
    PrintersOut,
    PrintJobOut,
)
from lims.web import current_actor, documented, dump, json_body, token_required

bp = Blueprint("labels_api", __name__, url_prefix="/api/v1")


@bp.get("/label-stocks")
@token_required
@documented(summary="The label stocks labels can be printed on", response=LabelStocksOut)
def label_stocks() -> ResponseReturnValue:
    return dump(LabelStocksOut(), {"items": services.list_stocks()})


@bp.post("/labels")
@token_required
@documented(
    summary="Print labels for aliquots, tubes or boxes: a PDF, or ZPL with format=zpl",
    body=LabelsIn,
    content_type="application/pdf",
)
def print_labels() -> ResponseReturnValue:
    body = LabelsIn().load(json_body())
    output = services.print_labels(
        get_session(),
        current_actor(),
        barcodes=body["barcodes"],
        stock_id=body["stock"],
        output_format=body["format"],
        first_position=body["first_position"],
    )
    return Response(
        output.content,
        mimetype=output.media_type,
        headers={
            "Content-Disposition": f'inline; filename="{output.filename}"',
            "X-Print-Job": str(output.job.id),
            "X-Reprint": "true" if output.job.is_reprint else "false",
        },
    )


@bp.get("/printers")
@token_required
@documented(
    summary="The label printers, with their stock, address and offsets", response=PrintersOut
)
def list_printers() -> ResponseReturnValue:
    items = printers.list_printers(get_session(), current_actor(), active_only=False)
    return dump(PrintersOut(), {"items": items})


@bp.post("/printers")
@token_required
@documented(
    summary="Set up a label printer (admins)", body=PrinterIn, response=PrinterOut, status=201
)
def add_printer() -> ResponseReturnValue:
    body = PrinterIn().load(json_body())
    return dump(PrinterOut(), printers.add_printer(get_session(), current_actor(), **body)), 201


@bp.patch("/printers/<int:printer_id>")
@token_required
@documented(summary="Change a label printer (admins)", body=PrinterIn, response=PrinterOut)
def change_printer(printer_id: int) -> ResponseReturnValue:
    body = PrinterIn(partial=True).load(json_body())
    printer = printers.change_printer(get_session(), current_actor(), printer_id=printer_id, **body)
    return dump(PrinterOut(), printer)


@bp.post("/printers/<int:printer_id>/jobs")
@token_required
@documented(
    summary="Print labels on a printer: rendered for its stock and offsets, sent, recorded",
    body=PrinterJobIn,
    response=PrintJobOut,
    status=201,
)
def send_to_printer(printer_id: int) -> ResponseReturnValue:
    body = PrinterJobIn().load(json_body())
    job = printers.send_labels(
        get_session(),
        current_actor(),
        printer_id=printer_id,
        barcodes=body["barcodes"],
        first_position=body["first_position"],
        print_command=current_app.config["LABEL_PRINT_COMMAND"],
        timeout_s=current_app.config["PRINTER_TIMEOUT_S"],
    )
    return dump(PrintJobOut(), job), 201
