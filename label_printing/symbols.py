"""Barcode symbols as rows of dark runs, in modules.

Code 128 comes from our own subset plan (code128.py), DataMatrix from zxing-cpp.
"""

import re
from dataclasses import dataclass
from typing import NamedTuple

import zxingcpp

from label_printing.code128 import modules as code128_modules

_DARK = re.compile(rb"[\x00-\x7f]+")  # dark pixels, 0 in zxing-cpp's images
_BARS = re.compile("1+")


class Run(NamedTuple):
    """A horizontal run of dark modules: one bar, or adjacent DataMatrix modules merged.

    A NamedTuple, not a dataclass: some 60 are built per label, and a frozen dataclass's
    __init__ was the slowest step of the layout (bench/labels.py).
    """

    row: int
    start: int
    length: int


@dataclass(frozen=True)
class Symbol:
    """A symbol without its quiet zone; Code 128 has a single row of bars."""

    columns: int
    rows: int
    runs: tuple[Run, ...]


def code128(text: str) -> Symbol:
    """Code 128 with the shortest subset mix (8 digits: 79 modules, subset C)."""
    bars = code128_modules(text)
    runs = tuple(Run(0, m.start(), m.end() - m.start()) for m in _BARS.finditer(bars))
    return Symbol(columns=len(bars), rows=1, runs=runs)


def datamatrix(text: str) -> Symbol:
    """Square ECC 200 DataMatrix: ^BX has no rectangular symbols (ZPL II Programming Guide)."""
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.DataMatrix, force_square=True)
    return _dark_runs(barcode)


def _dark_runs(barcode: zxingcpp.Barcode) -> Symbol:
    # At scale 1 and without quiet zones each pixel is one module (0 = dark). The nanobind
    # Image supports the buffer protocol, which its type stub does not declare.
    image = memoryview(barcode.to_image(scale=1, add_quiet_zones=False))  # type: ignore[arg-type]
    height, width = image.shape or (0, 0)
    pixels = image.tobytes()
    runs = [
        Run(y, match.start() - y * width, match.end() - match.start())
        for y in range(height)
        for match in _DARK.finditer(pixels, y * width, (y + 1) * width)
    ]
    return Symbol(columns=width, rows=height, runs=tuple(runs))
