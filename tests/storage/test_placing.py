"""Storing, scanning into a box, moving tubes and boxes, taking a tube out."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.errors import Conflict, Forbidden, InvalidInput
from lims.specimens.models import AliquotStatus
from lims.storage.services import (
    check_out,
    location_of,
    move_aliquot,
    move_box,
    scan_into_box,
    store_aliquot,
    take_out,
)
from tests.factories import make_aliquot, make_box, make_freezer, make_rack
from tests.storage.factories import actions, snapshot, stored, withdraw


def test_storing_takes_the_next_free_position_in_row_order(session: Session, tech: Actor) -> None:
    box = make_box(session, rows=2, cols=2)
    first, second = make_aliquot(session), make_aliquot(session)
    store_aliquot(session, tech, barcode=first.barcode, box_id=box.id, position="A1")
    placement = store_aliquot(session, tech, barcode=second.barcode, box_id=box.id)
    assert placement.position == "A2"
    assert second.status is AliquotStatus.STORED
    assert actions(session, second)[-1] == "aliquot.stored"


def test_storing_into_an_occupied_position_names_the_occupant_and_changes_nothing(
    session: Session, tech: Actor
) -> None:
    box = make_box(session)
    first = stored(session, tech, box=box, position="A1")
    second = make_aliquot(session)
    before = snapshot(session, second)
    with pytest.raises(Conflict, match=first.barcode):
        store_aliquot(session, tech, barcode=second.barcode, box_id=box.id, position="a1")
    assert snapshot(session, second) == before


def test_a_full_box_is_refused(session: Session, tech: Actor) -> None:
    box = make_box(session, rows=1, cols=1)
    stored(session, tech, box=box)
    with pytest.raises(Conflict, match="full"):
        store_aliquot(session, tech, barcode=make_aliquot(session).barcode, box_id=box.id)


def test_a_position_outside_the_grid_is_invalid(session: Session, tech: Actor) -> None:
    box = make_box(session, rows=9, cols=9)
    with pytest.raises(InvalidInput, match="A1 to I9"):
        store_aliquot(
            session, tech, barcode=make_aliquot(session).barcode, box_id=box.id, position="J1"
        )


def test_a_tube_in_a_box_cannot_be_stored_again(session: Session, tech: Actor) -> None:
    aliquot = stored(session, tech)
    with pytest.raises(Conflict, match="move it instead"):
        store_aliquot(session, tech, barcode=aliquot.barcode, box_id=make_box(session).id)


def test_an_investigator_may_not_store_or_move(
    session: Session, tech: Actor, investigator: Actor
) -> None:
    aliquot, box = make_aliquot(session), make_box(session)
    with pytest.raises(Forbidden):
        store_aliquot(session, investigator, barcode=aliquot.barcode, box_id=box.id)
    placed = stored(session, tech)
    with pytest.raises(Forbidden):
        move_aliquot(session, investigator, barcode=placed.barcode, box_id=box.id)
    with pytest.raises(Forbidden):
        move_box(session, investigator, box_id=box.id, rack_id=make_rack(session).id)


def test_a_withdrawn_subjects_tube_is_not_stored(session: Session, tech: Actor) -> None:
    aliquot = make_aliquot(session)
    withdraw(session, aliquot.subject)
    with pytest.raises(Conflict, match=f"withdrawn consent; storing {aliquot.barcode} is not"):
        store_aliquot(session, tech, barcode=aliquot.barcode, box_id=make_box(session).id)
    assert aliquot.status is AliquotStatus.RECEIVED


def test_scans_fill_a_box_and_a_repeated_scan_registers_nothing(
    session: Session, tech: Actor
) -> None:
    box = make_box(session)
    tubes = [make_aliquot(session) for _ in range(3)]
    results = [scan_into_box(session, tech, box_id=box.id, barcode=t.barcode) for t in tubes]
    assert [r.position for r in results] == ["A1", "A2", "A3"]
    before = snapshot(session, tubes[1])
    again = scan_into_box(session, tech, box_id=box.id, barcode=tubes[1].barcode.lower())
    assert again.outcome == "already_here"
    assert again.message == f"{tubes[1].barcode} is already in {box.barcode} A2; nothing changed"
    assert snapshot(session, tubes[1]) == before
    assert len(box.placements) == 3


def test_a_scan_with_a_chosen_position_goes_there(session: Session, tech: Actor) -> None:
    box = make_box(session)
    result = scan_into_box(
        session, tech, box_id=box.id, barcode=make_aliquot(session).barcode, position="C4"
    )
    assert (result.outcome, result.position) == ("stored", "C4")


def test_scanning_a_checked_out_tube_into_its_box_checks_it_in(
    session: Session, tech: Actor
) -> None:
    box = make_box(session)
    aliquot = stored(session, tech, box=box, position="B2")
    check_out(session, tech, barcode=aliquot.barcode)
    result = scan_into_box(session, tech, box_id=box.id, barcode=aliquot.barcode)
    assert (result.outcome, result.position) == ("checked_in", "B2")
    assert aliquot.status is AliquotStatus.STORED and aliquot.freeze_thaw_count == 1


def test_moving_a_tube_records_from_and_to(session: Session, tech: Actor) -> None:
    source, target = make_box(session), make_box(session)
    aliquot = stored(session, tech, box=source, position="A1")
    move_aliquot(session, tech, barcode=aliquot.barcode, box_id=target.id, position="E5")
    assert location_of(aliquot) is not None
    assert location_of(aliquot)["box_barcode"] == target.barcode  # type: ignore[index]
    event = next(e for e in _events(session, aliquot) if e.action == "aliquot.moved")
    assert event.before is not None and event.after is not None
    assert (event.before["box"], event.before["position"]) == (source.barcode, "A1")
    assert (event.after["box"], event.after["position"]) == (target.barcode, "E5")


def test_moving_to_an_occupied_position_changes_nothing(session: Session, tech: Actor) -> None:
    box = make_box(session)
    occupant = stored(session, tech, box=box, position="A2")
    aliquot = stored(session, tech, box=box, position="A1")
    before = snapshot(session, aliquot)
    with pytest.raises(Conflict, match=occupant.barcode):
        move_aliquot(session, tech, barcode=aliquot.barcode, box_id=box.id, position="A2")
    assert snapshot(session, aliquot) == before


def test_a_checked_out_tube_cannot_be_moved(session: Session, tech: Actor) -> None:
    aliquot = stored(session, tech)
    check_out(session, tech, barcode=aliquot.barcode)
    target = make_box(session)
    before = snapshot(session, aliquot)
    with pytest.raises(Conflict, match="checked_out"):
        move_aliquot(session, tech, barcode=aliquot.barcode, box_id=target.id)
    assert snapshot(session, aliquot) == before


def test_a_withdrawn_subjects_tube_is_not_moved(session: Session, tech: Actor) -> None:
    aliquot = stored(session, tech)
    withdraw(session, aliquot.subject)
    with pytest.raises(Conflict, match="only be disposed"):
        move_aliquot(session, tech, barcode=aliquot.barcode, box_id=make_box(session).id)


def test_moving_a_box_moves_its_tubes_and_tells_their_custody(
    session: Session, tech: Actor
) -> None:
    box = make_box(session)
    tubes = [stored(session, tech, box=box) for _ in range(2)]
    freezer = make_freezer(session, "LN2 tank 1")
    rack = make_rack(session, freezer)
    move_box(session, tech, box_id=box.id, rack_id=rack.id)
    assert location_of(tubes[0])["freezer"] == "LN2 tank 1"  # type: ignore[index]
    assert all(actions(session, t)[-1] == "aliquot.moved" for t in tubes)
    with pytest.raises(Conflict, match="already in"):
        move_box(session, tech, box_id=box.id, rack_id=rack.id)


def test_taking_a_tube_out_frees_its_position_and_records_why(
    session: Session, tech: Actor
) -> None:
    box = make_box(session)
    aliquot = stored(session, tech, box=box, position="A1")
    take_out(session, tech, barcode=aliquot.barcode, reason="sent to the sequencing core")
    assert location_of(aliquot) is None and aliquot.status is AliquotStatus.CHECKED_OUT
    event = _events(session, aliquot)[-1]
    assert (event.action, event.reason) == ("aliquot.removed", "sent to the sequencing core")
    # The freed position takes the next tube; the taken-out tube can be scanned in elsewhere.
    assert (
        store_aliquot(session, tech, barcode=make_aliquot(session).barcode, box_id=box.id).position
        == "A1"
    )


def test_taking_out_needs_a_reason_and_a_placed_tube(session: Session, tech: Actor) -> None:
    aliquot = stored(session, tech)
    with pytest.raises(InvalidInput, match="Say why"):
        take_out(session, tech, barcode=aliquot.barcode, reason=" ")
    with pytest.raises(Conflict, match="not in a box"):
        take_out(session, tech, barcode=make_aliquot(session).barcode, reason="x")


def _events(session: Session, aliquot: object) -> list:  # type: ignore[type-arg]
    from lims.audit.services import events_for

    return events_for(session, aliquot)
