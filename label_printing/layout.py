"""Where everything goes on one label, in printer dots from the label's top-left corner.

The PDF and the ZPL renderers draw the same layout, so both print the same label.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from label_printing.content import BoxLabel, Label, VialLabel, check_label, text_lines
from label_printing.errors import InvalidLabel, LabelDoesNotFit
from label_printing.marks import PlacedMark, mark_height, mark_width, place_mark
from label_printing.stocks import STOCKS, LabelStock
from label_printing.symbols import Symbol, code128, datamatrix
from label_printing.text import Box, PlacedLine, fit_text

# Quiet zones: 10X each side for Code 128 (ISO/IEC 15417), at least 1 module around a
# DataMatrix (ISO/IEC 16022); we leave 2, a margin for a curved, frosted tube.
CODE128_QUIET_MODULES = 10
MATRIX_QUIET_MODULES = 2
# Keep ink and text this far from the die-cut edge (a design choice, not a vendor figure).
EDGE_MARGIN_IN = 0.03
GAP_IN = 0.02


@dataclass(frozen=True)
class PlacedSymbol:
    """A symbol's top-left module at (x, y) dots; each run is module_width x row_height dots."""

    symbol: Symbol
    x: int
    y: int
    module_width: int
    row_height: int

    @property
    def width(self) -> int:
        return self.symbol.columns * self.module_width

    @property
    def height(self) -> int:
        return self.symbol.rows * self.row_height


@dataclass(frozen=True)
class LabelLayout:
    """One label, ready to draw: both renderers read only this."""

    barcode: str
    width_dots: int
    height_dots: int
    bars: PlacedSymbol
    matrix: PlacedSymbol
    text_box: Box
    lines: tuple[PlacedLine, ...]
    mark: PlacedMark | None = None  # the UN3373 mark of a shipping box, below everything else


def lay_out(label: Label, stock: LabelStock) -> LabelLayout:
    """Place both symbols and the text, or raise LabelDoesNotFit saying what did not fit."""
    check_label(label)
    # Whole dots only: the half dot of a 101.5-dot label stays blank (1e-9: 0.29*100 < 29).
    width = int(stock.label_width_in * stock.dpi + 1e-9)
    height = int(stock.label_height_in * stock.dpi + 1e-9)
    margin, gap = _dots(EDGE_MARGIN_IN, stock), _dots(GAP_IN, stock)
    mark = _place_mark(label, stock, width, height, margin)
    above = mark.centre_y - mark.half_diagonal - gap if mark else height  # what the rest gets
    bars, matrix = _place_symbols(label.barcode, stock, width, above, margin)
    matrix_quiet = MATRIX_QUIET_MODULES * matrix.module_width
    text_box = Box(
        margin, bars.y + bars.height + gap, matrix.x - matrix_quiet - gap, above - margin
    )
    return LabelLayout(
        barcode=label.barcode,
        width_dots=width,
        height_dots=height,
        bars=bars,
        matrix=matrix,
        text_box=text_box,
        lines=fit_text(text_lines(label), text_box, stock, barcode=label.barcode),
        mark=mark,
    )


def _place_mark(
    label: Label, stock: LabelStock, width: int, height: int, margin: int
) -> PlacedMark | None:
    if not (isinstance(label, BoxLabel) and label.is_un3373):
        return None
    need_w, need_h = mark_width(stock.dpi) + 2 * margin, mark_height(stock.dpi) + 2 * margin
    if need_w > width or need_h > height:
        raise LabelDoesNotFit(
            label.barcode,
            f"the UN3373 mark (a 50 mm square on its point, 6 mm letters) needs "
            f"{need_w / stock.dpi:.2f} x {need_h / stock.dpi:.2f} in; stock {stock.id} is "
            f"{stock.label_width_in} x "
            f"{stock.label_height_in} in",
        )
    top = height - margin - mark_height(stock.dpi)
    return place_mark(stock.dpi, left=margin, width=width - 2 * margin, top=top)


def layouts_for(labels: Sequence[Label], stock: LabelStock) -> Iterator[LabelLayout]:
    """Each label's layout, made as the caller draws it: a renderer returns nothing until
    all are drawn, so one label that cannot be printed still stops the whole batch, and the
    layouts of a 10,000-label batch need not all be held at once."""
    if not labels:
        raise InvalidLabel("nothing to print: no labels were given")
    wanted = VialLabel if stock.purpose == "vial" else BoxLabel
    for label in labels:
        if not isinstance(label, wanted):
            raise InvalidLabel(
                f"label {label.barcode}: stock {stock.id} is for {stock.purpose} labels, "
                f"not {type(label).__name__}"
            )
    return (lay_out(label, stock) for label in labels)


def _place_symbols(
    barcode: str, stock: LabelStock, width: int, height: int, margin: int
) -> tuple[PlacedSymbol, PlacedSymbol]:
    bars_symbol, matrix_symbol = code128(barcode), datamatrix(barcode)
    x_bar, xm = stock.bar_module_dots, stock.matrix_module_dots
    bars_span = (bars_symbol.columns + 2 * CODE128_QUIET_MODULES) * x_bar
    if bars_span > width:
        raise LabelDoesNotFit(
            barcode,
            f"Code 128 needs {bars_span / stock.dpi:.3f} in with its 10X quiet zones at "
            f"{x_bar} dots per module; stock {stock.id} is {stock.label_width_in} in wide; "
            + _stocks_that_fit(bars_symbol.columns, stock),
        )
    quiet, side = MATRIX_QUIET_MODULES * xm, matrix_symbol.columns * xm
    edge = max(margin, quiet)  # the DataMatrix's distance from the label's edges
    bar_height = stock.in_to_dots(stock.bar_height_in)
    if bars_span + quiet + side + edge <= width:
        # Room beside the bars: Code 128 starts at the edge and the DataMatrix is centred on
        # the label's height, clear of the bars' right quiet zone.
        bars_x, top = CODE128_QUIET_MODULES * x_bar, edge
    else:
        # The bars span the label: centre them; the DataMatrix goes under them, bottom right.
        bars_x = (width - bars_span) // 2 + CODE128_QUIET_MODULES * x_bar
        top = margin + bar_height + quiet
    bottom = height - edge
    if bottom - top < side:
        raise LabelDoesNotFit(
            barcode,
            f"the {matrix_symbol.columns}x{matrix_symbol.rows} DataMatrix needs "
            f"{(side + 2 * quiet) / stock.dpi:.3f} in with its quiet zone; "
            f"stock {stock.id} has {(bottom - top + 2 * quiet) / stock.dpi:.3f} in left",
        )
    return (
        PlacedSymbol(bars_symbol, bars_x, margin, x_bar, bar_height),
        PlacedSymbol(matrix_symbol, width - edge - side, top + (bottom - top - side) // 2, xm, xm),
    )


def _stocks_that_fit(bar_columns: int, refused: LabelStock) -> str:
    """Where a code too wide for a stock still prints: the stocks of the same purpose whose
    width takes its Code 128 (a long code is not squeezed into fractional-dot modules)."""
    fits = [
        s.id
        for s in STOCKS.values()
        if s.purpose == refused.purpose
        and (bar_columns + 2 * CODE128_QUIET_MODULES) * s.bar_module_dots
        <= int(s.label_width_in * s.dpi + 1e-9)  # the width lay_out gives the bars
    ]
    return f"print it on {' or '.join(fits)}" if fits else "no stock is wide enough"


def _dots(inches: float, stock: LabelStock) -> int:
    return max(1, stock.in_to_dots(inches))
