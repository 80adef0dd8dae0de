from __future__ import annotations

import pytest

from label_printing import STOCKS, LabelDoesNotFit, LabelStock, VialLabel, render_pdf
from lims.specimens import barcodes
from tests.barcode_reading import decode, rasterise


def test_issued_aliquot_barcodes_are_eight_digits_with_a_valid_check_digit() -> None:
    code = barcodes.aliquot_barcode(123, installation=4)
    assert len(code) == 8 and code.isdigit()
    assert barcodes.check_problem(code) is None


def test_an_issued_code_starts_with_its_installations_number_and_keeps_the_damm_check() -> None:
    code = barcodes.aliquot_barcode(123, installation=4)

    assert code[:7] == "4000123" and barcodes.is_valid_damm(code)
    assert (barcodes.installation_of(code), barcodes.serial_of(code)) == (4, 123)


def test_two_installations_never_issue_the_same_code() -> None:
    serials = range(1, 2000)
    first = {barcodes.aliquot_barcode(s, installation=1) for s in serials}
    second = {barcodes.aliquot_barcode(s, installation=2) for s in serials}

    assert len(first) == len(second) == len(serials) and first.isdisjoint(second)


def test_installation_zero_issues_the_codes_issued_before_installations_had_numbers() -> None:
    # Before numbering: a 7-digit serial and its Damm digit (the demo's first tube was this).
    before = "0000123" + barcodes.damm_digit("0000123")

    assert barcodes.aliquot_barcode(123, installation=0) == before


def test_a_serial_or_an_installation_number_too_large_is_refused() -> None:
    with pytest.raises(ValueError, match="exceeds 8 digits"):
        barcodes.aliquot_barcode(100_000_000, installation=0)
    with pytest.raises(ValueError, match="not one of 0-9"):
        barcodes.aliquot_barcode(1, installation=10)


@pytest.mark.parametrize("serial", [1, 57, 1234, 999_999])
def test_every_single_digit_mistake_is_refused(serial: int) -> None:
    code = barcodes.aliquot_barcode(serial, installation=7)
    for i, ch in enumerate(code):
        for d in "0123456789":
            if d != ch:
                typo = code[:i] + d + code[i + 1 :]
                assert barcodes.check_problem(typo) is not None, typo


def test_adjacent_transpositions_are_refused() -> None:
    code = barcodes.aliquot_barcode(826_193, installation=4)
    for i in range(len(code) - 1):
        if code[i] != code[i + 1]:
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
            assert "check digit" in (barcodes.check_problem(swapped) or "")


def test_box_barcodes_carry_a_prefix_and_a_check_digit() -> None:
    code = barcodes.box_barcode(42)
    assert code.startswith("B") and len(code) == 8
    assert barcodes.check_problem(code) is None
    assert barcodes.check_problem(code[:-1] + str((int(code[-1]) + 1) % 10)) is not None


def test_preprinted_tube_barcodes_are_accepted_as_they_are() -> None:
    assert barcodes.check_problem("FR12345678") is None
    assert barcodes.check_problem("fr 1234") is not None


# The vial rolls; the laser sheet's labels are the 1.28" roll's size at a finer dpi, and a Letter
# page takes 5 s to rasterise (tests/label_printing covers it with 8-digit codes).
VIAL_ROLLS = [s for s in STOCKS.values() if s.purpose == "vial" and s.kind == "roll"]


@pytest.mark.parametrize("stock", VIAL_ROLLS, ids=lambda s: s.id)
def test_the_first_and_last_code_of_any_installation_print_and_scan_on_every_vial_roll(
    stock: LabelStock,
) -> None:
    codes = [barcodes.aliquot_barcode(1, installation=0)]
    codes += [barcodes.aliquot_barcode(999_999, installation=9)]
    labels = [VialLabel(code, "Serum", "250 µL", "NA1-0042 V2", "2026-03-18") for code in codes]

    pages = rasterise(render_pdf(labels, stock), stock.dpi)

    found = [decode(page) for page in pages]
    assert sorted(c for page in found for c in page["Code128"]) == sorted(codes)
    assert sorted(c for page in found for c in page["DataMatrix"]) == sorted(codes)


def test_a_ten_digit_code_does_not_fit_the_1_inch_stock() -> None:
    # Why the installation number is one digit and the first 1,000,000 codes 8 digits: 10
    # digits are 5 Code 128 set C pairs, 110 X with the quiet zones: 1.1 in at 3 dots per module
    # (tests/specimens/test_wide_codes.py: where the 10-digit codes print).
    code = "123456789" + barcodes.damm_digit("123456789")

    with pytest.raises(LabelDoesNotFit, match=r"needs 1\.100 in"):
        render_pdf([VialLabel(code, "Serum", "250 µL", "NA1-0042 V2", "2026-03-18")],
                   STOCKS["cryo-1x0.5-300"])  # fmt: skip
