"""Requests in each state, reached through the services (the trail in a test is real).

Shared with the fulfilment and release tests: `approved_request` gives a request ready to pick.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from lims.actors import Actor, Role
from lims.requests.models import RequestState, SpecimenRequest
from lims.requests.services import (
    AttachmentKind,
    attach_file,
    change_state,
    create_draft,
    decide_request,
    submit_request,
)
from lims.specimens.duo import DuoTerm
from tests.factories import make_user

# Serum from cervical dystonia; the purpose (DS, non-commercial) comes beside it, as the API allows.
CRITERIA: dict[str, Any] = {"specimen_types": ["serum"], "diagnoses": ["cervical"]}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
MAX_BYTES = 64 * 1024


def second_investigator(session: Session, username: str = "investigator2") -> Actor:
    return Actor.of(make_user(session, username, Role.INVESTIGATOR))


def draft_request(session: Session, investigator: Actor, **values: Any) -> SpecimenRequest:
    fields: dict[str, Any] = {
        "title": "Serum biomarkers of cervical dystonia progression",
        "aims": "Find serum markers that track TWSTRS-2 severity over two or more visits.",
        "criteria": CRITERIA,
        "quantity_ul": 250.0,
        "purpose": DuoTerm.DS,
        "purpose_modifiers": [DuoTerm.NCU],
        "phenotype_fields": ["twstrs_severity", "body_regions"],
    }
    return create_draft(session, investigator, **(fields | values))


def attach_protocol(
    session: Session, investigator: Actor, req: SpecimenRequest, files_dir: Path
) -> None:
    attach_file(
        session,
        investigator,
        request=req.code,
        kind=AttachmentKind.PROTOCOL,
        filename="protocol.pdf",
        data=PDF,
        files_dir=files_dir,
        max_bytes=MAX_BYTES,
    )


def submitted_request(
    session: Session, investigator: Actor, files_dir: Path, **values: Any
) -> SpecimenRequest:
    req = draft_request(session, investigator, **values)
    attach_protocol(session, investigator, req, files_dir)
    return submit_request(session, investigator, request=req.code)


def under_review_request(
    session: Session, investigator: Actor, reviewer: Actor, files_dir: Path, **values: Any
) -> SpecimenRequest:
    req = submitted_request(session, investigator, files_dir, **values)
    return change_state(session, reviewer, request=req.code, to=RequestState.UNDER_REVIEW)


def approved_request(
    session: Session,
    investigator: Actor,
    reviewer: Actor,
    admin: Actor,
    files_dir: Path,
    **values: Any,
) -> SpecimenRequest:
    """A request an admin approved after review (draft fields in `values`): ready to pick."""
    req = under_review_request(session, investigator, reviewer, files_dir, **values)
    return decide_request(
        session,
        admin,
        request=req.code,
        decision=RequestState.APPROVED,
        note="Approved by the access committee",
    )
