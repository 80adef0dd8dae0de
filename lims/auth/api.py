"""POST /api/v1/tokens and GET /api/v1/me."""

from __future__ import annotations

from flask import Blueprint, current_app, g
from flask.typing import ResponseReturnValue

from lims.auth import services
from lims.auth.schemas import TokenIn, TokenOut, UserOut
from lims.db import get_session
from lims.web import documented, dump, json_body, token_required

bp = Blueprint("auth_api", __name__, url_prefix="/api/v1")


@bp.post("/tokens")
@documented(
    summary="Exchange a username and password for a bearer token",
    body=TokenIn,
    response=TokenOut,
    status=201,
    public=True,
)
def create_token() -> ResponseReturnValue:
    body = TokenIn().load(json_body())
    session = get_session()
    user = services.authenticate(
        session,
        username=body["username"],
        password=body["password"],
        max_failures=current_app.config["LOGIN_MAX_FAILURES"],
        window_minutes=current_app.config["LOGIN_WINDOW_MINUTES"],
    )
    token, row = services.issue_token(session, user, hours=current_app.config["API_TOKEN_HOURS"])
    return dump(TokenOut(), {"token": token, "expires_at": row.expires_at}), 201


@bp.get("/me")
@token_required
@documented(summary="The account the token belongs to", response=UserOut)
def me() -> ResponseReturnValue:
    return dump(UserOut(), g.api_user)
