"""The generated demo (lims/demo_scale.py) at a tiny size: one generation per database, shared
by the reading tests (a module-scoped transaction, rolled back at the end), so the file stays
fast; the tests that write more make their own."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from itertools import pairwise

import pytest
from alembic import command
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims import create_app, demo_scale
from lims.audit.models import Action, AuditEvent
from lims.audit.services import verify_chain
from lims.cli import alembic_config
from lims.db import make_engine
from lims.demo_scale_phenotype import ScalePool
from lims.demo_scale_requests import EXAMPLE
from lims.demo_scale_rows import Batch, Shelves, subject_rows
from lims.demo_scale_shipments import Post
from lims.phenotype.models import (
    Diagnosis,
    DiagnosticFinding,
    ScaleAdministration,
    Treatment,
    TreatmentKind,
)
from lims.requests.criteria import count_matches, parse_criteria
from lims.requests.models import ItemStatus, RequestItem, RequestState, SpecimenRequest
from lims.shipments.models import Direction, ItemState, Shipment, ShipmentItem, ShipmentStatus
from lims.specimens import barcodes
from lims.specimens.consent_models import ConsentEvent
from lims.specimens.models import (
    Aliquot,
    AliquotStatus,
    Dystonia,
    Specimen,
    SpecimenType,
    Subject,
    Visit,
)
from lims.storage.models import Box, Freezer, Placement
from phenotype_link.scales import get_scale
from tests.conftest import DatabaseMaker, sign_in
from tests.factories import make_aliquots

SUBJECTS, BATCH = 30, 15


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def generated(request: pytest.FixtureRequest, databases: DatabaseMaker) -> Iterator[Session]:
    """A demo of 30 subjects with its requests, in a transaction rolled back after the module."""
    url = databases.url(request.param, "demo_scale")
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    # Two batches: the requests come between them, so the second batch's ids and shipment codes
    # must go on after the services'.
    demo_scale.generate(db, subjects=SUBJECTS, seed=3, batch_subjects=BATCH)
    yield db
    db.close()
    outer.rollback()
    connection.close()
    engine.dispose()


def _count(session: Session, column: object) -> int:
    return session.scalar(select(func.count(column))) or 0  # type: ignore[call-overload]


def test_generating_gives_about_four_visits_and_ten_aliquots_a_visit(generated: Session) -> None:
    session = generated
    visits, aliquots = _count(session, Visit.id), _count(session, Aliquot.id)
    assert _count(session, Subject.id) == SUBJECTS
    assert 3 * SUBJECTS <= visits <= 5 * SUBJECTS
    assert aliquots == 10 * visits
    assert _count(session, Specimen.id) == _count(session, Diagnosis.id) * 2 == 2 * visits
    serum = session.scalar(select(func.count()).where(Aliquot.specimen_type == SpecimenType.SERUM))
    assert serum == 6 * visits
    assert _count(session, ConsentEvent.id) >= SUBJECTS  # one consent each, plus withdrawals
    placed = _count(session, Placement.id)
    assert 0.85 * aliquots < placed < 0.97 * aliquots


def test_generated_tubes_sit_one_to_a_position_inside_a_box_of_their_type(
    generated: Session,
) -> None:
    session = generated
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


def test_every_visit_has_scales_whose_scores_recompute_from_their_answers(
    generated: Session,
) -> None:
    session = generated
    rows = session.execute(
        select(ScaleAdministration.scale_id, ScaleAdministration.answers,
               ScaleAdministration.total_score, ScaleAdministration.imported_total)
    ).all()  # fmt: skip
    per_visit = session.scalars(
        select(func.count()).select_from(ScaleAdministration).group_by(ScaleAdministration.visit_id)
    ).all()
    assert len(per_visit) == _count(session, Visit.id) and min(per_visit) >= 3
    for scale_id, answers, total, imported in rows:
        scale = get_scale(scale_id)
        if not scale.is_scorable:  # TWSTRS-2, BSDI: the site's total, kept as given
            assert total is None and imported is not None
            continue
        score = scale.score({k: Decimal(str(v)) for k, v in answers.items()}, partial=True)
        assert score.total == Decimal(str(total)), scale_id
    assert {r[0] for r in rows} >= {"gdrs", "bfmdrs_m", "twstrs", "twstrs2", "jrs", "vhi"}


def test_most_cervical_subjects_get_toxin_every_three_to_four_months(generated: Session) -> None:
    session = generated
    injected = session.execute(
        select(Subject.id, Treatment.given_on)
        .join(Visit, Visit.subject_id == Subject.id)
        .join(Treatment, Treatment.visit_id == Visit.id)
        .where(Subject.primary_diagnosis == Dystonia.CERVICAL,
               Treatment.kind == TreatmentKind.BOTULINUM_TOXIN)
        .order_by(Subject.id, Treatment.given_on)
    ).all()  # fmt: skip
    cervical = session.scalar(
        select(func.count()).where(Subject.primary_diagnosis == Dystonia.CERVICAL)
    )
    subjects = {s for s, _ in injected}
    assert len(subjects) >= 0.6 * (cervical or 0)
    gaps = [(b[1] - a[1]).days for a, b in pairwise(injected) if a[0] == b[0]]
    assert gaps and all(90 <= g <= 120 for g in gaps)
    assert _count(session, DiagnosticFinding.id) >= _count(session, Visit.id)


def test_the_issue_19_question_finds_matches_in_generated_data(generated: Session) -> None:
    counts = count_matches(generated, parse_criteria(EXAMPLE), on=date(2026, 12, 1))

    assert counts.subjects > 0 and counts.aliquots > 0


def test_sites_ship_their_dna_stocks_to_the_biorepository_each_month(generated: Session) -> None:
    session = generated
    inbound = session.scalars(select(Shipment).where(Shipment.direction == Direction.INBOUND))
    assert {s.status for s in inbound} == {ShipmentStatus.RECEIVED}
    items = session.execute(
        select(ShipmentItem.state, Aliquot.parent_id, Aliquot.specimen_type, ShipmentItem.barcode,
               Aliquot.barcode)
        .join(Aliquot, ShipmentItem.aliquot_id == Aliquot.id)
        .join(Shipment, ShipmentItem.shipment_id == Shipment.id)
        .where(Shipment.direction == Direction.INBOUND)
    ).all()  # fmt: skip
    assert len(items) == _count(session, Visit.id)  # one DNA stock a visit
    assert all(
        state is ItemState.RECEIVED and parent is None and kind is SpecimenType.DNA and a == b
        for state, parent, kind, a, b in items
    )


def test_the_demo_has_requests_in_review_and_released_through_the_services(
    generated: Session,
) -> None:
    session = generated
    states = set(session.scalars(select(SpecimenRequest.state)))
    assert states >= {RequestState.SUBMITTED, RequestState.UNDER_REVIEW}
    released = session.scalars(
        select(RequestItem).where(RequestItem.status == ItemStatus.RELEASED)
    ).all()
    assert released and all(i.aliquot.status is AliquotStatus.RELEASED for i in released)
    outbound = session.scalars(select(Shipment).where(Shipment.direction == Direction.OUTBOUND))
    assert [s.status for s in outbound] == [ShipmentStatus.RECEIVED]
    codes = session.scalars(select(Shipment.code)).all()
    assert len(set(codes)) == len(codes) == _count(session, Shipment.id)


def test_generated_aliquots_carry_issued_codes_and_the_counter_ends_past_them(
    generated: Session,
) -> None:
    session = generated
    codes = set(session.scalars(select(Aliquot.barcode)))
    assert all(barcodes.check_problem(c) is None and len(c) == 8 for c in codes)
    highest = max(barcodes.serial_of(c) for c in codes)

    accessioned = make_aliquots(session, 2)  # issued by the bench, after the generator's

    assert all(barcodes.serial_of(a.barcode) > highest for a in accessioned)
    assert not codes & {a.barcode for a in accessioned}


def test_the_generated_demo_audits_each_batch_and_its_chain_verifies(generated: Session) -> None:
    batches = generated.scalars(
        select(AuditEvent.after_json).where(AuditEvent.action == Action.DEMO_GENERATED)
    ).all()
    assert len(batches) == 2 and '"scale_administrations":' in batches[0]
    assert verify_chain(generated).is_intact


def test_the_pages_open_on_generated_data(generated: Session) -> None:
    session = generated
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "test-only", "SESSION_FACTORY": lambda: session}
    )
    client = app.test_client()
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
        "/shipments/",
    ):
        assert client.get(path).status_code == 200, path  # fmt: skip


def test_generating_again_is_refused_unless_forced(session: Session) -> None:
    demo_scale.generate(session, subjects=5, seed=3, batch_subjects=3, requests=False)

    with pytest.raises(demo_scale.NotEmpty):
        demo_scale.generate(session, subjects=5, seed=3, requests=False)
    demo_scale.generate(session, subjects=5, seed=4, force=True, requests=False)
    assert _count(session, Subject.id) == 10
    assert verify_chain(session).is_intact


def test_wide_serials_give_ten_digit_codes_that_scan() -> None:
    ids = dict.fromkeys([m.__tablename__ for m in demo_scale.MODELS], 1)
    batch = Batch(ids, barcodes.WIDE_FROM - 1, installation=2)

    narrow, wide = batch.barcode(), batch.barcode()

    assert (len(narrow), len(wide)) == (8, 10)
    assert barcodes.check_problem(wide) is None and barcodes.serial_of(wide) == barcodes.WIDE_FROM


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
    assert first.aliquots != other.aliquots and first.scales != other.scales
