"""Storage over the API (mounted under /api/v1): freezers, racks, boxes, placing and moving
tubes, their lifecycle, finding them, and the placement import.

The endpoint modules hold plain view functions; this module lists every route of the blueprint,
so the feature's URLs are read in one place and no import registers anything as a side effect.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint
from flask.typing import ResponseReturnValue

from lims.storage.api import aliquots, setup

bp = Blueprint("storage_api", __name__, url_prefix="/api/v1")

# (method, rule, view); the endpoint is the view's name, the OpenAPI entry its @documented.
ROUTES: list[tuple[str, str, Callable[..., ResponseReturnValue]]] = [
    # aliquots: one, a list, custody; storing, moving, the lifecycle steps; batch work
    ("GET", "/aliquots/<barcode>", aliquots.get_aliquot),
    ("GET", "/aliquots", aliquots.list_aliquots),
    ("GET", "/aliquots/export.csv", aliquots.export_inventory),
    ("GET", "/aliquots/<barcode>/custody", aliquots.custody),
    ("POST", "/boxes/<int:box_id>/aliquots", aliquots.store_in_box),
    ("POST", "/aliquots/<barcode>/move", aliquots.move_aliquot),
    ("POST", "/aliquots/<barcode>/take-out", aliquots.take_out),
    ("POST", "/aliquots/<barcode>/check-out", aliquots.check_out),
    ("POST", "/aliquots/<barcode>/check-in", aliquots.check_in),
    ("POST", "/aliquots/<barcode>/use", aliquots.use),
    ("POST", "/aliquots/<barcode>/dispose", aliquots.dispose),
    ("POST", "/aliquots/<barcode>/missing", aliquots.mark_missing),
    ("POST", "/aliquots/<barcode>/found", aliquots.mark_found),
    ("POST", "/aliquots/<barcode>/quarantine", aliquots.quarantine),
    ("POST", "/aliquots/<barcode>/clear-quarantine", aliquots.clear_quarantine),
    ("POST", "/aliquots/<barcode>/void", aliquots.void),
    ("POST", "/aliquots/<barcode>/return", aliquots.return_aliquot),
    ("POST", "/aliquots/dispose", aliquots.dispose_many),
    ("POST", "/aliquots/check-out", aliquots.check_out_many),
    ("POST", "/aliquots/check-in", aliquots.check_in_many),
    ("POST", "/aliquots/use", aliquots.use_many),
    ("POST", "/placements/import", aliquots.import_placements),
    # setting up storage: freezers, racks, boxes, capacity
    ("GET", "/freezers", setup.list_freezers),
    ("POST", "/freezers", setup.create_freezer),
    ("GET", "/freezers/<int:freezer_id>", setup.get_freezer),
    ("POST", "/freezers/<int:freezer_id>/racks", setup.create_rack),
    ("GET", "/boxes", setup.list_boxes),
    ("POST", "/boxes", setup.create_box),
    ("GET", "/boxes/<int:box_id>", setup.get_box),
    ("POST", "/boxes/<int:box_id>/move", setup.move_box),
    ("GET", "/storage/capacity", setup.capacity),
]
for method, rule, view in ROUTES:
    bp.add_url_rule(rule, view_func=view, methods=[method])
