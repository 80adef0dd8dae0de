"""HTML pages of the storage feature."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("storage", __name__)
