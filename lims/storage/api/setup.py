"""Freezers, racks and boxes over the API; a box with its grid; capacity."""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue

from lims.db import get_session
from lims.storage import services
from lims.storage.api import bp, path_id
from lims.storage.schemas import (
    BoxGridOut,
    BoxIn,
    BoxListOut,
    BoxOut,
    BoxQueryIn,
    CapacityOut,
    FreezerIn,
    FreezerListOut,
    FreezerOut,
    MoveBoxIn,
    RackIn,
    RackOut,
)
from lims.web import current_actor, documented, dump, json_body, token_required


@bp.get("/freezers")
@token_required
@documented(summary="Freezers with their racks", response=FreezerListOut)
def list_freezers() -> ResponseReturnValue:
    freezers = services.list_freezers(get_session(), current_actor())
    return dump(FreezerListOut(), {"items": freezers})


@bp.post("/freezers")
@token_required
@documented(
    summary="Register a freezer (technician)", body=FreezerIn, response=FreezerOut, status=201
)
def create_freezer() -> ResponseReturnValue:
    form = FreezerIn().load(json_body())
    freezer = services.create_freezer(get_session(), current_actor(), **form)
    return dump(FreezerOut(), freezer), 201


@bp.get("/freezers/<freezer_id>")
@token_required
@documented(summary="One freezer with its racks", response=FreezerOut)
def get_freezer(freezer_id: str) -> ResponseReturnValue:
    return dump(
        FreezerOut(),
        services.get_freezer(get_session(), current_actor(), path_id(freezer_id, "Freezer")),
    )


@bp.post("/freezers/<freezer_id>/racks")
@token_required
@documented(
    summary="Add a rack, drawer or shelf to a freezer", body=RackIn, response=RackOut, status=201
)
def create_rack(freezer_id: str) -> ResponseReturnValue:
    form = RackIn().load(json_body())
    rack = services.create_rack(
        get_session(), current_actor(), freezer_id=path_id(freezer_id, "Freezer"), **form
    )
    return dump(RackOut(), rack), 201


@bp.get("/boxes")
@token_required
@documented(
    summary="Boxes, optionally of one freezer or rack", query=BoxQueryIn, response=BoxListOut
)
def list_boxes() -> ResponseReturnValue:
    args = BoxQueryIn().load(request.args)
    boxes = services.list_boxes(get_session(), current_actor(), **args)
    return dump(BoxListOut(), {"items": boxes})


@bp.post("/boxes")
@token_required
@documented(
    summary="Add a box of any grid size (issued B-barcode unless one is given)",
    body=BoxIn,
    response=BoxOut,
    status=201,
)
def create_box() -> ResponseReturnValue:
    form = BoxIn().load(json_body())
    box = services.create_box(get_session(), current_actor(), **form)
    return dump(BoxOut(), box), 201


@bp.get("/boxes/<box_id>")
@token_required
@documented(summary="A box with what sits in each filled position", response=BoxGridOut)
def get_box(box_id: str) -> ResponseReturnValue:
    grid = services.box_grid(get_session(), current_actor(), path_id(box_id, "Box"))
    return dump(BoxGridOut(), grid)


@bp.post("/boxes/<box_id>/move")
@token_required
@documented(summary="Move a whole box to another rack or freezer", body=MoveBoxIn, response=BoxOut)
def move_box(box_id: str) -> ResponseReturnValue:
    form = MoveBoxIn().load(json_body())
    box = services.move_box(get_session(), current_actor(), box_id=path_id(box_id, "Box"), **form)
    return dump(BoxOut(), box)


@bp.get("/storage/capacity")
@token_required
@documented(summary="Free positions per freezer and per box", response=CapacityOut)
def capacity() -> ResponseReturnValue:
    report = services.capacity_report(get_session(), current_actor())
    return dump(CapacityOut(), {"freezers": report})
