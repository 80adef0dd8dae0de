"""A request's attached PDFs over HTTP, for the pages and the API alike: where they live, how
an upload is read, and the download."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from flask import Response, current_app, send_file

from lims.db import get_session
from lims.requests import services
from lims.web import current_actor


def file_settings() -> dict[str, Any]:
    """Where attachments live and how large one may be (config.py)."""
    return {
        "files_dir": Path(current_app.config["REQUEST_FILES_DIR"]),
        "max_bytes": int(current_app.config["REQUEST_FILE_MAX_BYTES"]),
    }


def read_upload(stream: Any) -> bytes:
    """An uploaded file's bytes, reading at most one byte past the limit (the service says no)."""
    data: bytes = stream.read(int(current_app.config["REQUEST_FILE_MAX_BYTES"]) + 1)
    return data


def attachment_response(code: str, attachment_id: int) -> Response:
    """The attached PDF, for whoever may see the request (find_request decides)."""
    found = services.attachment_file(
        get_session(),
        current_actor(),
        request=code,
        attachment_id=attachment_id,
        files_dir=file_settings()["files_dir"],
    )
    return send_file(
        io.BytesIO(found.data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=found.attachment.filename,
    )
