"""Consent recorded, withdrawn and checked by several benches at once, with real connections.

These tests commit for real, so they use their own database per dialect.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lims.actors import Actor, Role
from lims.audit.models import Action, AuditEvent
from lims.specimens.consent_models import ConsentEvent, ConsentEventKind
from lims.specimens.models import Subject
from lims.specimens.services import record_consent, register_visit, withdraw_consent
from tests.conftest import DatabaseMaker
from tests.factories import make_subject, make_user
from tests.races import BENCHES, race, race_database
from tests.specimens.factories import make_consent_form


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def benches(
    request: pytest.FixtureRequest, databases: DatabaseMaker
) -> Iterator[sessionmaker[Session]]:
    engine = race_database(databases, request.param, "lims_consent_race")
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


def test_simultaneous_consents_of_one_subject_make_one_first_consent(
    benches: sessionmaker[Session],
) -> None:
    with benches() as setup:
        tech = Actor.of(make_user(setup, "race-consent", Role.TECHNICIAN))
        code = make_subject(setup).study_code
        form = make_consent_form(setup, version="race-1")
        answers = {s.code: True for s in form.statements}
        form_id = form.id

    outcomes = race(
        benches,
        lambda s, i: record_consent(
            s,
            tech,
            study_code=code,
            document_id=form_id,
            consented_on=date(2023, 1, 1 + i),
            answers=answers,
        ),
    )

    assert len(outcomes.results) == BENCHES, outcomes
    with benches() as check:
        subject = check.scalars(select(Subject).where(Subject.study_code == code)).one()
        kinds = check.scalars(
            select(ConsentEvent.kind).where(ConsentEvent.subject_id == subject.id)
        ).all()
    # Without the subject's row lock, several benches saw no earlier consent on PostgreSQL.
    assert len(kinds) == BENCHES and kinds.count(ConsentEventKind.CONSENTED) == 1


def test_a_visit_registered_during_a_withdrawal_either_precedes_it_or_is_refused(
    benches: sessionmaker[Session],
) -> None:
    with benches() as setup:
        tech = Actor.of(make_user(setup, "race-withdraw", Role.TECHNICIAN))
        code = make_subject(setup).study_code

    def attempt(session: Session, i: int) -> object:
        if i == BENCHES // 2:
            return withdraw_consent(
                session, tech, study_code=code, reason="letter",
                withdrawn_at=datetime(2026, 11, 2, tzinfo=UTC),
            )  # fmt: skip
        return register_visit(
            session, tech, study_code=code, visit_number=i + 1, visit_on=date(2026, 11, 1)
        )

    outcomes = race(benches, attempt)

    assert all("withdrawn consent" in e.detail for e in outcomes.errors), outcomes
    with benches() as check:
        trail = check.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        withdrawn = next(e.id for e in trail if e.action == Action.SUBJECT_CONSENT_WITHDRAWN)
        visits = [e.id for e in trail if e.action == Action.VISIT_REGISTERED]
    assert len(visits) + len(outcomes.errors) == BENCHES - 1
    assert all(v < withdrawn for v in visits)
