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


class PrinterIn(Schema):
    name = column_string("printers.name", 64, min_length=1, required=True)
    language = fields.String(
        required=True,
        validate=validate.OneOf(["zpl", "pdf"]),
        metadata={"description": "zpl: raw TCP to host:port; pdf: the server's print queue"},
    )
    host = fields.String(
        load_default="",
        validate=[validate.Length(max=255), validate.Regexp(r"^[A-Za-z0-9.:-]*$")],
        metadata={"column": "printers.host", "description": "ZPL: the printer's address"},
    )
    port = fields.Integer(load_default=9100, validate=validate.Range(min=1, max=65535))
    queue = fields.String(
        load_default="",
        validate=[validate.Length(max=64), validate.Regexp(r"^[A-Za-z0-9_.@-]*$")],
        metadata={"column": "printers.queue", "description": "PDF: the print queue (lp -d)"},
    )
    stock_id = column_string("printers.stock_id", 40, required=True)
    dpi = fields.Integer(required=True, validate=validate.Range(min=100, max=2400))
    x_offset_mm = fields.Float(load_default=0.0, validate=validate.Range(min=-20, max=20))
    y_offset_mm = fields.Float(load_default=0.0, validate=validate.Range(min=-20, max=20))
    is_active = fields.Boolean(load_default=True)


class PrinterOut(Schema):
    id = fields.Integer()
    name = fields.String()
    language = fields.String()
    host = fields.String()
    port = fields.Integer()
    queue = fields.String()
    stock_id = fields.String()
    dpi = fields.Integer()
    x_offset_mm = fields.Float()
    y_offset_mm = fields.Float()
    is_active = fields.Boolean()


class PrintersOut(Schema):
    items = fields.List(fields.Nested(PrinterOut))


class PrinterJobIn(Schema):
    barcodes = fields.List(
        column_string("printed_labels.barcode", 32, min_length=1),
        required=True,
        validate=validate.Length(min=1, max=20_000),
    )
    first_position = fields.Integer(load_default=1, validate=validate.Range(min=1))


class PrintJobOut(Schema):
    id = fields.Integer()
    printer = fields.Function(lambda job: job.printer.name if job.printer else None)
    stock_id = fields.String()
    output_format = fields.String()
    label_count = fields.Integer()
    is_reprint = fields.Boolean()


class PrinterFormIn(PrinterIn):
    """The admin page's form: a checkbox for is_active, empty number boxes for the defaults."""

    csrf_token = fields.String(load_default=None, validate=validate.Length(max=200))

    @pre_load
    def form_values(self, data: Any, **_kwargs: Any) -> dict[str, Any]:
        values = {k: v for k, v in dict(data).items() if v != "" or k in ("host", "queue")}
        values["is_active"] = values.get("is_active") in ("on", "true", "1", True)
        return values
