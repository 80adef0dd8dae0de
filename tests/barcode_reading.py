"""Reading labels back as a scanner would: poppler rasterises the PDF, zxing-cpp decodes."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

PDFTOPPM = shutil.which("pdftoppm")


def rasterise(pdf: bytes, dpi: int) -> list[Image.Image]:
    """Each page of the PDF as a greyscale image at `dpi` (poppler's pdftoppm)."""
    if PDFTOPPM is None:
        if os.environ.get("LIMS_REQUIRE_ALL") == "1":
            pytest.fail("pdftoppm (poppler-utils) is required in CI")
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "labels.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            [PDFTOPPM, "-r", str(dpi), "-png", "-gray", str(source), str(Path(tmp) / "page")],
            check=True,
        )
        pages = sorted(Path(tmp).glob("page-*.png"))
        return [Image.open(p).copy() for p in pages]


def decode(image: Image.Image) -> dict[str, list[str]]:
    """The texts of the Code 128 and DataMatrix symbols found in an image."""
    found: dict[str, list[str]] = {"Code128": [], "DataMatrix": []}
    for result in zxingcpp.read_barcodes(image):
        if result.format == zxingcpp.BarcodeFormat.Code128:
            found["Code128"].append(result.text)
        elif result.format == zxingcpp.BarcodeFormat.DataMatrix:
            found["DataMatrix"].append(result.text)
    return found
