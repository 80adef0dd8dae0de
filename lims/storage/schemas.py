from __future__ import annotations

from typing import Any

from marshmallow import fields

from lims.specimens.schemas import AliquotOut
from lims.web import Schema


class LocationOut(Schema):
    freezer = fields.String(allow_none=True)
    rack = fields.String(allow_none=True)
    box = fields.String()
    box_barcode = fields.String()
    position = fields.String()


class StoredAliquotOut(AliquotOut):
    """An aliquot with where it sits: freezer, rack, box and position (e.g. A1)."""

    location = fields.Method("get_location", metadata={"type": "object"})

    def get_location(self, aliquot: Any) -> dict[str, Any] | None:
        from lims.storage.services import location_of

        location = location_of(aliquot)
        return LocationOut().dump(location) if location else None
