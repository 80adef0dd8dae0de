from __future__ import annotations

from typing import Any

from marshmallow import fields, pre_load, validate

from lims.web import Schema, column_string


class SheetOut(Schema):
    columns = fields.Integer()
    rows = fields.Integer()
    positions = fields.Integer()


class LabelStockOut(Schema):
    id = fields.String()
    name = fields.String()
    purpose = fields.String(metadata={"description": "vial or box"})
    kind = fields.String(metadata={"description": "roll (one label per page) or sheet"})
    label_width_in = fields.Float()
    label_height_in = fields.Float()
    dpi = fields.Integer()
    sheet = fields.Nested(SheetOut, allow_none=True)
    formats = fields.Function(lambda s: ["pdf", "zpl"] if s.kind == "roll" else ["pdf"])


class LabelStocksOut(Schema):
    items = fields.List(fields.Nested(LabelStockOut))


class LabelsIn(Schema):
    barcodes = fields.List(
        column_string("printed_labels.barcode", 32, min_length=1),
        required=True,
        validate=validate.Length(min=1, max=20_000),
    )
    stock = column_string("print_jobs.stock_id", 40, required=True)
    format = fields.String(load_default="pdf", validate=validate.OneOf(["pdf", "zpl"]))
    first_position = fields.Integer(load_default=1, validate=validate.Range(min=1))


class PrintFormIn(Schema):
    """The web form: barcodes one per line (or separated by commas or spaces)."""

    barcodes = fields.List(
        column_string("printed_labels.barcode", 32, min_length=1),
        required=True,
        validate=validate.Length(max=20_000),
    )
    stock = column_string("print_jobs.stock_id", 40, required=True)
    format = fields.String(load_default="pdf", validate=validate.OneOf(["pdf", "zpl"]))
    first_position = fields.Integer(load_default=1, validate=validate.Range(min=1))
    csrf_token = fields.String(load_default=None, validate=validate.Length(max=200))

    @pre_load
    def split_barcodes(self, data: Any, **_kwargs: Any) -> dict[str, Any]:
        values = dict(data)
        raw = values.get("barcodes", "")
        values["barcodes"] = split_codes(raw if isinstance(raw, str) else ",".join(raw))
        if values.get("first_position") in ("", None):
            values.pop("first_position", None)
        return values


def split_codes(text: str) -> list[str]:
    """Barcodes as a scanner or a paste gives them: one per line, or separated by , ; or spaces."""
    for sep in ",;\t\r":
        text = text.replace(sep, "\n")
    return [part.strip() for line in text.split("\n") for part in line.split(" ") if part.strip()]
