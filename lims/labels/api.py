"""Label stocks and label printing over the API."""

from __future__ import annotations

from flask import Blueprint, Response
from flask.typing import ResponseReturnValue

from lims.db import get_session
from lims.labels import services
from lims.labels.schemas import LabelsIn, LabelStocksOut
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
