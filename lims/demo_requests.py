"""The demo's investigator requests (issue 19), made through the requests services as people
would: one submitted and under review, and one approved, picked, shipped, delivered and
released, with its de-identified data set ready to download. The investigator can check
feasibility against the whole demo collection.

The protocols are a one-page PDF written here; they are stored where the application keeps
request files (REQUEST_FILES_DIR), or in a temporary directory when no application is running
(the tests load the demo without one).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.auth.models import User
from lims.db import utcnow
from lims.requests.models import RequestState, SpecimenRequest, Vote
from lims.requests.services import (
    AttachmentKind,
    add_review,
    attach_file,
    change_state,
    create_draft,
    decide_request,
    submit_request,
)
from lims.requests.services.fulfilment import (
    confirm_pick,
    propose_pick_list,
    reserve_pick_list,
)
from lims.requests.services.outbound import destinations, pack_request_shipment, ship_request
from lims.requests.services.release import confirm_request_delivery
from lims.specimens.duo import DuoTerm

# The example: serum of cervical dystonia, for disease-specific, non-commercial research.
SERUM_CD: dict[str, Any] = {
    "purpose": {"term": "DS", "modifiers": ["NCU"]},
    "diagnoses": ["cervical"],
    "specimen_types": ["serum"],
}
DNA_LD: dict[str, Any] = {
    "purpose": {"term": "DS", "modifiers": ["NCU"]},
    "diagnoses": ["laryngeal"],
    "specimen_types": ["dna"],
}
RELEASED_TUBES = 6  # the first tubes of the pick list: a small parcel, quick to load
PROTOCOL = b"""%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >> endobj
trailer << /Root 1 0 R >>
%%EOF
"""


def _actor(session: Session, username: str) -> Actor:
    return Actor.of(session.scalars(select(User).where(User.username == username)).one())


def _files_dir() -> tuple[Path, int]:
    if has_app_context():
        config = current_app.config
        return Path(config["REQUEST_FILES_DIR"]), int(config["REQUEST_FILE_MAX_BYTES"])
    return Path(tempfile.mkdtemp(prefix="lims-demo-request-files-")), 2**20


def _submitted(
    session: Session, investigator: Actor, *, title: str, aims: str, **values: Any
) -> SpecimenRequest:
    files_dir, max_bytes = _files_dir()
    req = create_draft(
        session,
        investigator,
        title=title,
        aims=aims,
        purpose=DuoTerm.DS,
        purpose_modifiers=[DuoTerm.NCU],
        **values,
    )
    attach_file(
        session,
        investigator,
        request=req.code,
        kind=AttachmentKind.PROTOCOL,
        filename="protocol.pdf",
        data=PROTOCOL,
        files_dir=files_dir,
        max_bytes=max_bytes,
    )
    return submit_request(session, investigator, request=req.code)


def load(session: Session) -> str:
    """Make the demo's two requests; returns a summary."""
    investigator, reviewer = _actor(session, "investigator"), _actor(session, "reviewer")
    admin, tech = _actor(session, "admin"), _actor(session, "tech")
    released = _submitted(
        session,
        investigator,
        title="Serum biomarkers of cervical dystonia progression",
        aims="Find serum markers that follow TWSTRS severity across visits.",
        criteria=SERUM_CD,
        quantity_ul=200.0,
        phenotype_fields=[
            "twstrs_total",
            "twstrs_severity",
            "dx_subtype",
            "dx_onset_age",
            "weeks_since_toxin",
            "gen_result_thap1",
        ],
    )
    change_state(session, reviewer, request=released.code, to=RequestState.UNDER_REVIEW)
    add_review(session, reviewer, request=released.code, comment="Sound design.", vote=Vote.APPROVE)
    decide_request(
        session,
        admin,
        request=released.code,
        decision=RequestState.APPROVED,
        note="Approved by the access committee",
    )
    _fulfil(session, tech, released.code)
    waiting = _submitted(
        session,
        investigator,
        title="DNA of laryngeal dystonia for a candidate-gene study",
        aims="Sequence candidate genes in adductor and abductor laryngeal dystonia.",
        criteria=DNA_LD,
        quantity_ul=20.0,
    )
    change_state(session, reviewer, request=waiting.code, to=RequestState.UNDER_REVIEW)
    return f"requests {released.code} (released) and {waiting.code} (under review)"


def _fulfil(session: Session, tech: Actor, code: str) -> None:
    """Reserve the first tubes of the pick list, pick them by scan, pack, ship and deliver."""
    proposal = propose_pick_list(session, tech, request=code)
    ids = [line.aliquot_id for line in proposal.lines[:RELEASED_TUBES]]
    if not ids:  # a demo too small to hold a match: the request stays approved
        return
    reserve_pick_list(session, tech, request=code, aliquot_ids=ids)
    req = session.scalars(select(SpecimenRequest).where(SpecimenRequest.code == code)).one()
    now = utcnow()
    for item in list(req.items):
        confirm_pick(session, tech, request=code, barcode=item.aliquot.barcode, picked_at=now)
    institution = next(a for a in destinations(session, tech) if a.site_id is None)
    pack_request_shipment(session, tech, request=code, to_address_id=institution.id)
    ship_request(
        session,
        tech,
        request=code,
        courier="World Courier",
        tracking_number="WC-REQ-0001",
        shipped_at=now,
        dry_ice_kg=6.0,
    )
    confirm_request_delivery(session, tech, request_id=code, delivered_at=utcnow())
