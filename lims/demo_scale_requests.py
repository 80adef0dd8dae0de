"""The generated demo's investigator requests (lims/demo_scale.py), made through the requests
services after the bulk rows are committed, as the access committee and the bench would make
them: so each state, reservation and shipment is one the application reached itself, with its
own audit events.

About one request per 2,500 subjects (at least three), in turn (PLAN): released (approved,
picked, shipped in an outbound shipment, delivered, its aliquots released with their data set),
under review, submitted, released, rejected, approved and waiting to be picked. The questions
are a few a consortium gets; issue #19's (serum of cervical dystonia, two or more visits,
TWSTRS at least 20, no toxin within 12 weeks of the draw) is the one under review.

Why issue #19's question is not among the released: its pick list (`min_visits` with more
criteria) is planned by PostgreSQL as a nested loop that re-sorts every match for every match,
42 s at 5,000 subjects and quadratic beyond (lims/requests/criteria, reported for issue #20);
its feasibility count takes 0.6 s there. A broad question (all serum of cervical dystonia)
fails at 50,000 subjects: the pick list counts stored tubes per visit with one IN list of every
matching visit, over PostgreSQL's 65,535 parameters (lims/requests/services/fulfilment.py
_stored_per_visit, reported); so the released questions are narrow, as a study's are.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.auth.models import User
from lims.demo_requests import PROTOCOL
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
from lims.requests.services.fulfilment import confirm_pick, propose_pick_list, reserve_pick_list
from lims.requests.services.outbound import destinations, pack_request_shipment, ship_request
from lims.requests.services.release import confirm_request_delivery
from lims.specimens.duo import DuoTerm

SUBJECTS_PER_REQUEST = 2_500
RELEASED_TUBES = 24  # a quarter of a 10x10 box per request: quick to pick by scan
# The issue #19 question; bench/feasibility.py times it.
EXAMPLE: dict[str, Any] = {
    "purpose": {"term": "HMB", "modifiers": ["GSO", "NCU"]},
    "diagnoses": ["cervical"],
    "specimen_types": ["serum"],
    "min_visits": 2,
    "scores": [{"scale": "twstrs", "min": 20}],
    "toxin_weeks": {"min": 12},
}
# The released questions are narrow, as a study's are: a site, a severity, tubes never thawed.
SEVERE_CD: dict[str, Any] = {
    "purpose": {"term": "DS", "modifiers": ["NCU"]},
    "diagnoses": ["cervical"],
    "specimen_types": ["serum"],
    "scores": [{"scale": "twstrs", "min": 40}],
    "sites": ["NA2"],
    "max_freeze_thaw": 0,
}
LD_DNA: dict[str, Any] = {
    "purpose": {"term": "DS", "modifiers": ["NCU"]},
    "diagnoses": ["laryngeal"],
    "specimen_types": ["dna"],
    "scores": [{"scale": "vhi", "min": 50}],
    "sites": ["EU1"],
    "max_freeze_thaw": 0,
}
BSP_JRS: dict[str, Any] = {
    "purpose": {"term": "DS", "modifiers": ["NCU"]},
    "diagnoses": ["blepharospasm"],
    "specimen_types": ["serum"],
    "scores": [{"scale": "jrs", "min": 4}],
}
Question = tuple[str, Mapping[str, Any], DuoTerm, tuple[str, ...]]
PROGRESSION: Question = (
    "Serum biomarkers of cervical dystonia progression", EXAMPLE, DuoTerm.HMB,
    ("twstrs_total", "twstrs_severity", "weeks_since_toxin"),
)  # fmt: skip
CANDIDATE_GENES: Question = (
    "DNA of laryngeal dystonia for a candidate-gene study",
    LD_DNA,
    DuoTerm.DS,
    ("vhi_total",),
)
INFLAMMATION: Question = (
    "Serum inflammation markers in blepharospasm",
    BSP_JRS,
    DuoTerm.DS,
    ("jrs_total",),
)
SEVERE: Question = (
    "Serum of severe cervical dystonia",
    SEVERE_CD,
    DuoTerm.DS,
    ("twstrs_total", "dx_subtype"),
)
PLAN: tuple[tuple[str, Question], ...] = (
    ("released", SEVERE),
    ("under_review", PROGRESSION),
    ("submitted", INFLAMMATION),
    ("released", CANDIDATE_GENES),
    ("rejected", PROGRESSION),
    ("approved", INFLAMMATION),
)


def _files_dir() -> tuple[Path, int]:
    """Where the protocols go: the application's request files, or a temporary directory when
    no application runs (bench/generate.py, the tests)."""
    if has_app_context():
        config = current_app.config
        return Path(config["REQUEST_FILES_DIR"]), int(config["REQUEST_FILE_MAX_BYTES"])
    return Path(tempfile.mkdtemp(prefix="lims-demo-request-files-")), 2**20


def _actor(session: Session, username: str) -> Actor:
    return Actor.of(session.scalars(select(User).where(User.username == username)).one())


def make(session: Session, *, subjects: int, seed: int) -> dict[str, int]:
    """Make the requests for a demo of `subjects` subjects; returns what was made."""
    people = {n: _actor(session, n) for n in ("investigator", "reviewer", "admin", "tech")}
    rng = random.Random(seed)
    made = {"specimen requests": 0, "released aliquots": 0}
    for n in range(max(3, subjects // SUBJECTS_PER_REQUEST)):
        outcome, (title, criteria, purpose, fields) = PLAN[n % len(PLAN)]
        code = _submitted(session, people["investigator"], title, criteria, purpose, fields)
        made["specimen requests"] += 1
        if outcome == "submitted":
            continue
        change_state(session, people["reviewer"], request=code, to=RequestState.UNDER_REVIEW)
        if outcome == "under_review":
            continue
        vote = Vote.REJECT if outcome == "rejected" else Vote.APPROVE
        add_review(session, people["reviewer"], request=code, comment="Reviewed.", vote=vote)
        decision = RequestState.REJECTED if outcome == "rejected" else RequestState.APPROVED
        decide_request(session, people["admin"], request=code, decision=decision,
                       note="Decided by the access committee")  # fmt: skip
        if outcome == "released":
            made["released aliquots"] += _fulfil(session, people["tech"], code, rng)
    return made


def _submitted(
    session: Session,
    investigator: Actor,
    title: str,
    criteria: Mapping[str, Any],
    purpose: DuoTerm,
    fields: tuple[str, ...],
) -> str:
    files_dir, max_bytes = _files_dir()
    req = create_draft(
        session, investigator, title=title, aims=f"{title}: a study of the consortium's cohort.",
        criteria=criteria, quantity_ul=20.0, phenotype_fields=fields, purpose=purpose,
        purpose_modifiers=[DuoTerm[m] for m in criteria["purpose"]["modifiers"]],
    )  # fmt: skip
    attach_file(
        session, investigator, request=req.code, kind=AttachmentKind.PROTOCOL,
        filename="protocol.pdf", data=PROTOCOL, files_dir=files_dir, max_bytes=max_bytes,
    )  # fmt: skip
    return submit_request(session, investigator, request=req.code).code


def _fulfil(session: Session, tech: Actor, code: str, rng: random.Random) -> int:
    """Reserve tubes of the pick list, pick them by scan, pack, ship and deliver them."""
    proposal = propose_pick_list(session, tech, request=code)
    lines = proposal.lines
    ids = [line.aliquot_id for line in rng.sample(lines, min(RELEASED_TUBES, len(lines)))]
    if not ids:  # a demo too small to hold a match: the request stays approved
        return 0
    reserve_pick_list(session, tech, request=code, aliquot_ids=ids)
    req = session.scalars(select(SpecimenRequest).where(SpecimenRequest.code == code)).one()
    now = datetime.now(UTC)
    for item in list(req.items):
        confirm_pick(session, tech, request=code, barcode=item.aliquot.barcode, picked_at=now)
    institution = next(a for a in destinations(session, tech) if a.site_id is None)
    pack_request_shipment(session, tech, request=code, to_address_id=institution.id)
    ship_request(session, tech, request=code, courier="World Courier",
                 tracking_number=f"WC-{code}", shipped_at=now, dry_ice_kg=6.0)  # fmt: skip
    confirm_request_delivery(session, tech, request_id=code, delivered_at=now + timedelta(days=1))
    return len(ids)
