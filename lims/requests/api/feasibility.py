"""API: feasibility (issue 19)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("requests_feasibility_api", __name__, url_prefix="/api/v1")
