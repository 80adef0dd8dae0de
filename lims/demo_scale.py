"""A consortium-sized demo: `flask --app lims demo generate --subjects N --seed S` (issue #20).

N = 50,000 subjects gives about 200,000 visits and 2,000,000 aliquots. The sites, users,
consent forms and shipping addresses are made through the services (as lims/demo.py makes
them); the subjects with their visits, phenotype, tubes, aliquots, storage and inbound
shipments are written in bulk (lims/bulk_copy.py: COPY on PostgreSQL), batch by batch of
subjects, and each batch records one summarising `demo.generated` audit event naming what it
wrote, so the chain still verifies. The investigators' requests come last, through the
services (lims/demo_scale_requests.py). Deterministic for a seed: the same seed gives the same
rows and barcodes on an empty database. What a subject gets, and why, is in
docs/user/demo-at-scale.md.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims import audit, demo, demo_scale_requests
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.auth.models import Site, User
from lims.auth.services import create_site, create_user
from lims.bulk_copy import Row, analyze, next_ids, settle_sequences, write_rows
from lims.demo_scale_phenotype import (
    FINDING_COLUMNS,
    SCALE_COLUMNS,
    TREATMENT_COLUMNS,
    ScalePool,
)
from lims.demo_scale_rows import (
    ALIQUOT_COLUMNS,
    CONSENT_ANSWER_COLUMNS,
    CONSENT_EVENT_COLUMNS,
    DIAGNOSIS_COLUMNS,
    MODELS,
    PLACEMENT_COLUMNS,
    SPECIMEN_COLUMNS,
    SUBJECT_COLUMNS,
    VISIT_COLUMNS,
    Batch,
    Shelves,
    subject_rows,
)
from lims.demo_scale_shipments import ITEM_COLUMNS, SHIPMENT_COLUMNS, Post
from lims.phenotype.models import Diagnosis, DiagnosticFinding, ScaleAdministration, Treatment
from lims.shipments.models import Shipment, ShipmentItem, ShippingAddress
from lims.shipments.services import create_address
from lims.specimens.consent_models import ConsentAnswer, ConsentDocument, ConsentEvent
from lims.specimens.models import Aliquot, BarcodeCounter, Specimen, Subject, Visit
from lims.specimens.services import create_consent_document, installation_number
from lims.storage.models import Box, Freezer, Placement, Rack

BATCH_SUBJECTS = 500  # about 20,000 aliquots per batch: one audit event and a few COPYs each
COUNTERS = ("aliquot", "box", "shipment")


class NotEmpty(Exception):
    """The database already holds subjects; generating on top needs --force."""


@dataclass
class Generated:
    counts: dict[str, int] = field(default_factory=dict)
    requests_seconds: float = 0.0

    def add(self, name: str, n: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def summary(self) -> str:
        return ", ".join(f"{n:,} {name}" for name, n in self.counts.items())


def generate(
    session: Session,
    *,
    subjects: int,
    seed: int,
    force: bool = False,
    batch_subjects: int = BATCH_SUBJECTS,
    progress: Callable[[int], None] = lambda n: None,
    requests: bool = True,
) -> Generated:
    """Write `subjects` subjects with their consent, visits, phenotype, tubes and aliquots,
    the aliquots placed in boxes and the DNA stocks shipped to the biorepository, and make
    the investigators' requests once the first batch is in; `progress(n)` after each batch.

    The requests come early, while the collection is young (as they do): through the services,
    their pick lists run the criteria engine, whose plan at 50,000 subjects took minutes per
    request (docs/user/demo-at-scale.md), and 0.1 s at 500."""
    if not force and session.scalar(select(func.count(Subject.id))):
        raise NotEmpty("the database already holds subjects; use --force to add to them")
    admin = _staff(session)
    forms = _forms(session, admin)
    sites = {code: (site_id, zone) for code, site_id, zone in _sites(session)}
    start = next_ids(session, MODELS)
    serials = {name: _counter(session, name) for name in COUNTERS}
    installation = installation_number(session)
    rng = random.Random(seed)
    shelves = Shelves(
        start, serials["box"], sites, frozenset(session.scalars(select(Freezer.name)))
    )
    addresses, biorepository = _addresses(session, admin)
    post = Post(start, serials["shipment"], addresses, biorepository)
    pool = ScalePool(seed)
    first_number = int(session.scalar(select(func.count(Subject.id))) or 0) + 1
    done = Generated()
    for low in range(first_number, first_number + subjects, batch_subjects):
        high = min(low + batch_subjects, first_number + subjects)
        batch = Batch(start, serials["aliquot"], installation)
        for number in range(low, high):
            subject_rows(batch, rng, number, sites, forms, shelves, pool=pool, post=post)
        _write(session, admin, batch, shelves, post, done)
        serials |= {"aliquot": batch.next_serial, "box": shelves.next_serial,
                    "shipment": post.next_serial}  # fmt: skip
        early = requests and low == first_number
        if early or high == first_number + subjects:
            _settle(session, serials)
        if early:
            _requests(session, subjects=subjects, seed=seed, done=done)
            # The services took ids and a shipment code: go on after them.
            start.update(next_ids(session, MODELS))
            post.next_serial = _counter(session, "shipment")
        progress(high - low)
    return done


def _settle(session: Session, serials: dict[str, int]) -> None:
    """Counters, id sequences and planner statistics past what was written; then commit, so
    the services (the requests, a bench) see the rows."""
    _counters(session, serials)
    settle_sequences(session, MODELS)
    analyze(session, MODELS)
    session.commit()


def _counter(session: Session, name: str) -> int:
    stmt = select(BarcodeCounter.next_value).where(BarcodeCounter.name == name)
    return session.scalar(stmt) or 1


def _requests(session: Session, *, subjects: int, seed: int, done: Generated) -> None:
    started = time.perf_counter()
    for name, n in demo_scale_requests.make(session, subjects=subjects, seed=seed).items():
        done.add(name, n)
    done.requests_seconds = time.perf_counter() - started


def _staff(session: Session) -> Actor:
    """The demo's sites and users, through the services; kept when they exist already."""
    system = Actor.system("demo")
    have = set(session.scalars(select(Site.code)))
    for code, name, country, zone in demo.SITES:
        if code not in have:
            create_site(session, system, code=code, name=name, country=country, time_zone=zone)
    users = set(session.scalars(select(User.username)))
    for username, role, site in demo.DEMO_USERS:
        if username not in users:
            create_user(
                session, system, username=username, password=demo.DEMO_PASSWORD, role=role,
                site_code=site,
            )  # fmt: skip
    admin = session.scalars(select(User).where(User.role == Role.ADMIN).order_by(User.id)).first()
    assert admin is not None
    return Actor.of(admin)


