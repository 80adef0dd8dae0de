"""The UN3373 mark of a package holding "Biological Substance, Category B".

IATA Packing Instruction 650 (and 49 CFR 173.199): a square set at 45 degrees, each side at
least 50 mm, the line at least 2 mm wide, "UN3373" inside in letters at least 6 mm high, and
"Biological Substance, Category B" next to it in letters at least 6 mm high
(labels-and-shipping.md 5.2).
"""

from dataclasses import dataclass

from reportlab.pdfbase.pdfmetrics import stringWidth

from label_printing.text import BOLD, DESCENT_EM, LINE_PITCH_EM, PlacedLine

MM_PER_IN = 25.4
SIDE_MM = 52.0  # 50 mm is the minimum; 2 mm more so a die-cut or print shift stays legal
LINE_MM = 2.2
# Helvetica's capitals are 0.718 em high (AFM CapHeight 718): 24 pt gives 6.08 mm.
TEXT_PT = 24.0
GAP_MM = 2.0
MARK_TEXT = "UN3373"
CAPTION = ("Biological Substance,", "Category B")


@dataclass(frozen=True)
class PlacedMark:
    """The square's centre and half its diagonal, its line width across the stroke, all in
    dots, and the texts (inside, then the caption below), centred on `centre_x`."""

    centre_x: int
    centre_y: int
    half_diagonal: int
    line_dots: int
    texts: tuple[PlacedLine, ...]
    left: int  # the region the texts are centred in, for ZPL's ^FB
    width: int


def mark_height(dpi: int) -> int:
    """The dots the mark and its caption take from the bottom of the label."""
    half = _half_diagonal(dpi)
    caption = TEXT_PT * (len(CAPTION) - 1) * LINE_PITCH_EM + TEXT_PT
    return 2 * half + _mm(GAP_MM, dpi) + round(caption * dpi / 72)


def mark_width(dpi: int) -> int:
    widest = max(stringWidth(line, BOLD, TEXT_PT) for line in CAPTION)
    return max(2 * _half_diagonal(dpi), round(float(widest) * dpi / 72))


def place_mark(dpi: int, *, left: int, width: int, top: int) -> PlacedMark:
    """The mark centred in `width` dots from `left`, its top corner at `top`."""
    half = _half_diagonal(dpi)
    centre_x, centre_y = left + width // 2, top + half
    to_dots = dpi / 72
    ascent = TEXT_PT * (1 - DESCENT_EM) * to_dots  # the top of a line to its baseline
    inside = _centred(MARK_TEXT, centre_x, centre_y + TEXT_PT * 0.718 / 2 * to_dots, dpi)
    y = top + 2 * half + _mm(GAP_MM, dpi) + ascent
    caption = []
    for line in CAPTION:
        caption.append(_centred(line, centre_x, y, dpi))
        y += TEXT_PT * LINE_PITCH_EM * to_dots
    return PlacedMark(
        centre_x=centre_x,
        centre_y=centre_y,
        half_diagonal=half,
        line_dots=_mm(LINE_MM, dpi),
        texts=(inside, *caption),
        left=left,
        width=width,
    )


def _centred(text: str, centre_x: int, baseline: float, dpi: int) -> PlacedLine:
    width = stringWidth(text, BOLD, TEXT_PT) * dpi / 72
    return PlacedLine(text, BOLD, TEXT_PT, centre_x - width / 2, baseline)


def _half_diagonal(dpi: int) -> int:
    return round(SIDE_MM / MM_PER_IN * dpi / 2**0.5)


def _mm(mm: float, dpi: int) -> int:
    return round(mm / MM_PER_IN * dpi)
