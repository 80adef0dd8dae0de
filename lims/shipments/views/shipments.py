"""The shipment list, one shipment, and the steps before receipt: create from scanned tubes,
load a site's manifest, pack box by box, ship, confirm an outbound delivery; the manifest as
PDF and CSV."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from lims.actors import STAFF_AND_ADMIN
from lims.db import get_session, utcnow
from lims.errors import InvalidInput, LimsError
from lims.shipments import services
from lims.shipments.files import shipment_file_response
from lims.shipments.schemas import DeliveryIn, PackBoxIn, ShipIn, ShipmentIn
from lims.shipments.views._forms import form_fields
from lims.specimens.duo import PERMISSIONS, DuoTerm
from lims.web import current_actor, flash_problem

PURPOSES = sorted(PERMISSIONS, key=lambda t: t.value)
MODIFIERS = sorted((t for t in DuoTerm if t not in PERMISSIONS), key=lambda t: t.value)


def _page(shipment_id: int) -> ResponseReturnValue:
    return redirect(url_for("shipments.shipment", shipment_id=shipment_id), 303)


@login_required
def index() -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    actor.require(*STAFF_AND_ADMIN)
    rows, total = services.list_shipments(session, actor, per_page=200)
    return render_template(
        "shipments/index.html",
        shipments=rows,
        total=total,
        addresses=services.list_addresses(session, actor),
        purposes=PURPOSES,
        modifiers=MODIFIERS,
    )


@login_required
def create() -> ResponseReturnValue:
    try:
        form = ShipmentIn().load(form_fields())
        shipment = services.create_shipment(get_session(), current_actor(), **form)
    except LimsError as err:
        flash_problem(err)
        return redirect(url_for("shipments.index"), 303)
    flash(f"Shipment {shipment.code} created with {len(shipment.items)} tubes", "success")
    return _page(shipment.id)


@login_required
def import_manifest() -> ResponseReturnValue:
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise InvalidInput("Choose the manifest CSV the site sent", field="file")
        text = upload.stream.read().decode("utf-8-sig")
        shipment = services.import_manifest(get_session(), current_actor(), text=text)
    except UnicodeDecodeError:
        flash("The manifest is not UTF-8 text; save it as CSV UTF-8 and load it again", "error")
        return redirect(url_for("shipments.index"), 303)
    except LimsError as err:
        flash_problem(err)
        for problem in err.errors[:20]:
            flash(problem["message"], "error")
        return redirect(url_for("shipments.index"), 303)
    flash(
        f"Manifest {shipment.sender_reference} loaded as shipment {shipment.code}: "
        f"{len(shipment.items)} tubes to receive",
        "success",
    )
    return _page(shipment.id)


@login_required
def shipment(shipment_id: int) -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    found = services.get_shipment(session, actor, shipment_id)
    return render_template(
        "shipments/shipment.html",
        shipment=found,
        result=services.reconciliation(session, found),
        loose=[i for i in found.items if i.box is None and i.state.value != "unexpected"],
    )


@login_required
def pack(shipment_id: int) -> ResponseReturnValue:
    try:
        form = PackBoxIn().load(form_fields())
        box = services.pack_box(get_session(), current_actor(), shipment_id=shipment_id, **form)
    except LimsError as err:
        flash_problem(err)
        for problem in err.errors[:20]:
            flash(problem["message"], "error")
    else:
        flash(f"Box {box.number} ({box.label}) packed", "success")
    return _page(shipment_id)


@login_required
def ship(shipment_id: int) -> ResponseReturnValue:
    try:
        form = ShipIn().load(form_fields())
        form["shipped_at"] = form["shipped_at"] or utcnow()
        dispatch = services.ship_shipment(
            get_session(), current_actor(), shipment_id=shipment_id, **form
        )
    except LimsError as err:
        flash_problem(err)
        return _page(shipment_id)
    flash(f"Shipment {dispatch.shipment.code} shipped", "success")
    for warning in dispatch.warnings:
        flash(f"Dry ice arrival: {warning}", "warning")
    return _page(shipment_id)


@login_required
def deliver(shipment_id: int) -> ResponseReturnValue:
    try:
        form = DeliveryIn().load(form_fields())
        form["delivered_at"] = form["delivered_at"] or utcnow()
        shipment = services.confirm_delivery(
            get_session(), current_actor(), shipment_id=shipment_id, **form
        )
    except LimsError as err:
        flash_problem(err)
        return _page(shipment_id)
    flash(f"Shipment {shipment.code} delivered: its tubes are released", "success")
    return _page(shipment_id)


@login_required
def manifest_pdf(shipment_id: int) -> ResponseReturnValue:
    return shipment_file_response(shipment_id, "manifest.pdf")


@login_required
def manifest_csv(shipment_id: int) -> ResponseReturnValue:
    return shipment_file_response(shipment_id, "manifest.csv")


@login_required
def box_labels(shipment_id: int) -> ResponseReturnValue:
    return shipment_file_response(shipment_id, "labels.pdf")
