"""HTML pages of the storage feature: setting up storage, the bench (scan, move, take out,
dispose, import), and finding aliquots (search, lists, export, the aliquot page)."""

from __future__ import annotations

from flask import Blueprint

from lims.auth.models import Role
from lims.web import NAV

bp = Blueprint("storage", __name__)

STAFF_ROLES = (Role.ADMIN, Role.TECHNICIAN, Role.REVIEWER)
NAV.append(("storage.scan", "Scan into box", (Role.ADMIN, Role.TECHNICIAN)))
NAV.append(("storage.index", "Storage", STAFF_ROLES))
NAV.append(("storage.aliquots", "Aliquots", STAFF_ROLES))

# The page modules attach their routes to bp when imported.
import lims.storage.views.aliquots  # noqa: E402
import lims.storage.views.bench  # noqa: E402
import lims.storage.views.setup  # noqa: E402, F401
