"""The front page's storage counts."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.storage.services import check_out, storage_overview
from tests.factories import make_box, make_rack
from tests.storage.factories import stored


def test_the_overview_counts_freezers_boxes_and_tubes_whose_position_is_held(
    session: Session, tech: Actor, investigator: Actor
) -> None:
    rack = make_rack(session)
    box = make_box(session, rack=rack)
    make_box(session, rack=rack)
    stored(session, tech, box=box)
    out = stored(session, tech, box=box)
    check_out(session, tech, barcode=out.barcode, reason="assay")

    overview = storage_overview(session, investigator)

    assert (overview.freezers, overview.boxes, overview.placed) == (1, 2, 2)
