"""Fulfilment input (forms and JSON) and API output (issue 19): the pick list, the reservation,
scans at the freezer, letting a tube go, the request's outbound shipment. Shipping a request
takes shipments' own ShipIn, so the courier's fields are checked in one place.

Staff-only output: barcodes and freezer places, never a subject's study code."""

from __future__ import annotations

from marshmallow import fields, validate

from lims.requests.services import ItemLine
from lims.shipments.schemas import ShipmentSummaryOut
from lims.web import Schema


class ReserveIn(Schema):
    # The tubes of the list the technician saw; none: the whole list as proposed now.
    aliquot_ids = fields.List(fields.Integer(strict=True), load_default=None, allow_none=True)


class PickIn(Schema):
    barcode = fields.String(required=True, validate=validate.Length(min=1, max=32))


class CancelIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class PackIn(Schema):
    to_address_id = fields.Integer(required=True, strict=False)


class PickLineOut(Schema):
    aliquot_id = fields.Integer()
    barcode = fields.String()
    specimen_type = fields.String()
    volume_ul = fields.Integer()
    freeze_thaw_count = fields.Integer()
    freezer = fields.String()
    rack = fields.String()
    box = fields.String()
    position = fields.String()


class ProposalOut(Schema):
    request = fields.Function(lambda p: p.request.code, metadata={"type": "string"})
    lines = fields.List(fields.Nested(PickLineOut))
    tubes = fields.Function(lambda p: len(p.lines), metadata={"type": "integer"})
    visits = fields.Integer()
    short_visits = fields.Integer()
    kept_last = fields.Integer()


def _item(line: ItemLine) -> dict[str, object]:
    item = line.item
    return {
        "id": item.id,
        "barcode": item.aliquot.barcode,
        "status": item.status.value,
        "pick_order": item.pick_order,
        "picked_at": item.picked_at.isoformat() if item.picked_at else None,
        "cancel_reason": item.cancel_reason,
        "freezer": line.freezer,
        "rack": line.rack,
        "box": line.box,
        "position": line.position,
    }


class PickItemOut(Schema):
    id = fields.Integer()
    barcode = fields.String()
    status = fields.String()
    pick_order = fields.Integer()
    picked_at = fields.String(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    freezer = fields.String()
    rack = fields.String()
    box = fields.String()
    position = fields.String()


class FulfilmentOut(Schema):
    request = fields.Function(lambda f: f.request.code, metadata={"type": "string"})
    state = fields.Function(lambda f: f.request.state.value, metadata={"type": "string"})
    picked = fields.Integer()
    total = fields.Integer()
    progress = fields.String()
    items = fields.Function(
        lambda f: PickItemOut(many=True).dump([_item(line) for line in f.lines]),
        metadata={"type": "array", "items": {"type": "object"}},
    )
    shipment = fields.Function(
        lambda f: ShipmentSummaryOut().dump(f.request.shipment) if f.request.shipment else None,
        metadata={"type": "object", "nullable": True},
    )


class PickOutcomeOut(Schema):
    barcode = fields.Function(lambda o: o.item.aliquot.barcode, metadata={"type": "string"})
    message = fields.Function(
        lambda o: f"{o.item.aliquot.barcode} picked: {o.fulfilment.progress}",
        metadata={"type": "string"},
    )
    fulfilment = fields.Nested(FulfilmentOut)
