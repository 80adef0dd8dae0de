"""PDF output: one label per page on rolls, a grid of labels on sheets."""

import io
from collections.abc import Iterable, Sequence

from reportlab.pdfgen.canvas import FILL_EVEN_ODD, Canvas

from label_printing.content import Label
from label_printing.errors import PositionOutOfRange
from label_printing.layout import LabelLayout, PlacedSymbol, layouts_for
from label_printing.marks import PlacedMark
from label_printing.stocks import LabelStock, SheetGrid

MM = 72 / 25.4  # PDF points in a millimetre


def render_pdf(
    labels: Sequence[Label],
    stock: LabelStock,
    *,
    first_position: int = 1,
    offset_mm: tuple[float, float] = (0.0, 0.0),
) -> bytes:
    """Labels as a PDF for `stock`; on a sheet the first label goes to `first_position`.

    Positions count from 1, row by row, so a partly used sheet can be used up; labels
    continue on further pages. One label that cannot be printed stops the whole batch.
    `offset_mm` moves everything right and down by (x, y) mm, to correct a printer that
    places the page off by that much (measured with the calibration page).
    """
    _check_first_position(stock, first_position)
    layouts = layouts_for(labels, stock)
    buffer = io.BytesIO()
    shift = (offset_mm[0] * MM, offset_mm[1] * MM)
    if stock.sheet is None:
        canvas = _draw_roll(buffer, layouts, stock, shift)
    else:
        canvas = _draw_sheets(buffer, layouts, stock, stock.sheet, first_position, shift)
    canvas.save()
    return buffer.getvalue()


def _check_first_position(stock: LabelStock, first_position: int) -> None:
    if stock.sheet is None:
        if first_position != 1:
            raise PositionOutOfRange(f"stock {stock.id} is a roll; it has no positions")
    elif not 1 <= first_position <= stock.sheet.positions:
        raise PositionOutOfRange(
            f"first position {first_position} is not on stock {stock.id}: positions run "
            f"from 1 to {stock.sheet.positions} ({stock.sheet.rows} rows x {stock.sheet.columns})"
        )


def _draw_roll(
    buffer: io.BytesIO,
    layouts: Iterable[LabelLayout],
    stock: LabelStock,
    shift: tuple[float, float],
) -> Canvas:
    # The page is the label, as roll printer drivers expect.
    size = (stock.label_width_in * 72, stock.label_height_in * 72)
    canvas = Canvas(buffer, pagesize=size, invariant=True)
    for layout in layouts:
        _draw_label(canvas, layout, stock.dpi, left=shift[0], top=size[1] - shift[1])
        canvas.showPage()
    return canvas


def _draw_sheets(
    buffer: io.BytesIO,
    layouts: Iterable[LabelLayout],
    stock: LabelStock,
    grid: SheetGrid,
    first_position: int,
    shift: tuple[float, float],
) -> Canvas:
    page_height = grid.page_height_in * 72
    canvas = Canvas(buffer, pagesize=(grid.page_width_in * 72, page_height), invariant=True)
    for index, layout in enumerate(layouts, start=first_position - 1):
        cell = index % grid.positions
        if cell == 0 and index > first_position - 1:
            canvas.showPage()
        row, column = divmod(cell, grid.columns)
        left = (grid.margin_left_in + column * grid.pitch_x_in) * 72 + shift[0]
        top = page_height - (grid.margin_top_in + row * grid.pitch_y_in) * 72 - shift[1]
        _draw_label(canvas, layout, stock.dpi, left=left, top=top)
    canvas.showPage()
    return canvas


def _draw_label(canvas: Canvas, layout: LabelLayout, dpi: int, *, left: float, top: float) -> None:
    """Draw one layout whose top-left corner is at (left, top) in PDF points."""
    scale = 72 / dpi
    for symbol in (layout.bars, layout.matrix):
        _draw_symbol(canvas, symbol, scale, left, top)
    texts = layout.lines + (layout.mark.texts if layout.mark else ())
    for line in texts:
        canvas.setFont(line.font, line.size_pt)
        canvas.drawString(left + line.x * scale, top - line.baseline * scale, line.text)
    if layout.mark is not None:
        _draw_mark(canvas, layout.mark, scale, left, top)


def _draw_mark(canvas: Canvas, mark: PlacedMark, scale: float, left: float, top: float) -> None:
    # The square's outline as the ring between two squares on their points, filled even-odd,
    # so its width across the stroke is exactly line_dots whatever the PDF viewer's joins.
    cx, cy = left + mark.centre_x * scale, top - mark.centre_y * scale
    path = canvas.beginPath()
    for half in (mark.half_diagonal, mark.half_diagonal - mark.line_dots * 2**0.5):
        path.moveTo(cx, cy + half * scale)
        path.lineTo(cx + half * scale, cy)
        path.lineTo(cx, cy - half * scale)
        path.lineTo(cx - half * scale, cy)
        path.close()
    canvas.drawPath(path, stroke=0, fill=1, fillMode=FILL_EVEN_ODD)


def _draw_symbol(
    canvas: Canvas, placed: PlacedSymbol, scale: float, left: float, top: float
) -> None:
    # Draw in module units under a transform that makes one module a whole number of dots
    # (rows run downwards) and fill all runs as one path. Written as literal "x y w h re"
    # operators with integer operands: canvas.rect spends most of its time formatting
    # floats in pure Python (2.2x slower overall, measured with bench/labels.py).
    canvas.saveState()
    canvas.transform(
        placed.module_width * scale,
        0,
        0,
        -placed.row_height * scale,
        left + placed.x * scale,
        top - placed.y * scale,
    )
    canvas.addLiteral(" ".join([f"{r.start} {r.row} {r.length} 1 re" for r in placed.symbol.runs]))
    canvas.addLiteral("f")  # fill, non-zero winding
    canvas.restoreState()
