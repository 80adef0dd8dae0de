"""Our Code 128 subset plan: as short as zxing-cpp's encoder, and read back by its decoder."""

import pytest
import zxingcpp
from PIL import Image

from label_printing.code128 import modules

IDS = ["12345674", "00012343", "B0000127", "B9999999", "FR12345678", "FR123456", "1", "12"]
IDS += ["123", "1234A", "A1234B", "12-34", "ABCDEFGHIJKL", "abc-XYZ-0099", "9" * 13]


def as_image(bars: str, module_px: int = 3) -> Image.Image:
    quiet = "0" * 10  # 10X quiet zone each side (ISO/IEC 15417)
    row = [0 if bit == "1" else 255 for bit in quiet + bars + quiet for _ in range(module_px)]
    image = Image.new("L", (len(row), 40))
    image.putdata(row * 40)
    return image


@pytest.mark.parametrize("barcode", IDS)
def test_the_plan_is_as_short_as_zxing_and_decodes_to_the_barcode(barcode: str) -> None:
    bars = modules(barcode)
    reference = zxingcpp.create_barcode(barcode, zxingcpp.BarcodeFormat.Code128)
    read = zxingcpp.read_barcodes(as_image(bars))

    assert len(bars) <= reference.to_image(scale=1, add_quiet_zones=False).shape[1]
    assert [(r.format, r.text) for r in read] == [(zxingcpp.BarcodeFormat.Code128, barcode)]
