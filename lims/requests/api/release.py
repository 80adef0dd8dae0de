"""API: release (issue 19): confirm a request's delivery (its aliquots released), and download
its de-identified data set (CSV) and data dictionary (JSON or CSV). An investigator reaches only
their own requests: another's answers 404, as a missing one."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue
from marshmallow import fields

from lims.db import get_session, utcnow
from lims.requests.services import release as services
from lims.requests.views.release import data_set_response
from lims.shipments.schemas import DeliveryIn
from lims.web import Schema, current_actor, documented, dump, json_body, token_required

bp = Blueprint("requests_release_api", __name__, url_prefix="/api/v1")


class ReleasedItemOut(Schema):
    barcode = fields.Function(lambda i: i.aliquot.barcode, metadata={"type": "string"})
    status = fields.Function(lambda i: i.status.value, metadata={"type": "string"})


class ReleaseOut(Schema):
    """A request's release: where it stands, its shipment and its aliquots."""

    code = fields.String()
    state = fields.Function(lambda r: r.state.value, metadata={"type": "string"})
    shipment = fields.Function(
        lambda r: r.shipment.code if r.shipment else None,
        metadata={"type": "string", "nullable": True},
    )
    items = fields.Function(
        lambda r: ReleasedItemOut(many=True).dump(
            [i for i in r.items if i.status in services.ROW_ITEMS]
        ),
        metadata={"type": "array", "items": {"type": "object"}},
    )


@bp.post("/requests/<code>/delivery")
@token_required
@documented(
    summary="Confirm a shipped request's delivery (technician): its shipment is delivered and "
    "its aliquots are released to the investigator; delivered_at defaults to now",
    body=DeliveryIn,
    response=ReleaseOut,
)
def confirm_request_delivery(code: str) -> ResponseReturnValue:
    body = DeliveryIn().load(json_body())
    body["delivered_at"] = body["delivered_at"] or utcnow()
    req = services.confirm_request_delivery(get_session(), current_actor(), request_id=code, **body)
    return dump(ReleaseOut(), req)


@bp.get("/requests/<code>/data-set")
@token_required
@documented(
    summary="The request's de-identified data set, one row per shipped aliquot (CSV; its "
    "investigator or staff; every download is audited with the file's SHA-256)",
    content_type="text/csv",
)
def data_set(code: str) -> ResponseReturnValue:
    return data_set_response(code, "data")


@bp.get("/requests/<code>/data-dictionary")
@token_required
@documented(
    summary="The data set's dictionary: every column, its type and its codes' meanings (JSON)",
)
def data_dictionary(code: str) -> ResponseReturnValue:
    return data_set_response(code, "dictionary_json")


@bp.get("/requests/<code>/data-dictionary.csv")
@token_required
@documented(summary="The data set's dictionary as CSV", content_type="text/csv")
def data_dictionary_csv(code: str) -> ResponseReturnValue:
    return data_set_response(code, "dictionary_csv")
