"""Two installations of this LIMS, each with its own number, exchange manifests both ways: an
installation on SQLite and one on PostgreSQL each send their issued tubes to the other, which
accessions every tube under the sender's code. A code carrying the receiver's own number that
it never issued is refused."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lims.actors import Actor, Role
from lims.errors import Conflict, InvalidInput
from lims.shipments.models import ItemState
from lims.shipments.services import (
    accession_from_manifest,
    complete_receipt,
    create_shipment,
    import_manifest,
    manifest_csv,
    pack_box,
    receive_scans,
    ship_shipment,
)
from lims.specimens import barcodes
from lims.specimens.duo import DuoTerm
from lims.specimens.models import Aliquot, AliquotStatus
from lims.specimens.services import installation_number, set_installation
from lims.specimens.services.common import ALIQUOT_COUNTER, issue_serials, next_serial
from tests.conftest import DatabaseMaker
from tests.factories import SYSTEM, make_subject, make_user
from tests.races import race_database
from tests.shipments.factories import RECEIVED_AT, SHIPPED_AT, consented_tubes, make_address

ROCHESTER, BERLIN = "Rochester biorepository", "Berlin biorepository"


@dataclass
class Installation:
    session: Session
    tech: Actor
    home: str
    tubes: list[str]  # its own issued codes, stored and consented
    subject: str


def _installation(session: Session, *, number: int, home: str, other: str) -> Installation:
    set_installation(session, SYSTEM, number=number)  # before it issues any code
    tech = Actor.of(make_user(session, f"tech{number}", Role.TECHNICIAN))
    make_address(session, home, is_biorepository=True)
    make_address(session, other)
    made = consented_tubes(session, tech, 3)
    return Installation(session, tech, home, [t.barcode for t in made], made[0].subject.study_code)


@pytest.fixture
def rochester(request: pytest.FixtureRequest, databases: DatabaseMaker) -> Iterator[Installation]:
    engine = race_database(databases, "sqlite", f"lims_inst1_{request.node.name[5:28]}")
    with sessionmaker(bind=engine, expire_on_commit=False)() as session:
        yield _installation(session, number=1, home=ROCHESTER, other=BERLIN)
    engine.dispose()


@pytest.fixture
def berlin(request: pytest.FixtureRequest, databases: DatabaseMaker) -> Iterator[Installation]:
    engine = race_database(databases, "postgresql", f"lims_inst2_{request.node.name[5:28]}")
    with sessionmaker(bind=engine, expire_on_commit=False)() as session:
        yield _installation(session, number=2, home=BERLIN, other=ROCHESTER)
    engine.dispose()


def _send(sender: Installation, to: str) -> str:
    """Pack the sender's tubes, ship them and return the manifest CSV it sends ahead."""
    session, tech = sender.session, sender.tech
    addresses = {
        a.name: a.id for a in (make_address(session, sender.home), make_address(session, to))
    }
    shipment = create_shipment(
        session, tech, from_address_id=addresses[sender.home], to_address_id=addresses[to],
        purpose=DuoTerm.GRU,
    )  # fmt: skip
    pack_box(session, tech, shipment_id=shipment.id, barcodes=sender.tubes, label="BOX-1")
    ship_shipment(
        session, tech, shipment_id=shipment.id, courier="World Courier", tracking_number="WC1",
        shipped_at=SHIPPED_AT, dry_ice_kg=6.0,
    )  # fmt: skip
    return manifest_csv(session, tech, shipment_id=shipment.id)


def _receive(receiver: Installation, text: str, sender: Installation) -> list[Aliquot]:
    """Load the manifest, scan every tube, accession each from its row; the tubes as made."""
    session, tech = receiver.session, receiver.tech
    make_subject(session, study_code=sender.subject)  # the participant is registered here too
    inbound = import_manifest(session, tech, text=text)
    receive_scans(
        session, tech, shipment_id=inbound.id, barcodes=sender.tubes, scanned_at=RECEIVED_AT
    )
    for item in list(inbound.items):
        accession_from_manifest(session, tech, shipment_id=inbound.id, item_id=item.id)
    complete_receipt(session, tech, shipment_id=inbound.id, received_at=RECEIVED_AT)
    session.expire_all()
    assert {i.state for i in inbound.items} == {ItemState.RECEIVED}
    stmt = select(Aliquot).where(Aliquot.barcode.in_(sender.tubes)).order_by(Aliquot.barcode)
    return list(session.scalars(stmt))


def test_two_installations_exchange_manifests_both_ways_and_accession_every_tube(
    rochester: Installation, berlin: Installation
) -> None:
    to_berlin, to_rochester = _send(rochester, BERLIN), _send(berlin, ROCHESTER)

    in_berlin = _receive(berlin, to_berlin, rochester)
    in_rochester = _receive(rochester, to_rochester, berlin)

    assert [a.barcode for a in in_berlin] == sorted(rochester.tubes)
    assert [a.barcode for a in in_rochester] == sorted(berlin.tubes)
    assert {barcodes.installation_of(c) for c in rochester.tubes} == {1}
    assert {barcodes.installation_of(c) for c in berlin.tubes} == {2}
    assert {a.status for a in in_berlin + in_rochester} == {AliquotStatus.RECEIVED}
    # Each keeps issuing its own codes: none can be one it received.
    (made,) = consented_tubes(berlin.session, berlin.tech, 1)
    assert barcodes.installation_of(made.barcode) == 2 and made.barcode not in rochester.tubes


def test_tubes_issued_across_serial_1000000_travel_by_manifest_with_8_and_10_digit_codes(
    rochester: Installation, berlin: Installation
) -> None:
    session = rochester.session
    issue_serials(session, ALIQUOT_COUNTER, 999_998 - next_serial(session))
    made = consented_tubes(session, rochester.tech, 2)  # its primary tube takes 999,998
    rochester.tubes, rochester.subject = [t.barcode for t in made], made[0].subject.study_code
    assert [len(c) for c in rochester.tubes] == [8, 10]

    in_berlin = _receive(berlin, _send(rochester, BERLIN), rochester)

    assert [a.barcode for a in in_berlin] == sorted(rochester.tubes)
    assert [barcodes.serial_of(c) for c in rochester.tubes] == [999_999, 1_000_000]
    assert {barcodes.installation_of(c) for c in rochester.tubes} == {1}


def test_a_manifest_naming_a_code_with_the_receivers_number_that_it_never_issued_is_refused(
    rochester: Installation, berlin: Installation
) -> None:
    text = _send(berlin, ROCHESTER)
    forged = barcodes.aliquot_barcode(999_999, installation=1)  # Rochester's number, not issued
    text = text.replace(berlin.tubes[0], forged)
    make_subject(rochester.session, study_code=berlin.subject)

    with pytest.raises(InvalidInput, match=rf"{forged} carries this installation's number \(1\)"):
        import_manifest(rochester.session, rochester.tech, text=text)


def test_the_number_cannot_change_once_the_installation_has_issued_codes(
    rochester: Installation,
) -> None:
    with pytest.raises(Conflict, match=r"number 1 and has issued .* cannot become number 5"):
        set_installation(rochester.session, SYSTEM, number=5)

    assert installation_number(rochester.session) == 1
