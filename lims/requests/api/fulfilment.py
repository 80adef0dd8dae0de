"""API: fulfilment (issue 19)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("requests_fulfilment_api", __name__, url_prefix="/api/v1")
