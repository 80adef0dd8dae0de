"""A request's protocol or data use agreement: a PDF, size-limited, kept in the configured
directory (REQUEST_FILES_DIR) under a random name, its SHA-256 in the row (issue 19).

The directory and the limit come in as arguments (the views read them from the app's
configuration), so the service reads no Flask and tests pass a temporary directory.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.errors import Conflict, Forbidden, InvalidInput, NotFound, plural
from lims.requests.models import EDITABLE_STATES, RequestAttachment
from lims.requests.services.workflow import find_request

PDF_MAGIC = b"%PDF-"  # ISO 32000-1 §7.5.2: the file header's first bytes
FILENAME_MAX = 200  # RequestAttachment.filename's column


class AttachmentKind(StrEnum):
    PROTOCOL = "protocol"
    DUA = "dua"

    @property
    def label(self) -> str:
        return "protocol" if self is AttachmentKind.PROTOCOL else "data use agreement"


def attach_file(
    session: Session,
    actor: Actor,
    *,
    request: str | int,
    kind: AttachmentKind,
    filename: str,
    data: bytes,
    files_dir: Path,
    max_bytes: int,
) -> RequestAttachment:
    """Attach a protocol or data use agreement (PDF) to the investigator's own request."""
    req = find_request(session, actor, request, for_update=True)
    if req.investigator_id != actor.user_id and actor.role is not Role.ADMIN:
        raise Forbidden(f"Only the investigator who made {req.code} may attach files to it")
    if req.state not in EDITABLE_STATES:
        raise Conflict(
            f"Request {req.code} is {req.state.label}; files are attached to a draft or a "
            "request sent back for revision",
            field="state",
        )
    name = _shown_name(filename)
    if not data:
        raise InvalidInput(f"{name} is empty; choose the PDF", field="file")
    if len(data) > max_bytes:  # the views read one byte past the limit, no more
        raise InvalidInput(
            f"{name} is larger than the limit of {plural(max_bytes, 'byte')}", field="file"
        )
    if not data.startswith(PDF_MAGIC):
        raise InvalidInput(f"{name} is not a PDF (it does not begin with %PDF-)", field="file")
    stored_name = secrets.token_hex(16) + ".pdf"
    path = _write(files_dir, stored_name, data)
    try:
        attachment = RequestAttachment(
            kind=kind.value,
            filename=name,
            stored_name=stored_name,
            sha256=hashlib.sha256(data).hexdigest(),
            size_bytes=len(data),
            uploaded_by_id=actor.user_id,
        )
        req.attachments.append(attachment)
        audit.record(
            session,
            actor,
            Action.REQUEST_FILE_ATTACHED,
            req,
            kind=kind,
            filename=name,
            sha256=attachment.sha256,
            size_bytes=len(data),
        )
        session.commit()
    except BaseException:
        path.unlink(missing_ok=True)  # no row names it: do not leave it behind
        raise
    return attachment


def _shown_name(filename: str) -> str:
    """The uploaded file's own name, for the list and the download: no folders (a browser on
    Windows may send C:\\...), no control characters (PostgreSQL text holds no NUL)."""
    name = Path(filename.replace("\\", "/")).name
    name = "".join(c for c in name if ord(c) >= 32 and ord(c) != 127).strip()
    return name[:FILENAME_MAX] or "document.pdf"


def _write(files_dir: Path, stored_name: str, data: bytes) -> Path:
    files_dir.mkdir(parents=True, exist_ok=True)
    path = files_dir / stored_name
    # O_EXCL: a random name never overwrites; 0o600: the files are the investigators' papers.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


@dataclass(frozen=True)
class AttachmentFile:
    attachment: RequestAttachment
    data: bytes


def attachment_file(
    session: Session, actor: Actor, *, request: str | int, attachment_id: int, files_dir: Path
) -> AttachmentFile:
    """An attached PDF, for whoever may see the request; its bytes are checked against the
    SHA-256 kept at upload, so a changed file is never handed out as the original."""
    req = find_request(session, actor, request)
    attachment = next((a for a in req.attachments if a.id == attachment_id), None)
    if attachment is None:
        raise NotFound(f"Request {req.code} has no attachment {attachment_id}", field="file")
    try:
        data = (files_dir / attachment.stored_name).read_bytes()
    except FileNotFoundError:
        raise NotFound(
            f"The file of {attachment.filename} is missing from the request files directory",
            field="file",
        ) from None
    if hashlib.sha256(data).hexdigest() != attachment.sha256:
        raise Conflict(
            f"{attachment.filename} has changed on disk since it was uploaded; ask an admin",
            field="file",
        )
    return AttachmentFile(attachment, data)
