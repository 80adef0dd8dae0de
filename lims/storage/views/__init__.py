"""HTML pages of the storage feature: setting up storage, the bench (scan, move, take out,
dispose, import), and finding aliquots (search, lists, export, the aliquot page).

The page modules hold plain view functions; this module lists every route of the blueprint,
so the feature's URLs are read in one place and no import registers anything as a side effect.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint
from flask.typing import ResponseReturnValue

from lims.actors import STAFF_AND_ADMIN, Role
from lims.storage.views import aliquots, bench, grid, rows, setup
from lims.web import NAV

bp = Blueprint("storage", __name__)

# (method, rule, view); the endpoint is the view's name: url_for("storage.box", box_id=...).
ROUTES: list[tuple[str, str, Callable[..., ResponseReturnValue]]] = [
    # finding aliquots: the list, its export, the aliquot page and its steps (the find box
    # that leads here is the application's, lims/find.py)
    ("GET", "/aliquots", aliquots.aliquots),
    ("GET", "/aliquots/export.csv", aliquots.export),
    ("GET", "/aliquots/<barcode>", aliquots.aliquot),
    ("POST", "/aliquots/<barcode>/<step>", aliquots.aliquot_step),
    # the bench
    ("GET", "/storage/scan", bench.scan),
    ("POST", "/storage/scan", bench.scan_submit),
    ("GET", "/storage/move", bench.move),
    ("POST", "/storage/move/aliquot", bench.move_aliquot),
    ("POST", "/storage/move/box", bench.move_box_by_barcode),
    ("POST", "/storage/take-out", bench.take_out),
    ("GET", "/storage/dispose", bench.dispose_form),
    ("POST", "/storage/dispose", bench.dispose),
    ("GET", "/storage/tubes", bench.tube_list_form),
    ("POST", "/storage/tubes", bench.tube_list),
    ("GET", "/storage/placements/import", bench.import_form),
    ("POST", "/storage/placements/import", bench.import_placements),
    # setting up storage: freezers, racks, boxes, capacity
    ("GET", "/storage/", setup.index),
    ("POST", "/storage/freezers", setup.create_freezer),
    ("GET", "/storage/freezers/<int:freezer_id>", setup.freezer),
    ("POST", "/storage/freezers/<int:freezer_id>/racks", setup.create_rack),
    ("POST", "/storage/boxes", setup.create_box),
    ("GET", "/storage/boxes/<int:box_id>", setup.box),
    ("GET", "/storage/boxes/by-barcode/<code>", setup.box_by_barcode),
    ("POST", "/storage/boxes/<int:box_id>/move", setup.move_box),
    ("GET", "/storage/capacity", setup.capacity),
]
for method, rule, view in ROUTES:
    bp.add_url_rule(rule, view_func=view, methods=[method])
bp.add_app_template_global(grid.grid_cells, "grid_cells")  # templates/storage/_grid.html
bp.add_app_template_global(grid.content_rows, "content_rows")  # storage/box.html
bp.add_app_template_global(rows.aliquot_rows, "aliquot_rows")  # storage/aliquots.html

NAV.append(("storage.scan", "Scan into box", (Role.ADMIN, Role.TECHNICIAN)))
NAV.append(("storage.index", "Storage", STAFF_AND_ADMIN))
NAV.append(("storage.aliquots", "Aliquots", STAFF_AND_ADMIN))
