"""What the label library refuses, and how it says so."""

import dataclasses

import pytest

from label_printing import (
    STOCKS,
    BoxLabel,
    InvalidLabel,
    LabelDoesNotFit,
    LabelError,
    LabelStock,
    PositionOutOfRange,
    UnknownStock,
    VialLabel,
    get_stock,
    render_pdf,
)

VIAL_STOCKS = [s for s in STOCKS.values() if s.purpose == "vial"]
SHEET = STOCKS["cryo-sheet-letter"]


def vial(barcode: str = "12345674", **fields: str) -> VialLabel:
    values = {"specimen_type": "Serum", "quantity": "250 µL", "visit": "CD-0042 V2"}
    return VialLabel(barcode, **{**values, "collected_on": "2026-03-18", **fields})


def test_every_stock_is_found_by_its_id() -> None:
    assert all(get_stock(stock_id).id == stock_id for stock_id in STOCKS)


def test_an_unknown_stock_id_names_the_known_ones() -> None:
    with pytest.raises(UnknownStock, match=r"cryo-2x2-600.*known stocks: box-2x1-203"):
        get_stock("cryo-2x2-600")


@pytest.mark.parametrize("stock", STOCKS.values(), ids=lambda s: s.id)
def test_a_barcode_too_long_for_the_stock_does_not_fit(stock: LabelStock) -> None:
    barcode = "ABCDEFGHIJKLMNOPQRST"  # 20 characters: Code 128 of ~2.4 in at 2 dots/203
    label = BoxLabel(barcode, "Box", "F1") if stock.purpose == "box" else vial(barcode)

    with pytest.raises(LabelDoesNotFit, match=f"{barcode}: Code 128 needs .* in with its 10X"):
        render_pdf([label], stock)


@pytest.mark.parametrize("stock", VIAL_STOCKS, ids=lambda s: s.id)
def test_a_ten_character_preprinted_tube_code_does_not_fit_a_cryo_label(stock: LabelStock) -> None:
    # "FR12345678" is 112 modules + 20 quiet = 132 X: 1.30 in at 2 dots/203 dpi, 1.32 in at
    # 3 dots/300 dpi; the widest cryo label is 1.28 in.
    with pytest.raises(LabelDoesNotFit, match=r"FR12345678: Code 128 needs 1\.3"):
        render_pdf([vial("FR12345678")], stock)


def test_a_short_preprinted_tube_code_fits() -> None:
    assert render_pdf([vial("FR1234")], get_stock("cryo-1.28x0.5-203")).startswith(b"%PDF")


def test_text_that_cannot_fit_even_wrapped_at_the_minimum_size_is_refused() -> None:
    long_quantity = " ".join(["DNA 50 µL 112 ng/µL"] * 6)

    with pytest.raises(LabelDoesNotFit, match=r"12345674: the text .* even wrapped at 4\.5 pt"):
        render_pdf([vial(quantity=long_quantity)], get_stock("cryo-1x0.5-300"))


def test_a_vial_line_that_would_wrap_on_the_1x0_5_stock_is_refused_not_set_under_6_pt() -> None:
    # At 4.5 pt "SUBJ-0001 V12  2026-03-18" is 57.8 pt, the text box 56.2 pt x 19.44 pt; an
    # id of 6 pt over three 4.5 pt rows is 19.5 pt of glyph height even without leading.
    label = vial(visit="SUBJ-0001 V12")

    with pytest.raises(LabelDoesNotFit, match=r"12345674: the text .* with the id at 6 pt"):
        render_pdf([label], get_stock("cryo-1x0.5-300"))
    assert render_pdf([label], get_stock("cryo-1.28x0.5-203")).startswith(b"%PDF")


def test_one_label_that_does_not_fit_stops_the_whole_batch() -> None:
    with pytest.raises(LabelDoesNotFit, match="FR12345678"):
        render_pdf([vial(), vial("FR12345678"), vial()], get_stock("cryo-1x0.5-300"))


@pytest.mark.parametrize("position", [0, -1, SHEET.sheet.positions + 1])  # type: ignore[union-attr]
def test_first_position_must_be_on_the_sheet(position: int) -> None:
    with pytest.raises(PositionOutOfRange, match=f"first position {position} .* 1 to 85"):
        render_pdf([vial()], SHEET, first_position=position)


def test_a_roll_has_no_first_position() -> None:
    with pytest.raises(PositionOutOfRange, match="roll"):
        render_pdf([vial()], get_stock("cryo-1x0.5-300"), first_position=2)


def test_a_box_label_is_refused_on_vial_stock() -> None:
    with pytest.raises(InvalidLabel, match=r"B0000127: stock cryo-1x0\.5-300 is for vial labels"):
        render_pdf([BoxLabel("B0000127", "Box", "F1")], get_stock("cryo-1x0.5-300"))


@pytest.mark.parametrize(
    ("label", "message"),
    [
        (vial("1234^567"), "only letters, digits and '-'"),
        (vial(visit="CD-0042 ≥ V2"), "'≥' in 'CD-0042 ≥ V2' cannot be printed"),
        (vial(specimen_type=" "), "empty"),
        (vial(visit="CD\n0042"), "control character"),
    ],
)
def test_content_that_cannot_be_printed_is_refused(label: VialLabel, message: str) -> None:
    with pytest.raises(InvalidLabel, match=message):
        render_pdf([label], get_stock("cryo-1.28x0.5-203"))


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(InvalidLabel, match="no labels"):
        render_pdf([], get_stock("box-2x1-203"))


def test_a_stock_with_modules_too_thin_for_a_203_dpi_raster_is_rejected() -> None:
    with pytest.raises(ValueError, match="1 dots at 203 dpi"):
        dataclasses.replace(get_stock("cryo-1.28x0.5-203"), id="thin", bar_module_dots=1)


def test_a_sheet_grid_running_off_the_page_is_rejected() -> None:
    grid = dataclasses.replace(SHEET.sheet, rows=20)  # type: ignore[type-var]
    with pytest.raises(ValueError, match="runs off the page"):
        dataclasses.replace(SHEET, sheet=grid)


def test_every_library_error_is_a_label_error() -> None:
    assert all(issubclass(cls, LabelError) for cls in (UnknownStock, LabelDoesNotFit, InvalidLabel))
