"""Specimen and box labels as PDF or ZPL: plain data in, bytes or text out.

No Flask, SQLAlchemy or lims imports here (tests/test_boundaries.py); the application builds the
label values from its rows and prints what comes back.
"""

from label_printing.calibration import label_outlines_in, render_calibration_pdf
from label_printing.content import BoxLabel, Label, VialLabel
from label_printing.errors import (
    InvalidLabel,
    LabelDoesNotFit,
    LabelError,
    PositionOutOfRange,
    UnknownStock,
    UnsupportedOutput,
)
from label_printing.pdf import render_pdf
from label_printing.stocks import STOCKS, LabelStock, SheetGrid, get_stock
from label_printing.zpl import render_zpl

__all__ = [
    "STOCKS",
    "BoxLabel",
    "InvalidLabel",
    "Label",
    "LabelDoesNotFit",
    "LabelError",
    "LabelStock",
    "PositionOutOfRange",
    "SheetGrid",
    "UnknownStock",
    "UnsupportedOutput",
    "VialLabel",
    "get_stock",
    "label_outlines_in",
    "render_calibration_pdf",
    "render_pdf",
    "render_zpl",
]
