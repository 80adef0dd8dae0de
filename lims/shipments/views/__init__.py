"""HTML pages of the shipments feature: the list, a shipment (create, pack, ship, confirm
delivery, manifests), and the receiving bench.

The page modules hold plain view functions; this module lists every route of the blueprint,
so the feature's URLs are read in one place and no import registers anything as a side effect.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint
from flask.typing import ResponseReturnValue

from lims.actors import STAFF_AND_ADMIN, Role
from lims.shipments.views import receiving, shipments
from lims.web import NAV

bp = Blueprint("shipments", __name__)

# (method, rule, view); the endpoint is the view's name: url_for("shipments.shipment", ...).
ROUTES: list[tuple[str, str, Callable[..., ResponseReturnValue]]] = [
    ("GET", "/shipments/", shipments.index),
    ("POST", "/shipments/", shipments.create),
    ("POST", "/shipments/manifests", shipments.import_manifest),
    ("GET", "/shipments/<int:shipment_id>", shipments.shipment),
    ("POST", "/shipments/<int:shipment_id>/boxes", shipments.pack),
    ("POST", "/shipments/<int:shipment_id>/ship", shipments.ship),
    ("POST", "/shipments/<int:shipment_id>/delivery", shipments.deliver),
    ("GET", "/shipments/<int:shipment_id>/manifest.pdf", shipments.manifest_pdf),
    ("GET", "/shipments/<int:shipment_id>/manifest.csv", shipments.manifest_csv),
    ("GET", "/shipments/<int:shipment_id>/labels.pdf", shipments.box_labels),
    # the receiving bench
    ("GET", "/shipments/receive", receiving.receive),
    ("POST", "/shipments/receive", receiving.scan),
    ("POST", "/shipments/<int:shipment_id>/arrival", receiving.arrival),
    ("POST", "/shipments/<int:shipment_id>/complete", receiving.complete),
    ("POST", "/shipments/<int:shipment_id>/items/<int:item_id>/write-off", receiving.write_off),
    ("POST", "/shipments/<int:shipment_id>/items/<int:item_id>/accept", receiving.accept),
    ("POST", "/shipments/<int:shipment_id>/items/<int:item_id>/accession", receiving.accession),
]
for method, rule, view in ROUTES:
    bp.add_url_rule(rule, view_func=view, methods=[method])

NAV.append(("shipments.receive", "Receive", (Role.ADMIN, Role.TECHNICIAN)))
NAV.append(("shipments.index", "Shipments", STAFF_AND_ADMIN))
