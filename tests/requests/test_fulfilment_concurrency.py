"""Technicians reserving overlapping requests at the same moment, with real concurrent
connections (issue 19: "two technicians fulfilling two requests at once never reserve the same
aliquot").

Each request matches the same tubes. A bench's proposal may have been read before another bench
committed; the reservation then waits on the aliquot rows the other holds, reads them afresh
(RESERVED now) and refuses the whole reservation, or, when it read after the commit, proposes
only the tubes still free. Either way no aliquot is reserved twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from lims.actors import Actor, Role
from lims.audit.services import verify_chain
from lims.requests.models import OPEN_ITEM_STATUSES, RequestItem, RequestState, SpecimenRequest
from lims.requests.services import Reservation, reserve_pick_list
from lims.specimens.models import Aliquot, AliquotStatus
from tests.conftest import DatabaseMaker
from tests.factories import make_box, make_user
from tests.races import race, race_database
from tests.requests.fulfilment_factories import collection, request_to_fulfil

REQUESTS = 8
VISITS = 4
TUBES_PER_VISIT = 3


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def benches(
    request: pytest.FixtureRequest, databases: DatabaseMaker
) -> Iterator[sessionmaker[Session]]:
    engine = race_database(databases, request.param, "lims_fulfilment_race")
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


def test_technicians_reserving_overlapping_requests_at_once_never_share_a_tube(
    benches: sessionmaker[Session], tmp_path: Path
) -> None:
    with benches() as setup:
        techs = [Actor.of(make_user(setup, f"pick-{n}", Role.TECHNICIAN)) for n in (1, 2)]
        people = [
            Actor.of(make_user(setup, name, role))
            for name, role in (
                ("race-investigator", Role.INVESTIGATOR),
                ("race-reviewer", Role.REVIEWER),
                ("race-admin", Role.ADMIN),
            )
        ]
        collection(setup, [make_box(setup)], [TUBES_PER_VISIT] * VISITS)
        codes = [
            request_to_fulfil(setup, *people, tmp_path, allow_last_aliquot=True).code
            for _ in range(REQUESTS)
        ]

    def attempt(session: Session, i: int) -> object:
        done: Reservation = reserve_pick_list(session, techs[i % 2], request=codes[i])
        return [item.aliquot_id for item in done.items]

    outcomes = race(benches, attempt, n=REQUESTS)

    reserved = [aliquot_id for ids in outcomes.results for aliquot_id in ids]  # type: ignore[attr-defined]
    assert outcomes.results, outcomes
    assert len(reserved) == len(set(reserved)), "an aliquot was reserved for two requests"
    assert len(outcomes.conflicts) == len(outcomes.errors), outcomes
    assert len(reserved) <= VISITS * TUBES_PER_VISIT
    with benches() as check:
        items = check.scalars(
            select(RequestItem).where(RequestItem.status.in_(OPEN_ITEM_STATUSES))
        ).all()
        assert sorted(i.aliquot_id for i in items) == sorted(reserved)
        status_of = {a: s for a, s in check.execute(select(Aliquot.id, Aliquot.status))}
        assert {status_of[i] for i in reserved} <= {AliquotStatus.RESERVED}
        assert check.scalar(
            select(func.count()).where(Aliquot.status == AliquotStatus.RESERVED)
        ) == len(reserved)
        states = {
            c: s for c, s in check.execute(select(SpecimenRequest.code, SpecimenRequest.state))
        }
        fulfilling = [c for c in codes if states[c] is RequestState.FULFILLING]
        assert len(fulfilling) == len(outcomes.results)
        assert verify_chain(check).is_intact
