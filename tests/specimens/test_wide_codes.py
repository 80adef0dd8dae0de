"""Tube codes past serial 999,999 (#18/#20): the 8-digit codes stay as issued, serial 1,000,000
on issues 10 digits (installation digit, 8-digit serial, Damm digit), and both are checked,
found, imported and printed."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from label_printing import STOCKS, LabelDoesNotFit, VialLabel, render_pdf
from label_printing.layout import lay_out
from lims.actors import Actor
from lims.errors import InvalidInput
from lims.find import find
from lims.specimens import barcodes
from lims.specimens.services import import_aliquots, installation_number
from lims.specimens.services.common import ALIQUOT_COUNTER, issue_serials
from tests.barcode_reading import decode, rasterise
from tests.factories import make_aliquots, make_subject
from tests.specimens.factories import csv_bytes, import_row

LAST_NARROW, FIRST_WIDE = 999_999, 1_000_000


def _label(code: str) -> VialLabel:
    return VialLabel(code, "Serum", "250 µL", "NA1-0042 V2", "2026-03-18")


def test_serial_999999_issues_8_digits_and_serial_1000000_issues_10() -> None:
    narrow = barcodes.aliquot_barcode(LAST_NARROW, installation=3)
    wide = barcodes.aliquot_barcode(FIRST_WIDE, installation=3)

    assert (narrow, len(wide)) == ("3999999" + barcodes.damm_digit("3999999"), 10)
    assert wide[:9] == "301000000" and barcodes.is_valid_damm(wide)
    for code, serial in ((narrow, LAST_NARROW), (wide, FIRST_WIDE)):
        assert barcodes.is_issued_aliquot_barcode(code) and barcodes.check_problem(code) is None
        assert (barcodes.installation_of(code), barcodes.serial_of(code)) == (3, serial)


def test_the_last_wide_serial_is_99999999_and_the_next_is_refused() -> None:
    assert barcodes.serial_of(barcodes.aliquot_barcode(99_999_999, installation=9)) == 99_999_999
    with pytest.raises(ValueError, match="exceeds 8 digits"):
        barcodes.aliquot_barcode(100_000_000, installation=0)


@pytest.mark.parametrize("serial", [FIRST_WIDE, 12_345_678, 99_999_999])
def test_every_single_digit_mistake_in_a_10_digit_code_is_refused(serial: int) -> None:
    code = barcodes.aliquot_barcode(serial, installation=5)
    for i, ch in enumerate(code):
        for d in "0123456789":
            if d != ch:
                typo = code[:i] + d + code[i + 1 :]
                assert barcodes.check_problem(typo) is not None, typo
    for i in range(len(code) - 1):
        if code[i] != code[i + 1]:
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
            assert "check digit" in (barcodes.check_problem(swapped) or ""), swapped


def test_a_10_digit_code_with_a_serial_below_1000000_is_never_issued_and_is_refused() -> None:
    body = "300123456"  # serial 123,456 padded to 8 digits: its code is the 8-digit one
    code = body + barcodes.damm_digit(body)

    assert barcodes.check_problem(code) == (
        f"{code} is not a tube code: a 10-digit code has a serial of 1,000,000 or more"
    )


def test_issuing_across_serial_1000000_gives_an_8_then_a_10_digit_code_both_found_by_scan(
    session: Session, tech: Actor
) -> None:
    issue_serials(session, ALIQUOT_COUNTER, LAST_NARROW - 2)  # the counter now at 999,998
    made = make_aliquots(session, 3)  # the tube takes 999,998

    codes = [a.barcode for a in made]
    assert [len(c) for c in codes] == [8, 10, 10]
    assert [barcodes.serial_of(c) for c in codes] == [LAST_NARROW, FIRST_WIDE, FIRST_WIDE + 1]
    for aliquot in made:
        (named,) = find(session, tech, aliquot.barcode)
        assert named.id == aliquot.id
    typo = codes[1][:4] + str((int(codes[1][4]) + 1) % 10) + codes[1][5:]
    with pytest.raises(InvalidInput, match="wrong check digit"):
        find(session, tech, typo)


def test_an_import_takes_an_issued_10_digit_code_and_refuses_an_unissued_one_of_ours(
    session: Session, tech: Actor
) -> None:
    make_subject(session, study_code="SUBJ-0001")
    issue_serials(session, ALIQUOT_COUNTER, FIRST_WIDE - 1)
    (serial,) = issue_serials(session, ALIQUOT_COUNTER, 1)
    number = installation_number(session)
    issued = barcodes.aliquot_barcode(serial, installation=number)
    unissued = barcodes.aliquot_barcode(serial + 1, installation=number)

    with pytest.raises(InvalidInput) as err:
        import_aliquots(session, tech, data=csv_bytes([import_row(aliquot_barcode=unissued)]))
    assert "was never issued here" in err.value.errors[0]["message"]

    import_aliquots(session, tech, data=csv_bytes([import_row(aliquot_barcode=issued)]))
    (named,) = find(session, tech, issued)
    assert len(issued) == 10 and named.kind == "aliquot"


def test_a_10_digit_code_prints_and_scans_on_the_1_28_inch_roll() -> None:
    stock = STOCKS["cryo-1.28x0.5-203"]
    code = barcodes.aliquot_barcode(99_999_999, installation=9)

    (page,) = rasterise(render_pdf([_label(code)], stock), stock.dpi)

    found = decode(page)
    assert (found["Code128"], found["DataMatrix"]) == ([code], [code])


def test_a_10_digit_code_fits_the_laser_sheet_with_whole_dot_modules() -> None:
    # A Letter page takes 5 s to rasterise: the layout is checked, the drawing is the roll's.
    stock = STOCKS["cryo-sheet-letter"]
    layout = lay_out(_label(barcodes.aliquot_barcode(FIRST_WIDE, installation=0)), stock)

    assert layout.bars.module_width == stock.bar_module_dots
    assert layout.bars.x + layout.bars.width <= layout.width_dots


def test_the_1_inch_300_dpi_roll_refuses_a_10_digit_code_naming_the_stocks_that_fit() -> None:
    code = barcodes.aliquot_barcode(FIRST_WIDE, installation=0)

    with pytest.raises(LabelDoesNotFit) as err:
        render_pdf([_label(code)], STOCKS["cryo-1x0.5-300"])

    assert "needs 1.100 in" in str(err.value)
    assert str(err.value).endswith("print it on cryo-1.28x0.5-203 or cryo-sheet-letter")
