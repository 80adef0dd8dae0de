"""The placement import: every row checked, one bad row and nothing is written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import AuditEvent
from lims.errors import InvalidInput
from lims.specimens.models import AliquotStatus, DisposalReason
from lims.storage.models import Placement
from lims.storage.services import (
    dispose_aliquot,
    import_placements,
    location_of,
    read_placement_csv,
)
from tests.factories import make_aliquot, make_box
from tests.storage.factories import actions, stored


def _csv(*rows: str) -> list[dict[str, str]]:
    return read_placement_csv("\n".join(("barcode,box_barcode,position", *rows)) + "\n")


def test_a_valid_sheet_places_every_tube(session: Session, tech: Actor) -> None:
    box = make_box(session)
    tubes = [make_aliquot(session) for _ in range(3)]
    rows = _csv(
        *(f"{t.barcode},{box.barcode},{p}" for t, p in zip(tubes, ("A1", "b2", "C3"), strict=True))
    )
    placed = import_placements(session, tech, rows=rows)
    assert [p.position for p in placed] == ["A1", "B2", "C3"]
    assert all(t.status is AliquotStatus.STORED for t in tubes)
    assert actions(session, tubes[0])[-1] == "aliquot.stored"


def test_one_bad_row_writes_nothing_and_names_row_field_and_reason(
    session: Session, tech: Actor
) -> None:
    box = make_box(session)
    good, also_good = make_aliquot(session), make_aliquot(session)
    rows = _csv(f"{good.barcode},{box.barcode},A1", f"{also_good.barcode},{box.barcode},Z9")
    events = session.scalar(select(func.count(AuditEvent.id)))
    with pytest.raises(InvalidInput, match="nothing was imported") as refused:
        import_placements(session, tech, rows=rows)
    (error,) = refused.value.errors
    assert (error["row"], error["field"]) == (3, "position")
    assert error["message"] == f"Z9 is outside box {box.barcode} (A1 to I9)"
    assert session.scalar(select(func.count(Placement.id))) == 0
    assert session.scalar(select(func.count(AuditEvent.id))) == events
    assert good.status is AliquotStatus.RECEIVED and location_of(good) is None


def test_every_kind_of_bad_row_is_reported(session: Session, tech: Actor) -> None:
    box = make_box(session, rows=2, cols=2)
    occupant = stored(session, tech, box=box, position="A1")
    placed_elsewhere = stored(session, tech)
    disposed = make_aliquot(session)
    dispose_aliquot(
        session, tech, barcode=disposed.barcode, reason=DisposalReason.DAMAGED, authorised_by="tech"
    )
    fresh = [make_aliquot(session) for _ in range(3)]
    rows = _csv(
        f"NO-SUCH-TUBE,{box.barcode},A2",  # 2 unknown aliquot
        f"{fresh[0].barcode},B9999994,A2",  # 3 unknown box
        f"{fresh[1].barcode},{box.barcode},C1",  # 4 outside the grid
        f"{fresh[2].barcode},{box.barcode},A1",  # 5 occupied
        f"{placed_elsewhere.barcode},{box.barcode},B1",  # 6 already placed
        f"{disposed.barcode},{box.barcode},B2",  # 7 not storable
        f"{fresh[2].barcode},{box.barcode},B2",  # 8 same tube twice, same position twice
        f",{box.barcode},",  # 9 empty cells
    )
    with pytest.raises(InvalidInput) as refused:
        import_placements(session, tech, rows=rows)
    found = {(e["row"], e["field"]) for e in refused.value.errors}
    assert found == {
        (2, "barcode"),
        (3, "box_barcode"),
        (4, "position"),
        (5, "position"),
        (6, "barcode"),
        (7, "barcode"),
        (8, "barcode"),
        (8, "position"),
        (9, "barcode"),
        (9, "position"),
    }
    messages = {(e["row"], e["field"]): e["message"] for e in refused.value.errors}
    assert occupant.barcode in messages[(5, "position")]
    assert "row 7" in messages[(8, "position")] and "row 5" in messages[(8, "barcode")]
    assert "disposed" in messages[(7, "barcode")]
    assert location_of(fresh[0]) is None


def test_a_wrong_header_is_row_1(session: Session, tech: Actor) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_placement_csv("tube,box,where\n1,2,3\n")
    assert refused.value.errors[0]["row"] == 1
