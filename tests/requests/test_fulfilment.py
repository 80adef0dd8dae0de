"""Fulfilling an approved request: the proposed pick list, the reservation, picking by scan,
letting a tube go, and the outbound shipment with consent checked again when it leaves."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import Action
from lims.audit.services import events_for
from lims.errors import Conflict, Forbidden, InvalidInput, NotFound
from lims.requests.models import ItemStatus, RequestState, SpecimenRequest
from lims.requests.services import (
    cancel_reservation,
    confirm_pick,
    fulfilment,
    fulfilment_of,
    pack_request_shipment,
    pick_list_pdf,
    propose_pick_list,
    reserve_pick_list,
    ship_request,
)
from lims.shipments.models import ShipmentStatus
from lims.specimens.models import AliquotStatus
from lims.storage.models import Placement
from tests.barcode_reading import decode, rasterise
from tests.factories import make_box, make_freezer, make_rack
from tests.requests.fulfilment_factories import collection, request_to_fulfil, thawed
from tests.requests.workflow_factories import second_investigator
from tests.shipments.factories import (
    SHIPPED_AT,
    biorepository,
    institution,
    outbound,
    withdrawn,
)

PICKED_AT = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)


@pytest.fixture
def staff(
    session: Session, tech: Actor, investigator: Actor, reviewer: Actor, admin: Actor
) -> tuple[Actor, Actor, Actor, Actor]:
    return tech, investigator, reviewer, admin


def _request(
    session: Session, staff: tuple[Actor, ...], files: Path, **values: object
) -> SpecimenRequest:
    _, investigator, reviewer, admin = staff
    return request_to_fulfil(session, investigator, reviewer, admin, files, **values)


def test_the_pick_list_takes_one_tube_per_visit_fewest_thaws_first_in_walking_order(
    session: Session, staff: tuple[Actor, ...], tmp_path: Path
) -> None:
    tech = staff[0]
    freezer = make_freezer(session, "F2")
    late_rack, early_rack = make_rack(session, freezer), make_rack(session, freezer)
    # Two boxes whose walking order is not their creation order: rack names sort naturally.
    late_rack.name, early_rack.name = "Rack 10", "Rack 9"
    boxes = [make_box(session, rack=late_rack), make_box(session, rack=early_rack)]
    found = collection(session, boxes, [3, 3])
    first_visit = found.tubes[found.visits[0].id]
    thawed(session, tech, first_visit[0])  # the first tube of visit 1 has thawed once
    req = _request(session, staff, tmp_path)

    proposal = propose_pick_list(session, tech, request=req.code)

    second_visit = found.tubes[found.visits[1].id]
    assert [line.barcode for line in proposal.lines] == [
        second_visit[0].barcode,  # Rack 9 comes before Rack 10
        first_visit[1].barcode,  # the unthawed tube, though first_visit[0] sits before it
    ]
    assert (proposal.visits, proposal.short_visits, proposal.kept_last) == (2, 0, 0)


def test_a_visits_last_stored_tube_stays_unless_the_request_allows_it(
    session: Session, staff: tuple[Actor, ...], tmp_path: Path
) -> None:
    found = collection(session, [make_box(session)], [1, 2])
    keeping = _request(session, staff, tmp_path, aliquots_per_visit=2)
    taking = _request(session, staff, tmp_path, aliquots_per_visit=2, allow_last_aliquot=True)

    kept = propose_pick_list(session, staff[0], request=keeping.code)
    taken = propose_pick_list(session, staff[0], request=taking.code)

    assert len(kept.lines) == 1  # one of visit 2's two; visit 1's only tube stays
    assert (kept.short_visits, kept.kept_last) == (2, 2)
    assert sorted(line.barcode for line in taken.lines) == sorted(
        t.barcode for tubes in found.tubes.values() for t in tubes
    )


def test_the_last_tube_rule_holds_when_the_visits_are_counted_in_several_queries(
    session: Session, staff: tuple[Actor, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A broad request at consortium scale matches more visits than PostgreSQL takes bound
    # parameters in one statement (65,535), so stored tubes are counted a slice of visits at a
    # time; one visit per query here.
    monkeypatch.setattr(fulfilment, "_IDS_PER_QUERY", 1)
    collection(session, [make_box(session)], [1, 2, 3])
    keeping = _request(session, staff, tmp_path, aliquots_per_visit=2)

    kept = propose_pick_list(session, staff[0], request=keeping.code)

    assert len(kept.lines) == 1 + 2  # visit 1's only tube stays, 1 of visit 2's, 2 of visit 3's
    assert (kept.visits, kept.short_visits, kept.kept_last) == (3, 2, 2)


def test_a_tube_with_less_than_the_quantity_asked_is_not_proposed(
    session: Session, staff: tuple[Actor, ...], tmp_path: Path
) -> None:
    collection(session, [make_box(session)], [2], volume_ul=150)
    req = _request(session, staff, tmp_path, quantity_ul=200.0)

    assert propose_pick_list(session, staff[0], request=req.code).lines == []


def test_a_tube_already_packed_for_another_shipment_is_not_proposed(
    session: Session, staff: tuple[Actor, ...], tmp_path: Path
) -> None:
    found = collection(session, [make_box(session)], [2])
    going, staying = found.tubes[found.visits[0].id]
    outbound(session, staff[0], [going])
    req = _request(session, staff, tmp_path)

    proposal = propose_pick_list(session, staff[0], request=req.code)

    assert [line.barcode for line in proposal.lines] == [staying.barcode]


def test_reserving_moves_tubes_and_request_on_together_and_audits_each(
    session: Session, staff: tuple[Actor, ...], tmp_path: Path
) -> None:
    tech = staff[0]
    collection(session, [make_box(session)], [2, 2])
    req = _request(session, staff, tmp_path)

    done = reserve_pick_list(session, tech, request=req.code)

    assert req.state is RequestState.FULFILLING
    assert [i.status for i in done.items] == [ItemStatus.RESERVED] * 2
    assert all(i.aliquot.status is AliquotStatus.RESERVED for i in done.items)
    assert all(i.open_aliquot_id == i.aliquot_id for i in done.items)
    assert [e.action for e in events_for(session, done.items[0].aliquot)][-1] == (
        Action.ALIQUOT_RESERVED
    )
    assert [e.action for e in events_for(session, req)][-1] == Action.REQUEST_FULFILMENT_STARTED


def test_a_tube_another_request_reserved_meanwhile_refuses_the_whole_reservation(
    session: Session, staff: tuple[Actor, ...], tmp_path: Path
) -> None:
    tech = staff[0]
    collection(session, [make_box(session)], [2, 2])
    first, second = _request(session, staff, tmp_path), _request(session, staff, tmp_path)
    seen = propose_pick_list(session, tech, request=second.code)  # what the second bench saw
    reserve_pick_list(session, tech, request=first.code)

    with pytest.raises(Conflict, match="2 tubes of 2 cannot be reserved") as refused:
        reserve_pick_list(
            session, tech, request=second.code, aliquot_ids=[t.aliquot_id for t in seen.lines]
        )

    assert "not on the pick list now" in refused.value.detail
    session.refresh(second)
    assert second.state is RequestState.APPROVED and second.items == []


def test_scanning_confirms_each_tube_and_refuses_one_not_on_the_list_by_name(
    session: Session, staff: tuple[Actor, ...], tmp_path: Path
) -> None:
    tech = staff[0]
    found = collection(session, [make_box(session)], [2, 2, 2])
    req = _request(session, staff, tmp_path)
    done = reserve_pick_list(session, tech, request=req.code)
    stranger = next(
        t for tubes in found.tubes.values() for t in tubes if t.status is AliquotStatus.STORED
    )

    outcome = confirm_pick(
        session, tech, request=req.code, barcode=done.items[0].aliquot.barcode, picked_at=PICKED_AT
    )
    with pytest.raises(Conflict, match=f"{stranger.barcode} is not on the pick list of {req.code}"):
        confirm_pick(session, tech, request=req.code, barcode=stranger.barcode, picked_at=PICKED_AT)
    with pytest.raises(Conflict, match="already picked"):
        confirm_pick(
            session, tech, request=req.code, barcode=done.items[0].aliquot.barcode,
            picked_at=PICKED_AT,
        )  # fmt: skip
    misread = stranger.barcode[:-1] + ("0" if stranger.barcode[-1] != "0" else "1")
    with pytest.raises(InvalidInput, match="check"):
        confirm_pick(session, tech, request=req.code, barcode=misread, picked_at=PICKED_AT)

    assert outcome.fulfilment.progress == "1 of 3 picked"
    assert done.items[0].status is ItemStatus.PICKED and done.items[0].picked_at == PICKED_AT
    assert stranger.status is AliquotStatus.STORED


def test_letting_a_tube_go_puts_it_back_to_stored_with_the_reason(
    session: Session, staff: tuple[Actor, ...], tmp_path: Path
) -> None:
    tech = staff[0]
    collection(session, [make_box(session)], [2, 2])
    req = _request(session, staff, tmp_path)
    item = reserve_pick_list(session, tech, request=req.code).items[0]

    with pytest.raises(InvalidInput, match="Say why"):
        cancel_reservation(session, tech, request=req.code, item_id=item.id, reason=" ")
    cancel_reservation(session, tech, request=req.code, item_id=item.id, reason="not found")

    assert item.status is ItemStatus.CANCELLED and item.open_aliquot_id is None
    assert item.cancel_reason == "not found"
    assert item.aliquot.status is AliquotStatus.STORED
    assert fulfilment_of(session, tech, request=req.code).progress == "0 of 1 picked"
    assert [e.action for e in events_for(session, item.aliquot)][-1] == Action.ALIQUOT_UNRESERVED


def _picked(
    session: Session, tech: Actor, staff: tuple[Actor, ...], tmp_path: Path
) -> SpecimenRequest:
    collection(session, [make_box(session)], [2, 2])
    req = _request(session, staff, tmp_path)
    for item in reserve_pick_list(session, tech, request=req.code).items:
        confirm_pick(
            session, tech, request=req.code, barcode=item.aliquot.barcode, picked_at=PICKED_AT
        )
    biorepository(session)
    return req


def test_the_picked_tubes_ship_for_the_requests_purpose_and_the_request_becomes_shipped(
    session: Session, staff: tuple[Actor, ...], tmp_path: Path
) -> None:
    tech = staff[0]
    req = _picked(session, tech, staff, tmp_path)

    shipment = pack_request_shipment(
        session, tech, request=req.code, to_address_id=institution(session).id
    )
    ship_request(
        session, tech, request=req.code, courier="FedEx", tracking_number="7712",
        shipped_at=SHIPPED_AT, dry_ice_kg=5.0,
    )  # fmt: skip

    assert req.shipment is shipment and shipment.status is ShipmentStatus.SHIPPED
    assert (shipment.purpose, shipment.modifiers) == (req.purpose, req.modifiers)
    assert [i.barcode for i in shipment.items] == [i.aliquot.barcode for i in req.items]
    assert len(shipment.boxes) == 1
    assert req.state is RequestState.SHIPPED
    assert {i.status for i in req.items} == {ItemStatus.SHIPPED}
    assert {i.aliquot.status for i in req.items} == {AliquotStatus.IN_TRANSIT}
    ids = [i.aliquot_id for i in req.items]
    assert session.scalars(select(Placement).where(Placement.aliquot_id.in_(ids))).all() == []


def test_a_consent_withdrawal_after_reservation_stops_the_shipment_and_changes_nothing(
    session: Session, staff: tuple[Actor, ...], tmp_path: Path
) -> None:
    tech = staff[0]
    req = _picked(session, tech, staff, tmp_path)
    shipment = pack_request_shipment(
        session, tech, request=req.code, to_address_id=institution(session).id
    )
    leaving = req.items[0].aliquot
    withdrawn(session, leaving)

    with pytest.raises(Conflict, match=f"may no longer travel.*{leaving.barcode}"):
        ship_request(
            session, tech, request=req.code, courier="FedEx", tracking_number="7712",
            shipped_at=SHIPPED_AT,
        )  # fmt: skip

    session.refresh(req)
    session.refresh(shipment)
    assert req.state is RequestState.FULFILLING and shipment.status is ShipmentStatus.PACKING
    assert {i.status for i in req.items} == {ItemStatus.PICKED}
    session.refresh(leaving)
    assert leaving.status is AliquotStatus.RESERVED


def test_a_withdrawn_tube_let_go_leaves_the_packed_shipment_and_the_rest_ships(
    session: Session, staff: tuple[Actor, ...], tmp_path: Path
) -> None:
    tech = staff[0]
    req = _picked(session, tech, staff, tmp_path)
    shipment = pack_request_shipment(
        session, tech, request=req.code, to_address_id=institution(session).id
    )
    leaving, staying = req.items[0], req.items[1]
    withdrawn(session, leaving.aliquot)

    cancel_reservation(
        session, tech, request=req.code, item_id=leaving.id, reason="consent withdrawn"
    )
    ship_request(
        session, tech, request=req.code, courier="FedEx", tracking_number="7712",
        shipped_at=SHIPPED_AT,
    )  # fmt: skip

    assert [i.barcode for i in shipment.items] == [staying.aliquot.barcode]
    assert leaving.aliquot.status is AliquotStatus.STORED
    assert staying.aliquot.status is AliquotStatus.IN_TRANSIT
    assert req.state is RequestState.SHIPPED
    assert Action.SHIPMENT_TUBE_UNPACKED in [e.action for e in events_for(session, shipment)]


def test_tubes_still_to_pick_keep_the_shipment_from_being_packed(
    session: Session, staff: tuple[Actor, ...], tmp_path: Path
) -> None:
    tech = staff[0]
    collection(session, [make_box(session)], [2, 2])
    req = _request(session, staff, tmp_path)
    reserve_pick_list(session, tech, request=req.code)
    biorepository(session)

    with pytest.raises(Conflict, match=r"2 tubes of .* still to be picked or let go"):
        pack_request_shipment(
            session, tech, request=req.code, to_address_id=institution(session).id
        )


def test_investigators_cannot_reach_a_pick_list_and_a_request_is_picked_once(
    session: Session, staff: tuple[Actor, ...], tmp_path: Path
) -> None:
    tech, investigator = staff[0], staff[1]
    collection(session, [make_box(session)], [2])
    req = _request(session, staff, tmp_path)
    other = second_investigator(session)

    for who in (investigator, other):
        with pytest.raises(Forbidden):
            propose_pick_list(session, who, request=req.code)
        with pytest.raises(Forbidden):
            reserve_pick_list(session, who, request=req.code)
    with pytest.raises(NotFound):
        propose_pick_list(session, tech, request="REQ-9999")
    reserve_pick_list(session, tech, request=req.code)
    with pytest.raises(Conflict, match="is fulfilling; only an approved request"):
        reserve_pick_list(session, tech, request=req.code)


def test_the_pick_list_pdf_opens_the_request_by_its_barcode(
    session: Session, staff: tuple[Actor, ...], tmp_path: Path
) -> None:
    collection(session, [make_box(session)], [2])
    req = _request(session, staff, tmp_path)

    name, pdf = pick_list_pdf(session, staff[0], request=req.code, at=PICKED_AT)

    assert name == f"pick-list-{req.code}.pdf"
    assert decode(rasterise(pdf, 200)[0])["Code128"] == [req.code]
