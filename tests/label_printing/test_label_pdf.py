"""PDF labels, checked as a printer and a scanner would see them: pdftoppm, then zxing-cpp."""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pdfplumber
import pytest

from label_printing import STOCKS, BoxLabel, LabelStock, VialLabel, render_pdf
from label_printing.text import MIN_FONT_PT, MIN_ID_FONT_PT
from tests.barcode_reading import decode, rasterise

ROLLS = [stock for stock in STOCKS.values() if stock.kind == "roll"]
VIAL_STOCKS = [stock for stock in STOCKS.values() if stock.purpose == "vial"]
SHEET = STOCKS["cryo-sheet-letter"]
# Rasterise at both printer resolutions: a module of 2 dots at 300 dpi is 1.35 px at 203
# dpi and did not decode (measured with pdftoppm and zxing-cpp 3.1.1).
RASTER_DPIS = [300, 203]
# The longest ids the LIMS issues: 8 digits (installation number, serial, Damm check digit),
# "B" + 7 digits.
VIAL_IDS = ["00012343", "12345674", "99999990"]
BOX_IDS = ["B0000127", "B9999999"]

BBox = tuple[float, float, float, float]  # x0, top, x1, bottom in points, as pdfplumber


def vial(barcode: str, quantity: str = "250 µL") -> VialLabel:
    return VialLabel(barcode, "Serum", quantity, "CD-0042 V2", "2026-03-18")


# Longer lines as the LIMS writes them (lims/labels/services.py): a DNA aliquot with its
# concentration, and a subject code with a two-digit visit.
def serum(barcode: str) -> VialLabel:
    return VialLabel(barcode, "Serum", "250 µL", "NA1-0042 V12", "2026-03-18")


def dna(barcode: str) -> VialLabel:
    return VialLabel(barcode, "DNA", "100 µL 178.8 ng/µL", "NA1-0042 V12", "2026-03-18")


def labels_for(stock: LabelStock, ids: list[str] | None = None) -> list[VialLabel | BoxLabel]:
    if stock.purpose == "box":
        return [BoxLabel(b, "Serum box 14", "Freezer F1 / Rack 3 · 9x9") for b in ids or BOX_IDS]
    return [dna(b) if n % 2 else vial(b) for n, b in enumerate(ids or VIAL_IDS)]


def cells(stock: LabelStock, first_position: int, count: int) -> list[tuple[int, BBox]]:
    """The page index and the rectangle of each label placed from `first_position` on."""
    grid = stock.sheet
    if grid is None:  # a roll: one label per page, the page is the label
        size = (stock.label_width_in * 72, stock.label_height_in * 72)
        return [(page, (0.0, 0.0, *size)) for page in range(count)]
    out = []
    for index in range(first_position - 1, first_position - 1 + count):
        page, cell = divmod(index, grid.positions)
        row, column = divmod(cell, grid.columns)
        x0 = (grid.margin_left_in + column * grid.pitch_x_in) * 72
        top = (grid.margin_top_in + row * grid.pitch_y_in) * 72
        out.append(
            (page, (x0, top, x0 + stock.label_width_in * 72, top + stock.label_height_in * 72))
        )
    return out


@pytest.mark.parametrize("dpi", RASTER_DPIS)
@pytest.mark.parametrize("stock", ROLLS, ids=lambda s: s.id)
def test_every_roll_label_scans_as_code128_and_datamatrix(stock: LabelStock, dpi: int) -> None:
    labels = labels_for(stock)
    pages = rasterise(render_pdf(labels, stock), dpi)

    assert [decode(page) for page in pages] == [
        {"Code128": [label.barcode], "DataMatrix": [label.barcode]} for label in labels
    ]


