"""Pages: feasibility (issue 19): the criteria form, the counts as the reader may see them, and
for an administrator the investigators locked out, with an unlock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from werkzeug.datastructures import MultiDict

from lims.actors import Role
from lims.db import get_session, replica_session, utcnow
from lims.errors import InvalidInput, LimsError
from lims.requests.criteria import criteria_choices, criteria_from_form, form_errors
from lims.requests.services import feasibility as services
from lims.web import NAV, current_actor, flash_problem

# Everyone signed in may ask: investigators see protected counts, staff exact ones.
NAV.append(("requests.feasibility", "Feasibility", ()))


@login_required
def feasibility() -> ResponseReturnValue:
    return _page(MultiDict())


@login_required
def feasibility_check() -> ResponseReturnValue:
    settings = services.FeasibilitySettings.from_config(current_app.config)
    counting = replica_session()  # the count reads the standby when there is one
    try:
        answer = services.check_feasibility(
            get_session(),
            current_actor(),
            criteria=criteria_from_form(request.form),
            settings=settings,
            now=utcnow(),
            counting=counting,
        )
    except LimsError as err:
        flash_problem(err)
        errors = form_errors(err) if isinstance(err, InvalidInput) else {}
        return _page(request.form, errors=errors), err.status, _retry_after(err)
    finally:
        if counting is not None:
            counting.close()
    return _page(request.form, answer=answer)


@login_required
def feasibility_unlock(lockout_id: int) -> ResponseReturnValue:
    note = request.form.get("note", "")
    try:
        if len(note.strip()) < 3:
            raise InvalidInput(
                "Say why the lockout is lifted (at least 3 characters)", field="note"
            )
        services.unlock_feasibility(
            get_session(), current_actor(), lockout_id=lockout_id, note=note, now=utcnow()
        )
    except LimsError as err:
        flash_problem(err)
        return _page(MultiDict()), err.status
    flash("Lockout lifted; the investigator may count again.", "success")
    return redirect(url_for("requests.feasibility"))


def _page(form: MultiDict[str, str], **context: Any) -> str:
    actor = current_actor()
    lockouts = None
    if actor.role is Role.ADMIN:
        lockouts = services.list_lockouts(get_session(), actor)
    return render_template(
        "requests/feasibility.html",
        form=form,
        errors=context.pop("errors", {}),
        answer=context.pop("answer", None),
        choices=criteria_choices(),
        lockouts=lockouts,
        k=current_app.config["FEASIBILITY_K"],
    )


def _retry_after(err: LimsError) -> dict[str, str]:
    retry = getattr(err, "retry_after_s", None)
    return {"Retry-After": str(retry)} if retry is not None else {}


# (method, rule, view); the endpoint is the view's name: url_for("requests.<view>", ...).
ROUTES: list[tuple[str, str, Callable[..., ResponseReturnValue]]] = [
    ("GET", "/requests/feasibility", feasibility),
    ("POST", "/requests/feasibility", feasibility_check),
    ("POST", "/requests/feasibility/lockouts/<int:lockout_id>/unlock", feasibility_unlock),
]
