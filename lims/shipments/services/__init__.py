"""Shipment use cases, grouped: addresses and creating, packing and shipping, the manifest,
receiving, confirming an outbound delivery, reading. Import them from here."""

from __future__ import annotations

from lims.shipments.services._common import is_shipment_code, shipment_code
from lims.shipments.services.accessioning import accession_from_manifest
from lims.shipments.services.delivery import confirm_delivery
from lims.shipments.services.dispatch import (
    Dispatch,
    pack_box,
    pack_box_step,
    ship_shipment,
    ship_step,
    unpack_tube_step,
)
from lims.shipments.services.manifests import (
    ShipmentFile,
    build_manifest,
    import_manifest,
    manifest_csv,
    shipment_file,
)
from lims.shipments.services.reading import find_shipment, get_shipment, list_shipments
from lims.shipments.services.receiving import (
    Receipt,
    ScanOutcome,
    complete_receipt,
    receive_scan,
    receive_scans,
    reconciliation,
    record_arrival,
)
from lims.shipments.services.settling import accept_unexpected, write_off_missing
from lims.shipments.services.setup import (
    create_address,
    create_shipment,
    create_shipment_step,
    list_addresses,
)

__all__ = [
    "Dispatch",
    "Receipt",
    "ScanOutcome",
    "ShipmentFile",
    "accept_unexpected",
    "accession_from_manifest",
    "build_manifest",
    "complete_receipt",
    "confirm_delivery",
    "create_address",
    "create_shipment",
    "create_shipment_step",
    "find_shipment",
    "get_shipment",
    "import_manifest",
    "is_shipment_code",
    "list_addresses",
    "list_shipments",
    "manifest_csv",
    "pack_box",
    "pack_box_step",
    "receive_scan",
    "receive_scans",
    "reconciliation",
    "record_arrival",
    "ship_shipment",
    "ship_step",
    "shipment_code",
    "shipment_file",
    "unpack_tube_step",
    "write_off_missing",
]
