from __future__ import annotations

import io
import re

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import Action, AuditEvent
from lims.errors import Forbidden, InvalidInput
from lims.labels.models import PrintJob
from lims.labels.services import print_labels
from tests.barcode_reading import decode, rasterise
from tests.conftest import bearer, csrf_token, sign_in
from tests.factories import make_aliquots, make_box


def test_printed_labels_decode_to_their_barcodes(session: Session, tech: Actor) -> None:
    aliquots = make_aliquots(session, 3)
    codes = [a.barcode for a in aliquots]
    output = print_labels(session, tech, barcodes=codes, stock_id="cryo-1.28x0.5-203")
    pages = rasterise(output.content, 203)
    assert [decode(page) for page in pages] == [{"Code128": [c], "DataMatrix": [c]} for c in codes]


def test_every_print_is_recorded_and_a_reprint_is_marked(session: Session, tech: Actor) -> None:
    first, second = make_aliquots(session, 2)
    job1 = print_labels(session, tech, barcodes=[first.barcode], stock_id="cryo-1x0.5-300").job
    job2 = print_labels(
        session,
        tech,
        barcodes=[first.barcode, second.barcode],
        stock_id="cryo-sheet-letter",
        first_position=5,
    ).job
    assert not job1.is_reprint and job2.is_reprint
    assert [(label.barcode, label.is_reprint) for label in job2.labels] == [
        (first.barcode, True),
        (second.barcode, False),
    ]
    assert job2.username == "tech" and job2.stock_id == "cryo-sheet-letter"
    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == Action.LABELS_PRINTED)
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None and event.after == {
        "stock": "cryo-sheet-letter",
        "format": "pdf",
        "count": 2,
        "reprinted": 1,
        "first": first.barcode,
        "last": second.barcode,
    }


def test_unknown_barcodes_are_each_named_and_nothing_is_recorded(
    session: Session, tech: Actor
) -> None:
    aliquot = make_aliquots(session, 1)[0]
    with pytest.raises(InvalidInput) as err:
        print_labels(
            session,
            tech,
            barcodes=[aliquot.barcode, "00000000", "ZZ-404"],
            stock_id="cryo-1.28x0.5-203",
        )
    assert [e["field"] for e in err.value.errors] == ["barcodes[1]", "barcodes[2]"]
    assert "no aliquot, tube or box has barcode ZZ-404" in err.value.errors[1]["message"]
    assert session.scalar(select(PrintJob)) is None


def test_a_box_label_needs_a_box_stock(session: Session, tech: Actor) -> None:
    box = make_box(session)
    with pytest.raises(InvalidInput, match=r"is a box; stock cryo-1\.28x0\.5-203 is for vial"):
        print_labels(session, tech, barcodes=[box.barcode], stock_id="cryo-1.28x0.5-203")
    output = print_labels(session, tech, barcodes=[box.barcode], stock_id="box-2x1-203")
    assert decode(rasterise(output.content, 300)[0]) == {
        "Code128": [box.barcode],
        "DataMatrix": [box.barcode],
    }


def test_an_investigator_is_refused_when_printing_labels(
    session: Session, investigator: Actor, tech: Actor
) -> None:
    aliquot = make_aliquots(session, 1)[0]
    with pytest.raises(Forbidden):
        print_labels(
            session, investigator, barcodes=[aliquot.barcode], stock_id="cryo-1.28x0.5-203"
        )


def test_the_api_lists_the_stocks(client: FlaskClient, tech: Actor) -> None:
    body = client.get("/api/v1/label-stocks", headers=bearer(client, "tech")).get_json()
    stocks = {s["id"]: s for s in body["items"]}
    assert {"cryo-1.28x0.5-203", "cryo-1x0.5-300", "box-2x1-203", "cryo-sheet-letter"} <= set(
        stocks
    )
    assert stocks["cryo-sheet-letter"]["sheet"]["positions"] > 1
    assert stocks["cryo-sheet-letter"]["formats"] == ["pdf"]


def test_the_api_returns_a_pdf_that_scans(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    codes = [a.barcode for a in make_aliquots(session, 2)]
    response = client.post(
        "/api/v1/labels",
        headers=bearer(client, "tech"),
        json={"barcodes": codes, "stock": "cryo-sheet-letter"},
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    found = decode(rasterise(response.data, 300)[0])
    assert sorted(found["Code128"]) == sorted(codes) == sorted(found["DataMatrix"])


def test_the_api_returns_zpl_when_asked(client: FlaskClient, session: Session, tech: Actor) -> None:
    code = make_aliquots(session, 1)[0].barcode
    response = client.post(
        "/api/v1/labels",
        headers=bearer(client, "tech"),
        json={"barcodes": [code], "stock": "cryo-1.28x0.5-203", "format": "zpl"},
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert text.startswith("^XA") and text.rstrip().endswith("^XZ")
    assert f"^FD{code}^FS" in text


def test_an_unknown_stock_or_barcode_is_a_422_naming_it(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    headers = bearer(client, "tech")
    code = make_aliquots(session, 1)[0].barcode
    response = client.post(
        "/api/v1/labels", headers=headers, json={"barcodes": [code], "stock": "no-such-stock"}
    )
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert response.get_json()["errors"] == [
        {"field": "stock", "message": response.get_json()["detail"]}
    ]
    assert "no-such-stock" in response.get_json()["detail"]
    response = client.post(
        "/api/v1/labels",
        headers=headers,
        json={"barcodes": ["12345674"], "stock": "cryo-1x0.5-300"},
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "barcodes[0]"


def test_the_print_page_previews_the_first_label_at_printer_resolution(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    code = make_aliquots(session, 1)[0].barcode
    sign_in(client, "tech")
    page = client.get(f"/labels/print?barcodes={code}").get_data(as_text=True)
    assert "Preview of label " + code in page
    png = client.get(f"/labels/preview.png?barcodes={code}&stock=cryo-1.28x0.5-203")
    image = Image.open(io.BytesIO(png.data))
    assert png.mimetype == "image/png" and image.size == (260, 102)  # 1.28 x 0.5 in at 203 dpi
    assert decode(image) == {"Code128": [code], "DataMatrix": [code]}


def test_the_print_form_returns_the_pdf(client: FlaskClient, session: Session, tech: Actor) -> None:
    codes = [a.barcode for a in make_aliquots(session, 2)]
    sign_in(client, "tech")
    response = client.post(
        "/labels/print",
        data={
            "barcodes": "\n".join(codes),
            "stock": "cryo-1x0.5-300",
            "format": "pdf",
            "first_position": "",
            "csrf_token": csrf_token(client, "/labels/print"),
        },
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert len(rasterise(response.data, 300)) == 2


def test_the_print_form_offers_box_labels_only_for_box_barcodes(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    box = make_box(session)
    sign_in(client, "tech")
    for_box = client.get(f"/labels/print?barcodes={box.barcode.lower()}").get_data(as_text=True)
    assert re.search(r'value="box-2x1-203"[^>]*selected', for_box)
    # A pre-printed tube code may start with B too; it is not a box.
    for_tube = client.get("/labels/print?barcodes=BLD-0042").get_data(as_text=True)
    assert re.search(r'value="cryo-1.28x0.5-203"[^>]*selected', for_tube)
