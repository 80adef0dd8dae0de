"""Label stocks as data: adding a stock is adding one LabelStock to STOCKS."""

from dataclasses import dataclass
from typing import Literal

from label_printing.errors import UnknownStock

StockKind = Literal["roll", "sheet"]
Purpose = Literal["vial", "box"]


@dataclass(frozen=True)
class SheetGrid:
    """Where the labels sit on a laser sheet; all lengths in inches from the page's top-left."""

    page_width_in: float
    page_height_in: float
    margin_top_in: float
    margin_left_in: float
    columns: int
    rows: int
    pitch_x_in: float  # left edge of one column to the left edge of the next
    pitch_y_in: float  # top edge of one row to the top edge of the next

    @property
    def positions(self) -> int:
        return self.columns * self.rows


@dataclass(frozen=True)
class LabelStock:
    """One label format. Bars and modules are whole printer dots at `dpi`.

    `bar_module_dots` is the Code 128 X dimension and `matrix_module_dots` the DataMatrix
    module, in dots of this stock's printer. Both must be at least 0.0098 in (2 dots at
    203 dpi): a thermal head prints whole dots (ZPL II Programming Guide, ^BY), and a 1.33-dot
    module failed to decode at 203 dpi in our pdftoppm + zxing-cpp tests.
    """

    id: str
    name: str
    purpose: Purpose
    kind: StockKind
    label_width_in: float
    label_height_in: float
    dpi: int
    bar_module_dots: int
    matrix_module_dots: int
    bar_height_in: float
    max_font_pt: float
    sheet: SheetGrid | None = None

    def __post_init__(self) -> None:
        if (self.kind == "sheet") != (self.sheet is not None):
            raise ValueError(f"stock {self.id}: a sheet grid is required exactly for sheet stocks")
        for dots in (self.bar_module_dots, self.matrix_module_dots):
            if dots / self.dpi < 2 / 203 - 1e-9:
                raise ValueError(
                    f"stock {self.id}: {dots} dots at {self.dpi} dpi is below 2/203 in"
                )
        if self.sheet is not None:
            _check_grid(self.id, self.sheet, self.label_width_in, self.label_height_in)

    def in_to_dots(self, inches: float) -> int:
        """Whole printer dots in a length, rounded half up as ZPL's ^PW/^LL expect."""
        return int(inches * self.dpi + 0.5)


def _check_grid(stock_id: str, grid: SheetGrid, width_in: float, height_in: float) -> None:
    right = grid.margin_left_in + (grid.columns - 1) * grid.pitch_x_in + width_in
    bottom = grid.margin_top_in + (grid.rows - 1) * grid.pitch_y_in + height_in
    if right > grid.page_width_in + 1e-9 or bottom > grid.page_height_in + 1e-9:
        raise ValueError(f"stock {stock_id}: the label grid runs off the page")
    if grid.pitch_x_in < width_in or grid.pitch_y_in < height_in:
        raise ValueError(f"stock {stock_id}: labels overlap (pitch smaller than the label)")


_LETTER = (8.5, 11.0)

