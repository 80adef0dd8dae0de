"""ZPL II output for thermal roll printers: one ^XA ... ^XZ format per label."""

import re
from collections.abc import Sequence

from label_printing.code128 import zpl_field_data
from label_printing.content import Label
from label_printing.errors import InvalidLabel, UnsupportedOutput
from label_printing.layout import LabelLayout, layouts_for
from label_printing.marks import PlacedMark
from label_printing.stocks import LabelStock
from label_printing.text import DESCENT_EM


def render_zpl(
    labels: Sequence[Label], stock: LabelStock, *, offset_mm: tuple[float, float] = (0.0, 0.0)
) -> str:
    """The labels as ZPL II for a Zebra-compatible printer of the stock's resolution.

    `offset_mm` moves every field right and down by (x, y) mm, in whole printer dots, to
    correct a printer whose print position is off (measured on a printed label).
    """
    if stock.kind != "roll":
        raise UnsupportedOutput(f"stock {stock.id} is a laser sheet; print it as PDF, not ZPL")
    shift = (round(offset_mm[0] * stock.dpi / 25.4), round(offset_mm[1] * stock.dpi / 25.4))
    return "".join(_shifted(_format(layout, stock), shift) for layout in layouts_for(labels, stock))


def _shifted(zpl: str, shift: tuple[int, int]) -> str:
    """Every ^FO moved by `shift` dots. ^FO takes no negative origin, so a negative offset
    can only take up the edge margin the layout leaves; more is refused, not clipped."""
    if shift == (0, 0):
        return zpl

    def move(match: re.Match[str]) -> str:
        x, y = int(match[1]) + shift[0], int(match[2]) + shift[1]
        if x < 0 or y < 0:
            raise InvalidLabel(
                f"an offset of {shift[0]},{shift[1]} dots moves a field off the label's "
                "top-left edge; use a smaller negative offset"
            )
        return f"^FO{x},{y}"

    return re.sub(r"\^FO(\d+),(\d+)", move, zpl)


def _format(layout: LabelLayout, stock: LabelStock) -> str:
    # Commands from Zebra's ZPL II Programming Guide (45541L-004).
    bars, matrix = layout.bars, layout.matrix
    fields = [
        "^XA",
        "^CI28",  # field data is UTF-8 (µ)
        f"^PW{stock.in_to_dots(stock.label_width_in)}",
        f"^LL{stock.in_to_dots(stock.label_height_in)}",
        "^LH0,0",
        # Mode N with our own subset plan as invocation codes, so the printer draws the
        # symbol the PDF shows and the layout measured; it adds the mod-103 check itself.
        f"^FO{bars.x},{bars.y}^BY{bars.module_width}"
        f"^BCN,{bars.row_height},N,N,N,N^FD{zpl_field_data(layout.barcode)}^FS",
        # Quality 200 = ECC 200 (the power-up default 0 is legacy ECC 000); the symbol size
        # is fixed to the one laid out, and the escape character set explicitly.
        f"^FO{matrix.x},{matrix.y}^BXN,{matrix.module_width},200,"
        f"{matrix.symbol.columns},{matrix.symbol.rows},,_^FD{layout.barcode}^FS",
    ]
    box_width = layout.text_box.x1 - layout.text_box.x0
    for line in layout.lines:
        height = round(line.size_pt * stock.dpi / 72)
        top = round(line.baseline - line.size_pt * (1 - DESCENT_EM) * stock.dpi / 72)
        # Font 0 (a condensed face) at the PDF's size in dots; a line is expected to be no
        # wider than in Helvetica, which is unverified on a printer. ^FB caps it to the
        # box the layout reserved, so a surprise stays inside the label.
        fields.append(
            f"^FO{round(line.x)},{top}^A0N,{height},{height}^FB{box_width},1,0,L,0"
            f"^FH_^FD{_escape(line.text)}^FS"
        )
    if layout.mark is not None:
        fields += _mark(layout.mark, stock.dpi)
    # No ^PQ: one copy is the power-up default (ZPL II guide, ^PQ), and zplkit, the
    # renderer the tests read the ZPL back with, refuses ^PQ as an unsupported command.
    fields.append("^XZ\n")
    return "\n".join(fields)


def _mark(mark: PlacedMark, dpi: int) -> list[str]:
    """The square as four ^GD diagonals and its texts centred with ^FB. ^GD's thickness runs
    across the box, so a stroke of line_dots needs sqrt(2) times as many (zplkit draws it so)."""
    half, cx, cy = mark.half_diagonal, mark.centre_x, mark.centre_y
    thick = round(mark.line_dots * 2**0.5)
    edges = [(cx - half, cy - half, "R"), (cx, cy - half, "L"), (cx - half, cy, "L"), (cx, cy, "R")]
    out = [f"^FO{x},{y}^GD{half},{half},{thick},B,{lean}^FS" for x, y, lean in edges]
    for line in mark.texts:
        height = round(line.size_pt * dpi / 72)
        top = round(line.baseline - line.size_pt * (1 - DESCENT_EM) * dpi / 72)
        out.append(
            f"^FO{mark.left},{top}^A0N,{height},{height}^FB{mark.width},1,0,C,0"
            f"^FH_^FD{_escape(line.text)}^FS"
        )
    return out


def _escape(text: str) -> str:
    """Hex-escape ZPL's command prefixes (^ ~) and the ^FH indicator itself (_)."""
    return text.replace("_", "_5F").replace("^", "_5E").replace("~", "_7E")
