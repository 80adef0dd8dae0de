"""Release over HTTP: the release page, the data set downloads and the delivery, for pages and
API alike; a second investigator reaches none of them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.services import events_for
from lims.requests.models import ItemStatus
from tests.conftest import bearer, csrf_token, sign_in
from tests.requests.release_factories import Shipped, shipped_request
from tests.requests.workflow_factories import second_investigator

PROBLEM = "application/problem+json"


@pytest.fixture
def shipped(
    session: Session,
    investigator: Actor,
    reviewer: Actor,
    admin: Actor,
    tech: Actor,
    tmp_path: Path,
) -> Shipped:
    return shipped_request(
        session,
        investigator=investigator,
        reviewer=reviewer,
        admin=admin,
        tech=tech,
        files_dir=tmp_path,
    )


def test_the_investigator_sees_the_data_set_and_downloads_it_from_the_release_page(
    client: FlaskClient, session: Session, shipped: Shipped
) -> None:
    sign_in(client, "investigator")
    req = shipped.request

    request_page = client.get(f"/requests/{req.code}")
    page = client.get(f"/requests/{req.code}/release")
    data = client.get(f"/requests/{req.code}/data-set.csv")

    assert f'href="/requests/{req.code}/release"'.encode() in request_page.data
    assert b"/pick-lists/" not in request_page.data  # picking is the technicians' page
    assert page.status_code == 200 and b"De-identified data set" in page.data
    assert f"/requests/{req.code}/data-dictionary.json".encode() in page.data
    assert shipped.tubes[0].barcode.encode() in page.data
    assert b"Confirm delivery" not in page.data  # staff confirm, not the investigator
    assert data.status_code == 200 and data.mimetype == "text/csv"
    assert f'filename="{req.code}-data-set.csv"' in data.headers["Content-Disposition"]
    assert data.data.decode().startswith("subject,barcode,")
    assert events_for(session, req)[-1].after["sha256"] == hashlib.sha256(data.data).hexdigest()


def test_another_investigator_reaches_no_release_page_or_file(
    client: FlaskClient, session: Session, shipped: Shipped
) -> None:
    second_investigator(session)
    sign_in(client, "investigator2")
    base = f"/requests/{shipped.request.code}"

    answers = [
        client.get(f"{base}/{path}").status_code
        for path in ("release", "data-set.csv", "data-dictionary.csv", "data-dictionary.json")
    ]

    assert answers == [404, 404, 404, 404]


def test_a_technician_confirms_the_delivery_on_the_release_page(
    client: FlaskClient, session: Session, shipped: Shipped
) -> None:
    sign_in(client, "tech")
    url = f"/requests/{shipped.request.code}/release"
    assert b"Confirm delivery" in client.get(url).data

    answer = client.post(
        f"/requests/{shipped.request.code}/delivery",
        data={"csrf_token": csrf_token(client, url), "notes": "signed for by the lab manager"},
    )

    assert answer.status_code == 303 and answer.location.endswith(url)
    assert {i.status for i in shipped.request.items} == {ItemStatus.RELEASED}
    assert shipped.shipment.arrival_notes == "signed for by the lab manager"


def test_the_api_serves_the_data_set_and_its_dictionary_to_the_investigator(
    client: FlaskClient, shipped: Shipped
) -> None:
    headers = bearer(client, "investigator")
    base = f"/api/v1/requests/{shipped.request.code}"

    data = client.get(f"{base}/data-set", headers=headers)
    dictionary = client.get(f"{base}/data-dictionary", headers=headers)
    as_csv = client.get(f"{base}/data-dictionary.csv", headers=headers)

    assert data.status_code == 200 and data.mimetype == "text/csv"
    assert len(data.data.decode().splitlines()) == 4
    assert dictionary.status_code == 200 and dictionary.mimetype == "application/json"
    assert dictionary.get_json()["request"] == shipped.request.code
    assert as_csv.mimetype == "text/csv" and as_csv.data.startswith(b"column,label,type,values")


def test_every_release_endpoint_answers_another_investigators_token_as_missing(
    client: FlaskClient, session: Session, shipped: Shipped
) -> None:
    second_investigator(session)
    headers = bearer(client, "investigator2")
    base = f"/api/v1/requests/{shipped.request.code}"

    answers = [
        client.get(f"{base}/data-set", headers=headers),
        client.get(f"{base}/data-dictionary", headers=headers),
        client.get(f"{base}/data-dictionary.csv", headers=headers),
        client.post(f"{base}/delivery", json={}, headers=headers),
    ]

    assert [(a.status_code, a.mimetype) for a in answers[:3]] == [(404, PROBLEM)] * 3
    # Confirming a delivery needs a technician before any request is looked up.
    assert (answers[3].status_code, answers[3].mimetype) == (403, PROBLEM)
    assert {i.status for i in shipped.request.items} == {ItemStatus.SHIPPED}


def test_the_api_confirms_a_delivery_for_a_technician_and_refuses_the_investigator(
    client: FlaskClient, shipped: Shipped
) -> None:
    url = f"/api/v1/requests/{shipped.request.code}/delivery"

    refused = client.post(url, json={}, headers=bearer(client, "investigator"))
    done = client.post(url, json={"is_damaged": False}, headers=bearer(client, "tech"))

    assert refused.status_code == 403 and refused.mimetype == PROBLEM
    body = done.get_json()
    assert done.status_code == 200 and body["state"] == "shipped"
    assert body["shipment"] == shipped.shipment.code
    assert {i["status"] for i in body["items"]} == {"released"}
