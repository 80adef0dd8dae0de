"""Fitting the human-readable lines into a box: shrink first, then wrap, never cut.

The first line is the label's id, which a technician reads by eye: the other lines shrink
and wrap before the id gets smaller, and the id never goes below MIN_ID_FONT_PT.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from reportlab.pdfbase.pdfmetrics import stringWidth

from label_printing.content import TextLine
from label_printing.errors import LabelDoesNotFit
from label_printing.stocks import LabelStock

MIN_FONT_PT = 4.5
# "DataMatrix + human-readable ID in >=6 pt": our own design rule, not a vendor or
# standard figure.
MIN_ID_FONT_PT = 6.0
FONT_STEP_PT = 0.5
REGULAR, BOLD = "Helvetica", "Helvetica-Bold"
# pdfminer (and so pdfplumber) puts a glyph's box from baseline - 0.207 em to 0.793 em
# above it: Helvetica's AFM descender is -207. Text inside those boxes is inside the label.
DESCENT_EM = 0.207
LINE_PITCH_EM = 1.1


@dataclass(frozen=True)
class Box:
    """A rectangle in dots from the label's top-left: x0 <= x < x1, y0 <= y < y1."""

    x0: int
    y0: int
    x1: int
    y1: int


@dataclass(frozen=True)
class PlacedLine:
    """One printed line; x and baseline in dots from the label's top-left, size in points."""

    text: str
    font: str
    size_pt: float
    x: float
    baseline: float


_Row = tuple[str, str, float]  # text, font, size


def fit_text(
    lines: Sequence[TextLine], box: Box, stock: LabelStock, *, barcode: str
) -> tuple[PlacedLine, ...]:
    """The id (the first line) as large as fits, then the other lines as large as fit with it."""
    width_pt = (box.x1 - box.x0) * 72 / stock.dpi
    height_pt = (box.y1 - box.y0) * 72 / stock.dpi
    if width_pt > 0 and height_pt > 0:
        for rows in _candidates(lines, width_pt, stock.max_font_pt):
            if _stack_height(rows) <= height_pt:
                return _place(rows, box, stock.dpi, height_pt)
    longest = max((" ".join(line.fields) for line in lines), key=len)
    raise LabelDoesNotFit(
        barcode,
        f"the text ({longest!r} and the rest) does not fit the "
        f"{max(width_pt, 0) / 72:.2f} x {max(height_pt, 0) / 72:.2f} in left on stock "
        f"{stock.id}, even wrapped at {MIN_FONT_PT:g} pt with the id at {MIN_ID_FONT_PT:g} pt",
    )


def _candidates(lines: Sequence[TextLine], width_pt: float, max_pt: float) -> Iterator[list[_Row]]:
    """Rows no wider than the box, best first: for each id size, from the largest down, the
    other lines shrink to MIN_FONT_PT and then wrap; they are never larger than the id."""
    id_line, *rest = lines
    for id_size in _sizes(max_pt, MIN_ID_FONT_PT):
        id_rows = _break_lines([id_line], id_size, width_pt, wrap=False)
        if id_rows is None:
            continue
        for wrap in (False, True):
            for size in _sizes(id_size, MIN_FONT_PT):
                rows = _break_lines(rest, size, width_pt, wrap=wrap)
                if rows is not None:
                    yield id_rows + rows


def _sizes(max_pt: float, min_pt: float) -> Iterator[float]:
    size = max_pt
    while size >= min_pt - 1e-9:
        yield size
        size -= FONT_STEP_PT


def _break_lines(
    lines: Sequence[TextLine], size: float, width_pt: float, *, wrap: bool
) -> list[_Row] | None:
    rows: list[_Row] = []
    for line in lines:
        font, line_size = (BOLD if line.bold else REGULAR), size * line.scale
        if not wrap:
            text = "  ".join(line.fields)
            if stringWidth(text, font, line_size) > width_pt:
                return None
            rows.append((text, font, line_size))
            continue
        wrapped = _wrap(line.fields, font, line_size, width_pt)
        if wrapped is None:
            return None
        rows.extend((text, font, line_size) for text in wrapped)
    return rows


def _wrap(fields: Sequence[str], font: str, size: float, width_pt: float) -> list[str] | None:
    """Greedy wrap between words; None when a single word is wider than the box."""
    out: list[str] = []
    current = ""
    for index, field in enumerate(fields):
        for word_index, word in enumerate(field.split()):
            sep = "  " if index and not word_index else " "
            candidate = current + sep + word if current else word
            if stringWidth(candidate, font, size) <= width_pt:
                current = candidate
                continue
            if stringWidth(word, font, size) > width_pt:
                return None
            out.append(current)
            current = word
    out.append(current)
    return out


def _stack_height(rows: Sequence[_Row]) -> float:
    return sum(size * LINE_PITCH_EM for _, _, size in rows[:-1]) + rows[-1][2]


def _place(rows: Sequence[_Row], box: Box, dpi: int, height_pt: float) -> tuple[PlacedLine, ...]:
    # Centre the block vertically in the box; a line's top is its baseline - 0.793 em.
    to_dots = dpi / 72
    top = box.y0 + (height_pt - _stack_height(rows)) / 2 * to_dots
    placed = []
    for text, font, size in rows:
        baseline = top + size * (1 - DESCENT_EM) * to_dots
        placed.append(PlacedLine(text, font, size, float(box.x0), baseline))
        top += size * LINE_PITCH_EM * to_dots
    return tuple(placed)
