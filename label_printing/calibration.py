"""A calibration page for a sheet stock: print it on plain paper, hold it against the sheet.

Each label's outline is drawn where the stock says the label is, with its position number,
and rulers in inches and millimetres run along the top and the left edge. Where the outlines
miss the die-cut labels, the ruler gives the printer's x/y offset in mm.
"""

import io

from reportlab.pdfgen.canvas import Canvas

from label_printing.errors import UnsupportedOutput
from label_printing.stocks import LabelStock, SheetGrid

MM = 72 / 25.4
OUTLINE_PT = 0.5  # a hairline that still prints on a 300 dpi laser (about 2 dots)


def render_calibration_pdf(
    stock: LabelStock, *, offset_mm: tuple[float, float] = (0.0, 0.0)
) -> bytes:
    """One page: every label of `stock` outlined and numbered, shifted by the printer's offset."""
    if stock.sheet is None:
        raise UnsupportedOutput(
            f"stock {stock.id} is a roll; a calibration page is for laser sheets"
        )
    grid = stock.sheet
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer, pagesize=(grid.page_width_in * 72, grid.page_height_in * 72), invariant=True
    )
    canvas.setTitle(f"Calibration page for {stock.id}")
    _outlines(canvas, stock, grid, offset_mm)
    _rulers(canvas, grid)
    _caption(canvas, stock, grid, offset_mm)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def label_outlines_in(
    stock: LabelStock, *, offset_mm: tuple[float, float] = (0.0, 0.0)
) -> list[tuple[float, float, float, float]]:
    """Each label's (left, top, right, bottom) in inches from the page's top-left corner."""
    grid = stock.sheet
    if grid is None:
        return []
    dx, dy = offset_mm[0] / 25.4, offset_mm[1] / 25.4
    boxes = []
    for index in range(grid.positions):
        row, column = divmod(index, grid.columns)
        left = grid.margin_left_in + column * grid.pitch_x_in + dx
        top = grid.margin_top_in + row * grid.pitch_y_in + dy
        boxes.append((left, top, left + stock.label_width_in, top + stock.label_height_in))
    return boxes


def _outlines(
    canvas: Canvas, stock: LabelStock, grid: SheetGrid, offset_mm: tuple[float, float]
) -> None:
    page_height = grid.page_height_in * 72
    canvas.setLineWidth(OUTLINE_PT)
    for number, (left, top, right, bottom) in enumerate(
        label_outlines_in(stock, offset_mm=offset_mm), start=1
    ):
        x0, y0 = left * 72, page_height - bottom * 72
        canvas.rect(x0, y0, (right - left) * 72, (bottom - top) * 72, stroke=1, fill=0)
        canvas.setFont("Helvetica", 9)
        canvas.drawCentredString((left + right) * 36, y0 + (bottom - top) * 36 - 3, str(number))


def _rulers(canvas: Canvas, grid: SheetGrid) -> None:
    """Inches along the top edge (1/8 in ticks), millimetres down the left edge (1 mm ticks)."""
    width, height = grid.page_width_in * 72, grid.page_height_in * 72
    canvas.setLineWidth(0.3)
    canvas.setFont("Helvetica", 5)
    for eighth in range(int(grid.page_width_in * 8) + 1):
        x = eighth * 9.0
        length = 12 if eighth % 8 == 0 else 7 if eighth % 4 == 0 else 4
        canvas.line(x, height, x, height - length)
        if eighth % 8 == 0 and eighth:
            canvas.drawString(x + 1.5, height - 8, f'{eighth // 8}"')
    for mm in range(int(grid.page_height_in * 25.4) + 1):
        y = height - mm * MM
        length = 12 if mm % 10 == 0 else 7 if mm % 5 == 0 else 4
        canvas.line(0, y, length, y)
        if mm % 10 == 0 and mm:
            canvas.drawString(14, y - 2, f"{mm} mm")
    # The same two scales the other way round, so either edge can be read against the sheet.
    for mm in range(int(grid.page_width_in * 25.4) + 1):
        x = mm * MM
        canvas.line(x, 0, x, 12 if mm % 10 == 0 else 7 if mm % 5 == 0 else 4)
    for eighth in range(int(grid.page_height_in * 8) + 1):
        y = height - eighth * 9.0
        canvas.line(width, y, width - (12 if eighth % 8 == 0 else 4), y)


def _caption(
    canvas: Canvas, stock: LabelStock, grid: SheetGrid, offset_mm: tuple[float, float]
) -> None:
    # Written up the right margin, the one place no label or ruler figure uses.
    canvas.saveState()
    canvas.translate(grid.page_width_in * 72 - 0.3 * 72, 0.5 * 72)
    canvas.rotate(90)
    canvas.setFont("Helvetica", 6)
    canvas.drawString(
        0,
        0,
        f"{stock.name}: print at 100 % (no 'fit to page'), hold against the sheet. "
        f"Offset applied: x {offset_mm[0]:+.1f} mm, y {offset_mm[1]:+.1f} mm "
        "(positive = right, down).",
    )
    canvas.restoreState()
