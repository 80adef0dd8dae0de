"""Shipments over /api/v1: create, pack, ship, receive by posting scans; roles; problems."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from tests.conftest import bearer
from tests.shipments.factories import (
    biorepository,
    consented_tubes,
    institution,
    make_address,
    shipped,
)

PROBLEM = "application/problem+json"


def test_a_technician_creates_packs_and_ships_an_outbound_shipment(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tubes = consented_tubes(session, tech, 2)
    auth = bearer(client, "tech")
    created = client.post(
        "/api/v1/shipments",
        json={
            "from_address_id": biorepository(session).id,
            "to_address_id": institution(session).id,
            "purpose": "DUO:0000007",
            "barcodes": [tubes[0].barcode],
        },
        headers=auth,
    )
    assert created.status_code == 201, created.get_json()
    shipment_id = created.get_json()["id"]
    packed = client.post(
        f"/api/v1/shipments/{shipment_id}/boxes",
        json={"barcodes": [t.barcode for t in tubes], "label": "B-OUT-1"},
        headers=auth,
    )
    assert packed.status_code == 201, packed.get_json()
    assert [i["position"] for i in packed.get_json()["items"]] == ["A1", "A2"]

    sent = client.post(
        f"/api/v1/shipments/{shipment_id}/ship",
        json={
            "courier": "World Courier",
            "tracking_number": "WC-1",
            "dry_ice_kg": 5,
            "shipped_at": "2026-03-20T15:00:00Z",  # a Friday: arrives on a Saturday
        },
        headers=auth,
    )

    assert sent.status_code == 200, sent.get_json()
    body = sent.get_json()
    assert body["shipment"]["status"] == "shipped"
    assert any("Saturday" in w for w in body["warnings"])
    listed = client.get("/api/v1/shipments?direction=outbound", headers=auth).get_json()
    assert [s["id"] for s in listed["items"]] == [shipment_id]


def test_receiving_by_posting_scans_answers_the_reconciliation(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tubes = consented_tubes(session, tech, 3)
    shipment = shipped(session, tech, tubes)

    response = client.post(
        f"/api/v1/shipments/{shipment.id}/scans",
        json={"barcodes": [tubes[0].barcode, tubes[1].barcode, tubes[1].barcode]},
        headers=bearer(client, "tech"),
    )

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [s["kind"] for s in body["scans"]] == ["received", "received", "duplicate"]
    assert body["reconciliation"]["missing"] == [tubes[2].barcode]
    assert body["reconciliation"]["duplicates"] == [tubes[1].barcode]


def test_an_investigator_may_not_read_or_create_shipments(
    client: FlaskClient, session: Session, tech: Actor, investigator: Actor
) -> None:
    auth = bearer(client, "investigator")
    listed = client.get("/api/v1/shipments", headers=auth)
    created = client.post(
        "/api/v1/shipments",
        json={"from_address_id": 1, "to_address_id": 2, "purpose": "DUO:0000042"},
        headers=auth,
    )
    assert listed.status_code == 403 and listed.mimetype == PROBLEM
    assert created.status_code == 403 and created.mimetype == PROBLEM


def test_a_reviewer_reads_but_does_not_receive(
    client: FlaskClient, session: Session, tech: Actor, reviewer: Actor
) -> None:
    shipment = shipped(session, tech, consented_tubes(session, tech, 1))
    auth = bearer(client, "reviewer")

    read = client.get(f"/api/v1/shipments/{shipment.id}", headers=auth)
    scan = client.post(
        f"/api/v1/shipments/{shipment.id}/scans", json={"barcodes": ["X-1234"]}, headers=auth
    )

    assert read.status_code == 200 and read.get_json()["code"] == shipment.code
    assert scan.status_code == 403 and scan.mimetype == PROBLEM


def test_a_tube_already_shipping_is_a_409_naming_its_shipment(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tubes = consented_tubes(session, tech, 1)
    first = shipped(session, tech, tubes)
    site = make_address(session, "North America site 1 lab", site_code="NA1")

    response = client.post(
        "/api/v1/shipments",
        json={
            "from_address_id": site.id,
            "to_address_id": biorepository(session).id,
            "barcodes": [tubes[0].barcode],
        },
        headers=bearer(client, "tech"),
    )

    assert response.status_code == 409 and response.mimetype == PROBLEM
    assert (
        "in_transit" in response.get_json()["detail"] or first.code in response.get_json()["detail"]
    )


def test_the_manifest_comes_as_pdf_and_csv_and_a_site_manifest_loads_as_text_csv(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tubes = consented_tubes(session, tech, 2)
    sent = shipped(session, tech, tubes)
    auth = bearer(client, "tech")

    pdf = client.get(f"/api/v1/shipments/{sent.id}/manifest.pdf", headers=auth)
    csv = client.get(f"/api/v1/shipments/{sent.id}/manifest.csv", headers=auth)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    text = csv.get_data(as_text=True).replace(sent.code, "TOR-77")
    for n, tube in enumerate(tubes, start=1):
        text = text.replace(tube.barcode, f"TOR-{n:05d}")

    loaded = client.post(
        "/api/v1/shipment-manifests", data=text, content_type="text/csv", headers=auth
    )
    again = client.post(
        "/api/v1/shipment-manifests", data=text, content_type="text/csv", headers=auth
    )

    assert loaded.status_code == 201, loaded.get_json()
    body = loaded.get_json()
    assert body["direction"] == "inbound" and body["sender_reference"] == "TOR-77"
    assert [i["barcode"] for i in body["items"]] == ["TOR-00001", "TOR-00002"]
    assert again.status_code == 409 and again.mimetype == PROBLEM
