from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor, Role
from lims.auth.models import User
from tests.factories import DEMO_PASSWORD, make_site


def test_users_create_adds_an_account_with_a_hashed_password(app: Flask, session: Session) -> None:
    make_site(session, "EU1")
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "Maria",
            "--role",
            "technician",
            "--site",
            "EU1",
            "--password",
            "long-enough-pw",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "created maria (technician)" in result.output
    user = session.scalars(select(User).where(User.username == "maria")).one()
    assert user.role is Role.TECHNICIAN and user.site is not None and user.site.code == "EU1"
    assert user.password_hash.startswith("scrypt:")


def test_users_create_refuses_a_short_password_with_the_reason(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["users", "create", "bob", "--role", "reviewer", "--password", "short"]
    )
    assert result.exit_code == 1
    assert "at least 10 characters" in result.output


def test_users_unlock_and_deactivate_work_from_the_command_line(
    app: Flask, session: Session, tech: Actor
) -> None:
    from lims.auth.services import Throttle, authenticate
    from lims.errors import NotAuthenticated, TooManyAttempts

    throttle = Throttle(max_failures=1)
    for error in (NotAuthenticated, TooManyAttempts):
        with pytest.raises(error):
            authenticate(
                session, username="tech", password="nope", source_address="x", throttle=throttle
            )
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "unlock", "tech"]).output == "unlocked tech\n"
    authenticate(session, username="tech", password=DEMO_PASSWORD, source_address="x")
    result = runner.invoke(args=["users", "deactivate", "tech"])
    assert result.output == "deactivated tech\n"
    assert not session.scalars(select(User).where(User.username == "tech")).one().is_active
    assert runner.invoke(args=["users", "unlock", "nobody"]).exit_code == 1
