"""The specimens feature over the API (mounted under /api/v1)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("specimens_api", __name__, url_prefix="/api/v1")
