"""The manifest as a PDF: the paper copy that travels in the box and the one the sender keeps.

Drawn on a pdfgen canvas with rows of one fixed height, so pages are counted before any is
drawn ("page 2 of 7") and 10,000 tubes take a few seconds, not the minute a platypus Table
of that size needs (bench/manifest.py).
"""

import io
from collections.abc import Iterator
from functools import lru_cache
from typing import Literal, NamedTuple

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from shipping.model import Manifest, ManifestItem, Total, boxes_of, count, totals
from shipping.pdf_parts import BOLD, REGULAR, draw_header, fit, number, printable

Paper = Literal["A4", "letter"]
MARGIN = 36.0  # half an inch all round
FOOTER = 24.0
ROW = 10.5
FONT = 8.0
MIN_FONT = 4.0  # a long barcode shrinks to fit its column, down to this; it is never cut
# (title, width in points, right-aligned): A4 leaves 523 pt between the margins.
COLUMNS = (
    ("#", 26, True),
    ("Barcode", 92, False),
    ("Specimen type", 64, False),
    ("Quantity", 58, True),
    ("Box", 64, False),
    ("Pos.", 30, False),
    ("Study code", 62, False),
    ("Visit", 26, True),
    ("Collected", 92, False),
)
GAP = 1.0  # between columns, on top of the widths
PAD = 4.0  # right-aligned text keeps this clear of the next column, so words stay apart


class Row(NamedTuple):
    """One line of the table: a tube ("item"), a box's heading or total, the grand total."""

    kind: Literal["box", "item", "total", "grand"]
    cells: tuple[str, ...]


