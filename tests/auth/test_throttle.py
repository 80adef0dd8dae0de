"""The sign-in throttle: per username and address, per address, atomic under a burst."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from lims import create_app
from lims.actors import Actor, Role
from lims.audit.models import Action, AuditEvent
from lims.auth.services import Throttle, authenticate, unlock_user
from lims.db import make_engine
from lims.errors import NotAuthenticated, TooManyAttempts
from tests.conftest import DatabaseMaker, csrf_token
from tests.factories import DEMO_PASSWORD, make_user

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
THROTTLE = Throttle(max_failures=5, max_failures_per_address=8, window_minutes=15)
STRANGER, OFFICE = "198.51.100.7", "10.1.2.3"


def _try(
    session: Session, username: str, password: str, address: str, at: datetime
) -> type[Exception] | None:
    try:
        authenticate(
            session,
            username=username,
            password=password,
            source_address=address,
            throttle=THROTTLE,
            now=at,
        )
    except (NotAuthenticated, TooManyAttempts) as err:
        return type(err)
    return None


def test_a_stranger_cannot_lock_out_a_user_who_signs_in_from_elsewhere(
    session: Session, admin: Actor
) -> None:
    outcomes = [_try(session, "admin", "guess", STRANGER, T0) for _ in range(7)]
    assert outcomes == [NotAuthenticated] * 5 + [TooManyAttempts] * 2
    assert _try(session, "admin", DEMO_PASSWORD, STRANGER, T0) is TooManyAttempts
    assert _try(session, "admin", DEMO_PASSWORD, OFFICE, T0) is None


def test_an_address_trying_many_usernames_is_refused_for_all_of_them(
    session: Session, tech: Actor
) -> None:
    names = [f"user{i}" for i in range(8)]
    assert [_try(session, n, "guess", STRANGER, T0) for n in names] == [NotAuthenticated] * 8
    assert _try(session, "tech", DEMO_PASSWORD, STRANGER, T0) is TooManyAttempts
    assert _try(session, "tech", DEMO_PASSWORD, OFFICE, T0) is None


def test_refused_attempts_do_not_prolong_the_lock(session: Session, tech: Actor) -> None:
    for i in range(5):
        _try(session, "tech", "guess", OFFICE, T0 + timedelta(seconds=i))
    for minute in (5, 10, 14):
        assert _try(session, "tech", "guess", OFFICE, T0 + timedelta(minutes=minute)) is (
            TooManyAttempts
        )
    assert _try(session, "tech", DEMO_PASSWORD, OFFICE, T0 + timedelta(minutes=15, seconds=5)) is (
        None
    )


def test_a_success_forgets_the_failures_from_that_address(session: Session, tech: Actor) -> None:
    for _ in range(4):
        _try(session, "tech", "guess", OFFICE, T0)
    assert _try(session, "tech", DEMO_PASSWORD, OFFICE, T0) is None
    assert [_try(session, "tech", "guess", OFFICE, T0) for _ in range(6)] == (
        [NotAuthenticated] * 5 + [TooManyAttempts]
    )


def test_an_admins_unlock_lifts_the_lock_from_every_address(
    session: Session, tech: Actor, admin: Actor
) -> None:
    for address in (STRANGER, OFFICE):
        for _ in range(5):
            _try(session, "tech", "guess", address, T0)
    unlock_user(session, admin, username="tech")
    assert _try(session, "tech", DEMO_PASSWORD, OFFICE, T0) is None


# Real concurrent connections: each thread its own Session on a database of its own.


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def sign_ins(
    request: pytest.FixtureRequest, databases: DatabaseMaker
) -> Iterator[sessionmaker[Session]]:
    url = databases.migrated(request.param, "lims_throttle_race")
    engine: Engine = make_engine(url, pool_size=20) if request.param == "postgresql" else None
    engine = engine or make_engine(url)
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


def test_a_burst_of_wrong_passwords_gets_exactly_max_failures_checks(
    sign_ins: sessionmaker[Session],
) -> None:
    with sign_ins() as setup:
        make_user(setup, "burst-target", Role.ADMIN)
    burst, start = 20, threading.Barrier(20, timeout=30)
    outcomes: list[str] = []

    def attacker() -> None:
        with sign_ins() as session:
            start.wait()
            try:
                authenticate(
                    session,
                    username="burst-target",
                    password="wrong-password",
                    source_address=STRANGER,
                    throttle=THROTTLE,
                )
                outcomes.append("signed in")
            except NotAuthenticated:
                outcomes.append("checked")
            except TooManyAttempts:
                outcomes.append("refused")

    threads = [threading.Thread(target=attacker) for _ in range(burst)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["checked"] * 5 + ["refused"] * 15
    with sign_ins() as check:
        failures = check.scalar(
            select(func.count()).where(
                AuditEvent.action == Action.USER_SIGN_IN_FAILED,
                AuditEvent.object_id == "burst-target",
            )
        )
    assert failures == 5


def _post_login(client: FlaskClient, password: str, **environ: str) -> int:
    token = csrf_token(client)
    data = {"username": "tech", "password": password, "csrf_token": token}
    return client.post("/login", data=data, environ_base=environ).status_code


def test_the_sign_in_page_throttles_by_the_callers_address(
    client: FlaskClient, tech: Actor
) -> None:
    stranger = {"REMOTE_ADDR": STRANGER}
    codes = [_post_login(client, "guess", **stranger) for _ in range(4)]
    assert codes == [401, 401, 401, 429]  # LOGIN_MAX_FAILURES is 3 in the test app
    assert _post_login(client, DEMO_PASSWORD, REMOTE_ADDR=OFFICE) == 302


def test_behind_a_proxy_the_forwarded_address_is_the_callers(session: Session, tech: Actor) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-only",
            "SESSION_FACTORY": lambda: session,
            "LOGIN_MAX_FAILURES": 3,
            "PROXY_HOPS": 1,
        }
    )
    client = app.test_client()
    proxy = {"REMOTE_ADDR": "10.9.9.9"}
    for _ in range(3):
        _post_login(client, "guess", HTTP_X_FORWARDED_FOR=STRANGER, **proxy)
    assert _post_login(client, DEMO_PASSWORD, HTTP_X_FORWARDED_FOR=STRANGER, **proxy) == 429
    assert _post_login(client, DEMO_PASSWORD, HTTP_X_FORWARDED_FOR=OFFICE, **proxy) == 302
