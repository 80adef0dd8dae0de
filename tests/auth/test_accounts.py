"""An administrator deactivates, reactivates and unlocks accounts, on the page and the API."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import AuditEvent
from lims.auth.models import User
from lims.auth.services import deactivate_user
from lims.errors import Conflict, Forbidden
from tests.conftest import bearer, csrf_token, sign_in


def _user(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def _actions(session: Session, user: User) -> list[str]:
    stmt = (
        select(AuditEvent.action)
        .where(AuditEvent.object_type == "user", AuditEvent.object_id == str(user.id))
        .order_by(AuditEvent.id)
    )
    return list(session.scalars(stmt))


def _fail_sign_in(client: FlaskClient, username: str, times: int) -> None:
    token = csrf_token(client)
    for _ in range(times):
        client.post(
            "/login", data={"username": username, "password": "wrong-password", "csrf_token": token}
        )


def test_the_users_page_lists_role_site_and_status_for_admins_only(
    client: FlaskClient, tech: Actor, admin: Actor
) -> None:
    sign_in(client, "tech")
    assert client.get("/admin/users").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    sign_in(client, "admin")
    page = client.get("/admin/users").get_data(as_text=True)
    assert re.search(r"<td>tech</td>\s*<td>technician</td>\s*<td>NA1</td>\s*<td>active", page)
    assert 'aria-label="Deactivate tech"' in page
    assert 'aria-label="Deactivate admin"' not in page  # nobody locks themselves out


def test_deactivating_on_the_page_ends_the_users_sessions_and_tokens(
    client: FlaskClient, session: Session, tech: Actor, admin: Actor, app: object
) -> None:
    tech_token = bearer(client, "tech")
    bench = client.application.test_client()
    sign_in(bench, "tech")
    sign_in(client, "admin")
    response = client.post(
        "/admin/users/tech/deactivation", data={"csrf_token": csrf_token(client, "/admin/users")}
    )
    assert response.status_code == 302
    assert "tech is deactivated" in client.get("/admin/users").get_data(as_text=True)
    user = _user(session, "tech")
    assert not user.is_active
    assert client.get("/api/v1/me", headers=tech_token).status_code == 401
    assert bench.get("/").status_code == 302
    (event,) = [e for e in session.scalars(select(AuditEvent)) if e.action == "user.deactivated"]
    assert event.actor_username == "admin" and event.after is not None
    assert event.after["is_active"] is False and len(event.after["tokens_revoked"]) == 1


def test_the_page_refuses_a_change_without_the_csrf_token(
    client: FlaskClient, session: Session, tech: Actor, admin: Actor
) -> None:
    sign_in(client, "admin")
    assert client.post("/admin/users/tech/deactivation").status_code == 400
    assert _user(session, "tech").is_active


def test_a_reactivated_user_signs_in_again(
    client: FlaskClient, session: Session, tech: Actor, admin: Actor
) -> None:
    deactivate_user(session, admin, username="tech")
    headers = bearer(client, "admin")
    response = client.delete("/api/v1/users/tech/deactivation", headers=headers)
    assert response.status_code == 200 and response.get_json()["is_active"] is True
    sign_in(client, "tech")
    assert _actions(session, _user(session, "tech"))[-2:] == [
        "user.deactivated",
        "user.reactivated",
    ]


def test_only_an_admin_deactivates_and_not_themselves(
    client: FlaskClient, session: Session, tech: Actor, admin: Actor
) -> None:
    refused = client.post("/api/v1/users/admin/deactivation", headers=bearer(client, "tech"))
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    with pytest.raises(Forbidden):
        deactivate_user(session, tech, username="admin")
    with pytest.raises(Conflict, match="your own account"):
        deactivate_user(session, admin, username="admin")
    response = client.post("/api/v1/users/tech/deactivation", headers=bearer(client, "admin"))
    assert response.status_code == 200 and response.get_json()["is_active"] is False
    again = client.post("/api/v1/users/tech/deactivation", headers=bearer(client, "admin"))
    assert again.status_code == 409


def test_an_admin_unlocks_a_locked_user_on_the_page(
    client: FlaskClient, session: Session, tech: Actor, admin: Actor
) -> None:
    admin_client = client.application.test_client()
    sign_in(admin_client, "admin")
    _fail_sign_in(client, "tech", 3)  # LOGIN_MAX_FAILURES is 3 in the test app
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert re.search(r"<td>tech</td>.*?<strong>locked</strong>", page, re.S)
    token = csrf_token(admin_client, "/admin/users")
    admin_client.post("/admin/users/tech/unlock", data={"csrf_token": token})
    sign_in(client, "tech")
    assert _actions(session, _user(session, "tech"))[-1] == "user.unlocked"


def test_the_api_lists_accounts_and_unlocks_and_revokes_tokens(
    client: FlaskClient, tech: Actor, admin: Actor
) -> None:
    admin_headers = bearer(client, "admin")
    tech_headers = bearer(client, "tech")
    _fail_sign_in(client, "tech", 3)
    accounts = client.get("/api/v1/users", headers=admin_headers).get_json()["items"]
    tech_row = next(a for a in accounts if a["username"] == "tech")
    assert tech_row == {
        "username": "tech",
        "role": "technician",
        "site": "NA1",
        "is_active": True,
        "is_locked": True,
        "active_tokens": 1,
    }
    assert client.get("/api/v1/users", headers=tech_headers).status_code == 403
    assert client.post("/api/v1/users/tech/unlock", headers=admin_headers).status_code == 200
    revoked = client.delete("/api/v1/users/tech/tokens", headers=admin_headers)
    assert revoked.get_json() == {"revoked": 1}
    assert client.get("/api/v1/me", headers=tech_headers).status_code == 401
    assert client.post("/api/v1/users/nobody/unlock", headers=admin_headers).status_code == 404


def test_a_user_may_change_only_their_own_password_and_an_admin_anyones(
    session: Session, tech: Actor, reviewer: Actor, admin: Actor
) -> None:
    from lims.auth.services import set_password

    with pytest.raises(Forbidden):
        set_password(session, tech, username="reviewer", password="long-enough-1")
    before = _user(session, "tech").session_generation
    set_password(session, tech, username="tech", password="long-enough-1")
    set_password(session, admin, username="tech", password="long-enough-2")
    assert _user(session, "tech").session_generation == before + 2
    assert _actions(session, _user(session, "tech"))[-1] == "user.password_changed"
