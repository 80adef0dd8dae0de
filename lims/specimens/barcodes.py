"""Barcodes the biobank issues: short, all digits, with a Damm check digit.

Damm's algorithm (H. M. Damm, 2004) detects every single-digit error and every adjacent
transposition, the two mistakes people make typing an ID. All digits keeps Code 128 in subset C
(two digits per symbol character), so an 8-digit ID fits a 1 inch tube label at 2 printer dots per
module (Code 128 subset C, ISO/IEC 15417).
"""

from __future__ import annotations

import re

from lims.errors import shown

# The order-10 quasigroup table from Damm's thesis (reproduced in Wikipedia "Damm algorithm").
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

ALIQUOT_SERIAL_DIGITS = 7  # 10 million aliquots; the consortium plans for ~250,000
BOX_PREFIX = "B"
BOX_SERIAL_DIGITS = 6
ALIQUOT_BARCODE_LENGTH = ALIQUOT_SERIAL_DIGITS + 1
BOX_BARCODE_LENGTH = len(BOX_PREFIX) + BOX_SERIAL_DIGITS + 1

# Pre-printed tube barcodes (e.g. 2D-coded FluidX or Micronic tubes) are taken as they are.
PREPRINTED_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,31}$")


def damm_digit(digits: str) -> str:
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return str(interim)


def is_valid_damm(digits: str) -> bool:
    return digits.isdigit() and damm_digit(digits) == "0"


def aliquot_barcode(serial: int) -> str:
    body = f"{serial:0{ALIQUOT_SERIAL_DIGITS}d}"
    if len(body) > ALIQUOT_SERIAL_DIGITS:
        raise ValueError(f"aliquot serial {serial} exceeds {ALIQUOT_SERIAL_DIGITS} digits")
    return body + damm_digit(body)


def box_barcode(serial: int) -> str:
    body = f"{serial:0{BOX_SERIAL_DIGITS}d}"
    if len(body) > BOX_SERIAL_DIGITS:
        raise ValueError(f"box serial {serial} exceeds {BOX_SERIAL_DIGITS} digits")
    return BOX_PREFIX + body + damm_digit(body)


def is_issued_aliquot_barcode(code: str) -> bool:
    """True when the code has our issued shape (8 digits); its check digit may still be wrong."""
    return len(code) == ALIQUOT_BARCODE_LENGTH and code.isdigit()


def is_box_barcode(code: str) -> bool:
    return (
        len(code) == BOX_BARCODE_LENGTH
        and code.startswith(BOX_PREFIX)
        and code[len(BOX_PREFIX) :].isdigit()
    )


def check_problem(code: str) -> str | None:
    """Why a scanned or typed barcode is refused, or None when it may be looked up."""
    if is_issued_aliquot_barcode(code) or is_box_barcode(code):
        digits = code.removeprefix(BOX_PREFIX)
        if not is_valid_damm(digits):
            return f"{code} has a wrong check digit; rescan or retype it"
        return None
    if not PREPRINTED_PATTERN.match(code):
        return f"'{shown(code)}' is not a barcode: use 4-32 capital letters, digits or '-'"
    return None


def normalise(code: str) -> str:
    """What a scanner or a person typed, as we store it: trimmed, upper case."""
    return code.strip().upper()
