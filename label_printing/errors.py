"""The label library's own errors; the application maps them onto its LimsError tree."""


class LabelError(Exception):
    """Base class: anything the library refuses to print."""


class UnknownStock(LabelError):
    """No label stock is registered under the requested id."""

    def __init__(self, stock_id: str, known: list[str]) -> None:
        super().__init__(f"unknown label stock {stock_id!r}; known stocks: {', '.join(known)}")
        self.stock_id = stock_id


class LabelDoesNotFit(LabelError):
    """The barcode or the text cannot be drawn inside the label at legal sizes."""

    def __init__(self, barcode: str, reason: str) -> None:
        super().__init__(f"label {barcode}: {reason}")
        self.barcode = barcode
        self.reason = reason


class InvalidLabel(LabelError):
    """The label content cannot be printed at all (characters, label kind, empty batch)."""


class PositionOutOfRange(LabelError):
    """first_position does not name a label on the stock."""


class UnsupportedOutput(LabelError):
    """The stock cannot be printed in the requested format (e.g. ZPL on a laser sheet)."""
