"""Two benches, one position: with two real connections, only one placement can succeed.

These tests commit for real, so they use their own database per dialect (not the rolled-back
`session` fixture, whose single connection cannot race with itself).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from lims.actors import Actor, Role
from lims.audit.models import Action, AuditEvent
from lims.cli import alembic_config
from lims.db import make_engine
from lims.errors import Conflict
from lims.specimens.models import Aliquot, AliquotStatus
from lims.storage.models import Box, Placement
from lims.storage.services import store_aliquot
from tests.conftest import DatabaseMaker
from tests.factories import make_aliquot, make_box, make_user


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def benches(
    request: pytest.FixtureRequest, databases: DatabaseMaker
) -> Iterator[sessionmaker[Session]]:
    url = databases.url(request.param, "lims_storage_race")
    command.upgrade(alembic_config(url), "head")
    engine: Engine = make_engine(url)
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


def _setup(benches: sessionmaker[Session]) -> tuple[Actor, int, str, str, str]:
    with benches() as setup:
        tech = Actor.of(make_user(setup, "race-tech", Role.TECHNICIAN))
        box = make_box(setup)
        first, second = make_aliquot(setup), make_aliquot(setup)
        return tech, box.id, box.barcode, first.barcode, second.barcode


def _nothing_half_written(benches: sessionmaker[Session], box_id: int, loser: str) -> None:
    with benches() as check:
        placed = check.scalars(select(Placement).where(Placement.box_id == box_id)).all()
        assert len(placed) == 1 and placed[0].position == "A1"
        aliquot = check.scalars(select(Aliquot).where(Aliquot.barcode == loser)).one()
        assert aliquot.status is AliquotStatus.RECEIVED
        stored_events = check.scalars(
            select(AuditEvent).where(
                AuditEvent.action == Action.ALIQUOT_STORED,
                AuditEvent.object_id == str(aliquot.id),
            )
        ).all()
        assert stored_events == []


def test_a_bench_that_saw_the_position_free_rereads_it_under_the_lock_and_names_the_occupant(
    benches: sessionmaker[Session],
) -> None:
    tech, box_id, box_code, first, second = _setup(benches)
    with benches() as bench_a, benches() as bench_b:
        # Bench B has the box open and sees A1 free...
        seen = bench_b.get(Box, box_id)
        assert seen is not None and seen.placements == []
        bench_b.commit()
        # ...bench A fills A1...
        store_aliquot(bench_a, tech, barcode=first, box_id=box_id, position="A1")
        # ...and B, re-reading the box under its lock (not trusting its stale copy), is told who
        # holds A1 now.
        with pytest.raises(Conflict, match=f"{box_code} A1 already holds {first}"):
            store_aliquot(bench_b, tech, barcode=second, box_id=box_id, position="A1")
    _nothing_half_written(benches, box_id, second)


def test_two_benches_scanning_at_once_place_only_one_tube(benches: sessionmaker[Session]) -> None:
    tech, box_id, box_code, first, second = _setup(benches)
    start = threading.Barrier(2, timeout=20)
    outcomes: dict[str, str] = {}

    def bench(barcode: str) -> None:
        with benches() as session:
            start.wait()
            try:
                store_aliquot(session, tech, barcode=barcode, box_id=box_id, position="A1")
                outcomes[barcode] = "stored"
            except Conflict as err:
                outcomes[barcode] = err.detail

    threads = [threading.Thread(target=bench, args=(code,)) for code in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == sorted([first, second])
    winners = [code for code, outcome in outcomes.items() if outcome == "stored"]
    assert len(winners) == 1
    (loser,) = {first, second} - set(winners)
    assert f"{box_code} A1" in outcomes[loser]
    _nothing_half_written(benches, box_id, loser)
