"""Barcodes the biobank issues: short, all digits, with a Damm check digit.

Damm's algorithm (H. M. Damm, 2004) detects every single-digit error and every adjacent
transposition, the two mistakes people make typing an ID. All digits keeps Code 128 in subset C
(two digits per symbol character), so an 8-digit ID fits a 1 inch tube label at 2 printer dots per
module (Code 128 subset C, ISO/IEC 15417).

An issued tube code is the installation's number (one digit), a 6-digit serial and the Damm
digit over both: "3" + "000123" + check. Two installations of this LIMS so never issue the same
code, and a tube of another installation is known by its first digit. Why one digit and not two:
the code must stay 8 digits. 10 digits are 5 Code 128 set C pairs, 110 X with the quiet zones,
330 dots at the 3-dot module of the 1" x 0.5" 300 dpi stock, which has 300 (label_printing/
stocks.py); and 2 + 5 + 1 digits would leave 100,000 serials, shared by primary tubes and
aliquots, under the 250,000 aliquots the inventory is sized for. One digit leaves 10
installations of 1,000,000 tubes each. The codes issued before installations had numbers (a
7-digit serial, all below 1,000,000) are exactly installation 0's: an existing database is 0.

Wide codes (#18/#20): from serial 1,000,000 on, an installation issues 10 digits, its number, an
8-digit serial and the Damm digit: 100,000,000 tubes per installation. Every code issued before
keeps its 8 digits; the two forms are told apart by their length (an even length either way, so
Code 128 stays in set C). A 10-digit code needs 1.1 in of Code 128 at 3 dots per module: it
prints on the 1.28 in stocks, and the 1 in 300 dpi roll refuses it, naming the stocks that fit
(label_printing/layout.py). A 10-digit code whose serial is below 1,000,000 is never issued (that
serial has an 8-digit code) and is refused, so a typo cannot turn a wide code into a narrow one.
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

INSTALLATION_DIGITS = 1  # 10 installations (see above)
INSTALLATIONS = range(10**INSTALLATION_DIGITS)
ALIQUOT_SERIAL_DIGITS = 6  # serials below 1,000,000: the 8-digit codes
WIDE_SERIAL_DIGITS = 8  # serials from 1,000,000 on: the 10-digit codes (see above)
WIDE_FROM = 10**ALIQUOT_SERIAL_DIGITS
BOX_PREFIX = "B"
BOX_SERIAL_DIGITS = 6
ALIQUOT_BARCODE_LENGTH = INSTALLATION_DIGITS + ALIQUOT_SERIAL_DIGITS + 1
WIDE_BARCODE_LENGTH = INSTALLATION_DIGITS + WIDE_SERIAL_DIGITS + 1
ISSUED_LENGTHS = (ALIQUOT_BARCODE_LENGTH, WIDE_BARCODE_LENGTH)
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


def aliquot_barcode(serial: int, *, installation: int) -> str:
    """The tube code an installation issues for a serial: number, serial, Damm digit; 8 digits
    below serial 1,000,000 and 10 digits from there on."""
    if installation not in INSTALLATIONS:
        raise ValueError(f"installation {installation} is not one of 0-{INSTALLATIONS[-1]}")
    width = ALIQUOT_SERIAL_DIGITS if serial < WIDE_FROM else WIDE_SERIAL_DIGITS
    serial_part = f"{serial:0{width}d}"
    if len(serial_part) > WIDE_SERIAL_DIGITS:
        raise ValueError(f"aliquot serial {serial} exceeds {WIDE_SERIAL_DIGITS} digits")
    body = f"{installation:0{INSTALLATION_DIGITS}d}{serial_part}"
    return body + damm_digit(body)


def installation_of(code: str) -> int | None:
    """The number of the installation that issued a code of the issued shape, else None."""
    if not is_issued_aliquot_barcode(code):
        return None
    return int(code[:INSTALLATION_DIGITS])


def serial_of(code: str) -> int:
    """The serial of an issued-shape code (its installation's counter value)."""
    return int(code[INSTALLATION_DIGITS:-1])


def box_barcode(serial: int) -> str:
    body = f"{serial:0{BOX_SERIAL_DIGITS}d}"
    if len(body) > BOX_SERIAL_DIGITS:
        raise ValueError(f"box serial {serial} exceeds {BOX_SERIAL_DIGITS} digits")
    return BOX_PREFIX + body + damm_digit(body)


def is_issued_aliquot_barcode(code: str) -> bool:
    """True when the code has the issued shape (8 or 10 digits) of some installation of this
    LIMS; its check digit may still be wrong (check_problem says)."""
    return len(code) in ISSUED_LENGTHS and code.isdigit()


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
        if len(code) == WIDE_BARCODE_LENGTH and serial_of(code) < WIDE_FROM:
            return f"{code} is not a tube code: a 10-digit code has a serial of 1,000,000 or more"
        return None
    if not PREPRINTED_PATTERN.match(code):
        return f"'{shown(code)}' is not a barcode: use 4-32 capital letters, digits or '-'"
    return None


def normalise(code: str) -> str:
    """What a scanner or a person typed, as we store it: trimmed, upper case."""
    return code.strip().upper()
