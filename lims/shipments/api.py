"""Shipments over the API (mounted under /api/v1): addresses, shipments, packing, shipping,
the manifest (PDF, CSV), loading a site's manifest, receiving by posting scans, and confirming
an outbound shipment's delivery."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from lims.db import get_session, utcnow
from lims.errors import InvalidInput
from lims.shipments import services
from lims.shipments.files import shipment_file_response
from lims.shipments.schemas import (
    AddressIn,
    AddressOut,
    ArrivalIn,
    DeliveryIn,
    DispatchOut,
    PackBoxIn,
    ReceiptOut,
    ScansIn,
    ShipIn,
    ShipmentIn,
    ShipmentOut,
    ShipmentPageOut,
    ShipmentQueryIn,
)
from lims.web import current_actor, documented, dump, json_body, token_required

bp = Blueprint("shipments_api", __name__, url_prefix="/api/v1")


@bp.get("/shipping-addresses")
@token_required
@documented(summary="Shipping addresses: sites, the biorepository, institutions")
def list_addresses() -> ResponseReturnValue:
    rows = services.list_addresses(get_session(), current_actor())
    return {"items": AddressOut(many=True).dump(rows)}


@bp.post("/shipping-addresses")
@token_required
@documented(
    summary="Add a shipping address (admin), with its contact and 24-hour phone",
    body=AddressIn,
    response=AddressOut,
    status=201,
)
def create_address() -> ResponseReturnValue:
    body = AddressIn().load(json_body())
    address = services.create_address(get_session(), current_actor(), **body)
    return dump(AddressOut(), address), 201


@bp.get("/shipments")
@token_required
@documented(
    summary="Shipments, newest first, by direction and status; paged",
    query=ShipmentQueryIn,
    response=ShipmentPageOut,
)
def list_shipments() -> ResponseReturnValue:
    args = ShipmentQueryIn().load(request.args)
    rows, total = services.list_shipments(get_session(), current_actor(), **args)
    page = {"items": rows, "total": total, "page": args["page"], "per_page": args["per_page"]}
    return dump(ShipmentPageOut(), page)


@bp.get("/shipments/<int:shipment_id>")
@token_required
@documented(summary="One shipment with every tube, its box and state", response=ShipmentOut)
def get_shipment(shipment_id: int) -> ResponseReturnValue:
    return dump(ShipmentOut(), services.get_shipment(get_session(), current_actor(), shipment_id))


@bp.get("/shipments/<int:shipment_id>/manifest.pdf")
@token_required
@documented(
    summary="The manifest to print: addresses, UN3373 and UN1845 marks, every tube by box",
    content_type="application/pdf",
)
def manifest_pdf(shipment_id: int) -> ResponseReturnValue:
    return shipment_file_response(shipment_id, "manifest.pdf")


@bp.get("/shipments/<int:shipment_id>/manifest.csv")
@token_required
@documented(
    summary="The manifest as the versioned CSV another site or installation loads",
    content_type="text/csv",
)
def manifest_csv(shipment_id: int) -> ResponseReturnValue:
    return shipment_file_response(shipment_id, "manifest.csv")


@bp.get("/shipments/<int:shipment_id>/labels.pdf")
@token_required
@documented(
    summary="A 4x6 inch label per box: shipment barcode, box n of m, the UN3373 mark",
    content_type="application/pdf",
)
def box_labels(shipment_id: int) -> ResponseReturnValue:
    return shipment_file_response(shipment_id, "labels.pdf")


@bp.post("/shipments")
@token_required
@documented(
    summary="Create a shipment from scanned tubes; outbound ones name a DUO purpose, and each "
    "tube's consent must permit it",
    body=ShipmentIn,
    response=ShipmentOut,
    status=201,
)
def create_shipment() -> ResponseReturnValue:
    body = ShipmentIn().load(json_body())
    shipment = services.create_shipment(get_session(), current_actor(), **body)
    return dump(ShipmentOut(), shipment), 201


@bp.post("/shipment-manifests")
@token_required
@documented(
    summary="Load a site's manifest CSV (a text/csv body) as an inbound shipment to receive",
    response=ShipmentOut,
    status=201,
    csv_upload=("text/csv",),
)
def import_manifest() -> ResponseReturnValue:
    if request.mimetype != "text/csv":
        raise InvalidInput("Send the manifest as a text/csv body", field="file")
    text = request.get_data(as_text=True)
    shipment = services.import_manifest(get_session(), current_actor(), text=text)
    return dump(ShipmentOut(), shipment), 201


@bp.post("/shipments/<int:shipment_id>/boxes")
@token_required
@documented(
    summary="Pack the next box with the scanned tubes (A1, A2, ... in scan order)",
    body=PackBoxIn,
    response=ShipmentOut,
    status=201,
)
def pack_box(shipment_id: int) -> ResponseReturnValue:
    body = PackBoxIn().load(json_body())
    session = get_session()
    box = services.pack_box(session, current_actor(), shipment_id=shipment_id, **body)
    return dump(ShipmentOut(), box.shipment), 201


@bp.post("/shipments/<int:shipment_id>/ship")
@token_required
@documented(
    summary="Mark the packed shipment shipped; warns when dry ice would arrive on a weekend or "
    "a public holiday at the destination",
    body=ShipIn,
    response=DispatchOut,
)
def ship(shipment_id: int) -> ResponseReturnValue:
    body = ShipIn().load(json_body())
    body["shipped_at"] = body["shipped_at"] or utcnow()
    dispatch = services.ship_shipment(
        get_session(), current_actor(), shipment_id=shipment_id, **body
    )
    return dump(DispatchOut(), dispatch)


@bp.post("/shipments/<int:shipment_id>/scans")
@token_required
@documented(
    summary="Receive by posting the tubes scanned out of the package; answers each scan and "
    "the reconciliation (received, missing, unexpected, duplicates, wrong shipment)",
    body=ScansIn,
    response=ReceiptOut,
)
def receive_scans(shipment_id: int) -> ResponseReturnValue:
    body = ScansIn().load(json_body())
    receipt = services.receive_scans(
        get_session(),
        current_actor(),
        shipment_id=shipment_id,
        barcodes=body["barcodes"],
        scanned_at=body["scanned_at"] or utcnow(),
        complete=body["complete"],
    )
    return dump(ReceiptOut(), receipt)


@bp.post("/shipments/<int:shipment_id>/items/<int:item_id>/accession")
@token_required
@documented(
    summary="Accession a received tube that is not ours from the sender's manifest row (the "
    "aliquot import's rules: the subject must be registered here)",
    response=ShipmentOut,
    status=201,
)
def accession(shipment_id: int, item_id: int) -> ResponseReturnValue:
    session = get_session()
    item = services.accession_from_manifest(
        session, current_actor(), shipment_id=shipment_id, item_id=item_id
    )
    return dump(ShipmentOut(), item.shipment), 201


@bp.post("/shipments/<int:shipment_id>/arrival")
@token_required
@documented(
    summary="Record the condition on arrival: logger reading, dry ice left, damage, thawed tubes",
    body=ArrivalIn,
    response=ShipmentOut,
)
def record_arrival(shipment_id: int) -> ResponseReturnValue:
    body = ArrivalIn().load(json_body())
    shipment = services.record_arrival(
        get_session(), current_actor(), shipment_id=shipment_id, **body
    )
    return dump(ShipmentOut(), shipment)


@bp.post("/shipments/<int:shipment_id>/delivery")
@token_required
@documented(
    summary="Confirm a shipped outbound shipment's delivery (technician): its tubes are released "
    "to the recipient; delivered_at defaults to now",
    body=DeliveryIn,
    response=ShipmentOut,
)
def confirm_delivery(shipment_id: int) -> ResponseReturnValue:
    body = DeliveryIn().load(json_body())
    body["delivered_at"] = body["delivered_at"] or utcnow()
    shipment = services.confirm_delivery(
        get_session(), current_actor(), shipment_id=shipment_id, **body
    )
    return dump(ShipmentOut(), shipment)