@pytest.mark.parametrize("dpi", RASTER_DPIS)
def test_a_partly_used_sheet_is_filled_from_first_position_onto_a_second_page(dpi: int) -> None:
    ids = [f"{n:07d}{n % 10}" for n in range(9999990, 10000000)]  # 10 labels, 6 on page 1
    pages = rasterise(render_pdf(labels_for(SHEET, ids), SHEET, first_position=80), dpi)

    seen = []
    for page, (x0, top, x1, bottom) in cells(SHEET, 80, len(ids)):
        crop = pages[page].crop((x0 * dpi / 72, top * dpi / 72, x1 * dpi / 72, bottom * dpi / 72))
        seen.append(decode(crop))
    assert len(pages) == 2
    assert seen == [{"Code128": [b], "DataMatrix": [b]} for b in ids]


def test_sheet_positions_before_first_position_stay_blank() -> None:
    pdf = render_pdf(labels_for(SHEET), SHEET, first_position=84)
    (_, first), _, (_, spilled) = cells(SHEET, 84, len(VIAL_IDS))

    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        page1 = doc.pages[0]
        assert [r for r in page1.rects if r["top"] < first[1] - 1] == []
        assert [c for c in page1.chars if c["top"] < first[1] - 1] == []
        assert VIAL_IDS[2] in doc.pages[1].crop(spilled).extract_text()


@pytest.mark.parametrize("stock", ROLLS, ids=lambda s: s.id)
def test_a_roll_page_is_exactly_one_label(stock: LabelStock) -> None:
    with pdfplumber.open(io.BytesIO(render_pdf(labels_for(stock), stock))) as doc:
        sizes = [(p.width, p.height) for p in doc.pages]
    label = (stock.label_width_in * 72, stock.label_height_in * 72)

    assert sizes == [pytest.approx(label, abs=1e-6)] * len(labels_for(stock))


@dataclass
class Drawn:
    """What pdfplumber finds strictly inside one label's rectangle."""

    bbox: BBox
    chars: list[dict[str, Any]]
    rects: list[dict[str, Any]]


def drawn_per_label(stock: LabelStock, labels: Sequence[VialLabel | BoxLabel] = ()) -> list[Drawn]:
    """Render the labels (spilling onto a second sheet) and collect each label's objects."""
    labels = labels or labels_for(stock)
    first = stock.sheet.positions - 1 if stock.sheet else 1
    with pdfplumber.open(io.BytesIO(render_pdf(labels, stock, first_position=first))) as doc:
        out = []
        for page, bbox in cells(stock, first, len(labels)):
            inside = doc.pages[page].within_bbox(bbox, relative=False, strict=True)
            out.append(Drawn(bbox, inside.chars, inside.rects))
        # Everything on the pages lies within some label: nothing straddles an edge.
        assert sum(len(d.chars) for d in out) == sum(len(p.chars) for p in doc.pages)
        assert sum(len(d.rects) for d in out) == sum(len(p.rects) for p in doc.pages)
    return out


@pytest.mark.parametrize("stock", STOCKS.values(), ids=lambda s: s.id)
def test_every_char_and_bar_lies_inside_its_label(stock: LabelStock) -> None:
    for drawn in drawn_per_label(stock):
        x0, top, x1, bottom = drawn.bbox
        for obj in drawn.chars + drawn.rects:
            assert x0 - 1e-6 <= obj["x0"] and obj["x1"] <= x1 + 1e-6, obj
            assert top - 1e-6 <= obj["top"] and obj["bottom"] <= bottom + 1e-6, obj
        assert drawn.chars and drawn.rects


@pytest.mark.parametrize("stock", STOCKS.values(), ids=lambda s: s.id)
def test_bars_and_modules_are_whole_printer_dots(stock: LabelStock) -> None:
    def dots(points: float) -> float:
        return points * stock.dpi / 72

    for drawn in drawn_per_label(stock):
        x0, top = drawn.bbox[:2]
        for rect in drawn.rects:
            for value in (rect["width"], rect["height"], rect["x0"] - x0, rect["top"] - top):
                assert dots(value) == pytest.approx(round(dots(value)), abs=0.01), rect
            assert rect["width"] * 203 / 72 >= 2 - 0.01  # >= 2 px when rasterised at 203 dpi


