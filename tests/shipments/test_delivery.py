"""Confirming an outbound shipment's delivery: the service, the API endpoint and the page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.services import events_for
from lims.errors import Conflict, Forbidden
from lims.shipments.models import ItemState, ShipmentStatus
from lims.shipments.services import confirm_delivery
from lims.specimens.models import AliquotStatus
from tests.conftest import bearer, csrf_token, sign_in
from tests.shipments.factories import consented_tubes, outbound, shipped, shipped_outbound

DELIVERED_AT = datetime(2026, 3, 18, 11, 30, tzinfo=UTC)
PROBLEM = "application/problem+json"


def test_a_delivered_outbound_shipments_tubes_are_released(session: Session, tech: Actor) -> None:
    tubes = consented_tubes(session, tech, 2)
    shipment = shipped_outbound(session, tech, tubes)

    confirm_delivery(
        session, tech, shipment_id=shipment.id, delivered_at=DELIVERED_AT, is_damaged=True,
        notes="signed for by J. Doe; one box lid cracked",
    )  # fmt: skip

    assert [a.status for a in tubes] == [AliquotStatus.RELEASED] * 2
    assert shipment.status is ShipmentStatus.RECEIVED and shipment.received_at == DELIVERED_AT
    assert shipment.delivery_confirmed_by_id == tech.user_id and shipment.is_damaged
    assert shipment.arrival_notes == "signed for by J. Doe; one box lid cracked"
    assert {i.state for i in shipment.items} == {ItemState.RECEIVED}
    assert {i.open_aliquot_id for i in shipment.items} == {None}
    assert str(events_for(session, tubes[0])[-1].action) == "aliquot.released"
    assert str(events_for(session, shipment)[-1].action) == "shipment.delivered"


def test_an_inbound_shipments_delivery_is_refused_and_nothing_changes(
    session: Session, tech: Actor
) -> None:
    tubes = consented_tubes(session, tech, 1)
    shipment = shipped(session, tech, tubes)
    trail = len(events_for(session, shipment))

    with pytest.raises(Conflict, match="is inbound"):
        confirm_delivery(session, tech, shipment_id=shipment.id, delivered_at=DELIVERED_AT)

    assert tubes[0].status is AliquotStatus.IN_TRANSIT
    assert shipment.status is ShipmentStatus.SHIPPED and shipment.received_at is None
    assert len(events_for(session, shipment)) == trail


def test_an_unshipped_outbound_shipments_delivery_is_refused_and_nothing_changes(
    session: Session, tech: Actor
) -> None:
    tubes = consented_tubes(session, tech, 1)
    shipment = outbound(session, tech, tubes)

    with pytest.raises(Conflict, match="only a shipped shipment"):
        confirm_delivery(session, tech, shipment_id=shipment.id, delivered_at=DELIVERED_AT)

    assert tubes[0].status is AliquotStatus.STORED
    assert shipment.status is ShipmentStatus.PLANNED and shipment.received_at is None


def test_an_investigator_may_not_confirm_a_delivery(
    session: Session, tech: Actor, investigator: Actor
) -> None:
    tubes = consented_tubes(session, tech, 1)
    shipment = shipped_outbound(session, tech, tubes)

    with pytest.raises(Forbidden):
        confirm_delivery(session, investigator, shipment_id=shipment.id, delivered_at=DELIVERED_AT)

    assert tubes[0].status is AliquotStatus.IN_TRANSIT


def test_the_api_confirms_a_delivery_and_answers_an_investigator_with_403(
    client: FlaskClient, session: Session, tech: Actor, investigator: Actor
) -> None:
    tubes = consented_tubes(session, tech, 1)
    shipment = shipped_outbound(session, tech, tubes)
    url = f"/api/v1/shipments/{shipment.id}/delivery"

    refused = client.post(url, json={}, headers=bearer(client, "investigator"))
    done = client.post(
        url,
        json={"delivered_at": DELIVERED_AT.isoformat(), "notes": "on dry ice"},
        headers=bearer(client, "tech"),
    )

    assert refused.status_code == 403 and refused.mimetype == PROBLEM
    body = done.get_json()
    assert done.status_code == 200 and body["status"] == "received"
    assert body["delivery_confirmed_by"] == "tech" and body["arrival_notes"] == "on dry ice"
    assert tubes[0].status is AliquotStatus.RELEASED


def test_the_api_refuses_an_inbound_delivery_with_a_409_problem(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    shipment = shipped(session, tech, consented_tubes(session, tech, 1))

    answer = client.post(
        f"/api/v1/shipments/{shipment.id}/delivery", json={}, headers=bearer(client, "tech")
    )

    assert answer.status_code == 409 and answer.mimetype == PROBLEM
    assert "inbound" in answer.get_json()["detail"]


def test_a_technician_confirms_a_delivery_on_the_shipment_page(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tubes = consented_tubes(session, tech, 1)
    shipment = shipped_outbound(session, tech, tubes)
    page = f"/shipments/{shipment.id}"
    sign_in(client, "tech")
    token = csrf_token(client, page)

    answer = client.post(
        f"{page}/delivery",
        data={"csrf_token": token, "delivered_at": "2026-03-18T11:30", "notes": "signed"},
        follow_redirects=True,
    )

    assert answer.status_code == 200 and b"Delivered 2026-03-18 11:30 UTC" in answer.data
    assert b"Confirm delivery</button>" not in answer.data
    assert tubes[0].status is AliquotStatus.RELEASED
