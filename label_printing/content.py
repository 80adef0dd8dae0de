"""What goes on a label: the input dataclasses and their lines of text."""

import re
from dataclasses import dataclass

from label_printing.errors import InvalidLabel

# Issued aliquot ids are 8 digits, box ids "B" + 7 digits, pre-printed tube codes up to 12
# letters and digits. Restricting barcodes to this set keeps ZPL's ^ ~ > and the ^BX escape
# character out of field data (Zebra, ZPL II Programming Guide 45541L-004: ^FD, ^BC, ^BX).
BARCODE_PATTERN = re.compile(r"[0-9A-Za-z-]{1,40}")


@dataclass(frozen=True)
class VialLabel:
    """A tube label. Every field is prepared by the caller; never put a name on a tube."""

    barcode: str  # "12345674"
    specimen_type: str  # "Serum"
    quantity: str  # "250 µL" or "100 µL 178.8 ng/µL"
    visit: str  # coded subject id and visit: "CD-0042 V2"
    collected_on: str  # "2026-03-18"


@dataclass(frozen=True)
class BoxLabel:
    """A storage box label."""

    barcode: str  # "B0000127"
    name: str  # "Serum box 14"
    detail: str  # "Freezer F1 / Rack 3 · 9x9"
    # A shipping box's label also carries the UN3373 mark (marks.py); it needs a stock tall
    # enough for a 50 mm square on its point, such as package-4x6-203.
    is_un3373: bool = False


Label = VialLabel | BoxLabel


@dataclass(frozen=True)
class TextLine:
    """One logical line: fields are kept apart by two spaces and wrapped between words."""

    fields: tuple[str, ...]
    bold: bool = False
    scale: float = 1.0  # relative to the label's body font size


def text_lines(label: Label) -> tuple[TextLine, ...]:
    """The human-readable lines, the id first and in bold: fit_text keeps it >= 6 pt."""
    if isinstance(label, VialLabel):
        return (
            TextLine((label.barcode,), bold=True),
            TextLine((label.specimen_type, label.quantity)),
            TextLine((label.visit, label.collected_on)),
        )
    return (
        TextLine((label.barcode,), bold=True),
        TextLine((label.name,), bold=True, scale=1.25),
        TextLine((label.detail,)),
    )


def check_label(label: Label) -> None:
    """Refuse content that no stock could print; fitting is checked per stock later."""
    if not BARCODE_PATTERN.fullmatch(label.barcode):
        raise InvalidLabel(
            f"barcode {label.barcode!r}: only letters, digits and '-' can be printed (1-40)"
        )
    for line in text_lines(label):
        for field in line.fields:
            _check_text(label.barcode, field)


def _check_text(barcode: str, text: str) -> None:
    # The built-in Helvetica is WinAnsi (cp1252) encoded: µ and · print, anything else
    # would come out as a blank or a wrong glyph, so refuse it rather than print it silently.
    if not text.strip():
        raise InvalidLabel(f"label {barcode}: a text field is empty")
    try:
        text.encode("cp1252")
    except UnicodeEncodeError as err:
        bad = text[err.start : err.end]
        raise InvalidLabel(
            f"label {barcode}: {bad!r} in {text!r} cannot be printed with the label font"
        ) from None
    if any(ord(ch) < 32 or ch == "\x7f" for ch in text):
        raise InvalidLabel(f"label {barcode}: control character in {text!r}")