def _forms(session: Session, admin: Actor) -> tuple[Any, ...]:
    """The demo's two consent form versions (statement ids and codes, by version)."""
    name = "Dystonia Biobank participant consent"
    found = {d.version: d for d in session.scalars(select(ConsentDocument))}
    specs = (("1.0", date(2020, 6, 1), demo.CONSENT_V1), ("2.0", demo.V2_FROM, demo.CONSENT_V2))
    for version, effective, statements in specs:
        if version not in found:
            found[version] = create_consent_document(
                session, admin, name=name, version=version, effective_on=effective,
                irb_reference=f"IRB-2022-0147 v{version}", statements=statements,
            )  # fmt: skip
    return tuple(
        (doc.id, doc.effective_on, [(s.id, s.code) for s in doc.statements])
        for doc in (found["1.0"], found["2.0"])
    )


def _addresses(session: Session, admin: Actor) -> tuple[dict[str, int], int]:
    """The demo's shipping addresses, through the service when missing: each site's (by site
    code) and the biorepository's id."""
    have = {a.name: a for a in session.scalars(select(ShippingAddress))}
    for name, site, street, city, postcode, region, country, contact, phone in demo.ADDRESSES:
        if name not in have:
            have[name] = create_address(
                session, admin, name=name, street=street, city=city, postal_code=postcode,
                subdivision=region, country=country, contact_name=contact, phone_24h=phone,
                site_code=site, is_biorepository=site is None and "biorepository" in name,
            )  # fmt: skip
    by_site = {a.site.code: a.id for a in have.values() if a.site is not None}
    home = next(a.id for a in have.values() if a.is_biorepository)
    return by_site, home


def _sites(session: Session) -> list[tuple[str, int, str]]:
    wanted = [code for code, *_ in demo.SITES]
    rows = session.execute(select(Site.code, Site.id, Site.time_zone).where(Site.code.in_(wanted)))
    return sorted((code, site_id, zone) for code, site_id, zone in rows)


def _write(
    session: Session, admin: Actor, batch: Batch, shelves: Shelves, post: Post, done: Generated
) -> None:
    """One batch's rows, parents before children, and its one audit event."""
    shipments, items = post.take()
    tables: list[tuple[type[Any], tuple[str, ...], list[Row]]] = [
        (Freezer, shelves.FREEZER_COLUMNS, shelves.take("freezers")),
        (Rack, shelves.RACK_COLUMNS, shelves.take("racks")),
        (Box, shelves.BOX_COLUMNS, shelves.take("boxes")),
        (Subject, SUBJECT_COLUMNS, batch.subjects),
        (ConsentEvent, CONSENT_EVENT_COLUMNS, batch.consent_events),
        (ConsentAnswer, CONSENT_ANSWER_COLUMNS, batch.consent_answers),
        (Visit, VISIT_COLUMNS, batch.visits),
        (Diagnosis, DIAGNOSIS_COLUMNS, batch.diagnoses),
        (ScaleAdministration, SCALE_COLUMNS, batch.scales),
        (Treatment, TREATMENT_COLUMNS, batch.treatments),
        (DiagnosticFinding, FINDING_COLUMNS, batch.findings),
        (Specimen, SPECIMEN_COLUMNS, batch.specimens),
        (Aliquot, ALIQUOT_COLUMNS, batch.aliquots),
        (Placement, PLACEMENT_COLUMNS, batch.placements),
        (Shipment, SHIPMENT_COLUMNS, shipments),
        (ShipmentItem, ITEM_COLUMNS, items),
    ]
    written = {}
    for model, columns, rows in tables:
        write_rows(session, model, columns, rows)
        written[model.__tablename__] = len(rows)
        done.add(model.__tablename__, len(rows))
    first, last = batch.subjects[0], batch.subjects[-1]
    event = audit.Event(
        Action.DEMO_GENERATED,
        audit.ref(Subject, first[0]),
        after={"subjects": f"{first[1]} to {last[1]}", "rows": written},
    )
    audit.record_many(session, admin, [event], at=datetime.now(UTC))


def _counters(session: Session, serials: dict[str, int]) -> None:
    """The counters past every serial the generator issued: the next tube, box or shipment
    made at a bench gets a code no generated one has."""
    for name, value in serials.items():
        counter = session.get(BarcodeCounter, name)
        if counter is None:
            session.add(BarcodeCounter(name=name, next_value=value))
        else:
            counter.next_value = value
    session.flush()
