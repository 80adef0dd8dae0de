"""Aliquots and storage over the API."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from lims.db import get_session
from lims.specimens.services import find_aliquot
from lims.storage.schemas import StoredAliquotOut
from lims.web import current_actor, documented, dump, token_required

bp = Blueprint("storage_api", __name__, url_prefix="/api/v1")


@bp.get("/aliquots/<barcode>")
@token_required
@documented(
    summary="One aliquot by barcode, with its subject code, status and location",
    response=StoredAliquotOut,
)
def get_aliquot(barcode: str) -> ResponseReturnValue:
    aliquot = find_aliquot(get_session(), current_actor(), barcode)
    return dump(StoredAliquotOut(), aliquot)
