"""Storage over the API (mounted under /api/v1): freezers, racks, boxes, placing and moving
tubes, their lifecycle, finding them, and the placement import."""

from __future__ import annotations

from flask import Blueprint

from lims.errors import NotFound
from lims.web import INT_MAX

bp = Blueprint("storage_api", __name__, url_prefix="/api/v1")


def path_id(value: str, what: str) -> int:
    """A numeric id from the URL.

    The rules use plain <box_id>, not <int:box_id>: the OpenAPI coverage test in tests/auth
    maps rule paths to documented paths and does not understand converters.
    """
    # isdigit() alone accepts "²", which int() then refuses; ids are INTEGER columns.
    if not (value.isascii() and value.isdigit()) or int(value) > INT_MAX:
        raise NotFound(f"{what} {value} does not exist")
    return int(value)


# The endpoint modules attach their routes to bp when imported.
from lims.storage.api import aliquots, setup  # noqa: E402, F401
