"""Each lifecycle transition of a tube in storage, and each refusal (which changes nothing)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.services import events_for
from lims.errors import Conflict, Forbidden, InvalidInput
from lims.specimens.models import AliquotStatus, DisposalReason
from lims.storage.models import Placement
from lims.storage.services import (
    check_in,
    check_out,
    clear_quarantine,
    create_box,
    create_freezer,
    create_rack,
    dispose_aliquot,
    dispose_aliquots,
    location_of,
    mark_found,
    mark_missing,
    quarantine,
    take_out,
    use_aliquot,
)
from lims.storage.services._common import free_position, placement_of
from tests.factories import make_aliquot, make_box
from tests.storage.factories import actions, snapshot, stored, withdraw

S = AliquotStatus
CRACKED = {"reason": DisposalReason.DAMAGED, "note": "tube cracked", "authorised_by": "tech"}
WITHDRAWN = {"reason": DisposalReason.CONSENT_WITHDRAWN, "authorised_by": "tech"}


def test_checking_out_holds_the_position_and_is_audited(session: Session, tech: Actor) -> None:
    aliquot = stored(session, tech, position="C3")
    check_out(session, tech, barcode=aliquot.barcode, reason="ELISA run 12")
    assert aliquot.status is S.CHECKED_OUT
    assert location_of(aliquot)["position"] == "C3"  # type: ignore[index]
    event = events_for(session, aliquot)[-1]
    assert event.action == "aliquot.checked_out" and event.reason == "ELISA run 12"
    assert event.before == {
        "status": "stored",
        **{k: event.after[k] for k in ("box", "freezer", "rack", "position")},
    }  # type: ignore[index]
    assert event.after is not None and event.after["status"] == "checked_out"


def test_checking_in_returns_to_the_held_position_and_counts_a_freeze_thaw(
    session: Session, tech: Actor
) -> None:
    aliquot = stored(session, tech, position="C3")
    check_out(session, tech, barcode=aliquot.barcode)
    check_in(session, tech, barcode=aliquot.barcode)
    assert aliquot.status is S.STORED and aliquot.freeze_thaw_count == 1
    assert location_of(aliquot)["position"] == "C3"  # type: ignore[index]
    assert actions(session, aliquot)[-2:] == ["aliquot.checked_out", "aliquot.checked_in"]


def test_a_tube_kept_in_a_fridge_does_not_count_a_freeze_thaw(
    session: Session, tech: Actor
) -> None:
    fridge = create_freezer(session, tech, name="Fridge 4C", temperature_c=4, room="B204")
    rack = create_rack(session, tech, freezer_id=fridge.id, name="Shelf 1")
    box = create_box(session, tech, name="Cold box", n_rows=5, n_cols=5, rack_id=rack.id)
    aliquot = stored(session, tech, box=box)
    check_out(session, tech, barcode=aliquot.barcode)
    check_in(session, tech, barcode=aliquot.barcode)
    assert aliquot.freeze_thaw_count == 0


def test_a_taken_out_tube_is_checked_in_into_the_box_given(session: Session, tech: Actor) -> None:
    aliquot = stored(session, tech)
    take_out(session, tech, barcode=aliquot.barcode, reason="box retired")
    with pytest.raises(Conflict, match="no position held"):
        check_in(session, tech, barcode=aliquot.barcode)
    box = make_box(session)
    check_in(session, tech, barcode=aliquot.barcode, box_id=box.id, position="B1")
    assert location_of(aliquot)["box_barcode"] == box.barcode  # type: ignore[index]
    assert aliquot.freeze_thaw_count == 1


def test_a_stored_tube_cannot_be_checked_in(session: Session, tech: Actor) -> None:
    aliquot = stored(session, tech)
    before = snapshot(session, aliquot)
    with pytest.raises(Conflict, match="cannot become stored"):
        check_in(session, tech, barcode=aliquot.barcode)
    assert snapshot(session, aliquot) == before


def test_a_withdrawn_subjects_tube_is_not_checked_out(session: Session, tech: Actor) -> None:
    aliquot = stored(session, tech)
    withdraw(session, aliquot.subject)
    before = snapshot(session, aliquot)
    with pytest.raises(
        Conflict, match=f"withdrawn consent; checking out {aliquot.barcode} is not allowed"
    ):
        check_out(session, tech, barcode=aliquot.barcode)
    assert snapshot(session, aliquot) == before


def test_partial_use_reduces_the_volume(session: Session, tech: Actor) -> None:
    aliquot = stored(session, tech, volume_ul=250)
    check_out(session, tech, barcode=aliquot.barcode)
    use_aliquot(session, tech, barcode=aliquot.barcode, volume_ul=100)
    assert (aliquot.volume_ul, aliquot.status) == (150, S.CHECKED_OUT)
    event = events_for(session, aliquot)[-1]
    assert event.action == "aliquot.volume_used"
    assert event.before["volume_ul"] == 250 and event.after["volume_ul"] == 150  # type: ignore[index]


def test_using_it_all_consumes_the_tube_and_frees_its_position(
    session: Session, tech: Actor
) -> None:
    aliquot = stored(session, tech, volume_ul=250)
    check_out(session, tech, barcode=aliquot.barcode)
    use_aliquot(session, tech, barcode=aliquot.barcode, consume_all=True)
    assert (aliquot.volume_ul, aliquot.status) == (0, S.CONSUMED)
    assert location_of(aliquot) is None
    assert actions(session, aliquot)[-1] == "aliquot.consumed"


def test_a_tube_in_the_freezer_cannot_be_used_without_checking_it_out(
    session: Session, tech: Actor
) -> None:
    aliquot = stored(session, tech)
    before = snapshot(session, aliquot)
    with pytest.raises(Conflict, match="cannot become consumed"):
        use_aliquot(session, tech, barcode=aliquot.barcode, volume_ul=10)
    assert snapshot(session, aliquot) == before


def test_disposing_needs_a_reason_and_frees_the_position(session: Session, tech: Actor) -> None:
    aliquot = stored(session, tech)
    with pytest.raises(InvalidInput, match="Choose why"):
        dispose_aliquot(session, tech, barcode=aliquot.barcode, reason=None, authorised_by="tech")
    dispose_aliquot(session, tech, barcode=aliquot.barcode, **CRACKED)
    assert aliquot.status is S.DISPOSED and location_of(aliquot) is None
    event = events_for(session, aliquot)[-1]
    assert event.reason == "damaged: tube cracked" and event.after["box"] is None  # type: ignore[index]
    assert event.before["position"] == "A1"  # type: ignore[index]


def test_a_disposed_tube_can_change_no_further(session: Session, tech: Actor) -> None:
    aliquot = stored(session, tech)
    dispose_aliquot(session, tech, barcode=aliquot.barcode, **CRACKED)
    before = snapshot(session, aliquot)
    for refused in (
        lambda: dispose_aliquot(session, tech, barcode=aliquot.barcode, **CRACKED),
        lambda: check_out(session, tech, barcode=aliquot.barcode),
        lambda: quarantine(session, tech, barcode=aliquot.barcode, reason="x"),
        lambda: mark_missing(session, tech, barcode=aliquot.barcode),
    ):
        with pytest.raises(Conflict, match="no further changes"):
            refused()
    assert snapshot(session, aliquot) == before


def test_a_withdrawn_subjects_tubes_may_be_disposed(session: Session, tech: Actor) -> None:
    aliquot = stored(session, tech)
    withdraw(session, aliquot.subject)
    dispose_aliquot(session, tech, barcode=aliquot.barcode, **WITHDRAWN)
    assert aliquot.status is S.DISPOSED


def test_batch_disposal_is_all_or_nothing(session: Session, tech: Actor) -> None:
    good = [stored(session, tech) for _ in range(2)]
    used_up = stored(session, tech)
    check_out(session, tech, barcode=used_up.barcode)
    use_aliquot(session, tech, barcode=used_up.barcode, consume_all=True)
    before = [snapshot(session, a) for a in good]
    codes = [a.barcode for a in (*good, used_up)]
    with pytest.raises(Conflict, match="nothing was changed") as refused:
        dispose_aliquots(session, tech, barcodes=codes, **WITHDRAWN)
    assert [e["message"] for e in refused.value.errors] == [
        f"Line 3, {used_up.barcode}: Aliquot {used_up.barcode} is consumed and cannot become "
        "disposed (no further changes)"
    ]
    assert [snapshot(session, a) for a in good] == before
    done = dispose_aliquots(session, tech, barcodes=codes[:2], **WITHDRAWN)
    assert [a.status for a in done] == [S.DISPOSED, S.DISPOSED]


def test_batch_disposal_of_an_unknown_barcode_is_invalid_input(
    session: Session, tech: Actor
) -> None:
    with pytest.raises(InvalidInput, match="1 of 1"):
        dispose_aliquots(session, tech, barcodes=["NO-SUCH-TUBE"], **WITHDRAWN)


def test_a_missing_tube_keeps_its_position_until_found(session: Session, tech: Actor) -> None:
    aliquot = stored(session, tech, position="D4")
    mark_missing(session, tech, barcode=aliquot.barcode, reason="not at D4 at inventory")
    assert aliquot.status is S.MISSING and location_of(aliquot)["position"] == "D4"  # type: ignore[index]
    mark_found(session, tech, barcode=aliquot.barcode)
    assert aliquot.status is S.STORED
    assert actions(session, aliquot)[-2:] == ["aliquot.marked_missing", "aliquot.found"]


def test_a_missing_tube_found_elsewhere_goes_where_it_was_found(
    session: Session, tech: Actor
) -> None:
    aliquot = stored(session, tech, position="D4")
    mark_missing(session, tech, barcode=aliquot.barcode)
    box = make_box(session)
    mark_found(session, tech, barcode=aliquot.barcode, box_id=box.id, position="I9")
    assert location_of(aliquot)["box_barcode"] == box.barcode  # type: ignore[index]
    assert location_of(aliquot)["position"] == "I9"  # type: ignore[index]


def test_only_a_missing_tube_can_be_found(session: Session, tech: Actor) -> None:
    aliquot = stored(session, tech)
    before = snapshot(session, aliquot)
    with pytest.raises(Conflict):
        mark_found(session, tech, barcode=aliquot.barcode)
    assert snapshot(session, aliquot) == before


def test_quarantine_needs_a_reason_and_is_cleared_back_to_storage(
    session: Session, tech: Actor
) -> None:
    aliquot = stored(session, tech)
    with pytest.raises(InvalidInput):
        quarantine(session, tech, barcode=aliquot.barcode, reason=None)
    quarantine(session, tech, barcode=aliquot.barcode, reason="freezer alarm 2026-04-02")
    assert aliquot.status is S.QUARANTINED
    clear_quarantine(session, tech, barcode=aliquot.barcode, reason="temperature log fine")
    assert aliquot.status is S.STORED
    assert actions(session, aliquot)[-2:] == ["aliquot.quarantined", "aliquot.cleared"]


def test_a_quarantined_tube_cannot_be_checked_out(session: Session, tech: Actor) -> None:
    aliquot = stored(session, tech)
    quarantine(session, tech, barcode=aliquot.barcode, reason="freezer alarm")
    before = snapshot(session, aliquot)
    with pytest.raises(Conflict, match="quarantined and cannot become checked_out"):
        check_out(session, tech, barcode=aliquot.barcode)
    assert snapshot(session, aliquot) == before


def test_a_quarantined_unplaced_tube_is_cleared_into_a_box(session: Session, tech: Actor) -> None:
    aliquot = make_aliquot(session)
    quarantine(session, tech, barcode=aliquot.barcode, reason="label smudged")
    with pytest.raises(Conflict, match="no position held"):
        clear_quarantine(session, tech, barcode=aliquot.barcode)
    box = make_box(session)
    clear_quarantine(session, tech, barcode=aliquot.barcode, box_id=box.id)
    assert location_of(aliquot)["position"] == "A1"  # type: ignore[index]


def test_a_reviewer_may_look_but_not_change(session: Session, tech: Actor, reviewer: Actor) -> None:
    aliquot = stored(session, tech)
    for refused in (
        lambda: check_out(session, reviewer, barcode=aliquot.barcode),
        lambda: dispose_aliquot(session, reviewer, barcode=aliquot.barcode, **CRACKED),
        lambda: quarantine(session, reviewer, barcode=aliquot.barcode, reason="x"),
    ):
        with pytest.raises(Forbidden):
            refused()
    assert aliquot.status is S.STORED


def test_freeing_a_position_that_is_already_free_is_a_conflict_not_a_crash(
    session: Session, tech: Actor
) -> None:
    aliquot = stored(session, tech, position="A1")
    held = placement_of(session, aliquot)
    assert held is not None
    # Another request got there first: the row is gone, this session still holds its copy.
    session.execute(delete(Placement).where(Placement.id == held.id))
    session.expire(held.box, ["placements"])
    with pytest.raises(Conflict, match=f"{aliquot.barcode} has already left position A1"):
        free_position(session, held)
