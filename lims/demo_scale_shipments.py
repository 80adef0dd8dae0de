"""The generated demo's inbound shipments (lims/demo_scale.py): each site sends the DNA stocks
it extracted in a month to the central biorepository in one shipment, shipped on the first of
the next month and received the day after, every tube scanned. The serum aliquots stay in the
sites' freezers. A shipment is made when its first tube is, so it is written with the batch
that first needs it; later batches add items to it.

The outbound shipments are the fulfilled requests' (lims/demo_scale_requests.py), made
through the services.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from lims.bulk_copy import Row
from lims.shipments.models import Direction, ItemState, ShipmentStatus
from lims.shipments.services import shipment_code

SHIPMENT_COLUMNS = (
    "id", "code", "direction", "status", "from_address_id", "to_address_id", "courier",
    "tracking_number", "dry_ice_kg", "logger_id", "shipped_at", "received_at",
    "logger_reading_c", "dry_ice_left_kg", "is_damaged", "created_at",
)  # fmt: skip
ITEM_COLUMNS = (
    "id", "shipment_id", "barcode", "aliquot_id", "open_aliquot_id", "state", "specimen_type",
    "quantity", "unit", "is_thawed", "scanned_at", "scan_count",
)  # fmt: skip


class Post:
    """The monthly inbound shipments, one per site and month, made as tubes need them."""

    def __init__(
        self, ids: dict[str, int], serial: int, addresses: dict[str, int], biorepository: int
    ) -> None:
        self.ids, self.next_serial = ids, serial
        self.addresses, self.biorepository = addresses, biorepository
        self.made: dict[tuple[str, int, int], tuple[int, datetime]] = {}
        self.shipments: list[Row] = []
        self.items: list[Row] = []

    def take(self) -> tuple[list[Row], list[Row]]:
        out = self.shipments, self.items
        self.shipments, self.items = [], []
        return out

    def send(
        self, site: str, made: datetime, aliquot_id: int, barcode: str, kind: str, ul: int
    ) -> None:
        """Put a tube made at `site` on that month's shipment to the biorepository."""
        shipment_id, received_at = self._shipment(site, made)
        item_id = self.ids["shipment_items"]
        self.ids["shipment_items"] += 1
        self.items.append(
            (item_id, shipment_id, barcode, aliquot_id, None, ItemState.RECEIVED.value, kind,
             float(ul), "uL", False, received_at, 1)
        )  # fmt: skip

    def _shipment(self, site: str, made: datetime) -> tuple[int, datetime]:
        key = (site, made.year, made.month)
        found = self.made.get(key)
        if found is not None:
            return found
        first = date(made.year + made.month // 12, made.month % 12 + 1, 1)
        shipped_at = datetime(first.year, first.month, first.day, 15, tzinfo=UTC)
        received_at = shipped_at + timedelta(hours=23)
        shipment_id = self.ids["shipments"]
        self.ids["shipments"] += 1
        code = shipment_code(self.next_serial)
        self.next_serial += 1
        self.shipments.append(
            (shipment_id, code, Direction.INBOUND.value, ShipmentStatus.RECEIVED.value,
             self.addresses[site], self.biorepository, "World Courier", f"WC{code[1:]}", 6.0,
             f"TL-{code[-4:]}", shipped_at, received_at, -74.0, 2.0, False,
             shipped_at - timedelta(hours=4))
        )  # fmt: skip
        self.made[key] = (shipment_id, received_at)
        return self.made[key]
