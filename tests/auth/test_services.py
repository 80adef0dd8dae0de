from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from lims.actors import Actor, Role
from lims.auth.models import User
from lims.auth.services import (
    authenticate,
    create_user,
    find_site,
    issue_token,
    signing_in,
    user_for_token,
)
from lims.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, TooManyAttempts
from tests.factories import make_site


def test_passwords_are_stored_only_as_scrypt_hashes(session: Session, tech: Actor) -> None:
    user = session.get(User, tech.user_id)
    assert user is not None
    assert user.password_hash.startswith("scrypt:")
    assert "biobank-demo" not in user.password_hash


def test_outside_the_suite_passwords_are_hashed_at_scrypts_full_cost() -> None:
    # The suite lowers the cost (tests/conftest.py); the module itself must not.
    tree = ast.parse(Path(signing_in.__file__).read_text(encoding="utf-8"))
    (method,) = (
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id == "PASSWORD_HASH_METHOD"
        and isinstance(node.value, ast.Constant)
    )
    assert generate_password_hash("long-enough-1", method=method).startswith("scrypt:32768:8:1$")


def test_only_an_admin_creates_users(session: Session, tech: Actor, admin: Actor) -> None:
    with pytest.raises(Forbidden, match="tech \\(technician\\) may not"):
        create_user(
            session, tech, username="newbie", password="long-enough-1", role=Role.TECHNICIAN
        )
    created = create_user(
        session, admin, username="Newbie", password="long-enough-1", role=Role.TECHNICIAN
    )
    assert created.username == "newbie"


def test_a_short_password_or_a_taken_username_is_refused(session: Session, admin: Actor) -> None:
    with pytest.raises(InvalidInput, match="at least 10") as err:
        create_user(session, admin, username="x1", password="short", role=Role.REVIEWER)
    assert err.value.errors == [{"field": "password", "message": err.value.detail}]
    with pytest.raises(Conflict, match="already exists"):
        create_user(session, admin, username="admin", password="long-enough-1", role=Role.ADMIN)


def test_a_deactivated_account_cannot_sign_in(session: Session, tech: Actor) -> None:
    user = session.get(User, tech.user_id)
    assert user is not None
    user.is_active = False
    with pytest.raises(NotAuthenticated):
        authenticate(session, username="tech", password="biobank-demo", source_address="10.0.0.1")


def test_sign_in_is_allowed_again_once_the_throttle_window_has_passed(
    session: Session, tech: Actor
) -> None:
    t0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    for i in range(5):
        with pytest.raises(NotAuthenticated):
            authenticate(
                session,
                username="tech",
                password="bad-password",
                source_address="10.0.0.1",
                now=t0 + timedelta(seconds=i),
            )
    with pytest.raises(TooManyAttempts):
        authenticate(
            session,
            username="tech",
            password="biobank-demo",
            source_address="10.0.0.1",
            now=t0 + timedelta(minutes=1),
        )
    user = authenticate(
        session,
        username="tech",
        password="biobank-demo",
        source_address="10.0.0.1",
        now=t0 + timedelta(minutes=16),
    )
    assert user.username == "tech"


def test_an_expired_token_is_refused(session: Session, tech: Actor) -> None:
    user = session.get(User, tech.user_id)
    assert user is not None
    t0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    token, _ = issue_token(session, user, hours=12, now=t0)
    assert user_for_token(session, token, now=t0 + timedelta(hours=11)) is user
    with pytest.raises(NotAuthenticated, match="expired"):
        user_for_token(session, token, now=t0 + timedelta(hours=12))


def test_a_site_is_found_by_its_code_as_typed_and_an_unknown_one_names_the_field(
    session: Session,
) -> None:
    site = make_site(session, "NA1")
    assert find_site(session, " na1 ") is site
    with pytest.raises(InvalidInput, match="Site XX9 does not exist") as err:
        find_site(session, "XX9", field="site")
    assert err.value.field_errors == {"site": "Site XX9 does not exist"}
