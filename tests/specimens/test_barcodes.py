from __future__ import annotations

import pytest

from lims.specimens import barcodes


def test_issued_aliquot_barcodes_are_eight_digits_with_a_valid_check_digit() -> None:
    code = barcodes.aliquot_barcode(123)
    assert len(code) == 8 and code.isdigit()
    assert barcodes.check_problem(code) is None


@pytest.mark.parametrize("serial", [1, 57, 1234, 9_999_999])
def test_every_single_digit_mistake_is_refused(serial: int) -> None:
    code = barcodes.aliquot_barcode(serial)
    for i, ch in enumerate(code):
        for d in "0123456789":
            if d != ch:
                typo = code[:i] + d + code[i + 1 :]
                assert barcodes.check_problem(typo) is not None, typo


def test_adjacent_transpositions_are_refused() -> None:
    code = barcodes.aliquot_barcode(4_826_193)
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
