"""The manifest's first-page header, its hazard marks and the shipment barcode."""

import unicodedata
from decimal import Decimal

from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from label_printing.symbols import code128
from shipping.model import (
    UN1845_TEXT,
    UN3373_MARK,
    UN3373_TEXT,
    Address,
    Manifest,
    boxes_of,
    count,
)

REGULAR, BOLD = "Helvetica", "Helvetica-Bold"
# One Code 128 module is 1/100 in: 3 dots at 300 dpi, 6 at 600, 2 pixels at 200, so a laser
# printer or a rasteriser draws whole dots (labels-and-shipping.md 1.3); 10 modules of quiet
# zone each side (ISO/IEC 15417).
MODULE_PT = 0.72
QUIET_MODULES = 10
BAR_HEIGHT_PT = 36.0


def printable(text: str) -> str:
    """Text the built-in Helvetica (WinAnsi, cp1252) can show: accents it lacks are dropped
    ("Łódź" prints as "Lodz"), anything else becomes "?". Embedding a Unicode font would
    make every manifest larger and slower for the rare name that needs it."""
    try:
        text.encode("cp1252")
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for char in text:
        try:
            char.encode("cp1252")
            out.append(char)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", char.replace("Ł", "L").replace("ł", "l"))
            base = "".join(c for c in base if not unicodedata.combining(c))
            out.append(base if base.isascii() and base else "?")
    return "".join(out)


def number(value: Decimal) -> str:
    """20250 as "20,250" and 2.50 as "2.5": no exponent, no trailing zeros."""
    return format(value.normalize(), ",f")


def draw_barcode(canvas: Canvas, text: str, *, right: float, top: float) -> float:
    """The Code 128 symbol with its quiet zones, its right edge at `right` (snapped down to a
    whole module), top at `top`; returns its left edge."""
    symbol = code128(text)
    width = (symbol.columns + 2 * QUIET_MODULES) * MODULE_PT
    left = (right - width) // MODULE_PT * MODULE_PT
    bottom = (top - BAR_HEIGHT_PT) // MODULE_PT * MODULE_PT
    canvas.saveState()
    # In module units; all bars as one path of integer "re" operators (label_printing/pdf.py).
    canvas.transform(MODULE_PT, 0, 0, BAR_HEIGHT_PT, left + QUIET_MODULES * MODULE_PT, bottom)
    canvas.addLiteral(" ".join(f"{r.start} 0 {r.length} 1 re" for r in symbol.runs) + " f")
    canvas.restoreState()
    canvas.setFont(REGULAR, 8)
    canvas.drawCentredString(left + width / 2, bottom - 9, text)
    return left


def draw_header(
    canvas: Canvas, manifest: Manifest, *, left: float, right: float, top: float
) -> float:
    """Everything above the item table on page 1; returns the y where the table may start."""
    draw_barcode(canvas, manifest.shipment_id, right=right, top=top)
    canvas.setFont(BOLD, 16)
    canvas.drawString(left, top - 16, "Specimen shipment manifest")
    canvas.setFont(BOLD, 12)
    canvas.drawString(left, top - 34, f"Shipment {manifest.shipment_id}")
    y = top - 58
    half = (right - left) / 2
    bottom = min(
        _address(canvas, "From (sender)", manifest.sender, x=left, y=y),
        _address(canvas, "To (recipient)", manifest.recipient, x=left + half, y=y),
    )
    y = _details(canvas, manifest, x=left, y=bottom - 8, width=right - left)
    return _hazards(canvas, manifest, x=left, y=y - 6)


def _address(canvas: Canvas, title: str, address: Address, *, x: float, y: float) -> float:
    place = " ".join(p for p in (address.postal_code, address.city, address.region) if p)
    rows = [
        (BOLD, 8.5, title),
        (BOLD, 9.5, address.organisation),
        (REGULAR, 9, address.person),
        *((REGULAR, 9, line) for line in address.lines),
        (REGULAR, 9, place),
        (REGULAR, 9, address.country),
        (REGULAR, 9, f"24-h phone: {address.phone_24h}"),
        (REGULAR, 9, address.email),
    ]
    for font, size, text in rows:
        canvas.setFont(font, size)
        canvas.drawString(x, y, printable(text))
        y -= size + 2.5
    return y


def _details(canvas: Canvas, manifest: Manifest, *, x: float, y: float, width: float) -> float:
    shipped_on = manifest.shipped_on.isoformat() if manifest.shipped_on else "not shipped yet"
    groups = boxes_of(manifest.items)
    boxes = sum(1 for box, _ in groups if box is not None)
    rows = [
        (
            "Responsible person",
            f"{manifest.responsible_person}, 24-h phone {manifest.emergency_phone}",
        ),
        ("Shipped on", shipped_on),
        ("Courier", manifest.courier or "-"),
        ("Tracking number", manifest.tracking_number or "-"),
        ("Temperature logger", manifest.temperature_logger_id or "-"),
        (
            "Contents",
            f"{count(boxes, 'box')}, {count(len(manifest.items), 'tube')} (totals at the end)",
        ),
        ("Purpose", manifest.purpose),
    ]
    for label, value in rows:
        canvas.setFont(BOLD, 9)
        canvas.drawString(x, y, label)
        canvas.setFont(REGULAR, 9)
        # Free text wraps (a DUO purpose with its modifiers runs long); three lines at most.
        for line in wrap(printable(value), REGULAR, 9, width - 100)[:3]:
            canvas.drawString(x + 100, y, line)
            y -= 11
        y -= 1
    return y


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy wrap between words; a word wider than `width` is cut with an ellipsis."""
    lines: list[str] = []
    for word in text.split():
        if lines and stringWidth(f"{lines[-1]} {word}", font, size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(fit(word, font, size, width))
    return lines or [""]


def _hazards(canvas: Canvas, manifest: Manifest, *, x: float, y: float) -> float:
    """The UN3373 mark (a square on its point, the number inside) and the statements the
    package carries: Category B under IATA PI 650, dry ice as UN1845 with its net kg."""
    side = 34.0  # on paper the 50 mm minimum of the package mark does not apply
    half = side / 2**0.5
    cx, cy = x + half, y - half
    canvas.setLineWidth(2)
    path = canvas.beginPath()
    path.moveTo(cx, cy + half)
    path.lineTo(cx + half, cy)
    path.lineTo(cx, cy - half)
    path.lineTo(cx - half, cy)
    path.close()
    canvas.drawPath(path, stroke=1, fill=0)
    canvas.setFont(BOLD, 7.5)
    canvas.drawCentredString(cx, cy - 2.5, UN3373_MARK)
    text_x = x + 2 * half + 10
    canvas.setFont(BOLD, 10)
    canvas.drawString(text_x, cy + 8, f"{UN3373_MARK} {UN3373_TEXT}")
    if manifest.dry_ice_kg is not None:
        dry_ice = f"{UN1845_TEXT}, {number(manifest.dry_ice_kg)} kg net (Class 9)"
    else:
        dry_ice = "No dry ice in this shipment"
    canvas.drawString(text_x, cy - 6, dry_ice)
    canvas.setFont(REGULAR, 8)
    canvas.drawString(
        text_x, cy - 18, "Triple packaging per IATA Packing Instruction 650; itemised list below."
    )
    return y - 2 * half - 8


def fit(text: str, font: str, size: float, width: float) -> str:
    """Free text cut to `width` with an ellipsis; never used for barcodes or quantities."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"
