"""Sign-in and sign-out pages, the session's life, and the administrator's users and sites."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import login_required, login_user, logout_user

from lims.actors import Role
from lims.auth import services, timezones
from lims.auth.models import User
from lims.auth.schemas import LoginIn, SiteTimeZoneIn
from lims.db import get_session, utcnow
from lims.errors import Conflict, LimsError, NotFound, plural
from lims.web import NAV, current_actor, flash_problem, safe_next

bp = Blueprint("auth", __name__)

NAV.append(("auth.sites", "Sites", (Role.ADMIN,)))

# Kept in the signed session cookie: when the user signed in, and when they were last seen.
SIGNED_IN_AT, SEEN_AT = "signed_in_at", "seen_at"
_FLASK_LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_remember", "_remember_seconds")
# Refresh "last seen" at most this often, so the cookie is not rewritten on every request.
_SEEN_RESOLUTION = timedelta(minutes=1)


def _now() -> datetime:
    """The app's clock; tests pass their own as CLOCK."""
    now: datetime = current_app.config.get("CLOCK", utcnow)()
    return now


def session_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the session's user, unless the session has ended.

    It ends when the user signs out or is deactivated (the generation in the id no longer
    matches), after SESSION_IDLE_MINUTES without a request, and SESSION_MAX_HOURS after sign-in.
    """
    now = _now()
    ended = services.session_end(
        signed_in_at=session.get(SIGNED_IN_AT, 0),
        seen_at=session.get(SEEN_AT, 0),
        now=now,
        idle=timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]),
        lifetime=timedelta(hours=current_app.config["SESSION_MAX_HOURS"]),
    )
    user = services.load_user(get_session(primary=True), user_id) if ended is None else None
    if user is None:
        # Not logout_user(): it would ask this loader for the user again.
        for key in (*_FLASK_LOGIN_KEYS, SIGNED_IN_AT, SEEN_AT):
            session.pop(key, None)
        if ended is not None:
            flash(ended, "info")
        return None
    if now.timestamp() - session.get(SEEN_AT, 0) >= _SEEN_RESOLUTION.total_seconds():
        session[SEEN_AT] = now.timestamp()
    return user


@bp.get("/login")
def login_form() -> ResponseReturnValue:
    return render_template("auth/login.html", next=request.args.get("next", ""))


@bp.post("/login")
def login() -> ResponseReturnValue:
    next_url = request.form.get("next", "")
    try:
        form = LoginIn().load(request.form)
        user = services.authenticate(
            get_session(),
            username=form["username"],
            password=form["password"],
            source_address=request.remote_addr or "unknown",
            throttle=services.Throttle.from_config(current_app.config),
        )
    except LimsError as err:
        flash_problem(err)
        page = render_template(
            "auth/login.html", next=next_url, username=request.form.get("username", "")
        )
        return page, err.status
    login_user(user)
    session[SIGNED_IN_AT] = session[SEEN_AT] = _now().timestamp()
    return redirect(safe_next(next_url, url_for("home.index")))


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    services.sign_out(get_session(), current_actor())
    logout_user()
    session.clear()
    flash("Signed out.", "info")
    return redirect(url_for("auth.login_form"))


@bp.get("/admin/users")
@login_required
def users() -> ResponseReturnValue:
    accounts = services.list_accounts(
        get_session(),
        current_actor(),
        throttle=services.Throttle.from_config(current_app.config),
    )
    return render_template("auth/users.html", accounts=accounts)


# The administrator's buttons: (what the form posts to) -> (service, message on success).
_ACCOUNT_ACTIONS = {
    "deactivation": (services.deactivate_user, "{} is deactivated; their sessions and tokens end"),
    "reactivation": (services.reactivate_user, "{} can sign in again"),
    "unlock": (services.unlock_user, "{} is unlocked: failed sign-ins are forgotten"),
}


@bp.post("/admin/users/<username>/<any(deactivation, reactivation, unlock):change>")
@login_required
def change_account(username: str, change: str) -> ResponseReturnValue:
    service, message = _ACCOUNT_ACTIONS[change]
    try:
        user = service(get_session(), current_actor(), username=username)
    except (Conflict, NotFound) as err:
        flash_problem(err)
        return redirect(url_for("auth.users"))
    flash(message.format(user.username), "success")
    return redirect(url_for("auth.users"))


@bp.post("/admin/users/<username>/token-revocation")
@login_required
def revoke_tokens(username: str) -> ResponseReturnValue:
    try:
        revoked = services.revoke_user_tokens(get_session(), current_actor(), username=username)
    except NotFound as err:
        flash_problem(err)
        return redirect(url_for("auth.users"))
    flash(f"{plural(revoked, 'token')} of {username} revoked", "success")
    return redirect(url_for("auth.users"))


def _sites_page(**context: object) -> str:
    sites = services.list_sites_for_admin(get_session(), current_actor())
    return render_template(
        "auth/sites.html",
        sites=sites,
        now=_now(),
        zones=sorted(timezones.known_zones()),
        **{"errors": {}, "form": {}, **context},
    )


@bp.get("/admin/sites")
@login_required
def sites() -> ResponseReturnValue:
    return _sites_page()


@bp.post("/admin/sites/<code>/time-zone")
@login_required
def set_site_time_zone(code: str) -> ResponseReturnValue:
    try:
        form = SiteTimeZoneIn().load(request.form)
        site = services.set_site_time_zone(
            get_session(), current_actor(), code=code, time_zone=form["time_zone"]
        )
    except LimsError as err:
        flash_problem(err)
        return _sites_page(errors={code: err.detail}, form={code: request.form}), err.status
    flash(
        f"{site.code} times are now read in {site.time_zone}; times already stored keep their "
        "instant and show in the new zone.",
        "success",
    )
    return redirect(url_for("auth.sites"))
