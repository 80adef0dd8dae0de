"""A session ends on the server: at sign-out, at deactivation, when idle, and at its lifetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims import create_app
from lims.actors import Actor
from lims.audit.models import AuditEvent
from lims.auth.services import deactivate_user
from lims.storage.models import Freezer
from tests.conftest import csrf_token, sign_in

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _app(session: Session, **config: Any) -> Flask:
    settings: dict[str, Any] = {
        "TESTING": True,
        "SECRET_KEY": "test-only",
        "SESSION_FACTORY": lambda: session,
    }
    return create_app(settings | config)


def _freezers(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Freezer)) or 0


def _goes_to_login(response: Any) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_cookie_copied_before_sign_out_no_longer_works_after_it(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    sign_in(client, "tech")
    token = csrf_token(client, "/storage/")
    copied = client.get_cookie("session")
    assert copied is not None
    client.post("/logout", data={"csrf_token": token})

    client.set_cookie("session", copied.value)  # the attacker's copy
    before = _freezers(session)
    response = client.post(
        "/storage/freezers",
        data={"name": "Stolen", "temperature_c": "-80", "room": "B1", "csrf_token": token},
    )
    assert _goes_to_login(response)
    assert _freezers(session) == before
    client.set_cookie("session", copied.value)
    assert _goes_to_login(client.get("/"))


def test_signing_out_is_in_the_audit_trail(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    sign_in(client, "tech")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    trail = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.object_type == "user", AuditEvent.object_id == "tech")
        .order_by(AuditEvent.id)
    ).all()
    assert trail[-2:] == ["user.signed_in", "user.signed_out"]


def test_a_deactivated_user_is_signed_out_at_their_next_request(
    client: FlaskClient, session: Session, tech: Actor, admin: Actor
) -> None:
    sign_in(client, "tech")
    assert client.get("/").status_code == 200
    deactivate_user(session, admin, username="tech")
    assert _goes_to_login(client.get("/"))


@pytest.mark.parametrize(
    ("pauses", "still_signed_in"),
    [
        ([29, 29, 29], True),  # active every 29 minutes: never idle for 30
        ([29, 31], False),
    ],
)
def test_a_session_ends_after_the_idle_time(
    session: Session, tech: Actor, pauses: list[int], still_signed_in: bool
) -> None:
    clock = Clock(T0)
    client = _app(session, CLOCK=clock, SESSION_IDLE_MINUTES=30).test_client()
    sign_in(client, "tech")
    response = client.get("/")
    for minutes in pauses:
        clock.now += timedelta(minutes=minutes)
        response = client.get("/")
    assert (response.status_code == 200) is still_signed_in
    if not still_signed_in:
        assert _goes_to_login(response)
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "30 minutes without activity" in page


def test_a_session_ends_at_its_lifetime_however_busy(session: Session, tech: Actor) -> None:
    clock = Clock(T0)
    client = _app(session, CLOCK=clock, SESSION_MAX_HOURS=2).test_client()
    sign_in(client, "tech")
    for _ in range(7):  # every 17 minutes: 1 h 59 min in all
        clock.now += timedelta(minutes=17)
        assert client.get("/").status_code == 200
    clock.now += timedelta(minutes=1)
    assert _goes_to_login(client.get("/"))


def test_cookies_are_secure_httponly_and_lax_outside_development(
    session: Session, tech: Actor
) -> None:
    production = _app(session, TESTING=False, LIMS_ENV="production").test_client()
    set_cookie = _sign_in_cookie(production)
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    development = _app(session, TESTING=False, LIMS_ENV="development").test_client()
    assert "Secure" not in _sign_in_cookie(development)


def _sign_in_cookie(client: FlaskClient) -> str:
    token = csrf_token(client)
    response = client.post(
        "/login", data={"username": "tech", "password": "biobank-demo", "csrf_token": token}
    )
    assert response.status_code == 302
    return response.headers["Set-Cookie"]


def test_pages_and_answers_are_not_stored_but_static_files_may_be(
    client: FlaskClient, tech: Actor
) -> None:
    sign_in(client, "tech")
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/openapi.json").headers["Cache-Control"] == "no-store"
    static = client.get("/static/app.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()


def test_pages_send_a_content_security_policy_without_inline_script(
    client: FlaskClient, tech: Actor
) -> None:
    sign_in(client, "tech")
    policy = client.get("/").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"


def test_a_new_password_ends_the_users_open_sessions(
    client: FlaskClient, session: Session, tech: Actor, app: Flask
) -> None:
    sign_in(client, "tech")
    result = app.test_cli_runner().invoke(
        args=["users", "set-password", "tech", "--password", "another-long-one"]
    )
    assert result.exit_code == 0, result.output
    assert _goes_to_login(client.get("/"))
    sign_in(client, "tech", "another-long-one")
