"""HTML pages of the specimens feature."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("specimens", __name__)
