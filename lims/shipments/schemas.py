"""Shipment input (forms and JSON) and API output."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import fields, pre_load, validate

from lims.shipments.models import Direction, ShipmentStatus
from lims.specimens.duo import PERMISSIONS, DuoTerm
from lims.web import PageOut, PageQuery, Schema, column_string

REASON = validate.Length(max=500)


def _split(value: Any) -> Any:
    """A form's textarea of scans (one per line, or separated by spaces) as a list."""
    if isinstance(value, str):
        return value.split()
    return value


class _Scans(Schema):
    @pre_load
    def _scans(self, data: Any, **_: Any) -> Any:
        if hasattr(data, "to_dict"):  # a form: the textarea holds every scan
            data = {k: data.get(k) for k in data}
        if isinstance(data, dict):
            for key in ("barcodes", "thawed_barcodes", "modifiers"):
                if key in data:
                    data = {**data, key: _split(data[key])}
        return data


class AddressIn(Schema):
    name = column_string("shipping_addresses.name", 120, min_length=1, required=True)
    street = column_string("shipping_addresses.street", 200, min_length=1, required=True)
    city = column_string("shipping_addresses.city", 80, min_length=1, required=True)
    postal_code = column_string("shipping_addresses.postal_code", 16, min_length=1, required=True)
    country = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z]{2}$"))
    subdivision = column_string(
        "shipping_addresses.subdivision", 8, load_default=None, allow_none=True
    )
    contact_name = column_string(
        "shipping_addresses.contact_name", 120, min_length=1, required=True
    )
    phone_24h = column_string("shipping_addresses.phone_24h", 40, min_length=3, required=True)
    email = column_string("shipping_addresses.email", 120, load_default=None, allow_none=True)
    site_code = column_string("sites.code", 8, load_default=None, allow_none=True)
    is_biorepository = fields.Boolean(load_default=False)


class AddressOut(Schema):
    id = fields.Integer()
    name = fields.String()
    street = fields.String()
    city = fields.String()
    postal_code = fields.String()
    subdivision = fields.String(allow_none=True)
    country = fields.String()
    contact_name = fields.String()
    phone_24h = fields.String()
    is_biorepository = fields.Boolean()


class ShipmentIn(_Scans):
    from_address_id = fields.Integer(required=True, validate=validate.Range(min=1))
    to_address_id = fields.Integer(required=True, validate=validate.Range(min=1))
    purpose = fields.Enum(
        DuoTerm,
        by_value=True,
        load_default=None,
        allow_none=True,
        metadata={"description": "a DUO permission: " + ", ".join(sorted(PERMISSIONS))},
    )
    modifiers = fields.List(fields.Enum(DuoTerm, by_value=True), load_default=list)
    barcodes = fields.List(
        fields.String(validate=validate.Length(min=1, max=32)),
        load_default=list,
        validate=validate.Length(max=10_000),
    )

    @pre_load
    def _blank_purpose(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict) and data.get("purpose") == "":
            return {**data, "purpose": None}
        return data


class PackBoxIn(_Scans):
    barcodes = fields.List(
        fields.String(validate=validate.Length(min=1, max=32)),
        required=True,
        validate=validate.Length(min=1, max=81),
    )
    label = column_string("shipment_boxes.label", 40, load_default=None, allow_none=True)


class ShipIn(Schema):
    courier = column_string("shipments.courier", 60, min_length=1, required=True)
    tracking_number = column_string("shipments.tracking_number", 60, min_length=1, required=True)
    shipped_at = fields.AwareDateTime(default_timezone=UTC, load_default=None, allow_none=True)
    dry_ice_kg = fields.Float(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=200)
    )  # IATA PI 954: at most 200 kg of dry ice per package
    logger_id = column_string("shipments.logger_id", 60, load_default=None, allow_none=True)
    arrives_on = fields.Date(load_default=None, allow_none=True)

    @pre_load
    def _blanks(self, data: Any, **_: Any) -> Any:
        if hasattr(data, "to_dict"):
            data = {k: data.get(k) for k in data}
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v != ""}
        return data


class ArrivalIn(_Scans):
    logger_reading_c = fields.Float(
        load_default=None, allow_none=True, validate=validate.Range(min=-200, max=100)
    )
    dry_ice_left_kg = fields.Float(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=200)
    )
    is_damaged = fields.Boolean(load_default=False)
    notes = fields.String(load_default=None, allow_none=True, validate=REASON)
    thawed_barcodes = fields.List(
        fields.String(validate=validate.Length(max=32)), load_default=list
    )

    @pre_load
    def _blanks(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v != ""}
        return data


