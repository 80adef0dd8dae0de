"""Fulfilment through the pages and the API: propose, reserve, pick by scan, pack, ship; who
may reach them; the problem documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.requests.models import RequestState, SpecimenRequest
from lims.specimens.models import Aliquot, AliquotStatus
from tests.conftest import bearer, csrf_token, sign_in
from tests.factories import make_box
from tests.requests.fulfilment_factories import collection, request_to_fulfil
from tests.requests.workflow_factories import second_investigator
from tests.shipments.factories import biorepository, institution

ToPick = tuple[SpecimenRequest, list[Aliquot]]


@pytest.fixture
def to_pick(
    session: Session, investigator: Actor, reviewer: Actor, admin: Actor, tmp_path: Path
) -> ToPick:
    found = collection(session, [make_box(session)], [2, 2, 2])
    req = request_to_fulfil(session, investigator, reviewer, admin, tmp_path)
    return req, [t for tubes in found.tubes.values() for t in tubes]


def test_a_technician_reserves_picks_by_scan_packs_and_ships_through_the_pages(
    client: FlaskClient, session: Session, tech: Actor, to_pick: ToPick
) -> None:
    req, tubes = to_pick
    biorepository(session)
    there = institution(session)
    sign_in(client, "tech")
    listed = client.get("/pick-lists/").get_data(as_text=True)
    assert req.code in listed
    page = f"/pick-lists/{req.code}"
    token = csrf_token(client, page)
    proposed = client.get(page).get_data(as_text=True)
    assert "Reserve these 3 tubes" in proposed

    reserved = client.post(f"/pick-lists/{req.code}/reservation", data={"csrf_token": token})
    assert reserved.status_code == 303 and reserved.headers["Location"].endswith("/pick")
    wanted = [i.aliquot.barcode for i in req.items]
    stranger = next(t.barcode for t in tubes if t.barcode not in wanted)
    wrong = client.post(
        f"/pick-lists/{req.code}/pick",
        data={"csrf_token": token, "code": stranger},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert f"{stranger} is not on the pick list of {req.code}" in wrong
    for n, code in enumerate(wanted, start=1):
        scanned = client.post(
            f"/pick-lists/{req.code}/pick",
            data={"csrf_token": token, "code": code},
            follow_redirects=True,
        ).get_data(as_text=True)
        assert f"{n} of 3 picked" in scanned
    packed = client.post(
        f"/pick-lists/{req.code}/shipment",
        data={"csrf_token": token, "to_address_id": there.id},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "packed: 3 tubes in 1 boxes" in packed
    shipped = client.post(
        f"/pick-lists/{req.code}/shipment/ship",
        data={"csrf_token": token, "courier": "FedEx", "tracking_number": "7712"},
        follow_redirects=True,
    ).get_data(as_text=True)

    assert f"request {req.code} is shipped" in shipped
    assert req.state is RequestState.SHIPPED


def test_the_pick_list_pdf_is_served_to_staff_only(
    client: FlaskClient, tech: Actor, to_pick: ToPick
) -> None:
    req = to_pick[0]
    sign_in(client, "investigator")
    for path in ("", ".pdf", "/pick"):
        assert client.get(f"/pick-lists/{req.code}{path}").status_code == 403
    assert client.get("/pick-lists/").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    sign_in(client, "tech")

    pdf = client.get(f"/pick-lists/{req.code}.pdf")

    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_the_api_reserves_picks_and_answers_problems(
    client: FlaskClient, session: Session, tech: Actor, to_pick: ToPick
) -> None:
    req, tubes = to_pick
    auth = bearer(client, "tech")
    base = f"/api/v1/requests/{req.code}"
    proposal = client.get(f"{base}/pick-list", headers=auth).get_json()
    assert proposal["tubes"] == 3 and proposal["lines"][0]["freezer"]

    reserved = client.post(f"{base}/reservation", json={}, headers=auth)
    assert reserved.status_code == 201, reserved.get_json()
    items = reserved.get_json()["items"]
    picked = client.post(f"{base}/picks", json={"barcode": items[0]["barcode"]}, headers=auth)
    stranger = next(t.barcode for t in tubes if t.status is AliquotStatus.STORED)
    wrong = client.post(f"{base}/picks", json={"barcode": stranger}, headers=auth)
    cancelled = client.post(
        f"{base}/items/{items[1]['id']}/cancel", json={"reason": "not found"}, headers=auth
    )
    again = client.post(f"{base}/reservation", json={}, headers=auth)

    assert picked.status_code == 200 and picked.get_json()["fulfilment"]["progress"] == (
        "1 of 3 picked"
    )
    assert wrong.status_code == 409 and wrong.mimetype == "application/problem+json"
    assert stranger in wrong.get_json()["detail"]
    assert cancelled.get_json()["progress"] == "1 of 2 picked"
    assert again.status_code == 409 and "fulfilling" in again.get_json()["detail"]


def test_investigators_tokens_cannot_reach_fulfilment(
    client: FlaskClient, session: Session, to_pick: ToPick
) -> None:
    req = to_pick[0]
    second_investigator(session)
    base = f"/api/v1/requests/{req.code}"
    for username in ("investigator", "investigator2"):
        auth = bearer(client, username)
        assert client.get(f"{base}/pick-list", headers=auth).status_code == 403
        assert client.get(f"{base}/items", headers=auth).status_code == 403
        assert client.post(f"{base}/reservation", json={}, headers=auth).status_code == 403
        assert client.post(f"{base}/picks", json={"barcode": "x"}, headers=auth).status_code in (
            403,
            422,
        )
    assert client.get(f"{base}/pick-list").status_code == 401


def test_every_fulfilment_endpoint_is_in_the_openapi_document(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]

    for path in (
        "/api/v1/requests/{code}/pick-list",
        "/api/v1/requests/{code}/pick-list.pdf",
        "/api/v1/requests/{code}/reservation",
        "/api/v1/requests/{code}/items",
        "/api/v1/requests/{code}/picks",
        "/api/v1/requests/{code}/items/{item_id}/cancel",
        "/api/v1/requests/{code}/shipment",
        "/api/v1/requests/{code}/shipment/ship",
    ):
        assert path in paths, path
