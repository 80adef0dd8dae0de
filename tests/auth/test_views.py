from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import Action, AuditEvent
from tests.conftest import csrf_token, sign_in


def test_pages_need_a_signed_in_user(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_technician_signs_in_and_sees_the_overview(client: FlaskClient, tech: Actor) -> None:
    sign_in(client, "tech")
    page = client.get("/").get_data(as_text=True)
    assert "Biorepository overview" in page
    assert "tech · technician" in page


def test_a_wrong_password_is_refused_and_audited(
    client: FlaskClient, tech: Actor, session: Session
) -> None:
    token = csrf_token(client)
    response = client.post(
        "/login", data={"username": "tech", "password": "nope-nope-nope", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Unknown username or wrong password" in response.get_data(as_text=True)
    assert session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == Action.USER_SIGN_IN_FAILED, AuditEvent.object_id == "tech"
        )
    )


def test_repeated_failures_are_throttled_even_with_the_right_password(
    client: FlaskClient, tech: Actor
) -> None:
    token = csrf_token(client)
    for _ in range(3):  # LOGIN_MAX_FAILURES is 3 in the test app
        client.post(
            "/login", data={"username": "tech", "password": "wrong-password", "csrf_token": token}
        )
    response = client.post(
        "/login", data={"username": "tech", "password": "biobank-demo", "csrf_token": token}
    )
    assert response.status_code == 429
    assert "Too many failed sign-ins for tech" in response.get_data(as_text=True)


def test_a_form_without_the_csrf_token_is_refused(client: FlaskClient, tech: Actor) -> None:
    response = client.post("/login", data={"username": "tech", "password": "biobank-demo"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_signing_out_needs_the_csrf_token_too(client: FlaskClient, tech: Actor) -> None:
    sign_in(client, "tech")
    assert client.post("/logout").status_code == 400
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_the_audit_page_is_for_admins_and_reviewers_only(
    client: FlaskClient, tech: Actor, reviewer: Actor
) -> None:
    sign_in(client, "tech")
    assert client.get("/audit/").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    sign_in(client, "reviewer")
    page = client.get("/audit/")
    assert page.status_code == 200
    assert "user.signed_in" in page.get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.test/", "/\\evil.test", "//evil.test"])
def test_an_external_next_url_is_not_followed(
    client: FlaskClient, tech: Actor, target: str
) -> None:
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={
            "username": "tech",
            "password": "biobank-demo",
            "csrf_token": token,
            "next": target,
        },
    )
    assert response.headers["Location"] == "/"


def test_pages_refuse_framing_and_mime_sniffing(client: FlaskClient) -> None:
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
