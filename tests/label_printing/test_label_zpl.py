"""ZPL II output: its structure as text, and every roll stock rendered by zplkit and decoded."""

import io
import re

import pdfplumber
import pytest
from PIL import Image

from label_printing import (
    STOCKS,
    BoxLabel,
    InvalidLabel,
    LabelStock,
    UnsupportedOutput,
    VialLabel,
    get_stock,
    render_pdf,
    render_zpl,
)
from label_printing.text import MIN_ID_FONT_PT
from tests.barcode_reading import decode
from tests.zpl_reading import render_zpl_png, zpl_render_error

ROLLS = [stock for stock in STOCKS.values() if stock.kind == "roll"]


def labels_for(stock: LabelStock) -> list[VialLabel | BoxLabel]:
    if stock.purpose == "box":
        return [
            BoxLabel(b, "Serum box 14", "Freezer F1 / Rack 3 · 9x9")
            for b in ("B0000127", "B9999999")
        ]
    return [
        VialLabel(b, "Serum", "250 µL", "CD-0042 V2", "2026-03-18")
        for b in ("00012343", "12345674")
    ]


def formats(zpl: str) -> list[str]:
    return re.findall(r"\^XA.*?\^XZ", zpl, flags=re.DOTALL)


@pytest.mark.parametrize("stock", ROLLS, ids=lambda s: s.id)
def test_each_label_is_one_format_sized_in_the_stocks_dots(stock: LabelStock) -> None:
    labels = labels_for(stock)
    zpl = render_zpl(labels, stock)
    width, height = (
        round(stock.label_width_in * stock.dpi),
        round(stock.label_height_in * stock.dpi + 0.01),
    )

    assert zpl.count("^XA") == zpl.count("^XZ") == len(formats(zpl)) == len(labels)
    for label, fmt in zip(labels, formats(zpl), strict=True):
        assert "^CI28" in fmt
        assert f"^PW{width}^" in fmt.replace("\n", "") and f"^LL{height}^" in fmt.replace("\n", "")
        assert f"^BY{stock.bar_module_dots}^BCN," in fmt
        code128_data = re.search(r"\^BCN,\d+,N,N,N,N\^FD(.*?)\^FS", fmt)
        assert code128_data is not None
        # Mode N: our subsets as invocation codes (>: start B, >; start C, >5/>6 to C/B).
        assert re.sub(">[:;56]", "", code128_data[1]) == label.barcode
        assert re.search(
            rf"\^BXN,{stock.matrix_module_dots},200,12,12,,_\^FD{label.barcode}\^FS", fmt
        )


@pytest.mark.parametrize("stock", ROLLS, ids=lambda s: s.id)
def test_every_field_starts_inside_the_label(stock: LabelStock) -> None:
    zpl = render_zpl(labels_for(stock), stock)
    origins = [(int(x), int(y)) for x, y in re.findall(r"\^FO(\d+),(\d+)", zpl)]

    assert origins
    assert all(
        x < stock.label_width_in * stock.dpi and y < stock.label_height_in * stock.dpi
        for x, y in origins
    )


@pytest.mark.parametrize("stock", ROLLS, ids=lambda s: s.id)
def test_each_text_line_is_sent_at_the_size_and_in_the_order_the_pdf_prints_it(
    stock: LabelStock,
) -> None:
    dna = VialLabel("12345674", "DNA", "100 µL 178.8 ng/µL", "NA1-0042 V12", "2026-03-18")
    label = labels_for(stock)[0] if stock.purpose == "box" else dna
    sent = re.findall(
        r"\^A0N,(\d+),\1\^FB\d+,1,0,L,0\^FH_\^FD(.*?)\^FS", render_zpl([label], stock)
    )
    with pdfplumber.open(io.BytesIO(render_pdf([label], stock))) as doc:
        printed = [
            (line["chars"][0]["size"], line["text"]) for line in doc.pages[0].extract_text_lines()
        ]

    assert [(int(dots), text.replace("  ", " ")) for dots, text in sent] == [
        (round(size * stock.dpi / 72), text) for size, text in printed
    ]
    assert int(sent[0][0]) >= MIN_ID_FONT_PT * stock.dpi / 72 and sent[0][1] == label.barcode


