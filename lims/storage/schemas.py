"""Storage input (forms and JSON) and API output."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from flask import current_app
from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from lims.specimens.models import AliquotStatus, DisposalReason, OutCondition, SpecimenType
from lims.specimens.schemas import AliquotOut
from lims.web import PageOut, PageQuery, Schema, column_string

# "A1" to "Z30" (26 rows, 30 columns at most); a little room for what a person types around it.
POSITION = validate.Length(min=1, max=8)
NOT_BLANK = validate.Regexp(r"\S", error="say why")
BOX_SPECIMEN_TYPES = ("mixed", *(t.value for t in SpecimenType))
REASON = validate.Length(max=500)  # audit_events.reason is TEXT; a reason is a sentence or two
MAX_SCANNED = 1000  # tubes in one scanned list: ten 10x10 boxes, more than a bench run


class LocationOut(Schema):
    freezer = fields.String(allow_none=True)
    rack = fields.String(allow_none=True)
    box = fields.String()
    box_barcode = fields.String()
    box_id = fields.Integer()
    position = fields.String()


class StoredAliquotOut(AliquotOut):
    """An aliquot with where it sits: freezer, rack, box and position (e.g. A1)."""

    location = fields.Method(
        "get_location",
        metadata={"type": "object", "nullable": True, "description": "null when not in a box"},
    )

    def get_location(self, aliquot: Any) -> dict[str, Any] | None:
        from lims.storage.services import location_of

        location = location_of(aliquot)
        return LocationOut().dump(location) if location else None


class AliquotWithPhenotypeOut(StoredAliquotOut):
    """One aliquot, with its visit's phenotype summary (issue 17).

    Phenotype builds on specimens beside storage, so storage cannot import it: the application
    hands the summary over (create_app registers it), as it hands web the token loader.
    """

    phenotype = fields.Method(
        "get_phenotype",
        metadata={
            "type": "object",
            "nullable": True,
            "description": "diagnoses, body_regions, distribution, scale_totals, "
            "days_since_botulinum_toxin (at collection); no study code, date or free text",
        },
    )

    def get_phenotype(self, aliquot: Any) -> dict[str, Any] | None:
        summary = current_app.extensions.get("lims_aliquot_phenotype")
        return summary(aliquot) if summary is not None else None


# --- setting up storage -------------------------------------------------------------------


class FreezerIn(Schema):
    name = column_string("freezers.name", 60, min_length=1, required=True)
    temperature_c = fields.Integer(required=True, metadata={"description": "set-point, e.g. -80"})
    room = column_string("freezers.room", 60, min_length=1, required=True)
    site_code = column_string("sites.code", 8, load_default=None, allow_none=True)


class RackIn(Schema):
    name = column_string("racks.name", 60, min_length=1, required=True)


class BoxIn(Schema):
    LABELS: ClassVar[Mapping[str, str]] = {
        "name": "Name",
        "n_rows": "Rows",
        "n_cols": "Columns",
        "barcode": "Barcode",
    }

    name = column_string("boxes.name", 80, load_default="")
    n_rows = fields.Integer(required=True, validate=validate.Range(min=1, max=26))
    n_cols = fields.Integer(required=True, validate=validate.Range(min=1, max=30))
    rack_id = fields.Integer(load_default=None, allow_none=True)
    barcode = column_string(
        "boxes.barcode",
        32,
        load_default=None,
        allow_none=True,
        metadata={"description": "a pre-printed box barcode; omit to have one issued"},
    )
    specimen_type = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(BOX_SPECIMEN_TYPES),
        metadata={
            "label": "Set up for",
            "description": "the specimen type it takes; 'mixed' (or omitted) takes any",
        },
    )

    @post_load
    def _mixed_is_none(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        kind = data.get("specimen_type")
        data["specimen_type"] = None if kind in (None, "mixed") else SpecimenType(kind)
        return data


class RackOut(Schema):
    id = fields.Integer()
    name = fields.String()
    freezer_id = fields.Integer()
    freezer = fields.Function(lambda r: r.freezer.name)


class RackInFreezerOut(Schema):
    id = fields.Integer()
    name = fields.String()


class FreezerOut(Schema):
    id = fields.Integer()
    name = fields.String()
    temperature_c = fields.Integer()
    room = fields.String()
    site = fields.Function(lambda f: f.site.code if f.site else None)
    racks = fields.List(fields.Nested(RackInFreezerOut))


class BoxOut(Schema):
    id = fields.Integer()
    barcode = fields.String()
    name = fields.String()
    n_rows = fields.Integer()
    n_cols = fields.Integer()
    capacity = fields.Integer()
    rack_id = fields.Integer(allow_none=True)
    rack = fields.Function(lambda b: b.rack.name if b.rack else None)
    freezer = fields.Function(lambda b: b.freezer.name if b.freezer else None)
    used = fields.Function(lambda b: len(b.placements))
    specimen_type = fields.Function(
        lambda b: b.specimen_type.value if b.specimen_type else "mixed",
        metadata={"type": "string"},
    )


class FreezerListOut(Schema):
    items = fields.List(fields.Nested(FreezerOut))


class BoxListOut(Schema):
    items = fields.List(fields.Nested(BoxOut))


class BoxQueryIn(Schema):
    freezer_id = fields.Integer(load_default=None)
    rack_id = fields.Integer(load_default=None)


class GridCellOut(Schema):
    position = fields.String()
    barcode = fields.String()
    specimen_type = fields.Function(lambda c: c.specimen_type.value)
    status = fields.Function(lambda c: c.status.value)
    consent_withdrawn = fields.Boolean()
    withdrawal_level = fields.Function(
        lambda c: c.withdrawal.value if c.withdrawal else None, allow_none=True
    )


class BoxGridOut(Schema):
    """A box and what sits in each filled position (empty positions are simply absent)."""

    box = fields.Nested(BoxOut)
    positions = fields.Function(
        lambda g: [GridCellOut().dump(c) for row in g.cells for c in row if c is not None],
        metadata={"type": "array", "items": {"type": "object"}},
    )


class BoxFillOut(Schema):
    box_id = fields.Integer()
    barcode = fields.String()
    name = fields.String()
    rack = fields.String(allow_none=True)
    capacity = fields.Integer()
    used = fields.Integer()
    free = fields.Integer()


class FreezerFillOut(Schema):
    freezer_id = fields.Integer(allow_none=True)
    name = fields.String()
    temperature_c = fields.Integer(allow_none=True)
    capacity = fields.Integer()
    used = fields.Integer()
    free = fields.Integer()
    boxes = fields.List(fields.Nested(BoxFillOut))


class CapacityOut(Schema):
    freezers = fields.List(fields.Nested(FreezerFillOut))


# --- placing and moving -------------------------------------------------------------------


class _BoxRef(Schema):
    """A destination box by id or by its scanned barcode."""

    box_id = fields.Integer(load_default=None, allow_none=True)
    box_barcode = column_string("boxes.barcode", 32, load_default=None, allow_none=True)
    position = fields.String(
        load_default=None, allow_none=True, validate=POSITION, metadata={"example": "A1"}
    )


class StoreIn(Schema):
    barcode = column_string("aliquots.barcode", 32, min_length=1, required=True)
    position = fields.String(
        load_default=None, allow_none=True, validate=POSITION, metadata={"example": "A1"}
    )


class MoveAliquotIn(_BoxRef):
    @validates_schema
    def _needs_box(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("box_id") is None and not data.get("box_barcode"):
            raise ValidationError("give the destination box", field_name="box_barcode")


class MoveBoxIn(Schema):
    rack_id = fields.Integer(required=True)


class PlacementOut(Schema):
    barcode = fields.Function(lambda p: p.aliquot.barcode)
    box_id = fields.Integer()
    box_barcode = fields.Function(lambda p: p.box.barcode)
    position = fields.String()
    status = fields.Function(lambda p: p.aliquot.status.value)


# --- lifecycle ---------------------------------------------------------------------------


class _StepIn(Schema):
    LABELS: ClassVar[Mapping[str, str]] = {
        "reason": "Reason",
        "box_barcode": "Box",
        "position": "Position",
    }


class ReasonIn(_StepIn):
    reason = fields.String(load_default=None, allow_none=True, validate=REASON)


def _condition(**kwargs: Any) -> fields.Enum:
    return fields.Enum(
        OutCondition,
        by_value=True,
        metadata={
            "label": "How it travels",
            "description": "on_dry_ice (stays frozen: no freeze-thaw is counted on its return) "
            "or thawed (the return to a freezer counts one cycle)",
        },
        **kwargs,
    )


class CheckOutIn(ReasonIn):
    """Check-out asks how the tube leaves: only a thawed one counts a cycle on its return."""

    condition = _condition(required=True)


class TakeOutIn(_StepIn):
    reason = fields.String(required=True, validate=[REASON, NOT_BLANK])
    condition = _condition(load_default=OutCondition.THAWED)


class ReturnIn(ReasonIn):
    """A released tube back from the investigator: how it travelled, what volume came back."""

    condition = _condition(required=True)
    volume_ul = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1),
        metadata={"label": "Volume returned (µL)", "description": "omit: as it left"},
    )


class RequiredReasonIn(_StepIn):
    """Steps that end or suspend a tube's use must say why: taking out, disposal, quarantine."""

    reason = fields.String(required=True, validate=[REASON, NOT_BLANK])


