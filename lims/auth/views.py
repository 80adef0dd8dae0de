"""Sign-in and sign-out pages."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required, login_user, logout_user

from lims.auth import services
from lims.auth.schemas import LoginIn
from lims.db import get_session
from lims.errors import LimsError
from lims.web import flash_problem, safe_next

bp = Blueprint("auth", __name__)


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
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            window_minutes=current_app.config["LOGIN_WINDOW_MINUTES"],
        )
    except LimsError as err:
        flash_problem(err)
        page = render_template(
            "auth/login.html", next=next_url, username=request.form.get("username", "")
        )
        return page, err.status
    login_user(user)
    return redirect(safe_next(next_url, url_for("home.index")))


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    logout_user()
    flash("Signed out.", "info")
    return redirect(url_for("auth.login_form"))
