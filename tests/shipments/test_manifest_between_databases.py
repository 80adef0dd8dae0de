"""A manifest CSV written by one installation (on SQLite) is received by another (PostgreSQL):
the sender's shipment arrives as an expected inbound shipment, and scanning its tubes
reconciles every one of them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lims.actors import Actor, Role
from lims.shipments.models import Direction, ItemState, Shipment, ShipmentStatus
from lims.shipments.services import (
    accession_from_manifest,
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
from lims.specimens.models import Aliquot, AliquotStatus, SpecimenType, TubeType
from lims.specimens.services import (
    PreAnalytics,
    accession_specimen,
    aliquot_specimen,
    set_installation,
)
from lims.storage.services import store_aliquot
from tests.conftest import DatabaseMaker
from tests.factories import COLLECTED_AT, SYSTEM, make_box, make_subject, make_user, make_visit
from tests.races import race_database
from tests.shipments.factories import RECEIVED_AT, SHIPPED_AT, consented_tubes, make_address
from tests.specimens.factories import give_consent, make_consent_form


@pytest.fixture
def site_db(request: pytest.FixtureRequest, databases: DatabaseMaker) -> Iterator[Session]:
    name = f"lims_site_{request.node.name[5:30]}"  # a database of its own for each test
    engine = race_database(databases, "sqlite", name)
    with sessionmaker(bind=engine, expire_on_commit=False)() as session:
        set_installation(session, SYSTEM, number=3)  # the central database keeps 0
        yield session
    engine.dispose()


@pytest.fixture
def central_db(request: pytest.FixtureRequest, databases: DatabaseMaker) -> Iterator[Session]:
    name = f"lims_central_{request.node.name[5:30]}"
    engine = race_database(databases, "postgresql", name)
    with sessionmaker(bind=engine, expire_on_commit=False)() as session:
        yield session
    engine.dispose()


def _preprinted_tubes(session: Session, tech: Actor) -> list[Aliquot]:
    """Five serum tubes with the site's pre-printed 2D barcodes (not in this LIMS's issued
    shape: a site may label its tubes so, whatever system it runs)."""
    visit = make_visit(session)
    tube = accession_specimen(
        session, SYSTEM, study_code=visit.subject.study_code, visit_number=1,
        specimen_type=SpecimenType.WHOLE_BLOOD, tube_type=TubeType.SST,
        pre=PreAnalytics(collected_at=COLLECTED_AT), volume_ml=6.0, barcode="TOR-T-0001",
    )  # fmt: skip
    give_consent(session, visit.subject, make_consent_form(session), date(2026, 3, 1))
    made = aliquot_specimen(
        session, SYSTEM, specimen_barcode=tube.barcode, specimen_type=SpecimenType.SERUM,
        count=5, volume_ul=250, barcodes_given=[f"FX{n:08d}" for n in range(1, 6)],
    )  # fmt: skip
    box = make_box(session)
    for aliquot in made:
        store_aliquot(session, tech, barcode=aliquot.barcode, box_id=box.id)
    return made


def _site_sends(session: Session, *, preprinted: bool = False) -> tuple[str, list[str], str]:
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
    made = _preprinted_tubes(session, tech) if preprinted else consented_tubes(session, tech, 5)
    tubes, subject = [t.barcode for t in made], made[0].subject.study_code
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
    return manifest_csv(session, tech, shipment_id=shipment.id), tubes, subject


def test_a_manifest_written_on_sqlite_is_received_on_postgresql(
    site_db: Session, central_db: Session
) -> None:
    text, tubes, _ = _site_sends(site_db)
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


def test_a_tube_received_from_another_installation_is_accessioned_from_its_manifest_row(
    site_db: Session, central_db: Session
) -> None:
    text, tubes, subject = _site_sends(site_db, preprinted=True)
    tech = Actor.of(make_user(central_db, "central-tech", Role.TECHNICIAN))
    make_subject(central_db, study_code=subject)  # the participant is registered centrally
    create_address(
        central_db, SYSTEM, name="Dystonia Biobank central biorepository",
        street="1 Research Way", city="Rochester", postal_code="14642", country="US",
        contact_name="Biorepository manager", phone_24h="+1 585 555 0199", is_biorepository=True,
    )  # fmt: skip
    inbound = import_manifest(central_db, tech, text=text)
    receive_scans(central_db, tech, shipment_id=inbound.id, barcodes=tubes, scanned_at=RECEIVED_AT)

    for item in list(inbound.items):
        accession_from_manifest(central_db, tech, shipment_id=inbound.id, item_id=item.id)

    central_db.expire_all()
    made = central_db.scalars(select(Aliquot).where(Aliquot.barcode.in_(tubes))).all()
    assert sorted(a.barcode for a in made) == sorted(tubes)
    assert {a.status for a in made} == {AliquotStatus.RECEIVED}
    assert {a.subject.study_code for a in made} == {subject}
    assert all(i.aliquot_id is not None for i in central_db.get(Shipment, inbound.id).items)
