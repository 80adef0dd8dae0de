"""Freezers, racks and boxes over the API; a box with its grid; capacity."""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue

from lims.db import get_session
from lims.storage import services
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


@token_required
@documented(summary="Freezers with their racks", response=FreezerListOut)
def list_freezers() -> ResponseReturnValue:
    freezers = services.list_freezers(get_session(), current_actor())
    return dump(FreezerListOut(), {"items": freezers})


@token_required
@documented(
    summary="Register a freezer (technician)", body=FreezerIn, response=FreezerOut, status=201
)
def create_freezer() -> ResponseReturnValue:
    form = FreezerIn().load(json_body())
    freezer = services.create_freezer(get_session(), current_actor(), **form)
    return dump(FreezerOut(), freezer), 201


@token_required
@documented(summary="One freezer with its racks", response=FreezerOut)
def get_freezer(freezer_id: int) -> ResponseReturnValue:
    return dump(
        FreezerOut(),
        services.get_freezer(get_session(), current_actor(), freezer_id),
    )


@token_required
@documented(
    summary="Add a rack, drawer or shelf to a freezer", body=RackIn, response=RackOut, status=201
)
def create_rack(freezer_id: int) -> ResponseReturnValue:
    form = RackIn().load(json_body())
    rack = services.create_rack(get_session(), current_actor(), freezer_id=freezer_id, **form)
    return dump(RackOut(), rack), 201


@token_required
@documented(
    summary="Boxes, optionally of one freezer or rack", query=BoxQueryIn, response=BoxListOut
)
def list_boxes() -> ResponseReturnValue:
    args = BoxQueryIn().load(request.args)
    boxes = services.list_boxes(get_session(), current_actor(), **args)
    return dump(BoxListOut(), {"items": boxes})


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


@token_required
@documented(summary="A box with what sits in each filled position", response=BoxGridOut)
def get_box(box_id: int) -> ResponseReturnValue:
    grid = services.box_grid(get_session(), current_actor(), box_id)
    return dump(BoxGridOut(), grid)


@token_required
@documented(summary="Move a whole box to another rack or freezer", body=MoveBoxIn, response=BoxOut)
def move_box(box_id: int) -> ResponseReturnValue:
    form = MoveBoxIn().load(json_body())
    box = services.move_box(get_session(), current_actor(), box_id=box_id, **form)
    return dump(BoxOut(), box)


@token_required
@documented(summary="Free positions per freezer and per box", response=CapacityOut)
def capacity() -> ResponseReturnValue:
    report = services.capacity_report(get_session(), current_actor())
    return dump(CapacityOut(), {"freezers": report})
