"""API: fulfilment (issue 19). The proposed pick list and its PDF, reserving it, confirming a
picked tube by its scanned barcode, letting a reserved tube go, the request's outbound shipment
packed from the picked tubes, and shipping it. Technicians and admins only; a request another
investigator's token cannot see answers 404 (find_request), an investigator's token 403."""

from __future__ import annotations

from flask import Blueprint, Response
from flask.typing import ResponseReturnValue

from lims.db import get_session, utcnow
from lims.requests import services
from lims.requests.fulfilment_schemas import (
    CancelIn,
    FulfilmentOut,
    PackIn,
    PickIn,
    PickOutcomeOut,
    ProposalOut,
    ReserveIn,
)
from lims.shipments.schemas import DispatchOut, ShipIn, ShipmentOut
from lims.web import current_actor, documented, dump, json_body, token_required

bp = Blueprint("requests_fulfilment_api", __name__, url_prefix="/api/v1")


@bp.get("/requests/<code>/pick-list")
@token_required
@documented(
    summary="The pick list proposed for an approved request: matching tubes with enough volume, "
    "per subject-visit as asked, a visit's last kept, fewest thaws first, in walking order",
    response=ProposalOut,
)
def proposed_pick_list(code: str) -> ResponseReturnValue:
    proposal = services.propose_pick_list(get_session(), current_actor(), request=code)
    return dump(ProposalOut(), proposal)


@bp.get("/requests/<code>/pick-list.pdf")
@token_required
@documented(
    summary="The pick list to print: the proposal while approved, the reserved tubes after",
    content_type="application/pdf",
)
def printable_pick_list(code: str) -> ResponseReturnValue:
    name, data = services.pick_list_pdf(get_session(), current_actor(), request=code, at=utcnow())
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@bp.post("/requests/<code>/reservation")
@token_required
@documented(
    summary="Reserve the pick list (all of it, or the aliquot ids given, each still on it), all "
    "or nothing; the request becomes fulfilling. A tube another request took meanwhile is a 409",
    body=ReserveIn,
    response=FulfilmentOut,
    status=201,
)
def reserve_request_tubes(code: str) -> ResponseReturnValue:
    body = ReserveIn().load(json_body())
    session, actor = get_session(), current_actor()
    done = services.reserve_pick_list(session, actor, request=code, **body)
    return dump(
        FulfilmentOut(), services.fulfilment_of(session, actor, request=done.request.id)
    ), 201


@bp.get("/requests/<code>/items")
@token_required
@documented(
    summary="The request's reserved tubes, where each sits, and the picking's progress",
    response=FulfilmentOut,
)
def request_items(code: str) -> ResponseReturnValue:
    return dump(
        FulfilmentOut(), services.fulfilment_of(get_session(), current_actor(), request=code)
    )


@bp.post("/requests/<code>/picks")
@token_required
@documented(
    summary="Confirm a tube taken from the freezer by its scanned barcode; a tube not on the "
    "list is a 409 naming it",
    body=PickIn,
    response=PickOutcomeOut,
)
def confirm_picked_tube(code: str) -> ResponseReturnValue:
    body = PickIn().load(json_body())
    outcome = services.confirm_pick(
        get_session(), current_actor(), request=code, picked_at=utcnow(), **body
    )
    return dump(PickOutcomeOut(), outcome)


@bp.post("/requests/<code>/items/<int:item_id>/cancel")
@token_required
@documented(
    summary="Let a reserved tube go (not found, damaged), with the reason: back to stored",
    body=CancelIn,
    response=FulfilmentOut,
)
def let_request_tube_go(code: str, item_id: int) -> ResponseReturnValue:
    body = CancelIn().load(json_body())
    session, actor = get_session(), current_actor()
    services.cancel_reservation(session, actor, request=code, item_id=item_id, **body)
    return dump(FulfilmentOut(), services.fulfilment_of(session, actor, request=code))


@bp.post("/requests/<code>/shipment")
@token_required
@documented(
    summary="Pack the picked tubes into the request's outbound shipment to the given address, "
    "for the request's DUO purpose and modifiers",
    body=PackIn,
    response=ShipmentOut,
    status=201,
)
def pack_request_tubes(code: str) -> ResponseReturnValue:
    body = PackIn().load(json_body())
    shipment = services.pack_request_shipment(get_session(), current_actor(), request=code, **body)
    return dump(ShipmentOut(), shipment), 201


@bp.post("/requests/<code>/shipment/ship")
@token_required
@documented(
    summary="Ship the request's shipment: consent is checked again for every tube (a 409 names "
    "each tube that may no longer travel); the request and its tubes become shipped",
    body=ShipIn,
    response=DispatchOut,
)
def ship_request_tubes(code: str) -> ResponseReturnValue:
    body = ShipIn().load(json_body())
    body["shipped_at"] = body["shipped_at"] or utcnow()
    dispatch = services.ship_request(get_session(), current_actor(), request=code, **body)
    return dump(DispatchOut(), dispatch)
