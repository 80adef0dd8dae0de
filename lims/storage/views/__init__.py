"""HTML pages of the storage feature: setting up storage, the bench (scan, move, take out,
dispose, import), and finding aliquots (search, lists, export, the aliquot page)."""

from __future__ import annotations

from flask import Blueprint

from lims.actors import STAFF_AND_ADMIN, Role
from lims.web import NAV

bp = Blueprint("storage", __name__)

NAV.append(("storage.scan", "Scan into box", (Role.ADMIN, Role.TECHNICIAN)))
NAV.append(("storage.index", "Storage", STAFF_AND_ADMIN))
NAV.append(("storage.aliquots", "Aliquots", STAFF_AND_ADMIN))

# The page modules attach their routes to bp when imported.
import lims.storage.views.aliquots  # noqa: E402
import lims.storage.views.bench  # noqa: E402
import lims.storage.views.setup  # noqa: E402, F401
