"""The sheet calibration page and printer offsets, checked on the rasterised page."""

import io

import pdfplumber
import pytest
from PIL import Image

from label_printing import (
    STOCKS,
    UnsupportedOutput,
    VialLabel,
    label_outlines_in,
    render_calibration_pdf,
    render_pdf,
)
from tests.barcode_reading import decode, rasterise

SHEET = STOCKS["cryo-sheet-letter"]
DPI = 150  # the outlines are 0.5 pt (about 1 px at 150 dpi)


def page_image(pdf: bytes) -> Image.Image:
    [page] = rasterise(pdf, DPI)
    return page.convert("L")


def is_dark(image: Image.Image, x: float, y: float, *, within: int) -> bool:
    """Any dark pixel within `within` px of the point (x, y) given in inches."""
    px, py = round(x * DPI), round(y * DPI)
    pixels = image.load()
    return any(
        pixels[i, j] < 128
        for i in range(px - within, px + within + 1)
        for j in range(py - within, py + within + 1)
    )


def outline_lands_at(image: Image.Image, box: tuple[float, float, float, float]) -> bool:
    """The four edges are inked where the stock puts them, and 2 mm inside is blank."""
    left, top, right, bottom = box
    middle_x, middle_y = (left + right) / 2, (top + bottom) / 2
    inset = 2 / 25.4
    return (
        is_dark(image, left, middle_y, within=1)
        and is_dark(image, right, middle_y, within=1)
        and is_dark(image, middle_x - 0.3, top, within=1)
        and is_dark(image, middle_x - 0.3, bottom, within=1)
        and not is_dark(image, left + inset, middle_y, within=1)
        and not is_dark(image, right - inset, middle_y, within=1)
    )


def test_the_sheet_is_diversified_biotech_lcry_1700_as_measured() -> None:
    grid = SHEET.sheet
    assert grid is not None
    assert (grid.margin_left_in, grid.margin_top_in) == (0.77, 0.24)
    assert (grid.columns, grid.rows) == (5, 17)
    assert 0.12 <= grid.pitch_x_in - SHEET.label_width_in <= 0.14
    assert 0.12 <= grid.pitch_y_in - SHEET.label_height_in <= 0.13


def test_the_calibration_page_outlines_every_label_where_the_stock_places_it() -> None:
    page = page_image(render_calibration_pdf(SHEET))
    boxes = label_outlines_in(SHEET)

    assert len(boxes) == 85 and boxes[0][:2] == (0.77, 0.24)
    assert page.size == (round(8.5 * DPI), round(11 * DPI))
    assert [n for n, box in enumerate(boxes, start=1) if not outline_lands_at(page, box)] == []


def test_the_calibration_page_numbers_each_label_and_carries_both_rulers() -> None:
    with pdfplumber.open(io.BytesIO(render_calibration_pdf(SHEET))) as doc:
        words = doc.pages[0].extract_words()
    texts = {w["text"] for w in words}

    assert {str(n) for n in range(1, 86)} <= texts
    assert {'1"', '8"', "10", "270"} <= texts  # inches along the top, mm down the left
    number_85 = next(w for w in words if w["text"] == "85")
    left, top, right, bottom = label_outlines_in(SHEET)[84]
    assert left * 72 < number_85["x0"] < number_85["x1"] < right * 72
    assert top * 72 < number_85["top"] < number_85["bottom"] < bottom * 72


def test_an_offset_moves_the_outlines_and_the_labels_by_the_same_millimetres() -> None:
    offset = (1.5, -1.0)
    page = page_image(render_calibration_pdf(SHEET, offset_mm=offset))
    moved = label_outlines_in(SHEET, offset_mm=offset)
    label = VialLabel("12345674", "Serum", "250 µL", "CD-0042 V2", "2026-03-18")
    [labels] = rasterise(render_pdf([label], SHEET, offset_mm=offset), 300)
    left, top, right, bottom = moved[0]
    cell = labels.crop(
        (round(left * 300), round(top * 300), round(right * 300), round(bottom * 300))
    )

    assert all(outline_lands_at(page, box) for box in moved)
    assert not outline_lands_at(page, label_outlines_in(SHEET)[0])
    assert decode(cell) == {"Code128": ["12345674"], "DataMatrix": ["12345674"]}


def test_a_roll_has_no_calibration_page() -> None:
    with pytest.raises(UnsupportedOutput, match="is a roll"):
        render_calibration_pdf(STOCKS["cryo-1.28x0.5-203"])