class DeliveryIn(Schema):
    """An outbound shipment's delivery, as the recipient confirmed it."""

    delivered_at = fields.AwareDateTime(default_timezone=UTC, load_default=None, allow_none=True)
    is_damaged = fields.Boolean(load_default=False)
    notes = fields.String(load_default=None, allow_none=True, validate=REASON)

    @pre_load
    def _blanks(self, data: Any, **_: Any) -> Any:
        if hasattr(data, "to_dict"):
            data = {k: data.get(k) for k in data}
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v != ""}
        return data


class ScanIn(Schema):
    barcode = fields.String(required=True, validate=validate.Length(min=1, max=40))
    scanned_at = fields.AwareDateTime(default_timezone=UTC, load_default=None, allow_none=True)


class ScansIn(_Scans):
    barcodes = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        required=True,
        validate=validate.Length(min=1, max=10_000),
    )
    scanned_at = fields.AwareDateTime(default_timezone=UTC, load_default=None, allow_none=True)
    complete = fields.Boolean(
        load_default=False, metadata={"description": "complete the receipt after the scans"}
    )


class ReasonIn(Schema):
    reason = fields.String(required=True, validate=REASON)


class ManifestIn(Schema):
    csv = fields.String(required=True, validate=validate.Length(min=1, max=20_000_000))


class ShipmentQueryIn(PageQuery):
    direction = fields.Enum(Direction, by_value=True, load_default=None)
    status = fields.Enum(ShipmentStatus, by_value=True, load_default=None)


class ItemOut(Schema):
    id = fields.Integer()
    barcode = fields.String()
    state = fields.String()
    specimen_type = fields.String()
    quantity = fields.Float()
    unit = fields.String()
    box = fields.Function(lambda i: i.box.label if i.box else None, metadata={"type": "string"})
    box_number = fields.Function(
        lambda i: i.box.number if i.box else None, metadata={"type": "integer"}
    )
    position = fields.String(allow_none=True)
    from_box = fields.String(allow_none=True)
    from_position = fields.String(allow_none=True)
    is_thawed = fields.Boolean()
    resolution = fields.String(allow_none=True)


class ReconciliationOut(Schema):
    received = fields.List(fields.String())
    missing = fields.List(fields.String())
    unexpected = fields.List(fields.String())
    duplicates = fields.List(fields.String())
    wrong_shipment = fields.Dict(keys=fields.String(), values=fields.String())


class ShipmentSummaryOut(Schema):
    id = fields.Integer()
    code = fields.String()
    direction = fields.String()
    status = fields.String()
    source = fields.Function(lambda s: s.from_address.name, metadata={"type": "string"})
    destination = fields.Function(lambda s: s.to_address.name, metadata={"type": "string"})
    purpose = fields.String(allow_none=True)
    sender_reference = fields.String(allow_none=True)
    courier = fields.String(allow_none=True)
    tracking_number = fields.String(allow_none=True)
    shipped_at = fields.DateTime(allow_none=True)
    received_at = fields.DateTime(allow_none=True)
    tubes = fields.Function(lambda s: len(s.items), metadata={"type": "integer"})


class ShipmentOut(ShipmentSummaryOut):
    source_address = fields.Function(
        lambda s: AddressOut().dump(s.from_address), metadata={"type": "object"}
    )
    destination_address = fields.Function(
        lambda s: AddressOut().dump(s.to_address), metadata={"type": "object"}
    )
    modifiers = fields.Function(
        lambda s: [m.value for m in s.modifiers],
        metadata={"type": "array", "items": {"type": "string"}},
    )
    dry_ice_kg = fields.Float(allow_none=True)
    logger_id = fields.String(allow_none=True)
    logger_reading_c = fields.Float(allow_none=True)
    dry_ice_left_kg = fields.Float(allow_none=True)
    is_damaged = fields.Boolean(allow_none=True)
    arrival_notes = fields.String(allow_none=True)
    delivery_confirmed_by = fields.Function(
        lambda s: s.delivery_confirmed_by.username if s.delivery_confirmed_by else None,
        metadata={"type": "string", "nullable": True},
    )
    items = fields.List(fields.Nested(ItemOut))


class ShipmentPageOut(PageOut):
    items = fields.List(fields.Nested(ShipmentSummaryOut))


class DispatchOut(Schema):
    shipment = fields.Nested(ShipmentOut)
    warnings = fields.List(fields.String())


class ScanOutcomeOut(Schema):
    kind = fields.String()
    barcode = fields.String()
    message = fields.String()


class ReceiptOut(Schema):
    """What posting scans gives back: each scan's outcome and the reconciliation after them."""

    scans = fields.List(fields.Nested(ScanOutcomeOut))
    reconciliation = fields.Nested(ReconciliationOut)
    shipment = fields.Nested(ShipmentSummaryOut)
