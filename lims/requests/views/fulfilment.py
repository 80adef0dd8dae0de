"""Pages: fulfilment (issue 19). The requests waiting to be picked, a request's pick list
(proposed, then reserved, with its PDF), the scan-to-confirm pick bench, letting a tube go, and
the outbound shipment made from the picked tubes. Technicians and admins only.

The pick bench is a plain form that POSTs and redirects back, so a scanner (which types the
barcode and presses Enter) works without JavaScript; storage.js keeps the focus and beeps.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from lims.actors import Role
from lims.db import get_session, utcnow
from lims.errors import LimsError
from lims.requests import services
from lims.requests.fulfilment_schemas import CancelIn, PackIn, PickIn
from lims.shipments.schemas import ShipIn
from lims.web import NAV, PAGE_ROLES, current_actor, flash_problem


def _fields() -> dict[str, str]:
    return {k: v for k, v in request.form.items() if k != "csrf_token"}


def _list_page(code: str) -> ResponseReturnValue:
    return redirect(url_for("requests.pick_list", code=code), 303)


@login_required
def fulfilment_index() -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    return render_template(
        "requests/pick_index.html", requests=services.requests_to_fulfil(session, actor)
    )


@login_required
def pick_list(code: str) -> ResponseReturnValue:
    """Approved: the proposed list and the button that reserves it. After: the reserved tubes,
    the picking's progress, the outbound shipment."""
    session, actor = get_session(), current_actor()
    actor.require(*services.PICKERS)
    req = services.find_request(session, actor, code)
    if req.state.value == "approved":
        proposal = services.propose_pick_list(session, actor, request=code)
        return render_template("requests/pick_list.html", req=req, proposal=proposal)
    return render_template(
        "requests/pick_list.html",
        req=req,
        fulfilment=services.fulfilment_of(session, actor, request=code),
        addresses=services.destinations(session, actor),
    )


@login_required
def pick_list_pdf(code: str) -> ResponseReturnValue:
    name, data = services.pick_list_pdf(get_session(), current_actor(), request=code, at=utcnow())
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@login_required
def reserve(code: str) -> ResponseReturnValue:
    ids = [int(i) for i in request.form.getlist("aliquot_id") if i.isdigit()]
    try:
        done = services.reserve_pick_list(
            get_session(), current_actor(), request=code, aliquot_ids=ids or None
        )
    except LimsError as err:
        flash_problem(err)
        for problem in err.errors[:20]:
            flash(problem["message"], "error")
        return _list_page(code)
    flash(f"{len(done.items)} tubes reserved for {done.request.code}: pick them by scan", "success")
    return redirect(url_for("requests.pick_bench", code=done.request.code), 303)


@login_required
def pick_bench(code: str) -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    found = services.fulfilment_of(session, actor, request=code)
    return render_template(
        "requests/pick_bench.html",
        fulfilment=found,
        req=found.request,
        last=request.args.get("last", ""),
    )


@login_required
def pick_scan(code: str) -> ResponseReturnValue:
    try:
        # The bench's one scan field is "code", as on every scanner page (storage.css sizes it).
        form = PickIn().load({"barcode": request.form.get("code", "")})
        outcome = services.confirm_pick(
            get_session(), current_actor(), request=code, picked_at=utcnow(), **form
        )
    except LimsError as err:
        flash_problem(err)
        return redirect(url_for("requests.pick_bench", code=code), 303)
    line = outcome.fulfilment
    flash(f"{outcome.item.aliquot.barcode} picked: {line.progress}", "success")
    last = outcome.item.aliquot.barcode
    return redirect(url_for("requests.pick_bench", code=code, last=last), 303)


@login_required
def cancel_item(code: str, item_id: int) -> ResponseReturnValue:
    try:
        form = CancelIn().load(_fields())
        item = services.cancel_reservation(
            get_session(), current_actor(), request=code, item_id=item_id, **form
        )
    except LimsError as err:
        flash_problem(err)
    else:
        flash(f"{item.aliquot.barcode} let go ({item.cancel_reason}): back to stored", "success")
    return _list_page(code)


@login_required
def pack_shipment(code: str) -> ResponseReturnValue:
    try:
        form = PackIn().load(_fields())
        shipment = services.pack_request_shipment(
            get_session(), current_actor(), request=code, **form
        )
    except LimsError as err:
        flash_problem(err)
        for problem in err.errors[:20]:
            flash(problem["message"], "error")
    else:
        flash(
            f"Shipment {shipment.code} packed: {len(shipment.items)} tubes in "
            f"{len(shipment.boxes)} boxes; print the manifest, then ship it",
            "success",
        )
    return _list_page(code)


@login_required
def ship(code: str) -> ResponseReturnValue:
    try:
        form = ShipIn().load(_fields())
        form["shipped_at"] = form["shipped_at"] or utcnow()
        dispatch = services.ship_request(get_session(), current_actor(), request=code, **form)
    except LimsError as err:
        flash_problem(err)
        for problem in err.errors[:20]:
            flash(problem["message"], "error")
        return _list_page(code)
    flash(f"Shipment {dispatch.shipment.code} shipped: request {code} is shipped", "success")
    for warning in dispatch.warnings:
        flash(f"Dry ice arrival: {warning}", "warning")
    return _list_page(code)


# (method, rule, view); the endpoint is the view's name: url_for("requests.<view>", ...). Under
# /pick-lists/, not /requests/<code>/: the bench's pages, which no investigator reaches.
ROUTES: list[tuple[str, str, Callable[..., ResponseReturnValue]]] = [
    ("GET", "/pick-lists/", fulfilment_index),
    ("GET", "/pick-lists/<code>", pick_list),
    ("GET", "/pick-lists/<code>.pdf", pick_list_pdf),
    ("POST", "/pick-lists/<code>/reservation", reserve),
    ("GET", "/pick-lists/<code>/pick", pick_bench),
    ("POST", "/pick-lists/<code>/pick", pick_scan),
    ("POST", "/pick-lists/<code>/items/<int:item_id>/cancel", cancel_item),
    ("POST", "/pick-lists/<code>/shipment", pack_shipment),
    ("POST", "/pick-lists/<code>/shipment/ship", ship),
]

PICKING = (Role.TECHNICIAN,)
NAV.append(("requests.fulfilment_index", "Pick lists", PICKING))
PAGE_ROLES.update(
    {f"requests.{view.__name__}": PICKING for _, _, view in ROUTES if view is not fulfilment_index}
)