def test_command_prefixes_in_text_are_hex_escaped() -> None:
    label = VialLabel("12345674", "Serum", "250 µL", "CD^0042~V2_x", "2026-03-18")
    zpl = render_zpl([label], get_stock("cryo-1.28x0.5-203"))
    field_data = re.findall(r"\^FD(.*?)\^FS", zpl, flags=re.DOTALL)

    assert all("^" not in data and "~" not in data for data in field_data)
    assert "^FH_^FDCD_5E0042_7EV2_5Fx  2026-03-18^FS" in zpl
    assert "^FDSerum  250 µL^FS" in zpl  # raw UTF-8 under ^CI28


def test_a_laser_sheet_has_no_zpl() -> None:
    with pytest.raises(UnsupportedOutput, match="cryo-sheet-letter is a laser sheet"):
        render_zpl(labels_for(STOCKS["cryo-sheet-letter"]), STOCKS["cryo-sheet-letter"])


@pytest.mark.parametrize(
    ("barcode", "field_data"),
    [
        ("12345674", ">;12345674"),  # start C: 4 digit pairs, 79 modules
        ("B0000127", ">:B0>5000127"),  # B, 0 in subset B, then C: 101 modules, not 112
        ("FR123456", ">:FR>5123456"),
        ("B9999999", ">:B9>5999999"),  # "99" in subset C is digits, not CODE C
        ("12A34", ">:12A34"),
        ("1234A", ">;1234>6A"),
    ],
)
def test_code128_is_sent_with_the_subsets_the_pdf_draws(barcode: str, field_data: str) -> None:
    zpl = render_zpl(
        [VialLabel(barcode, "Serum", "250 µL", "CD-0042 V2", "2026-03-18")],
        get_stock("cryo-1.28x0.5-203"),
    )
    assert f"^BCN,30,N,N,N,N^FD{field_data}^FS" in zpl


def renderable(label: VialLabel | BoxLabel) -> VialLabel | BoxLabel:
    """The label with "µ" written "u": zplkit 0.3.2 has no µ glyph for font 0 (tested below)."""
    if isinstance(label, VialLabel):
        return VialLabel(
            label.barcode,
            label.specimen_type,
            label.quantity.replace("µ", "u"),
            label.visit,
            label.collected_on,
        )
    return label


@pytest.mark.parametrize("stock", ROLLS, ids=lambda s: s.id)
def test_every_roll_stocks_zpl_renders_and_scans_as_code128_and_datamatrix(
    stock: LabelStock,
) -> None:
    labels = [renderable(label) for label in labels_for(stock)]
    images = render_zpl_png(render_zpl(labels, stock), stock.dpi)

    assert [image.size for image in images] == [
        (stock.in_to_dots(stock.label_width_in), stock.in_to_dots(stock.label_height_in))
    ] * len(labels)
    assert [decode(image) for image in images] == [
        {"Code128": [label.barcode], "DataMatrix": [label.barcode]} for label in labels
    ]


def test_the_offline_renderer_refuses_the_micro_sign_in_font_0() -> None:
    # Documented in docs/dev/label-printing.md: zplkit cannot check "µ"; a printer must.
    stock = get_stock("cryo-1.28x0.5-203")
    zpl = render_zpl([VialLabel("12345674", "Serum", "250 µL", "CD-0042 V2", "2026-03-18")], stock)

    assert "unsupported embedded font glyph 'µ'" in (zpl_render_error(zpl, stock.dpi) or "")


def dark_columns(image: Image.Image) -> list[int]:
    width, height = image.size
    pixels = image.load()
    return [x for x in range(width) if any(pixels[x, y] < 128 for y in range(height))]


def test_a_printer_offset_moves_every_field_by_whole_dots_and_still_scans() -> None:
    stock = get_stock("cryo-1.28x0.5-203")
    label = renderable(labels_for(stock)[0])
    plain = render_zpl([label], stock)
    moved = render_zpl([label], stock, offset_mm=(0.5, -0.5))  # 4 dots right, 4 up at 203 dpi

    origins = re.findall(r"\^FO(\d+),(\d+)", plain)
    assert re.findall(r"\^FO(\d+),(\d+)", moved) == [
        (str(int(x) + 4), str(int(y) - 4)) for x, y in origins
    ]
    before, after = (render_zpl_png(zpl, stock.dpi)[0] for zpl in (plain, moved))
    assert dark_columns(after)[0] == dark_columns(before)[0] + 4
    assert decode(after) == {"Code128": [label.barcode], "DataMatrix": [label.barcode]}


def test_an_offset_past_the_labels_edge_is_refused_not_clipped() -> None:
    stock = get_stock("cryo-1.28x0.5-203")
    with pytest.raises(InvalidLabel, match="moves a field off the label"):
        render_zpl(labels_for(stock)[:1], stock, offset_mm=(-3.0, 0.0))
