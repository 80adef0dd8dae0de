"""The labels feature over the API (mounted under /api/v1)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("labels_api", __name__, url_prefix="/api/v1")
