"""Shipments through their services: create, pack, ship, receive, and the rules on the way."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.services import events_for
from lims.errors import Conflict, InvalidInput
from lims.shipments.models import ItemState, ShipmentStatus
from lims.shipments.services import (
    accept_unexpected,
    complete_receipt,
    create_shipment,
    pack_box,
    receive_scan,
    record_arrival,
    ship_shipment,
    write_off_missing,
)
from lims.specimens.duo import DuoTerm
from lims.specimens.models import AliquotStatus
from lims.storage.models import Placement
from tests.shipments.factories import (
    RECEIVED_AT,
    SHIPPED_AT,
    biorepository,
    consented_tubes,
    institution,
    outbound,
    shipped,
    withdrawn,
)


def test_an_outbound_shipment_is_created_from_scanned_tubes(session: Session, tech: Actor) -> None:
    tubes = consented_tubes(session, tech)

    shipment = outbound(session, tech, tubes)

    assert shipment.status is ShipmentStatus.PLANNED
    assert shipment.code.startswith("S") and len(shipment.code) == 8
    assert [i.barcode for i in shipment.items] == [a.barcode for a in tubes]
    assert [str(e.action) for e in events_for(session, shipment)] == ["shipment.created"]


def test_an_aliquot_in_an_open_shipment_cannot_join_another(session: Session, tech: Actor) -> None:
    tubes = consented_tubes(session, tech)
    first = outbound(session, tech, tubes)

    with pytest.raises(Conflict, match=f"already in open shipment {first.code}"):
        outbound(session, tech, tubes[:1])


def test_an_outbound_shipment_needs_a_purpose_for_the_consent_check(
    session: Session, tech: Actor
) -> None:
    with pytest.raises(InvalidInput, match="purpose"):
        create_shipment(
            session,
            tech,
            from_address_id=biorepository(session).id,
            to_address_id=institution(session).id,
        )


def test_a_tube_of_a_withdrawn_subject_cannot_be_packed(session: Session, tech: Actor) -> None:
    tubes = consented_tubes(session, tech)
    shipment = outbound(session, tech, tubes)
    withdrawn(session, tubes[0])

    with pytest.raises(Conflict, match="nothing was packed") as refused:
        pack_box(session, tech, shipment_id=shipment.id, barcodes=[a.barcode for a in tubes])

    assert "withdr" in refused.value.errors[0]["message"]
    assert shipment.boxes == []


def test_a_tube_whose_consent_does_not_cover_the_purpose_cannot_join(
    session: Session, tech: Actor
) -> None:
    from datetime import date

    from tests.factories import make_specimen
    from tests.specimens.factories import give_consent, make_consent_form
    from tests.storage.factories import stored

    specimen = make_specimen(session)
    give_consent(
        session,
        specimen.visit.subject,
        make_consent_form(session),
        date(2026, 3, 1),
        future_research=False,
        health_research=False,
    )
    tube = stored(session, tech, specimen=specimen)

    with pytest.raises(Conflict, match="nothing was added"):
        outbound(session, tech, [tube], purpose=DuoTerm.HMB)


def test_shipping_moves_each_tube_in_transit_out_of_its_box_keeping_where_it_was(
    session: Session, tech: Actor
) -> None:
    tubes = consented_tubes(session, tech)
    shipment = outbound(session, tech, tubes)
    pack_box(session, tech, shipment_id=shipment.id, barcodes=[a.barcode for a in tubes])
    held = session.scalar(select(Placement).where(Placement.aliquot_id == tubes[0].id))
    assert held is not None
    box, position = held.box.barcode, held.position

    dispatch = ship_shipment(
        session,
        tech,
        shipment_id=shipment.id,
        courier="World Courier",
        tracking_number="1Z999",
        shipped_at=SHIPPED_AT,
        dry_ice_kg=4.5,
        logger_id="LOG-1",
    )

    assert dispatch.warnings == []
    assert shipment.status is ShipmentStatus.SHIPPED
    assert {a.status for a in tubes} == {AliquotStatus.IN_TRANSIT}
    assert session.scalar(select(Placement).where(Placement.aliquot_id == tubes[0].id)) is None
    item = shipment.items[0]
    assert (item.from_box, item.from_position) == (box, position)
    assert str(events_for(session, tubes[0])[-1].action) == "aliquot.shipped"


def test_a_dry_ice_shipment_arriving_on_a_saturday_is_warned_about(
    session: Session, tech: Actor
) -> None:
    from datetime import UTC, datetime

    tubes = consented_tubes(session, tech, 1)
    shipment = outbound(session, tech, tubes)
    pack_box(session, tech, shipment_id=shipment.id, barcodes=[tubes[0].barcode])

    friday = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)
    dispatch = ship_shipment(
        session,
        tech,
        shipment_id=shipment.id,
        courier="FedEx",
        tracking_number="7777",
        shipped_at=friday,
        dry_ice_kg=6,
    )

    assert any("Saturday" in w for w in dispatch.warnings)


def test_a_shipment_with_unpacked_tubes_is_not_shipped(session: Session, tech: Actor) -> None:
    tubes = consented_tubes(session, tech)
    shipment = outbound(session, tech, tubes)
    pack_box(session, tech, shipment_id=shipment.id, barcodes=[tubes[0].barcode])

    with pytest.raises(Conflict, match="not packed yet"):
        ship_shipment(
            session,
            tech,
            shipment_id=shipment.id,
            courier="FedEx",
            tracking_number="1",
            shipped_at=SHIPPED_AT,
        )


def test_receiving_by_scan_keeps_a_running_reconciliation(session: Session, tech: Actor) -> None:
    tubes = consented_tubes(session, tech, 3)
    stray = consented_tubes(session, tech, 1)[0]
    shipment = shipped(session, tech, tubes)

    first = receive_scan(
        session, tech, shipment_id=shipment.id, barcode=tubes[0].barcode, scanned_at=RECEIVED_AT
    )
    again = receive_scan(
        session, tech, shipment_id=shipment.id, barcode=tubes[0].barcode, scanned_at=RECEIVED_AT
    )
    extra = receive_scan(
        session, tech, shipment_id=shipment.id, barcode=stray.barcode, scanned_at=RECEIVED_AT
    )

    assert (first.kind, again.kind, extra.kind) == ("received", "duplicate", "unexpected")
    result = extra.reconciliation
    assert result.received == (tubes[0].barcode,)
    assert result.missing == (tubes[1].barcode, tubes[2].barcode)
    assert result.unexpected == (stray.barcode,)
    assert result.duplicates == (tubes[0].barcode,)
    assert tubes[0].status is AliquotStatus.RECEIVED
    assert stray.status is AliquotStatus.STORED  # not taken in until someone decides


def test_a_missing_tube_stays_missing_until_it_is_scanned_or_written_off(
    session: Session, tech: Actor
) -> None:
    tubes = consented_tubes(session, tech, 3)
    shipment = shipped(session, tech, tubes)
    receive_scan(
        session, tech, shipment_id=shipment.id, barcode=tubes[0].barcode, scanned_at=RECEIVED_AT
    )

    complete_receipt(session, tech, shipment_id=shipment.id, received_at=RECEIVED_AT)
    assert [i.state for i in shipment.items] == [
        ItemState.RECEIVED,
        ItemState.MISSING,
        ItemState.MISSING,
    ]
    late = receive_scan(
        session, tech, shipment_id=shipment.id, barcode=tubes[1].barcode, scanned_at=RECEIVED_AT
    )
    lost = write_off_missing(
        session, tech, shipment_id=shipment.id, item_id=shipment.items[2].id, reason="not in box"
    )

    assert late.kind == "received" and tubes[1].status is AliquotStatus.RECEIVED
    assert lost.state is ItemState.LOST and tubes[2].status is AliquotStatus.MISSING


def test_an_unexpected_tube_of_ours_can_be_accepted(session: Session, tech: Actor) -> None:
    tubes = consented_tubes(session, tech, 1)
    shipment = shipped(session, tech, tubes)
    others = consented_tubes(session, tech, 1)
    stray = shipped(session, tech, others)  # in transit in another shipment...
    complete_receipt(session, tech, shipment_id=stray.id, received_at=RECEIVED_AT)
    # ...whose receipt found it missing: it arrived in the first one's package.
    scan = receive_scan(
        session, tech, shipment_id=shipment.id, barcode=others[0].barcode, scanned_at=RECEIVED_AT
    )
    assert scan.kind == "unexpected"

    item = accept_unexpected(session, tech, shipment_id=shipment.id, item_id=shipment.items[-1].id)

    assert item.state is ItemState.RECEIVED
    assert others[0].status is AliquotStatus.RECEIVED


def test_condition_on_arrival_is_recorded_with_thawed_tubes(session: Session, tech: Actor) -> None:
    tubes = consented_tubes(session, tech, 2)
    shipment = shipped(session, tech, tubes)

    record_arrival(
        session,
        tech,
        shipment_id=shipment.id,
        logger_reading_c=-71.5,
        dry_ice_left_kg=1.2,
        is_damaged=True,
        notes="outer box dented",
        thawed_barcodes=[tubes[1].barcode],
    )

    assert (shipment.logger_reading_c, shipment.dry_ice_left_kg) == (-71.5, 1.2)
    assert [i.is_thawed for i in shipment.items] == [False, True]
    assert [a.status for a in tubes] == [AliquotStatus.IN_TRANSIT, AliquotStatus.QUARANTINED]
    scan = receive_scan(
        session, tech, shipment_id=shipment.id, barcode=tubes[1].barcode, scanned_at=RECEIVED_AT
    )
    assert scan.kind == "received" and tubes[1].status is AliquotStatus.QUARANTINED
    assert str(events_for(session, shipment)[-1].action) == "shipment.arrival_recorded"


def test_an_outbound_shipment_is_not_received_at_the_biorepository(
    session: Session, tech: Actor
) -> None:
    tubes = consented_tubes(session, tech, 1)
    shipment = outbound(session, tech, tubes)
    pack_box(session, tech, shipment_id=shipment.id, barcodes=[tubes[0].barcode])
    ship_shipment(
        session, tech, shipment_id=shipment.id, courier="FedEx", tracking_number="1",
        shipped_at=SHIPPED_AT,
    )  # fmt: skip

    with pytest.raises(Conflict, match="is outbound"):
        receive_scan(
            session, tech, shipment_id=shipment.id, barcode=tubes[0].barcode,
            scanned_at=RECEIVED_AT,
        )  # fmt: skip


def test_a_tube_packed_into_the_wrong_shipment_is_named_with_its_own(
    session: Session, tech: Actor
) -> None:
    here = shipped(session, tech, consented_tubes(session, tech, 1))
    elsewhere_tubes = consented_tubes(session, tech, 1)
    elsewhere = shipped(session, tech, elsewhere_tubes)

    scan = receive_scan(
        session, tech, shipment_id=here.id, barcode=elsewhere_tubes[0].barcode,
        scanned_at=RECEIVED_AT,
    )  # fmt: skip

    assert scan.kind == "wrong_shipment" and elsewhere.code in scan.message
    assert scan.reconciliation.wrong_shipment == {elsewhere_tubes[0].barcode: elsewhere.code}
