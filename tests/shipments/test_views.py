"""The shipment pages through Flask's test client: create, pack, ship, manifests, receiving."""

from __future__ import annotations

import io

import pdfplumber
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from tests.conftest import csrf_token, sign_in
from tests.shipments.factories import biorepository, consented_tubes, institution, shipped


def test_a_shipment_is_created_packed_and_shipped_through_the_pages(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tubes = consented_tubes(session, tech, 2)
    home, there = biorepository(session), institution(session)
    sign_in(client, "tech")
    token = csrf_token(client, "/shipments/")

    created = client.post(
        "/shipments/",
        data={
            "csrf_token": token,
            "from_address_id": home.id,
            "to_address_id": there.id,
            "purpose": "DUO:0000006",
            "barcodes": "\n".join(t.barcode for t in tubes),
        },
    )
    assert created.status_code == 303, created.get_data(as_text=True)
    page = created.headers["Location"]
    packed = client.post(
        f"{page}/boxes",
        data={
            "csrf_token": token,
            "label": "OUT-1",
            "barcodes": " ".join(t.barcode for t in tubes),
        },
        follow_redirects=True,
    )
    assert "Box 1 (OUT-1) packed" in packed.get_data(as_text=True)
    sent = client.post(
        f"{page}/ship",
        data={"csrf_token": token, "courier": "FedEx", "tracking_number": "77", "dry_ice_kg": "5"},
        follow_redirects=True,
    )

    html = sent.get_data(as_text=True)
    assert "shipped" in html and tubes[0].barcode in html
    pdf = client.get(f"{page}/manifest.pdf")
    csv = client.get(f"{page}/manifest.csv")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert csv.mimetype == "text/csv" and tubes[1].barcode in csv.get_data(as_text=True)
    labels = client.get(f"{page}/labels.pdf")
    with pdfplumber.open(io.BytesIO(labels.data)) as pdf:  # one box, one label
        assert [p.extract_text().count("Box 1 of 1") for p in pdf.pages] == [1]


def test_the_receiving_bench_takes_the_shipment_barcode_then_tubes(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tubes = consented_tubes(session, tech, 2)
    shipment = shipped(session, tech, tubes)
    sign_in(client, "tech")
    token = csrf_token(client, "/shipments/receive")

    chosen = client.post(
        "/shipments/receive", data={"csrf_token": token, "code": shipment.code.lower()}
    )
    assert chosen.headers["Location"].endswith(f"?shipment={shipment.id}")
    scanned = client.post(
        "/shipments/receive",
        data={"csrf_token": token, "shipment_id": shipment.id, "code": tubes[0].barcode},
        follow_redirects=True,
    )

    html = scanned.get_data(as_text=True)
    assert f"{tubes[0].barcode} received" in html
    assert 'data-count="received">1<' in html and 'data-count="missing">1<' in html


def test_a_sites_manifest_csv_is_loaded_as_an_inbound_shipment(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    from lims.shipments.services import manifest_csv

    tubes = consented_tubes(session, tech, 2)
    sent = shipped(session, tech, tubes)
    text = manifest_csv(session, tech, shipment_id=sent.id)
    # The same paperwork as another installation would send it: its own ids and tube codes.
    text = text.replace(sent.code, "TOR-2026-0042")
    for n, tube in enumerate(tubes, start=1):
        text = text.replace(tube.barcode, f"TOR-{n:05d}")
    biorepository(session)
    sign_in(client, "tech")

    loaded = client.post(
        "/shipments/manifests",
        data={
            "csrf_token": csrf_token(client, "/shipments/"),
            "file": (io.BytesIO(text.encode()), "manifest.csv"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )

    html = loaded.get_data(as_text=True)
    assert "Manifest TOR-2026-0042 loaded as shipment" in html, html[:2000]
    assert "TOR-00001" in html and "TOR-00002" in html


def test_a_manifest_whose_tubes_are_on_their_way_is_refused_naming_them(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    from lims.shipments.services import manifest_csv

    tubes = consented_tubes(session, tech, 1)
    sent = shipped(session, tech, tubes)
    text = manifest_csv(session, tech, shipment_id=sent.id).replace(sent.code, "OTHER-1")
    sign_in(client, "tech")

    loaded = client.post(
        "/shipments/manifests",
        data={
            "csrf_token": csrf_token(client, "/shipments/"),
            "file": (io.BytesIO(text.encode()), "manifest.csv"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )

    html = loaded.get_data(as_text=True)
    assert f"{tubes[0].barcode} is already in open shipment {sent.code}" in html, html[
        html.find("flash") :
    ][:600]
