"""A unique constraint that catches a race is a 409 naming the field, on both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from lims.actors import Actor, Role
from lims.audit.services import verify_chain
from lims.db import make_engine
from lims.errors import Conflict
from lims.specimens.models import Dystonia, Sex, Subject
from lims.specimens.services import register_subject
from lims.storage.models import Freezer
from tests.conftest import DatabaseMaker, bearer
from tests.factories import make_site, make_subject, make_user


def test_a_duplicate_that_slips_past_the_service_check_is_a_conflict_naming_the_field(
    session: Session,
) -> None:
    make_subject(session, study_code="NA1-0901")
    session.add(
        Subject(
            study_code="NA1-0901",
            site=make_site(session),
            sex=Sex.FEMALE,
            primary_diagnosis=Dystonia.CERVICAL,
        )
    )

    with pytest.raises(Conflict) as refused:
        session.flush()

    assert refused.value.field_errors.keys() == {"study_code"}
    assert "subject" in refused.value.detail
    session.rollback()


def test_a_duplicate_ninds_guid_is_a_409_naming_the_field(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    headers = bearer(client, "tech")
    body = {"site_code": "NA1", "sex": "female", "primary_diagnosis": "cervical"}
    guid = {"ninds_guid": "NINDS-AB123CD"}
    first = client.post(
        "/api/v1/subjects", json={"study_code": "NA1-0911", **body, **guid}, headers=headers
    )
    assert first.status_code == 201, first.get_json()

    second = client.post(
        "/api/v1/subjects", json={"study_code": "NA1-0912", **body, **guid}, headers=headers
    )

    assert second.status_code == 409
    assert second.mimetype == "application/problem+json"
    assert second.get_json()["errors"][0]["field"] == "ninds_guid"
    assert client.get("/api/v1/subjects/NA1-0912", headers=headers).status_code == 404


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def benches(
    request: pytest.FixtureRequest, databases: DatabaseMaker
) -> Iterator[sessionmaker[Session]]:
    url = databases.migrated(request.param, "lims_unique_race")
    engine: Engine = make_engine(url, pool_size=25, max_overflow=0)
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


def _race(benches: sessionmaker[Session], attempts: int, work: object) -> list[str]:
    """Run `work(session)` from `attempts` threads at once, each on its own connection."""
    outcomes: list[str] = []
    barrier = threading.Barrier(attempts)

    def bench() -> None:
        with benches() as session:
            barrier.wait()
            try:
                work(session)  # type: ignore[operator]
                outcomes.append("ok")
            except Conflict:
                outcomes.append("conflict")
            except Exception as err:  # the figure the issue counts: anything else is a 500
                outcomes.append(f"error: {type(err).__name__}: {err}")

    threads = [threading.Thread(target=bench) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def test_twenty_benches_registering_one_subject_get_one_success_and_nineteen_conflicts(
    benches: sessionmaker[Session],
) -> None:
    with benches() as setup:
        tech = Actor.of(make_user(setup, "race-tech", Role.TECHNICIAN))

    outcomes = _race(
        benches,
        20,
        lambda s: register_subject(
            s,
            tech,
            study_code="NA1-0777",
            site_code="NA1",
            sex=Sex.MALE,
            primary_diagnosis=Dystonia.CERVICAL,
            ninds_guid="NINDS-RACE777",
        ),
    )

    assert sorted(outcomes) == ["conflict"] * 19 + ["ok"], outcomes
    with benches() as check:
        count = select(func.count()).where(Subject.study_code == "NA1-0777")
        assert check.scalar(count) == 1
        assert verify_chain(check).is_intact


def test_twenty_benches_creating_one_freezer_get_one_success_and_nineteen_conflicts(
    benches: sessionmaker[Session],
) -> None:
    from lims.storage.services import create_freezer

    with benches() as setup:
        admin = Actor.of(make_user(setup, "race-admin", Role.ADMIN))

    outcomes = _race(
        benches,
        20,
        lambda s: create_freezer(s, admin, name="Race -80", temperature_c=-80, room="B12"),
    )

    assert sorted(outcomes) == ["conflict"] * 19 + ["ok"], outcomes
    with benches() as check:
        assert check.scalar(select(func.count()).where(Freezer.name == "Race -80")) == 1