def manifest_pdf(manifest: Manifest, *, paper: Paper = "A4") -> bytes:
    """Header, hazard marks, and every tube grouped by box with totals; "page n of m" on each."""
    size = A4 if paper == "A4" else LETTER
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=size, invariant=True, pageCompression=1)
    canvas.setTitle(f"Manifest {manifest.shipment_id}")
    left, right, top = MARGIN, size[0] - MARGIN, size[1] - MARGIN
    table_top = draw_header(canvas, manifest, left=left, right=right, top=top)
    per_page = int((top - MARGIN - FOOTER) // ROW) - 1  # one row for the column titles
    first = max(int((table_top - MARGIN - FOOTER) // ROW) - 1, 0)
    pages = paginate(list(rows(manifest)), first=first, rest=per_page)
    for number_, page in enumerate(pages, start=1):
        y = table_top if number_ == 1 else top
        _draw_rows(canvas, page, left=left, y=y)
        _draw_footer(canvas, manifest, number_, len(pages), left=left, right=right)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def rows(manifest: Manifest) -> Iterator[Row]:
    """The table's rows: per box a heading, its tubes by position, its totals; then the
    shipment's totals per specimen type and unit."""
    tubes = 0
    groups = boxes_of(manifest.items)
    for box, items in groups:
        name = f"Box {box}" if box else "Loose tubes (not in a box)"
        yield Row("box", (f"{name}: {count(len(items), 'tube')}",))
        for item in items:
            tubes += 1
            yield Row("item", _cells(tubes, item))
        yield from (Row("total", (f"Total {name}: {t}",)) for t in _sums(totals(items)))
    boxes = sum(1 for box, _ in groups if box)
    summary = f"Shipment {manifest.shipment_id}: {count(boxes, 'box')}, {count(tubes, 'tube')}"
    yield Row("grand", (summary,))
    yield from (Row("grand", (f"Total shipment: {t}",)) for t in _sums(totals(manifest.items)))


def _sums(found: list[Total]) -> list[str]:
    return [
        f"{t.specimen_type} {count(t.tubes, 'tube')}, {number(t.quantity)} {t.unit}" for t in found
    ]


def _cells(count: int, item: ManifestItem) -> tuple[str, ...]:
    collected = item.collected_at.isoformat(timespec="minutes") if item.collected_at else ""
    return (
        str(count),
        item.barcode,
        item.specimen_type,
        f"{number(item.quantity)} {item.unit}",
        item.box or "",
        item.position or "",
        item.study_code or "",
        "" if item.visit_number is None else str(item.visit_number),
        collected.replace("T", " "),
    )


def paginate(table: list[Row], *, first: int, rest: int) -> list[list[Row]]:
    """Rows cut into pages of `first`, then `rest` rows. A box heading never ends a page, and a
    box that goes on gets its heading again, marked "(continued)"."""
    pages: list[list[Row]] = []
    page: list[Row] = []
    heading: Row | None = None
    room = first
    for row in table:
        if row.kind == "box":
            heading = row
        elif row.kind == "grand":
            heading = None
        if len(page) >= room or (row.kind == "box" and len(page) >= room - 1):
            pages.append(page)
            page, room = [], rest
            if heading is not None and row.kind != "box":
                page.append(Row("box", (heading.cells[0] + " (continued)",)))
        page.append(row)
    pages.append(page)
    return pages


def _draw_rows(canvas: Canvas, page: list[Row], *, left: float, y: float) -> None:
    # All text of a page as one BT ... ET block of literal operators: canvas.drawString builds
    # a text object per call and formats its floats in Python, three quarters of the time
    # for 10,000 rows (measured with cProfile; bench/manifest.py).
    regular, bold = (canvas._doc.getInternalFontName(f) for f in (REGULAR, BOLD))
    ops = ["BT", f"{bold} {FONT:g} Tf"]
    y -= ROW
    x = left
    for title, width, is_right in COLUMNS:
        ops.append(_cell(title, BOLD, x, y, width, is_right))
        x += width + GAP
    rule = f"{left:.2f} {y - 2.5:.2f} m {x - GAP:.2f} {y - 2.5:.2f} l"
    font = bold
    for row in page:
        y -= ROW
        if row.kind == "item":
            if font != regular:
                ops.append(f"{regular} {FONT:g} Tf")
                font = regular
            x = left
            for text, (_, width, is_right) in zip(row.cells, COLUMNS, strict=True):
                ops.append(_cell(text, REGULAR, x, y, width, is_right))
                x += width + GAP
        else:
            if font != bold:
                ops.append(f"{bold} {FONT:g} Tf")
                font = bold
            indent = 0 if row.kind == "box" else COLUMNS[0][1] + GAP
            ops.append(f"1 0 0 1 {left + indent:.2f} {y:.2f} Tm ({_escape(row.cells[0])}) Tj")
    ops.append("ET")
    canvas.setFont(REGULAR, FONT)  # keeps the canvas's idea of the font in step
    canvas.addLiteral("\n".join(ops))
    canvas.setLineWidth(0.5)
    canvas.addLiteral(rule + " S")


def _cell(text: str, font: str, x: float, y: float, width: float, is_right: bool) -> str:
    """One cell as "Tm ... Tj": right-aligned cells end `PAD` before their column's edge, and
    text wider than its column is drawn smaller (a barcode is never cut)."""
    escaped, measured = _escape(text), _width(text, font)
    size = FONT
    if measured > width - PAD:
        size = max(MIN_FONT, FONT * (width - PAD) / measured)
        measured *= size / FONT
    if is_right:
        x += width - PAD - measured
    if size == FONT:
        return f"1 0 0 1 {x:.2f} {y:.2f} Tm ({escaped}) Tj"
    scale = size / FONT  # a smaller font by the text matrix, the font operator stays
    return f"{scale:.3f} 0 0 {scale:.3f} {x:.2f} {y:.2f} Tm ({escaped}) Tj"


@lru_cache(maxsize=4096)
def _width(text: str, font: str) -> float:
    """The width in points at FONT size; cached, since units and numbers repeat."""
    return float(stringWidth(printable(text), font, FONT))


# PDF string literals: backslash and parentheses escaped, bytes beyond ASCII as octal, so the
# content stream stays ASCII whatever cp1252 characters the text holds.
_ESCAPES = {ord("\\"): "\\\\", ord("("): "\\(", ord(")"): "\\)"}
_ESCAPES |= {b: f"\\{b:03o}" for b in range(128, 256)}
_ESCAPES |= {b: " " for b in range(32)}


@lru_cache(maxsize=4096)
def _escape_cached(text: str) -> str:
    return printable(text).encode("cp1252").decode("latin-1").translate(_ESCAPES)


def _escape(text: str) -> str:
    # Barcodes are unique and would only churn the cache; digits and letters need no escaping.
    return text if text.isascii() and text.isalnum() else _escape_cached(text)


def _draw_footer(
    canvas: Canvas, manifest: Manifest, page: int, pages: int, *, left: float, right: float
) -> None:
    label = f"page {page} of {pages}"
    canvas.setFont(BOLD, 8)
    canvas.drawRightString(right, MARGIN, label)
    about = (
        f"Shipment {manifest.shipment_id} · {manifest.sender.organisation} to "
        f"{manifest.recipient.organisation} · 24-h phone {manifest.emergency_phone}"
    )
    room = right - left - stringWidth(label, BOLD, 8) - 12
    canvas.setFont(REGULAR, 7.5)
    canvas.drawString(left, MARGIN, fit(printable(about), REGULAR, 7.5, room))