STOCKS: dict[str, LabelStock] = {
    stock.id: stock
    for stock in (
        # Common cryo roll formats (catalogue sizes; no roll datasheet checked); the bar height
        # leaves three text lines of about 6 pt beside the DataMatrix.
        LabelStock(
            id="cryo-1.28x0.5-203",
            name='Cryovial roll 1.28" x 0.5", thermal transfer, 203 dpi',
            purpose="vial",
            kind="roll",
            label_width_in=1.28,
            label_height_in=0.5,
            dpi=203,
            bar_module_dots=2,
            matrix_module_dots=3,
            bar_height_in=0.15,
            max_font_pt=7.0,
        ),
        # 8-digit Code 128 at 3 dots (0.01 in) is 99 X = 297 of the 300 dots: the DataMatrix
        # and the text share the second row.
        LabelStock(
            id="cryo-1x0.5-300",
            name='Cryovial roll 1" x 0.5", thermal transfer, 300 dpi',
            purpose="vial",
            kind="roll",
            label_width_in=1.0,
            label_height_in=0.5,
            dpi=300,
            bar_module_dots=3,
            matrix_module_dots=3,
            bar_height_in=0.15,
            max_font_pt=7.0,
        ),
        # Box labels are read from further away: 3-dot (0.0148 in) bars and 4-dot modules.
        LabelStock(
            id="box-2x1-203",
            name='Box roll 2" x 1", thermal transfer, 203 dpi',
            purpose="box",
            kind="roll",
            label_width_in=2.0,
            label_height_in=1.0,
            dpi=203,
            bar_module_dots=3,
            matrix_module_dots=4,
            bar_height_in=0.35,
            max_font_pt=11.0,
        ),
        # A 4" x 6" shipping label (the common courier format) for the boxes of a shipment:
        # the receiver scans the shipment id from across the bench, so 4-dot (0.0197 in) bars.
        # Tall enough for the UN3373 mark (a 50 mm square at 45 degrees, IATA PI 650).
        LabelStock(
            id="package-4x6-203",
            name='Shipping label 4" x 6", thermal transfer, 203 dpi',
            purpose="box",
            kind="roll",
            label_width_in=4.0,
            label_height_in=6.0,
            dpi=203,
            bar_module_dots=4,
            matrix_module_dots=6,
            bar_height_in=0.6,
            max_font_pt=20.0,
        ),
        # Diversified Biotech LCRY-1700 ("Cryo-Babies"): a US Letter laser sheet of 5 x 17
        # labels of 1.28" x 0.5". Two open templates measured on the actual sheet:
        # - MullinsLab/Lab-Labels, templates/latex/LCRY-1700.tex ("Spec'd dimensions, double
        #   checked by measuring actual label sheet"): margins 0.77" left and right, 0.24" top
        #   and bottom, gaps 0.12" between columns and 0.13" between rows;
        # - rupertoverall/idLabelR, R/get_layout.R, "cryobabies_LCRY_1700_A4": label centres
        #   35.7 mm (1.405") apart across and 15.7 mm (0.62") apart down.
        # Those margins and gaps do not add up exactly to 8.5" x 11" with 1.28" x 0.5" labels
        # (5 x 1.28 + 4 x 0.12 + 2 x 0.77 = 8.42"; 17 x 0.5 + 16 x 0.13 + 2 x 0.24 = 11.06"),
        # so we keep the measured first label (0.77" left, 0.24" top) and take the pitch
        # between both sources: 1.41" across, 0.625" down (0.24" top and 0.26" bottom).
        # The grid used to have left and top swapped (0.41" left, 0.77" top). A sheet from
        # another lot may differ: print the calibration page (label_printing/calibration.py)
        # and set the printer's x/y offsets. Laser printers at 300, 600 or 1200 dpi all print
        # whole 1/300 in dots, hence dpi=300.
        LabelStock(
            id="cryo-sheet-letter",
            name='US Letter sheet LCRY-1700, 85 cryo labels 1.28" x 0.5" (5 x 17), laser',
            purpose="vial",
            kind="sheet",
            label_width_in=1.28,
            label_height_in=0.5,
            dpi=300,
            bar_module_dots=3,
            matrix_module_dots=4,
            bar_height_in=0.15,
            max_font_pt=7.0,
            sheet=SheetGrid(
                page_width_in=_LETTER[0],
                page_height_in=_LETTER[1],
                margin_top_in=0.24,
                margin_left_in=0.77,
                columns=5,
                rows=17,
                pitch_x_in=1.41,
                pitch_y_in=0.625,
            ),
        ),
    )
}


def get_stock(stock_id: str) -> LabelStock:
    """The stock registered under `stock_id`; UnknownStock names the known ids otherwise."""
    try:
        return STOCKS[stock_id]
    except KeyError:
        raise UnknownStock(stock_id, sorted(STOCKS)) from None
