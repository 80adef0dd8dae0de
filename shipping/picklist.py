"""The pick list as a PDF: what a technician takes to the freezers to fetch a request's tubes.

One line per tube in walking order (freezer, rack, box, position), a heading each time the box
changes, a box to tick per tube. The request's code is printed as a Code 128 barcode at the top
of every page: scanned at the bench, it opens the request's scan-to-confirm pick page, whichever
page of the list is at hand. Tubes are confirmed by scanning the tube itself, never the paper.
"""

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NamedTuple

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.pdfgen.canvas import Canvas

from shipping.model import count
from shipping.pdf_parts import BAR_HEIGHT_PT, BOLD, REGULAR, draw_barcode, fit, printable

Paper = Literal["A4", "letter"]
MARGIN = 36.0
FOOTER = 24.0
HEADER = BAR_HEIGHT_PT + 30.0  # the barcode, its text and a gap
ROW = 14.0  # room to tick a box with a pen
FONT = 9.0
# (title, width in points, right-aligned); 523 pt fit between A4's margins.
COLUMNS = (
    ("#", 28, True),
    ("Done", 30, False),
    ("Pos.", 34, False),
    ("Barcode", 110, False),
    ("Type", 90, False),
    ("Volume", 70, True),
    ("Thaws", 40, True),
    ("Box", 120, False),
)
BARCODE_COLUMN = 3


@dataclass(frozen=True)
class PickLine:
    """One tube to fetch, where it is, and what it is."""

    barcode: str
    freezer: str
    rack: str
    box: str  # the box's name or barcode
    position: str  # "A1"
    specimen_type: str
    volume_ul: int
    freeze_thaw_count: int


@dataclass(frozen=True)
class PickList:
    request_code: str  # "REQ-0007": printed as the barcode that opens the pick page
    title: str
    prepared_at: datetime
    prepared_by: str
    lines: Sequence[PickLine]  # already in walking order


class Row(NamedTuple):
    kind: Literal["place", "line"]
    cells: tuple[str, ...]


def picklist_pdf(pick_list: PickList, *, paper: Paper = "A4") -> bytes:
    """Every tube of the list under its freezer, rack and box, with the request barcode and
    "page n of m" on each page."""
    size = A4 if paper == "A4" else LETTER
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=size, invariant=True, pageCompression=1)
    canvas.setTitle(f"Pick list {pick_list.request_code}")
    left, right, top = MARGIN, size[0] - MARGIN, size[1] - MARGIN
    per_page = int((top - HEADER - MARGIN - FOOTER) // ROW) - 1  # one row for column titles
    pages = paginate(list(rows(pick_list.lines)), per_page)
    for number, page in enumerate(pages, start=1):
        _draw_header(canvas, pick_list, left=left, right=right, top=top)
        _draw_rows(canvas, page, left=left, y=top - HEADER)
        label = f"page {number} of {len(pages)}"
        canvas.setFont(BOLD, 8)
        canvas.drawRightString(right, MARGIN, label)
        canvas.setFont(REGULAR, 7.5)
        canvas.drawString(left, MARGIN, f"Pick list {pick_list.request_code}")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def rows(lines: Sequence[PickLine]) -> Iterator[Row]:
    """A heading whenever the box changes, then its tubes; numbered through the whole list."""
    place = None
    for n, line in enumerate(lines, start=1):
        here = (line.freezer, line.rack, line.box)
        if here != place:
            place = here
            yield Row("place", (f"{line.freezer} / {line.rack} / {line.box}",))
        yield Row(
            "line",
            (
                str(n),
                "[   ]",
                line.position,
                line.barcode,
                line.specimen_type,
                f"{line.volume_ul:,} uL",
                str(line.freeze_thaw_count),
                line.box,
            ),
        )


def paginate(table: list[Row], per_page: int) -> list[list[Row]]:
    """Rows cut into pages; a box heading never ends a page, and a box that goes on to the next
    page gets its heading again, marked "(continued)"."""
    pages: list[list[Row]] = []
    page: list[Row] = []
    heading: Row | None = None
    for row in table:
        if row.kind == "place":
            heading = row
        if len(page) >= per_page or (row.kind == "place" and len(page) >= per_page - 1):
            pages.append(page)
            page = []
            if heading is not None and row.kind == "line":
                page.append(Row("place", (heading.cells[0] + " (continued)",)))
        page.append(row)
    pages.append(page)
    return pages


def _draw_header(
    canvas: Canvas, pick_list: PickList, *, left: float, right: float, top: float
) -> None:
    barcode_left = draw_barcode(canvas, pick_list.request_code, right=right, top=top)
    room = barcode_left - left - 12
    canvas.setFont(BOLD, 15)
    canvas.drawString(left, top - 15, f"Pick list {pick_list.request_code}")
    canvas.setFont(REGULAR, 9)
    canvas.drawString(left, top - 30, fit(printable(pick_list.title), REGULAR, 9, room))
    prepared = pick_list.prepared_at.strftime("%Y-%m-%d %H:%M %Z").strip()
    tubes = count(len(pick_list.lines), "tube")
    about = f"{tubes} · prepared {prepared} by {pick_list.prepared_by}"
    canvas.drawString(left, top - 42, fit(printable(about), REGULAR, 9, room))


def _draw_rows(canvas: Canvas, page: list[Row], *, left: float, y: float) -> None:
    y -= ROW
    x = left
    canvas.setFont(BOLD, FONT)
    for title, width, is_right in COLUMNS:
        _cell(canvas, title, x, y, width, is_right)
        x += width
    canvas.setLineWidth(0.5)
    canvas.line(left, y - 3, x, y - 3)
    for row in page:
        y -= ROW
        if row.kind == "place":
            canvas.setFont(BOLD, FONT)
            canvas.drawString(left, y, fit(printable(row.cells[0]), BOLD, FONT, x - left))
            continue
        cx = left
        for i, (text, (_, width, is_right)) in enumerate(zip(row.cells, COLUMNS, strict=True)):
            font = BOLD if i == BARCODE_COLUMN else REGULAR
            canvas.setFont(font, FONT)
            shown = text if i == BARCODE_COLUMN else fit(printable(text), font, FONT, width - 4)
            _cell(canvas, shown, cx, y, width, is_right)
            cx += width


def _cell(canvas: Canvas, text: str, x: float, y: float, width: float, is_right: bool) -> None:
    if is_right:
        canvas.drawRightString(x + width - 6, y, text)
    else:
        canvas.drawString(x, y, text)