@pytest.mark.parametrize("stock", STOCKS.values(), ids=lambda s: s.id)
def test_all_text_is_printed_in_full_and_no_smaller_than_the_minimum(stock: LabelStock) -> None:
    for label, drawn in zip(labels_for(stock), drawn_per_label(stock), strict=True):
        printed = "".join(c["text"] for c in drawn.chars).replace(" ", "")
        texts = [field for field in vars(label).values() if isinstance(field, str)]
        assert all(text.replace(" ", "") in printed for text in texts), printed
        assert min(c["size"] for c in drawn.chars) >= MIN_FONT_PT - 1e-6


@pytest.mark.parametrize("stock", VIAL_STOCKS, ids=lambda s: s.id)
def test_the_id_keeps_the_largest_size_while_the_other_lines_shrink(stock: LabelStock) -> None:
    labels = [serum("12345674"), dna("99999990")]

    for label, drawn in zip(labels, drawn_per_label(stock, labels), strict=True):
        id_chars = [c for c in drawn.chars if c["fontname"] == "Helvetica-Bold"]
        assert "".join(c["text"] for c in id_chars) == label.barcode
        # Every vial stock has room for the id at its largest size: the other lines give way.
        assert [c["size"] for c in id_chars] == [pytest.approx(stock.max_font_pt)] * 8
        assert stock.max_font_pt >= MIN_ID_FONT_PT
        x0, top, x1, bottom = drawn.bbox
        for char in drawn.chars:
            assert x0 - 1e-6 <= char["x0"] and char["x1"] <= x1 + 1e-6, char
            assert top - 1e-6 <= char["top"] and char["bottom"] <= bottom + 1e-6, char


@pytest.mark.parametrize("dpi", RASTER_DPIS)
@pytest.mark.parametrize("stock", VIAL_STOCKS, ids=lambda s: s.id)
def test_serum_and_dna_labels_with_the_larger_id_scan(stock: LabelStock, dpi: int) -> None:
    labels = [serum("12345674"), dna("99999990")]
    pages = rasterise(render_pdf(labels, stock), dpi)

    seen = []
    for page, (x0, top, x1, bottom) in cells(stock, 1, len(labels)):
        crop = pages[page].crop((x0 * dpi / 72, top * dpi / 72, x1 * dpi / 72, bottom * dpi / 72))
        seen.append(decode(crop))
    assert seen == [{"Code128": [b.barcode], "DataMatrix": [b.barcode]} for b in labels]


def test_a_line_too_wide_at_the_smallest_size_wraps_between_words_inside_the_label() -> None:
    # Vial labels have no height to wrap in once the id is at 6 pt or more (see
    # test_label_errors); box labels do.
    stock = STOCKS["box-2x1-203"]
    detail = "Liquid nitrogen tank LN2-03, room 2.14, shelf 2 / Rack 12 · 10x10"
    label = BoxLabel("B0000127", "Serum box 14", detail)

    with pdfplumber.open(io.BytesIO(render_pdf([label], stock))) as doc:
        page = doc.pages[0]
        lines = page.extract_text(layout=False).splitlines()
        assert all(c["x0"] >= 0 and c["x1"] <= page.width for c in page.chars)
        assert all(c["top"] >= 0 and c["bottom"] <= page.height for c in page.chars)
        id_chars = page.chars[:8]  # drawn first
    assert "".join(c["text"] for c in id_chars) == label.barcode
    assert [c["size"] for c in id_chars] == [pytest.approx(stock.max_font_pt)] * 8
    assert lines[:2] == ["B0000127", "Serum box 14"]
    assert " ".join(lines[2:]).split() == detail.split() and len(lines) > 3


@pytest.mark.parametrize("dpi", RASTER_DPIS)
def test_a_preprinted_tube_code_that_fits_scans_too(dpi: int) -> None:
    # The longest mixed code that fits 1.28 in at 2 dots (test_label_errors covers 10 chars).
    stock = STOCKS["cryo-1.28x0.5-203"]
    pages = rasterise(render_pdf([vial("FR123456")], stock), dpi)

    assert [decode(page) for page in pages] == [
        {"Code128": ["FR123456"], "DataMatrix": ["FR123456"]}
    ]
