"""The receiving bench: scan the shipment barcode, then each tube; the page answers with the
running reconciliation and a fresh scan field. Plain forms that POST and redirect back, so a
scanner (which types the code and presses Enter) works without JavaScript; storage.js only
keeps the focus and beeps."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from lims.actors import Role
from lims.db import get_session, utcnow
from lims.errors import LimsError
from lims.shipments import services
from lims.shipments.schemas import ArrivalIn, ReasonIn
from lims.shipments.views._forms import form_fields
from lims.specimens import barcodes
from lims.web import current_actor, flash_problem

_CATEGORY = {
    "received": "success",
    "duplicate": "warning",
    "unexpected": "error",
    "wrong_shipment": "error",
}


def _back(shipment_id: int | None, last: str | None = None) -> ResponseReturnValue:
    return redirect(url_for("shipments.receive", shipment=shipment_id, last=last), 303)


@login_required
def receive() -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    actor.require(Role.TECHNICIAN)
    shipment_id = request.args.get("shipment", type=int)
    shipment = services.get_shipment(session, actor, shipment_id) if shipment_id else None
    result = services.reconciliation(session, shipment) if shipment else None
    return render_template(
        "shipments/receive.html",
        shipment=shipment,
        result=result,
        last=request.args.get("last", ""),
    )


@login_required
def scan() -> ResponseReturnValue:
    """One scan: a shipment barcode selects the shipment, anything else is a tube of it."""
    session, actor = get_session(), current_actor()
    shipment_id = request.form.get("shipment_id", type=int)
    code = barcodes.normalise(request.form.get("code", ""))
    try:
        if not shipment_id or services.is_shipment_code(code):
            found = services.find_shipment(session, actor, code)
            flash(f"Shipment {found.code} from {found.from_address.name}: scan its tubes", "info")
            return _back(found.id)
        outcome = services.receive_scan(
            session, actor, shipment_id=shipment_id, barcode=code, scanned_at=utcnow()
        )
    except LimsError as err:
        flash_problem(err)
        return _back(shipment_id)
    flash(outcome.message, _CATEGORY[outcome.kind])
    return _back(shipment_id, last=outcome.barcode)


@login_required
def arrival(shipment_id: int) -> ResponseReturnValue:
    try:
        form = ArrivalIn().load(form_fields())
        services.record_arrival(get_session(), current_actor(), shipment_id=shipment_id, **form)
    except LimsError as err:
        flash_problem(err)
    else:
        flash("Condition on arrival recorded", "success")
    return _back(shipment_id)


@login_required
def complete(shipment_id: int) -> ResponseReturnValue:
    try:
        shipment = services.complete_receipt(
            get_session(), current_actor(), shipment_id=shipment_id, received_at=utcnow()
        )
    except LimsError as err:
        flash_problem(err)
        return _back(shipment_id)
    missing = sum(1 for i in shipment.items if i.state.value == "missing")
    note = f"; {missing} missing stay listed until found or written off" if missing else ""
    flash(f"Receipt of {shipment.code} completed{note}", "warning" if missing else "success")
    return _back(shipment_id)


@login_required
def write_off(shipment_id: int, item_id: int) -> ResponseReturnValue:
    try:
        form = ReasonIn().load(form_fields())
        item = services.write_off_missing(
            get_session(), current_actor(), shipment_id=shipment_id, item_id=item_id, **form
        )
    except LimsError as err:
        flash_problem(err)
    else:
        flash(f"{item.barcode} written off: {item.resolution}", "success")
    return _back(shipment_id)


@login_required
def accept(shipment_id: int, item_id: int) -> ResponseReturnValue:
    try:
        item = services.accept_unexpected(
            get_session(), current_actor(), shipment_id=shipment_id, item_id=item_id
        )
    except LimsError as err:
        flash_problem(err)
    else:
        flash(f"{item.barcode} taken in as received", "success")
    return _back(shipment_id)


@login_required
def accession(shipment_id: int, item_id: int) -> ResponseReturnValue:
    try:
        item = services.accession_from_manifest(
            get_session(), current_actor(), shipment_id=shipment_id, item_id=item_id
        )
    except LimsError as err:
        flash_problem(err)
        for problem in err.errors[:10]:
            flash(problem["message"], "error")
    else:
        flash(f"{item.barcode} accessioned from the sender's manifest row", "success")
    return _back(shipment_id)
