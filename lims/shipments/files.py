"""A shipment's document (manifest PDF or CSV, box labels) as an HTTP response, for the pages
and the API alike."""

from __future__ import annotations

from flask import Response

from lims.db import get_session
from lims.shipments import services
from lims.web import current_actor


def shipment_file_response(shipment_id: int, kind: str) -> Response:
    """The document `kind` ("manifest.pdf", "manifest.csv", "labels.pdf") of a shipment."""
    file = services.shipment_file(
        get_session(), current_actor(), shipment_id=shipment_id, kind=kind
    )
    disposition = "inline" if file.inline else "attachment"
    headers = {"Content-Disposition": f'{disposition}; filename="{file.filename}"'}
    return Response(file.content, mimetype=file.media_type, headers=headers)
