"""A manifest CSV written by one installation (on SQLite) is received by another (PostgreSQL):
the sender's shipment arrives as an expected inbound shipment, and scanning its tubes
reconciles every one of them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from lims.actors import Actor, Role
from lims.shipments.models import Direction, ItemState, ShipmentStatus
from lims.shipments.services import (
    complete_receipt,
    create_address,
    create_shipment,
    import_manifest,
    manifest_csv,
    pack_box,
    receive_scans,
    ship_shipment,
)
from lims.specimens.duo import DuoTerm
from tests.conftest import DatabaseMaker
from tests.factories import SYSTEM, make_user
from tests.races import race_database
from tests.shipments.factories import RECEIVED_AT, SHIPPED_AT, consented_tubes, make_address


@pytest.fixture
def site_db(databases: DatabaseMaker) -> Iterator[Session]:
    engine = race_database(databases, "sqlite", "lims_site_installation")
    with sessionmaker(bind=engine, expire_on_commit=False)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def central_db(databases: DatabaseMaker) -> Iterator[Session]:
    engine = race_database(databases, "postgresql", "lims_central_installation")
    with sessionmaker(bind=engine, expire_on_commit=False)() as session:
        yield session
    engine.dispose()


def _site_sends(session: Session) -> tuple[str, list[str]]:
    """The site's own LIMS: two boxes of tubes to the central biorepository, shipped."""
    tech = Actor.of(make_user(session, "site-tech", Role.TECHNICIAN))
    home = make_address(
        session,
        "Toronto Movement Disorders Lab",
        country="CA",
        subdivision="ON",
        is_biorepository=True,
    )
    central = make_address(session, "Dystonia Biobank central biorepository")
    tubes = [t.barcode for t in consented_tubes(session, tech, 5)]
    shipment = create_shipment(
        session, tech, from_address_id=home.id, to_address_id=central.id, purpose=DuoTerm.GRU
    )
    pack_box(session, tech, shipment_id=shipment.id, barcodes=tubes[:3], label="TOR-BOX-1")
    pack_box(session, tech, shipment_id=shipment.id, barcodes=tubes[3:], label="TOR-BOX-2")
    ship_shipment(
        session,
        tech,
        shipment_id=shipment.id,
        courier="FedEx",
        tracking_number="7712",
        shipped_at=SHIPPED_AT,
        dry_ice_kg=6.0,
    )
    return manifest_csv(session, tech, shipment_id=shipment.id), tubes


def test_a_manifest_written_on_sqlite_is_received_on_postgresql(
    site_db: Session, central_db: Session
) -> None:
    text, tubes = _site_sends(site_db)
    tech = Actor.of(make_user(central_db, "central-tech", Role.TECHNICIAN))
    create_address(
        central_db,
        SYSTEM,
        name="Dystonia Biobank central biorepository",
        street="1 Research Way",
        city="Rochester",
        postal_code="14642",
        country="US",
        subdivision="NY",
        contact_name="Biorepository manager",
        phone_24h="+1 585 555 0199",
        is_biorepository=True,
    )

    inbound = import_manifest(central_db, tech, text=text)
    receipt = receive_scans(
        central_db, tech, shipment_id=inbound.id, barcodes=tubes, scanned_at=RECEIVED_AT
    )
    done = complete_receipt(central_db, tech, shipment_id=inbound.id, received_at=RECEIVED_AT)

    assert inbound.direction is Direction.INBOUND
    assert inbound.from_address.name == "Toronto Movement Disorders Lab"
    assert [b.label for b in inbound.boxes] == ["TOR-BOX-1", "TOR-BOX-2"]
    assert [(i.box.label, i.position) for i in inbound.items][:2] == [
        ("TOR-BOX-1", "A1"),
        ("TOR-BOX-1", "A2"),
    ]
    assert receipt.reconciliation.received == tuple(tubes)
    assert receipt.reconciliation.is_complete
    assert done.status is ShipmentStatus.RECEIVED
    assert {i.state for i in done.items} == {ItemState.RECEIVED}
    with pytest.raises(Exception, match="already loaded"):
        import_manifest(central_db, tech, text=text)
