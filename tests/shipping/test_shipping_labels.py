"""Box labels of a shipment: the shipment id scans, "Box n of m" reads, and the UN3373 mark is
as large as IATA PI 650 asks, in the PDF and in the ZPL a thermal printer receives."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal

import pdfplumber
import pytest

from label_printing import BoxLabel, LabelDoesNotFit, get_stock, render_pdf
from label_printing.layout import lay_out
from label_printing.marks import TEXT_PT
from shipping import (
    PACKAGE_STOCK_ID,
    ManifestItem,
    package_labels,
    package_labels_pdf,
    package_labels_zpl,
)
from tests.barcode_reading import decode, rasterise
from tests.shipping.samples import make_manifest
from tests.zpl_reading import render_zpl_png

STOCK = get_stock(PACKAGE_STOCK_ID)
MANIFEST = make_manifest(100)  # boxes B0000001 (81 tubes) and B0000002 (19)


def test_there_is_one_label_per_box_in_packing_order_and_one_for_loose_tubes() -> None:
    loose = ManifestItem("99999990", "Serum", Decimal("250"), "uL", None, None)
    manifest = replace(MANIFEST, items=(loose, *MANIFEST.items))

    assert [(label.name, label.detail) for label in package_labels(manifest)] == [
        ("Box 1 of 3", "B0000001  ·  81 tubes"),
        ("Box 2 of 3", "B0000002  ·  19 tubes"),
        ("Box 3 of 3", "Loose tubes  ·  1 tube"),
    ]
    assert {label.barcode for label in package_labels(manifest)} == {"S0000017"}


def test_each_pdf_label_scans_as_the_shipment_and_says_which_box_it_is() -> None:
    pdf = package_labels_pdf(MANIFEST)

    assert [decode(page) for page in rasterise(pdf, 203)] == [
        {"Code128": ["S0000017"], "DataMatrix": ["S0000017"]}
    ] * 2
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        text = document.pages[1].extract_text()
    for words in ("Box 2 of 2", "UN3373", "Biological Substance,", "Category B"):
        assert words in text


def test_the_zpl_labels_scan_as_the_shipment_too() -> None:
    pages = render_zpl_png(package_labels_zpl(MANIFEST), 203)

    assert [decode(page) for page in pages] == [
        {"Code128": ["S0000017"], "DataMatrix": ["S0000017"]}
    ] * 2


def test_the_mark_is_a_square_of_at_least_50_mm_with_6_mm_letters_and_a_2_mm_line() -> None:
    mark = lay_out(package_labels(MANIFEST)[0], STOCK).mark
    assert mark is not None
    mm_per_dot = 25.4 / STOCK.dpi

    assert mark.half_diagonal * 2**0.5 * mm_per_dot >= 50
    assert mark.line_dots * mm_per_dot >= 2
    assert TEXT_PT * 0.718 * 25.4 / 72 >= 6  # Helvetica's capital height is 0.718 em
    assert [line.text for line in mark.texts] == [
        "UN3373",
        "Biological Substance,",
        "Category B",
    ]


def test_the_zpl_draws_the_square_as_four_diagonals() -> None:
    first = package_labels_zpl(MANIFEST).split("^XZ")[0]

    assert first.count("^GD") == 4
    assert "^FDUN3373^FS" in first


def test_a_label_too_small_for_the_mark_is_refused_rather_than_shrunk() -> None:
    label = BoxLabel("S0000017", "Box 1 of 2", "B0000001", is_un3373=True)

    with pytest.raises(LabelDoesNotFit, match="UN3373 mark"):
        render_pdf([label], get_stock("box-2x1-203"))
