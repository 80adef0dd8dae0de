"""SPREC element 7 follows the freezer a tube sits in (issue #16): set when it is stored,
recomputed and audited when it moves to another kind of storage."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import Action
from lims.audit.services import events_for
from lims.specimens.models import Aliquot, SpecimenType, TubeType
from lims.specimens.services import accession_specimen, aliquot_specimen, find_aliquot
from lims.storage.models import Box
from lims.storage.services import (
    check_in,
    check_out,
    create_freezer,
    move_aliquot,
    move_box,
    store_aliquot,
)
from tests.factories import SYSTEM, make_box, make_rack, make_visit
from tests.specimens.factories import make_dna_stock, worked_example


def _boxes(session: Session) -> tuple[Box, Box]:
    """A box in a -80 °C freezer and one in a -20 °C freezer."""
    cold = create_freezer(session, SYSTEM, name="ULT-1", temperature_c=-80, room="B204")
    warm = create_freezer(session, SYSTEM, name="FRZ-20", temperature_c=-20, room="B204")
    return make_box(session, rack=make_rack(session, cold)), make_box(
        session, rack=make_rack(session, warm)
    )


def _serum(session: Session) -> Aliquot:
    """A serum aliquot of the domain reference's worked example (SER-SST-A-B-N-B-A)."""
    visit = make_visit(session)
    tube = accession_specimen(
        session,
        SYSTEM,
        study_code=visit.subject.study_code,
        visit_number=visit.visit_number,
        specimen_type=SpecimenType.WHOLE_BLOOD,
        tube_type=TubeType.SST,
        pre=worked_example(),
    )
    (aliquot,) = aliquot_specimen(
        session,
        SYSTEM,
        specimen_barcode=tube.barcode,
        specimen_type=SpecimenType.SERUM,
        count=1,
        volume_ul=250,
    )
    return aliquot


def test_an_aliquot_carries_its_own_code_and_version_from_the_start(
    session: Session, tech: Actor
) -> None:
    serum = _serum(session)
    assert (serum.sprec_code, serum.sprec_version) == ("SER-SST-A-B-N-B-A", "2.0")


def test_storing_in_a_minus_20_freezer_sets_element_7_to_b(session: Session, tech: Actor) -> None:
    _, warm = _boxes(session)
    serum = _serum(session)
    store_aliquot(session, tech, barcode=serum.barcode, box_id=warm.id)
    assert serum.sprec_code == "SER-SST-A-B-N-B-B"
    stored = events_for(session, serum)[-1]
    assert stored.action == Action.ALIQUOT_STORED and stored.after is not None
    assert stored.after["sprec_code"] == "SER-SST-A-B-N-B-B"


def test_moving_from_a_minus_80_to_a_minus_20_freezer_recomputes_element_7_and_audits_it(
    session: Session, tech: Actor
) -> None:
    cold, warm = _boxes(session)
    serum = _serum(session)
    store_aliquot(session, tech, barcode=serum.barcode, box_id=cold.id, position="A1")
    move_aliquot(session, tech, barcode=serum.barcode, box_id=warm.id, position="A1")

    assert find_aliquot(session, tech, serum.barcode).sprec_code == "SER-SST-A-B-N-B-B"
    moved = events_for(session, serum)[-1]
    assert moved.action == Action.ALIQUOT_MOVED
    assert moved.before is not None and moved.before["sprec_code"] == "SER-SST-A-B-N-B-A"
    assert moved.after is not None and moved.after["sprec_code"] == "SER-SST-A-B-N-B-B"
    assert moved.after["sprec_version"] == "2.0"


def test_a_move_within_the_same_kind_of_storage_leaves_the_code_alone(
    session: Session, tech: Actor
) -> None:
    cold, _ = _boxes(session)
    other_cold = make_box(session, rack=cold.rack)
    serum = _serum(session)
    store_aliquot(session, tech, barcode=serum.barcode, box_id=cold.id)
    move_aliquot(session, tech, barcode=serum.barcode, box_id=other_cold.id)
    moved = events_for(session, serum)[-1]
    assert serum.sprec_code == "SER-SST-A-B-N-B-A"
    assert moved.after is not None and "sprec_code" not in moved.after


def test_moving_a_whole_box_to_a_minus_20_freezer_recodes_each_tube(
    session: Session, tech: Actor
) -> None:
    cold, warm = _boxes(session)
    tubes = [_serum(session) for _ in range(2)]
    for tube in tubes:
        store_aliquot(session, tech, barcode=tube.barcode, box_id=cold.id)
    assert warm.rack is not None
    move_box(session, tech, box_id=cold.id, rack_id=warm.rack.id)
    assert [t.sprec_code for t in tubes] == ["SER-SST-A-B-N-B-B"] * 2
    assert all(events_for(session, t)[-1].after["sprec_code"] == "SER-SST-A-B-N-B-B" for t in tubes)  # type: ignore[index]


def test_a_dna_tube_checked_in_after_a_thaw_counts_it_in_its_derivative_code(
    session: Session, tech: Actor
) -> None:
    cold, _ = _boxes(session)
    stock = make_dna_stock(session)
    store_aliquot(session, tech, barcode=stock.barcode, box_id=cold.id)
    assert stock.sprec_code == "DNA-BLD-X-A-0"
    check_out(session, tech, barcode=stock.barcode)
    check_in(session, tech, barcode=stock.barcode)
    assert stock.sprec_code == "DNA-BLD-X-A-1"
    checked_in = events_for(session, stock)[-1]
    assert checked_in.action == Action.ALIQUOT_CHECKED_IN and checked_in.after is not None
    assert checked_in.after["sprec_code"] == "DNA-BLD-X-A-1"
