"""Benches racing to put one tube into different shipments, with real concurrent connections.

The rule: an aliquot is in at most one open shipment. The service locks the aliquot before it
looks for an open shipment holding it, and the unique open_aliquot_id catches any path that
did not; either way exactly one bench wins and the others get a 409 naming the winner.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from lims.actors import Actor, Role
from lims.audit.services import verify_chain
from lims.shipments.models import Shipment, ShipmentItem
from lims.shipments.services import create_shipment
from lims.specimens.duo import DuoTerm
from tests.conftest import DatabaseMaker
from tests.factories import make_user
from tests.races import BENCHES, race, race_database
from tests.shipments.factories import biorepository, consented_tubes, institution


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def benches(
    request: pytest.FixtureRequest, databases: DatabaseMaker
) -> Iterator[sessionmaker[Session]]:
    engine = race_database(databases, request.param, "lims_shipments_race")
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


def test_of_twenty_benches_shipping_one_tube_at_once_exactly_one_gets_it(
    benches: sessionmaker[Session],
) -> None:
    with benches() as setup:
        tech = Actor.of(make_user(setup, "ship-race-tech", Role.TECHNICIAN))
        tube = consented_tubes(setup, tech, 1)[0].barcode
        home, there = biorepository(setup).id, institution(setup).id

    def attempt(session: Session, _: int) -> object:
        return create_shipment(
            session,
            tech,
            from_address_id=home,
            to_address_id=there,
            purpose=DuoTerm.DS,
            barcodes=[tube],
        ).code

    outcomes = race(benches, attempt)

    assert len(outcomes.results) == 1, outcomes
    assert len(outcomes.conflicts) == BENCHES - 1, outcomes
    winner = outcomes.results[0]
    assert all(str(winner) in e.detail for e in outcomes.conflicts)
    with benches() as check:
        holding = check.scalar(
            select(func.count(ShipmentItem.id)).where(ShipmentItem.barcode == tube)
        )
        assert holding == 1
        assert check.scalar(select(func.count(Shipment.id))) == 1
        assert verify_chain(check).is_intact
