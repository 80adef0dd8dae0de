"""Request decisions and codes under real concurrent connections (their own database, as in
tests/storage/test_concurrency.py): the request row is locked before its state is read, so of
several admins deciding at once exactly one decision stands; the code counter never hands out one
code twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lims.actors import Actor, Role
from lims.audit.models import AuditEvent
from lims.audit.services import verify_chain
from lims.requests.models import RequestState, SpecimenRequest
from lims.requests.services import decide_request
from tests.conftest import DatabaseMaker
from tests.factories import make_user
from tests.races import race, race_database
from tests.requests.workflow_factories import draft_request, under_review_request

BENCHES = 8


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def benches(
    request: pytest.FixtureRequest, databases: DatabaseMaker
) -> Iterator[sessionmaker[Session]]:
    engine = race_database(databases, request.param, "lims_review_race")
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


def test_of_admins_deciding_one_request_at_once_exactly_one_decision_stands(
    benches: sessionmaker[Session], tmp_path: Path
) -> None:
    with benches() as setup:
        investigator = Actor.of(make_user(setup, "race-inv", Role.INVESTIGATOR))
        reviewer = Actor.of(make_user(setup, "race-rev", Role.REVIEWER))
        admins = [Actor.of(make_user(setup, f"race-admin{i}", Role.ADMIN)) for i in range(BENCHES)]
        code = under_review_request(setup, investigator, reviewer, tmp_path).code
    decisions = [RequestState.APPROVED, RequestState.REJECTED]

    outcomes = race(
        benches,
        lambda session, i: (
            decide_request(
                session, admins[i], request=code, decision=decisions[i % 2], note=f"bench {i}"
            ).state
        ),
        n=BENCHES,
    )

    assert len(outcomes.results) == 1 and len(outcomes.conflicts) == BENCHES - 1, outcomes
    with benches() as check:
        req = check.scalars(select(SpecimenRequest).where(SpecimenRequest.code == code)).one()
        decided = check.scalars(
            select(AuditEvent.action).where(
                AuditEvent.object_id == str(req.id),
                AuditEvent.action.in_(["request.approved", "request.rejected"]),
            )
        ).all()
        assert req.state is outcomes.results[0]
        assert decided == [f"request.{req.state.value}"]
        assert verify_chain(check).is_intact


def test_investigators_drafting_at_once_get_distinct_codes(
    benches: sessionmaker[Session],
) -> None:
    with benches() as setup:
        drafters = [
            Actor.of(make_user(setup, f"race-drafter{i}", Role.INVESTIGATOR))
            for i in range(BENCHES)
        ]

    outcomes = race(benches, lambda session, i: draft_request(session, drafters[i]).code, n=BENCHES)

    assert outcomes.errors == [] and len(set(outcomes.results)) == BENCHES
