"""Tokens (issue, list, revoke), GET /api/v1/me, and the administrator's account actions."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request
from flask.typing import ResponseReturnValue

from lims.auth import services
from lims.auth.schemas import (
    AccountListOut,
    TokenIn,
    TokenInfoOut,
    TokenListOut,
    TokenOut,
    TokensRevokedOut,
    UserOut,
)
from lims.db import get_session
from lims.web import current_actor, documented, dump, json_body, token_required

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
        source_address=request.remote_addr or "unknown",
        throttle=services.Throttle.from_config(current_app.config),
    )
    token, row = services.issue_token(session, user, hours=current_app.config["API_TOKEN_HOURS"])
    return dump(TokenOut(), {"token": token, "expires_at": row.expires_at}), 201


@bp.get("/tokens")
@token_required
@documented(summary="Your tokens that still work, newest first", response=TokenListOut)
def list_tokens() -> ResponseReturnValue:
    return dump(TokenListOut(), {"items": services.list_tokens(get_session(), current_actor())})


@bp.delete("/tokens/<int:token_id>")
@token_required
@documented(summary="Revoke one of your tokens (an admin: anyone's)", response=TokenInfoOut)
def revoke_token(token_id: int) -> ResponseReturnValue:
    row = services.revoke_token(get_session(), current_actor(), token_id=token_id)
    return dump(TokenInfoOut(), row)


@bp.delete("/tokens/current")
@token_required
@documented(summary="Revoke the token this request carries (sign out)", response=TokenInfoOut)
def revoke_current_token() -> ResponseReturnValue:
    row = services.revoke_token(get_session(), current_actor(), token_id=g.api_token_id)
    return dump(TokenInfoOut(), row)


@bp.get("/me")
@token_required
@documented(summary="The account the token belongs to", response=UserOut)
def me() -> ResponseReturnValue:
    return dump(UserOut(), g.api_user)


@bp.get("/users")
@token_required
@documented(summary="Every account: active, locked, tokens in use (admin)", response=AccountListOut)
def list_users() -> ResponseReturnValue:
    accounts = services.list_accounts(
        get_session(), current_actor(), throttle=services.Throttle.from_config(current_app.config)
    )
    return dump(AccountListOut(), {"items": accounts})


@bp.post("/users/<username>/deactivation")
@token_required
@documented(summary="Deactivate an account; its sessions and tokens end (admin)", response=UserOut)
def deactivate_user(username: str) -> ResponseReturnValue:
    return dump(
        UserOut(), services.deactivate_user(get_session(), current_actor(), username=username)
    )


@bp.delete("/users/<username>/deactivation")
@token_required
@documented(summary="Reactivate a deactivated account (admin)", response=UserOut)
def reactivate_user(username: str) -> ResponseReturnValue:
    return dump(
        UserOut(), services.reactivate_user(get_session(), current_actor(), username=username)
    )


@bp.post("/users/<username>/unlock")
@token_required
@documented(
    summary="Forget an account's failed sign-ins, from every address (admin)", response=UserOut
)
def unlock_user(username: str) -> ResponseReturnValue:
    return dump(UserOut(), services.unlock_user(get_session(), current_actor(), username=username))


@bp.delete("/users/<username>/tokens")
@token_required
@documented(summary="Revoke every token of an account (admin)", response=TokensRevokedOut)
def revoke_user_tokens(username: str) -> ResponseReturnValue:
    revoked = services.revoke_user_tokens(get_session(), current_actor(), username=username)
    return dump(TokensRevokedOut(), {"revoked": revoked})
