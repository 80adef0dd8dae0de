"""Pages: release (issue 19): a request's shipment delivered, and its de-identified data set
downloaded (the data as CSV, the dictionary as CSV or JSON)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from lims.db import get_session, utcnow
from lims.errors import Forbidden, LimsError, NotFound
from lims.requests.services import release as services
from lims.shipments.schemas import DeliveryIn
from lims.web import current_actor, flash_problem

PREVIEW_ROWS = 10


@login_required
def request_release(code: str) -> ResponseReturnValue:
    view = services.release_overview(get_session(), current_actor(), request_id=code)
    return render_template("requests/release.html", view=view, preview_rows=PREVIEW_ROWS)


@login_required
def request_delivery(code: str) -> ResponseReturnValue:
    try:
        form = DeliveryIn().load({k: v for k, v in request.form.items() if k != "csrf_token"})
        form["delivered_at"] = form["delivered_at"] or utcnow()
        req = services.confirm_request_delivery(
            get_session(), current_actor(), request_id=code, **form
        )
    except (NotFound, Forbidden):
        raise  # another's request reads as a missing one: its page, not a flash
    except LimsError as err:
        flash_problem(err)
    else:
        flash(f"Request {req.code} delivered: its aliquots are released", "success")
    return redirect(url_for("requests.request_release", code=code), 303)


def data_set_response(request_id: int | str, kind: services.DataSetFileKind) -> Response:
    """One file of the data set as a download; the page and the API share it."""
    file = services.download_data_set(
        get_session(), current_actor(), request_id=request_id, kind=kind
    )
    headers = {
        "Content-Disposition": f'attachment; filename="{file.filename}"',
        "X-Content-SHA256": file.sha256,
        "Cache-Control": "no-store",
    }
    return Response(file.content, mimetype=file.mimetype, headers=headers)


@login_required
def data_set_csv(code: str) -> ResponseReturnValue:
    return data_set_response(code, "data")


@login_required
def data_dictionary_csv(code: str) -> ResponseReturnValue:
    return data_set_response(code, "dictionary_csv")


@login_required
def data_dictionary_json(code: str) -> ResponseReturnValue:
    return data_set_response(code, "dictionary_json")


# (method, rule, view); the endpoint is the view's name: url_for("requests.<view>", ...).
ROUTES: list[tuple[str, str, Callable[..., ResponseReturnValue]]] = [
    ("GET", "/requests/<code>/release", request_release),
    ("POST", "/requests/<code>/delivery", request_delivery),
    ("GET", "/requests/<code>/data-set.csv", data_set_csv),
    ("GET", "/requests/<code>/data-dictionary.csv", data_dictionary_csv),
    ("GET", "/requests/<code>/data-dictionary.json", data_dictionary_json),
]
