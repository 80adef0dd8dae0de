"""What a shipment's paperwork says: the library's input dataclasses.

The application builds these from its rows; the CSV parser builds them from a file another site
sent. Every value is already the text or number that goes on paper: no rows, no sessions.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

# "Biological Substance, Category B" travels as UN3373 under IATA Packing Instruction 650; dry
# ice as UN1845 with its net mass in kg (docs: /shared/domain/labels-and-shipping.md 5.1-5.3).
UN3373_TEXT = "Biological Substance, Category B"
UN3373_MARK = "UN3373"
UN1845_TEXT = "UN1845 Dry ice"


@dataclass(frozen=True)
class Address:
    """A site or an institution that sends or receives specimens."""

    organisation: str
    person: str
    lines: tuple[str, ...]  # street lines, as the courier prints them
    city: str
    region: str | None  # state, province or Land; None where the country has none
    postal_code: str
    country: str  # ISO 3166-1 alpha-2, upper case: "US", "DE"
    phone_24h: str  # reachable day and night while the package travels (IATA PI 650)
    email: str  # "" when the site gave none


@dataclass(frozen=True)
class ManifestItem:
    """One tube in the shipment.

    The optional fields are what a receiver needs to accession a tube it did not expect:
    whose it is (coded study id, never a name), which visit, when it was drawn, from which
    primary tube or parent aliquot, and how it was processed (SPREC).
    """

    barcode: str
    specimen_type: str  # "Serum", "DNA"
    quantity: Decimal  # in `unit`
    unit: str  # "uL", "ng", "tubes"
    box: str | None  # the box's barcode or name (<= 40 characters); None for a loose tube
    position: str | None  # "A1"; only with a box
    study_code: str | None = None  # coded subject id: "NA1-0042"
    visit_number: int | None = None
    collected_at: datetime | None = None  # timezone-aware: written with its UTC offset
    specimen_barcode: str | None = None  # the primary tube the aliquot came from
    parent_barcode: str | None = None  # the aliquot it was split from, if any
    tube_type: str | None = None
    sprec: str | None = None  # SPREC code, ISBER Standard PRE-analytical Code
    concentration_ng_ul: Decimal | None = None
    freeze_thaw_count: int | None = None


@dataclass(frozen=True)
class Manifest:
    """A shipment's header and its items; the PDF and the CSV both say all of it."""

    shipment_id: str  # printed as Code 128 for the receiver to scan
    sender: Address
    recipient: Address
    responsible_person: str  # who answers for the package (IATA PI 650)
    shipped_on: date | None  # None while the shipment is being packed
    courier: str | None
    tracking_number: str | None
    dry_ice_kg: Decimal | None  # net mass of dry ice, UN1845; None without dry ice
    purpose: str  # "Return of site specimens", "Request R-0012: GWAS of cervical dystonia"
    items: tuple[ManifestItem, ...]
    temperature_logger_id: str | None = None
    # The 24-hour number printed beside the responsible person; the sender's when None.
    responsible_phone_24h: str | None = None

    @property
    def emergency_phone(self) -> str:
        return self.responsible_phone_24h or self.sender.phone_24h


@dataclass(frozen=True)
class Total:
    """Tubes and their summed quantity for one specimen type and unit."""

    specimen_type: str
    unit: str
    tubes: int
    quantity: Decimal


def boxes_of(items: tuple[ManifestItem, ...]) -> list[tuple[str | None, list[ManifestItem]]]:
    """Items grouped by box in packing order (the order boxes first appear), each box by
    position (A1, A2, ... A10, B1); loose tubes (box None) come last, as listed."""
    groups: dict[str | None, list[ManifestItem]] = {}
    for item in items:
        groups.setdefault(item.box, []).append(item)
    loose = groups.pop(None, [])
    ordered: list[tuple[str | None, list[ManifestItem]]] = [
        (box, sorted(group, key=_position_key)) for box, group in groups.items()
    ]
    return [*ordered, *([(None, loose)] if loose else [])]


def _position_key(item: ManifestItem) -> tuple[int, str, int, str]:
    # "A10" after "A9": letters, then the number; no position sorts last.
    position = item.position or ""
    letters = position.rstrip("0123456789")
    digits = position[len(letters) :]
    return (not position, letters, int(digits) if digits else 0, item.barcode)


def totals(items: list[ManifestItem] | tuple[ManifestItem, ...]) -> list[Total]:
    """Per specimen type and unit, in order of first appearance."""
    sums: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for item in items:
        tubes, quantity = sums.get((item.specimen_type, item.unit), (0, Decimal(0)))
        sums[item.specimen_type, item.unit] = (tubes + 1, quantity + item.quantity)
    return [Total(kind, unit, n, q) for (kind, unit), (n, q) in sums.items()]


def count(n: int, noun: str) -> str:
    """ "1 tube", "81 tubes", "1 box", "3 boxes"."""
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun}es" if noun.endswith(("x", "s")) else f"{n} {noun}s"
