from __future__ import annotations

import random
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims import demo_scale
from lims.audit.models import Action, AuditEvent
from lims.audit.services import verify_chain
from lims.demo_scale_phenotype import ScalePool
from lims.demo_scale_rows import Batch, Shelves, subject_rows
from lims.demo_scale_shipments import Post
from lims.phenotype.models import Diagnosis
from lims.specimens.consent_models import ConsentEvent
from lims.specimens.models import Aliquot, AliquotStatus, Specimen, SpecimenType, Subject, Visit
from lims.storage.models import Box, Freezer, Placement
from tests.conftest import sign_in

SUBJECTS = 30


def _count(session: Session, column: object) -> int:
    return session.scalar(select(func.count(column))) or 0  # type: ignore[call-overload]


def test_generating_gives_about_four_visits_and_ten_aliquots_a_visit(session: Session) -> None:
    done = demo_scale.generate(session, subjects=SUBJECTS, seed=3)

    visits, aliquots = _count(session, Visit.id), _count(session, Aliquot.id)
    assert _count(session, Subject.id) == SUBJECTS == done.counts["subjects"]
    assert 3 * SUBJECTS <= visits <= 5 * SUBJECTS
    assert aliquots == 10 * visits == done.counts["aliquots"]
    assert _count(session, Specimen.id) == _count(session, Diagnosis.id) * 2 == 2 * visits
    serum = session.scalar(select(func.count()).where(Aliquot.specimen_type == SpecimenType.SERUM))
    assert serum == 6 * visits
    assert _count(session, ConsentEvent.id) >= SUBJECTS  # one consent each, plus withdrawals
    placed = _count(session, Placement.id)
    assert 0.85 * aliquots < placed < 0.97 * aliquots


def test_generated_tubes_sit_one_to_a_position_inside_a_box_of_their_type(
    session: Session,
) -> None:
    demo_scale.generate(session, subjects=SUBJECTS, seed=3)

    rows = session.execute(
        select(Placement.box_id, Placement.row, Placement.col, Box.n_rows, Box.n_cols,
               Box.specimen_type, Aliquot.specimen_type, Aliquot.status)
        .join(Box, Placement.box_id == Box.id)
        .join(Aliquot, Placement.aliquot_id == Aliquot.id)
    ).all()  # fmt: skip
    positions = [(box, row, col) for box, row, col, *_ in rows]
    assert len(set(positions)) == len(positions)
    assert all(r[1] < r[3] and r[2] < r[4] and r[5] == r[6] for r in rows)
    placed_statuses = {r[7] for r in rows}
    assert placed_statuses <= {AliquotStatus.STORED, AliquotStatus.CHECKED_OUT}
    unplaced = select(func.count()).where(
        Aliquot.status.in_([AliquotStatus.STORED, AliquotStatus.CHECKED_OUT]),
        ~Aliquot.id.in_(select(Placement.aliquot_id)),
    )
    assert session.scalar(unplaced) == 0
    assert _count(session, Freezer.id) >= 6  # a serum and a DNA freezer at each of 3 sites


def test_the_generated_demo_audits_each_batch_and_its_chain_verifies(session: Session) -> None:
    demo_scale.generate(session, subjects=15, seed=3, batch_subjects=10)

    batches = session.scalars(
        select(AuditEvent.after_json).where(AuditEvent.action == Action.DEMO_GENERATED)
    ).all()
    assert len(batches) == 2 and '"aliquots":' in batches[0]
    assert verify_chain(session).is_intact


def test_generating_again_is_refused_unless_forced(session: Session) -> None:
    demo_scale.generate(session, subjects=5, seed=3)

    with pytest.raises(demo_scale.NotEmpty):
        demo_scale.generate(session, subjects=5, seed=3)
    demo_scale.generate(session, subjects=5, seed=4, force=True)
    assert _count(session, Subject.id) == 10
    assert verify_chain(session).is_intact


def _rows_for_seed(seed: int) -> Batch:
    ids = dict.fromkeys([m.__tablename__ for m in demo_scale.MODELS], 1)
    batch, sites = Batch(ids, 1), {"NA1": (1, "UTC"), "NA2": (2, "UTC"), "EU1": (3, "UTC")}
    forms = ((1, date(2020, 6, 1), [(1, "genetic")]), (2, date(2022, 9, 1), [(2, "genetic")]))
    shelves, rng = Shelves(ids, 1, sites), random.Random(seed)
    pool, post = ScalePool(seed), Post(ids, 1, {"NA1": 1, "NA2": 2, "EU1": 3}, 4)
    for number in range(1, 20):
        subject_rows(batch, rng, number, sites, forms, shelves, pool=pool, post=post)
    return batch


def test_the_same_seed_gives_the_same_rows() -> None:
    first, again, other = _rows_for_seed(5), _rows_for_seed(5), _rows_for_seed(6)

    assert first == again
    assert first.aliquots != other.aliquots


def test_the_pages_open_on_generated_data(session: Session, client: FlaskClient) -> None:
    demo_scale.generate(session, subjects=SUBJECTS, seed=3)
    barcode, box_id = session.execute(
        select(Aliquot.barcode, Placement.box_id).join(Placement).order_by(Aliquot.id).limit(1)
    ).one()
    study_code = session.scalars(select(Subject.study_code).order_by(Subject.id)).first()
    sign_in(client, "tech")

    for path in (
        "/",
        "/aliquots",
        "/aliquots?page=3&specimen_type=dna",
        f"/aliquots/{barcode}",
        f"/storage/boxes/{box_id}",
        f"/subjects/{study_code}",
        "/storage/",
    ):
        assert client.get(path).status_code == 200, path  # fmt: skip