class PutBackIn(_BoxRef):
    """Back to the held position, or into the box given."""

    reason = fields.String(load_default=None, allow_none=True, validate=REASON)


class UseIn(_StepIn):
    volume_ul = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1),
        metadata={"label": "Volume used (µL)", "description": "volume taken, at most what remains"},
    )
    consume_all = fields.Boolean(
        load_default=False,
        metadata={
            "label": "Consume all",
            "description": "true to use up the whole tube; required when no volume is given",
        },
    )


class DisposeIn(_StepIn):
    """Why, from the fixed list ("other" needs the note), and who authorised it (a username)."""

    reason = fields.Enum(
        DisposalReason,
        by_value=True,
        required=True,
        metadata={"label": "Reason", "description": "one of the disposal reasons"},
    )
    note = fields.String(
        load_default=None,
        allow_none=True,
        validate=REASON,
        metadata={"label": "Note", "description": "required when the reason is other"},
    )
    authorised_by = column_string(
        "users.username",
        64,
        required=True,
        metadata={"label": "Authorised by", "description": "username of who authorised it"},
    )


class DisposeFormIn(DisposeIn):
    """The dispose form also asks the technician to tick that they mean it (the API's required
    reason is its confirmation: a script that sends one has decided)."""

    confirm = fields.Boolean(load_default=False, metadata={"label": "Confirm disposal"})

    @validates_schema
    def _confirmed(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("confirm"):
            raise ValidationError("tick the box to confirm the disposal", "confirm")


def _scanned() -> fields.List:
    return fields.List(
        column_string("aliquots.barcode", 32),
        required=True,
        validate=validate.Length(min=1, max=MAX_SCANNED),
        metadata={"description": "as scanned; a problem names its place in the list (from 1)"},
    )


class DisposeManyIn(DisposeIn):
    barcodes = _scanned()


class DisposedOut(Schema):
    disposed = fields.List(fields.String())


class CheckOutManyIn(CheckOutIn):
    barcodes = _scanned()


class CheckInManyIn(Schema):
    barcodes = _scanned()


class UseManyIn(UseIn):
    barcodes = _scanned()


class BulkDoneOut(Schema):
    """The tubes a scanned list changed, in the order scanned."""

    count = fields.Function(len, metadata={"type": "integer"})
    aliquots = fields.Function(
        lambda done: [StoredAliquotOut().dump(a) for a in done],
        metadata={"type": "array", "items": {"type": "object"}},
    )


class PlacementImportIn(Schema):
    csv = fields.String(
        required=True, metadata={"description": "barcode,box_barcode,position with a header row"}
    )


class ImportResultOut(Schema):
    placed = fields.Function(lambda r: len(r))
    placements = fields.Function(
        lambda r: [PlacementOut().dump(p) for p in r],
        metadata={"type": "array", "items": {"type": "object"}},
    )


# --- finding -------------------------------------------------------------------------------


class InventoryQueryIn(Schema):
    """The filters of the aliquot list and the export."""

    site = column_string("sites.code", 8, load_default=None)
    subject = column_string("subjects.study_code", 20, load_default=None)
    specimen_type = fields.Enum(SpecimenType, by_value=True, load_default=None)
    status = fields.Enum(AliquotStatus, by_value=True, load_default=None)
    freezer_id = fields.Integer(load_default=None)
    box = column_string(
        "boxes.barcode", 32, load_default=None, metadata={"description": "box barcode"}
    )


class AliquotQueryIn(InventoryQueryIn, PageQuery):
    """The filters and a page of the aliquot list: `after` (or `before`) an aliquot id, as the
    previous page's `next_after` (or `prev_before`) gives it, else the page number."""

    after = fields.Integer(
        load_default=None,
        validate=validate.Range(min=0, max=2**62),
        metadata={"description": "the next page: the `next_after` of the page before"},
    )
    before = fields.Integer(
        load_default=None,
        validate=validate.Range(min=0, max=2**62),
        metadata={"description": "the previous page: the `prev_before` of the page after"},
    )


class InventoryRowOut(Schema):
    barcode = fields.String()
    subject = fields.String()
    site = fields.String()
    visit = fields.Integer()
    specimen_type = fields.Function(lambda r: r.specimen_type.value)
    volume_ul = fields.Integer()
    concentration_ng_ul = fields.Float(allow_none=True)
    status = fields.Function(lambda r: r.status.value)
    freeze_thaw_count = fields.Integer()
    freezer = fields.String(allow_none=True)
    rack = fields.String(allow_none=True)
    box = fields.String(allow_none=True, attribute="box_barcode")
    position = fields.String(allow_none=True)
    consent_withdrawn = fields.Boolean()


class AliquotPageOut(PageOut):
    """`total` is exact up to 1,000 matches (`total_kind` "exact"); beyond, PostgreSQL's
    planner estimate ("estimate") or, on SQLite, 1,000 ("more_than")."""

    items = fields.List(fields.Nested(InventoryRowOut))
    total_kind = fields.Function(lambda p: p["total_kind"].value)
    next_after = fields.Integer(allow_none=True)
    prev_before = fields.Integer(allow_none=True)


class CustodyEventOut(Schema):
    id = fields.Integer()
    occurred_at = fields.DateTime()
    actor = fields.String(attribute="actor_username")
    action = fields.Function(lambda e: str(e.action))
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    reason = fields.String(allow_none=True)


class CustodyOut(Schema):
    barcode = fields.String()
    events = fields.List(fields.Nested(CustodyEventOut))
