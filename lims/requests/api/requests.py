"""API: requests (issue 19)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("requests_requests_api", __name__, url_prefix="/api/v1")
