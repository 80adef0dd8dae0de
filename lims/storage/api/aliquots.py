"""Aliquots over the API: one aliquot, lists, custody; storing, moving and the lifecycle steps;
scanned lists (check out, check in, use, dispose: all or nothing); the placement import."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from flask.typing import ResponseReturnValue

from lims.db import get_session, session_factory
from lims.specimens.services import find_aliquot
from lims.storage import services
from lims.storage.schemas import (
    AliquotPageOut,
    AliquotQueryIn,
    AliquotWithPhenotypeOut,
    BulkDoneOut,
    CheckInManyIn,
    CheckOutIn,
    CheckOutManyIn,
    CustodyOut,
    DisposedOut,
    DisposeIn,
    DisposeManyIn,
    ImportResultOut,
    InventoryQueryIn,
    LocationOut,
    MoveAliquotIn,
    PlacementImportIn,
    PlacementOut,
    PutBackIn,
    ReasonIn,
    RequiredReasonIn,
    ReturnIn,
    StoredAliquotOut,
    StoreIn,
    TakeOutIn,
    UseIn,
    UseManyIn,
)
from lims.web import current_actor, documented, dump, json_body, token_required

# The hot outputs' schemas are built once: building one per request copied every field, a
# measurable share of a lookup's CPU (docs/benchmarks.md). A schema's dump keeps no state.
_STORED_OUT = StoredAliquotOut()
# The lookup adds the location itself, from the placement its one query loaded.
_LOOKUP_OUT = AliquotWithPhenotypeOut(exclude=("location",))
_LOCATION_OUT = LocationOut()
_PLACEMENT_OUT = PlacementOut()
_PAGE_OUT = AliquotPageOut()


def _aliquot(barcode: str) -> ResponseReturnValue:
    """The aliquot as it stands after a step (read fresh, after the service's commit)."""
    return dump(_STORED_OUT, find_aliquot(get_session(), current_actor(), barcode))


@token_required
@documented(
    summary="One aliquot by barcode, with its subject code, status, location and its visit's "
    "phenotype summary",
    response=AliquotWithPhenotypeOut,
)
def get_aliquot(barcode: str) -> ResponseReturnValue:
    aliquot, location = services.find_located(get_session(), current_actor(), barcode)
    found = dump(_LOOKUP_OUT, aliquot)
    found["location"] = dump(_LOCATION_OUT, location) if location else None
    return found


@token_required
@documented(
    summary="Aliquots filtered by site, subject, type, status, freezer, box; paged by keyset "
    "(after/before) or number, with a total exact up to 1,000, else estimated",
    query=AliquotQueryIn,
    response=AliquotPageOut,
)
def list_aliquots() -> ResponseReturnValue:
    args = AliquotQueryIn().load(request.args)
    paging = {k: args.pop(k) for k in ("page", "per_page", "after", "before")}
    found = services.list_aliquots(
        get_session(), current_actor(), filters=services.AliquotFilter(**args), **paging
    )
    return dump(
        _PAGE_OUT,
        {
            "items": found.rows,
            "total": found.total,
            "total_kind": found.total_kind,
            "next_after": found.next_after,
            "prev_before": found.prev_before,
            "page": paging["page"],
            "per_page": paging["per_page"],
        },
    )


@token_required
@documented(
    summary="The inventory as CSV (staff), with the list's filters; streamed, so any size is fine",
    query=InventoryQueryIn,
    content_type="text/csv",
)
def export_inventory() -> ResponseReturnValue:
    filters = services.AliquotFilter(**InventoryQueryIn().load(request.args))
    chunks = services.export_inventory(
        session_factory(read_only=True), current_actor(), filters=filters
    )
    headers = {"Content-Disposition": "attachment; filename=inventory.csv"}
    return Response(chunks, mimetype="text/csv", headers=headers)


@token_required
@documented(summary="An aliquot's chain of custody, oldest event first", response=CustodyOut)
def custody(barcode: str) -> ResponseReturnValue:
    aliquot, events = services.custody(get_session(), current_actor(), barcode)
    return dump(CustodyOut(), {"barcode": aliquot.barcode, "events": events})


@token_required
@documented(
    summary="Store an aliquot in a box: the position given, or the next free one",
    body=StoreIn,
    response=PlacementOut,
    status=201,
)
def store_in_box(box_id: int) -> ResponseReturnValue:
    body = StoreIn().load(json_body())
    placement = services.store_aliquot(get_session(), current_actor(), box_id=box_id, **body)
    return dump(_PLACEMENT_OUT, placement), 201


@token_required
@documented(
    summary="Move a stored aliquot to another position or box",
    body=MoveAliquotIn,
    response=PlacementOut,
)
def move_aliquot(barcode: str) -> ResponseReturnValue:
    body = MoveAliquotIn().load(json_body())
    session, actor = get_session(), current_actor()
    box_id = services.resolve_box(
        session, actor, box_id=body["box_id"], box_barcode=body["box_barcode"]
    )
    placement = services.move_aliquot(
        session, actor, barcode=barcode, box_id=box_id or 0, position=body["position"]
    )
    return dump(_PLACEMENT_OUT, placement)


def _put_back_args(body: dict[str, Any]) -> dict[str, Any]:
    box_id = services.resolve_box(
        get_session(), current_actor(), box_id=body["box_id"], box_barcode=body["box_barcode"]
    )
    return {"box_id": box_id, "position": body["position"] if box_id else None}


@token_required
@documented(
    summary="Take an aliquot out of its box for good (reason required); its position is freed",
    body=TakeOutIn,
    response=StoredAliquotOut,
)
def take_out(barcode: str) -> ResponseReturnValue:
    services.take_out(
        get_session(), current_actor(), barcode=barcode, **TakeOutIn().load(json_body())
    )
    return _aliquot(barcode)


@token_required
@documented(
    summary="Check an aliquot out for use, on dry ice or thawed; its position stays held",
    body=CheckOutIn,
    response=StoredAliquotOut,
)
def check_out(barcode: str) -> ResponseReturnValue:
    services.check_out(
        get_session(), current_actor(), barcode=barcode, **CheckOutIn().load(json_body())
    )
    return _aliquot(barcode)


@token_required
@documented(
    summary="Check an aliquot back in (held position, or the box given); one that left thawed "
    "counts a freeze-thaw",
    body=PutBackIn,
    response=StoredAliquotOut,
)
def check_in(barcode: str) -> ResponseReturnValue:
    args = _put_back_args(PutBackIn().load(json_body()))
    services.check_in(get_session(), current_actor(), barcode=barcode, **args)
    return _aliquot(barcode)


@token_required
@documented(
    summary="Record volume used; using all of it consumes the aliquot",
    body=UseIn,
    response=StoredAliquotOut,
)
def use(barcode: str) -> ResponseReturnValue:
    services.use_aliquot(
        get_session(), current_actor(), barcode=barcode, **UseIn().load(json_body())
    )
    return _aliquot(barcode)


@token_required
@documented(
    summary="Dispose of an aliquot (a reason from the list, who authorised it); its position "
    "is freed",
    body=DisposeIn,
    response=StoredAliquotOut,
)
def dispose(barcode: str) -> ResponseReturnValue:
    services.dispose_aliquot(
        get_session(), current_actor(), barcode=barcode, **DisposeIn().load(json_body())
    )
    return _aliquot(barcode)


@token_required
@documented(
    summary="Void an aliquot entered in error (reason required): it never existed, leaves its "
    "position and drops out of lists and counts, but stays findable",
    body=RequiredReasonIn,
    response=StoredAliquotOut,
)
def void(barcode: str) -> ResponseReturnValue:
    services.void_aliquot(
        get_session(), current_actor(), barcode=barcode, **RequiredReasonIn().load(json_body())
    )
    return _aliquot(barcode)


@token_required
@documented(
    summary="A released aliquot came back from the investigator: received again, ready to place",
    body=ReturnIn,
    response=StoredAliquotOut,
)
def return_aliquot(barcode: str) -> ResponseReturnValue:
    services.return_aliquot(
        get_session(), current_actor(), barcode=barcode, **ReturnIn().load(json_body())
    )
    return _aliquot(barcode)


@token_required
@documented(
    summary="Mark an aliquot missing; its position stays held",
    body=ReasonIn,
    response=StoredAliquotOut,
)
def mark_missing(barcode: str) -> ResponseReturnValue:
    services.mark_missing(
        get_session(), current_actor(), barcode=barcode, **ReasonIn().load(json_body())
    )
    return _aliquot(barcode)


@token_required
@documented(
    summary="A missing aliquot was found: back to its position, or to the box given",
    body=PutBackIn,
    response=StoredAliquotOut,
)
def mark_found(barcode: str) -> ResponseReturnValue:
    args = _put_back_args(PutBackIn().load(json_body()))
    services.mark_found(get_session(), current_actor(), barcode=barcode, **args)
    return _aliquot(barcode)


@token_required
@documented(
    summary="Quarantine an aliquot (reason required)",
    body=RequiredReasonIn,
    response=StoredAliquotOut,
)
def quarantine(barcode: str) -> ResponseReturnValue:
    services.quarantine(
        get_session(), current_actor(), barcode=barcode, **RequiredReasonIn().load(json_body())
    )
    return _aliquot(barcode)


@token_required
@documented(
    summary="Release a quarantined aliquot back to storage",
    body=PutBackIn,
    response=StoredAliquotOut,
)
def clear_quarantine(barcode: str) -> ResponseReturnValue:
    body = PutBackIn().load(json_body())
    args = _put_back_args(body)
    services.clear_quarantine(
        get_session(), current_actor(), barcode=barcode, reason=body["reason"], **args
    )
    return _aliquot(barcode)


@token_required
@documented(
    summary="Dispose of several aliquots at once (all or none), e.g. after consent withdrawal",
    body=DisposeManyIn,
    response=DisposedOut,
)
def dispose_many() -> ResponseReturnValue:
    body = DisposeManyIn().load(json_body())
    done = services.dispose_aliquots(get_session(), current_actor(), **body)
    return dump(DisposedOut(), {"disposed": [a.barcode for a in done]})


@token_required
@documented(
    summary="Place tubes from a CSV (barcode,box_barcode,position): every row valid, or none "
    "written. JSON {csv: ...} or a text/csv body; errors name row (header = 1), field, reason",
    body=PlacementImportIn,
    response=ImportResultOut,
    status=201,
    csv_upload=("text/csv",),
)
def import_placements() -> ResponseReturnValue:
    source = (  # a text/csv body is read as it arrives
        request.stream
        if request.mimetype == "text/csv"
        else PlacementImportIn().load(json_body())["csv"]
    )
    rows = services.read_placement_csv(source, max_rows=current_app.config["MAX_IMPORT_ROWS"])
    placed = services.import_placements(get_session(), current_actor(), rows=rows)
    return dump(ImportResultOut(), placed), 201


@token_required
@documented(
    summary="Check out a scanned list of aliquots, all on dry ice or all thawed (all or none; a "
    "problem names its place in the list and the barcode)",
    body=CheckOutManyIn,
    response=BulkDoneOut,
)
def check_out_many() -> ResponseReturnValue:
    body = CheckOutManyIn().load(json_body())
    done = services.check_out_many(get_session(), current_actor(), **body)
    return dump(BulkDoneOut(), done)


@token_required
@documented(
    summary="Check a scanned list of aliquots back into their held positions (all or none)",
    body=CheckInManyIn,
    response=BulkDoneOut,
)
def check_in_many() -> ResponseReturnValue:
    body = CheckInManyIn().load(json_body())
    done = services.check_in_many(get_session(), current_actor(), **body)
    return dump(BulkDoneOut(), done)


@token_required
@documented(
    summary="Record the same use for a scanned list of aliquots: a volume from each, or each "
    "used up (all or none)",
    body=UseManyIn,
    response=BulkDoneOut,
)
def use_many() -> ResponseReturnValue:
    body = UseManyIn().load(json_body())
    done = services.use_many(get_session(), current_actor(), **body)
    return dump(BulkDoneOut(), done)
