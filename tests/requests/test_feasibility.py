"""The feasibility service: protected counts for investigators, exact for staff, every query
logged and audited, the rate limit, the lockout and its unlock (both dialects)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import AuditEvent
from lims.errors import Forbidden, RateLimited
from lims.requests.feasibility_models import FeasibilityLockout
from lims.requests.models import FeasibilityQuery
from lims.requests.protection import criteria_hash
from lims.requests.services.feasibility import (
    FeasibilitySettings,
    check_feasibility,
    list_lockouts,
    unlock_feasibility,
)
from lims.specimens.models import Dystonia
from tests.requests.criteria_factories import a_box, stored, subject, visit
from tests.specimens.factories import make_consent_form

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
SECRET = b"feasibility-test-secret-of-32-bytes!!"
SETTINGS = FeasibilitySettings(secret=SECRET, rate_limit=5, lockout_limit=2)
HMB: dict[str, Any] = {"purpose": {"term": "HMB"}}


@pytest.fixture
def cohort(session: Session) -> None:
    """Eight cervical subjects with two tubes each, two laryngeal with one."""
    form, box = make_consent_form(session), a_box(session)
    for n in range(10):
        diagnosis = Dystonia.CERVICAL if n < 8 else Dystonia.LARYNGEAL
        stored(session, visit(session, subject(session, form, diagnosis=diagnosis)), box,
               count=2 if n < 8 else 1)  # fmt: skip


def ask(session: Session, actor: Actor, criteria: dict[str, Any] | None = None, **kw: Any) -> Any:
    return check_feasibility(
        session,
        actor,
        criteria=criteria or HMB,
        settings=kw.pop("settings", SETTINGS),
        now=kw.pop("now", NOW),
    )


@pytest.mark.usefixtures("cohort")
def test_staff_see_exact_counts_for_every_diagnosis(session: Session, tech: Actor) -> None:
    answer = ask(session, tech)

    shown = {
        row.label: (row.subjects.shown, row.visits.shown, row.aliquots.shown) for row in answer.rows
    }
    assert answer.is_exact
    assert shown == {
        "cervical": ("8", "8", "16"),
        "laryngeal": ("2", "2", "2"),
        "blepharospasm": ("0", "0", "0"),
        "craniofacial": ("0", "0", "0"),
        "limb": ("0", "0", "0"),
    }
    assert (answer.total.subjects.value, answer.total.aliquots.value) == (10, 18)


@pytest.mark.usefixtures("cohort")
def test_investigators_see_small_counts_hidden_and_the_rest_protected(
    session: Session, investigator: Actor
) -> None:
    criteria = HMB | {"diagnoses": ["laryngeal", "cervical"]}

    answer = ask(session, investigator, criteria)

    assert not answer.is_exact
    assert [row.label for row in answer.rows] == ["cervical", "laryngeal"]  # only those asked
    laryngeal = answer.rows[1]
    assert {laryngeal.subjects.shown, laryngeal.aliquots.shown} == {"fewer than 5"}
    for count in (answer.rows[0].aliquots, answer.total.aliquots):  # 16 and 18 true
        assert not count.exact and (count.value is None or count.value % 5 == 0)
        assert count.value is None or abs(count.value - 17) <= 10


@pytest.mark.usefixtures("cohort")
def test_asking_the_same_question_again_gives_the_same_answer(
    session: Session, investigator: Actor
) -> None:
    first = ask(session, investigator)
    again = ask(
        session, investigator, {"purpose": {"term": "DUO:0000006"}}, now=NOW + timedelta(minutes=1)
    )

    assert again.rows == first.rows and again.total == first.total


@pytest.mark.usefixtures("cohort")
def test_every_query_is_logged_with_its_true_count_and_audited_without_it(
    session: Session, investigator: Actor
) -> None:
    answer = ask(session, investigator)

    (logged,) = session.scalars(select(FeasibilityQuery)).all()
    assert (logged.user_id, logged.true_subjects) == (investigator.user_id, 10)
    assert logged.criteria_hash == criteria_hash(answer.criteria.document()) == answer.criteria_hash
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "feasibility.queried")
    ).one()
    assert event.actor_username == "investigator"
    assert event.after is not None
    assert event.after["criteria_hash"] == answer.criteria_hash
    assert event.after["criteria"] == answer.criteria.document()
    assert event.after["shown_subjects"] == answer.total.subjects.shown
    assert "true_subjects" not in event.after  # the true count stays in the staff-only log


@pytest.mark.usefixtures("cohort")
def test_an_investigator_over_the_rate_limit_is_told_when_to_come_back(
    session: Session, investigator: Actor, tech: Actor
) -> None:
    limited = FeasibilitySettings(secret=SECRET, rate_limit=5)
    for n in range(5):
        ask(session, investigator, HMB | {"max_freeze_thaw": 100 + n}, settings=limited,
            now=NOW + timedelta(minutes=n))  # fmt: skip

    with pytest.raises(RateLimited) as refused:
        ask(session, investigator, settings=limited, now=NOW + timedelta(minutes=10))

    assert refused.value.retry_after_s == 50 * 60 + 1  # the oldest leaves the hour at 11:00
    later = NOW + timedelta(minutes=61)  # the first query has left the window
    assert ask(session, investigator, settings=limited, now=later)
    assert all(ask(session, tech, settings=limited).is_exact for _ in range(6))  # staff: no limit


@pytest.mark.usefixtures("cohort")
def test_rewriting_one_question_for_fresh_noise_locks_the_investigator_out(
    session: Session, investigator: Actor, admin: Actor
) -> None:
    rewrites = [HMB | {"max_freeze_thaw": n} for n in (50, 60, 70)]  # all match the same 10
    for n, criteria in enumerate(rewrites[:2]):
        ask(session, investigator, criteria, now=NOW + timedelta(minutes=n))

    with pytest.raises(Forbidden, match="An administrator must unlock"):
        ask(session, investigator, rewrites[2], now=NOW + timedelta(minutes=2))
    with pytest.raises(Forbidden, match="locked"):
        ask(session, investigator, now=NOW + timedelta(minutes=3))

    (locked,) = list_lockouts(session, admin)
    assert (locked.username, locked.distinct_criteria) == ("investigator", 3)
    lock = session.get(FeasibilityLockout, locked.lockout_id)
    unlock_feasibility(
        session,
        admin,
        lockout_id=locked.lockout_id,
        note="talked to them",
        now=NOW + timedelta(minutes=5),
    )
    assert lock is not None and lock.unlocked_by_id == admin.user_id
    assert ask(session, investigator, rewrites[0], now=NOW + timedelta(minutes=6))
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.action.like("feasibility.%"))
        .order_by(AuditEvent.id)
    ).all()
    assert actions[-3:] == ["feasibility.locked_out", "feasibility.unlocked", "feasibility.queried"]


def test_only_an_administrator_lists_and_lifts_lockouts(
    session: Session, investigator: Actor
) -> None:
    with pytest.raises(Forbidden):
        list_lockouts(session, investigator)
    with pytest.raises(Forbidden):
        unlock_feasibility(session, investigator, lockout_id=1, note="me", now=NOW)
