"""Demo data: three sites in three time zones, ~60 subjects, visits, tubes and aliquots.

Built by calling the services, so the demo's audit trail is as real as the lab's. Deterministic:
the same seed gives the same subjects, visits and volumes (barcodes follow the counters).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims import demo_phenotype
from lims.actors import Actor, Role
from lims.auth import timezones
from lims.auth.models import User
from lims.auth.services import create_site, create_user
from lims.shipments.services import (
    complete_receipt,
    confirm_delivery,
    create_address,
    create_shipment,
    pack_box,
    receive_scan,
    record_arrival,
    ship_shipment,
)
from lims.specimens.consent_models import ConsentDocument, StatementKind, WithdrawalLevel
from lims.specimens.duo import DYSTONIA_MONDO, DuoTerm
from lims.specimens.models import (
    Aliquot,
    AliquotStatus,
    Dystonia,
    OutCondition,
    Sex,
    SpecimenType,
    Subject,
    Temperature,
    TubeType,
    Visit,
)
from lims.specimens.services import (
    BenchWork,
    PreAnalytics,
    StatementSpec,
    accession_specimen,
    aliquot_specimen,
    consent_permits,
    create_consent_document,
    record_consent,
    register_subject,
    register_visit,
    withdraw_consent,
)
from lims.storage.models import Box
from lims.storage.services import (
    check_in,
    check_out,
    create_box,
    create_freezer,
    create_rack,
    mark_missing,
    quarantine,
    store_aliquot,
    use_aliquot,
)
from phenotype_link.redcap.sample import visit_dates

DEMO_PASSWORD = "biobank-demo"
DEMO_USERS = (
    ("admin", Role.ADMIN, None),
    ("tech", Role.TECHNICIAN, "NA1"),
    ("tech-eu", Role.TECHNICIAN, "EU1"),  # EU1 processes its own tubes, on Berlin's clock
    ("investigator", Role.INVESTIGATOR, None),
    ("reviewer", Role.REVIEWER, None),
)
# Times are entered and shown on each site's clock (docs/user/time-zones.md). The US and Canada
# have several zones, so theirs are named; Germany has one, which the country gives.
SITES = (
    ("NA1", "North America site 1", "US", "America/New_York"),
    ("NA2", "North America site 2", "CA", "America/Toronto"),
    ("EU1", "Europe site 1", "DE", None),
)
SAMPLE_VISITS = visit_dates()  # docs/redcap/sample-export-*.csv
# Cohort mix at enrolment, roughly as in the consortium: cervical most common (Dystonia
# Coalition Natural History Project, ClinicalTrials.gov NCT01373424, MDS Congress abstract).
DIAGNOSIS_WEIGHTS = {
    Dystonia.CERVICAL: 45,
    Dystonia.BLEPHAROSPASM: 15,
    Dystonia.LARYNGEAL: 15,
    Dystonia.CRANIOFACIAL: 10,
    Dystonia.LIMB: 15,
}
SUBJECTS = 60

# The demo's consent form, two versions; each statement mapped to a GA4GH DUO term where one fits
# (lims/specimens/duo.py). Version 2 adds ancestry research and an ethics-approval condition.
P, R, Q = StatementKind.PERMISSION, StatementKind.RESTRICTION, StatementKind.REQUIRED_FOR
CONSENT_V1 = [
    StatementSpec(
        "future_research",
        "My samples and data may be used for future research of any kind.",
        P,
        DuoTerm.GRU,
    ),
    StatementSpec(
        "health_research",
        "My samples and data may be used for health, medical or biomedical research.",
        P,
        DuoTerm.HMB,
    ),
    StatementSpec(
        "dystonia_research",
        "My samples and data may be used for research on dystonia.",
        P,
        DuoTerm.DS,
        DYSTONIA_MONDO,
    ),
    StatementSpec(
        "genetic", "My DNA may be stored and studied in genetic research.", Q, DuoTerm.GSO
    ),
    StatementSpec(
        "commercial",
        "Companies may use my samples in commercial research.",
        R,
        DuoTerm.NCU,
        restricts_on=False,
    ),
    StatementSpec(
        "sharing",
        "My coded samples may be shared with researchers outside the consortium.",
        R,
        DuoTerm.COL,
        restricts_on=False,
    ),
    StatementSpec(
        "recontact", "I may be contacted again about this study.", StatementKind.RECONTACT
    ),
    StatementSpec(
        "destroy_on_withdrawal",
        "If I withdraw, my remaining samples are destroyed.",
        StatementKind.SAMPLES_ON_WITHDRAWAL,
    ),
]
CONSENT_V2 = [
    *CONSENT_V1[:3],
    StatementSpec(
        "ancestry", "My data may be used to study population origins or ancestry.", P, DuoTerm.POA
    ),
    *CONSENT_V1[3:],
    StatementSpec(
        "ethics",
        "Each use of my samples needs a research ethics committee's approval.",
        R,
        DuoTerm.IRB,
        restricts_on=True,
    ),
]
V2_FROM = date(2022, 9, 1)


def load(session: Session, *, seed: int = 20261125, subjects: int = SUBJECTS) -> str | None:
    """Load the demo into an empty database; returns a summary, or None if users exist."""
    if session.scalar(select(func.count(User.id))):
        return None
    rng = random.Random(seed)
    system = Actor.system("demo")
    zones = {}
    for code, name, country, zone in SITES:
        made = create_site(session, system, code=code, name=name, country=country, time_zone=zone)
        zones[code] = made.time_zone
    for username, role, site in DEMO_USERS:
        create_user(
            session, system, username=username, password=DEMO_PASSWORD, role=role, site_code=site
        )
    tech, tech_eu = (
        Actor.of(session.scalars(select(User).where(User.username == name)).one())
        for name in ("tech", "tech-eu")
    )
    admin = Actor.of(session.scalars(select(User).where(User.username == "admin")).one())
    forms = _consent_documents(session, admin)
    boxes = _storage(session, tech)
    n_aliquots = 0
    for i in range(1, subjects + 1):
        code = SITES[i % len(SITES)][0]
        lab = tech_eu if code == "EU1" else tech
        n_aliquots += _subject(session, lab, rng, i, boxes, zones[code], forms)
    # The clinics' phenotype before the bench's year: the withdrawals in _bench_life stop new
    # phenotype from then on (lims/phenotype/services/_common.py, consent_refusals).
    demo_phenotype.load(session, tech, seed=seed)
    _bench_life(session, tech, rng)
    _shipments(session, admin, tech)
    return (
        f"{len(SITES)} sites, {len(DEMO_USERS)} users, {subjects} subjects, {n_aliquots} aliquots"
    )


def _consent_documents(session: Session, admin: Actor) -> tuple[ConsentDocument, ...]:
    name = "Dystonia Biobank participant consent"
    return (
        create_consent_document(
            session, admin, name=name, version="1.0", effective_on=date(2020, 6, 1),
            irb_reference="IRB-2022-0147", statements=CONSENT_V1,
        ),
        create_consent_document(
            session, admin, name=name, version="2.0", effective_on=V2_FROM,
            irb_reference="IRB-2022-0147-A2", statements=CONSENT_V2,
        ),
    )  # fmt: skip


def _consent(
    session: Session,
    tech: Actor,
    i: int,
    code: str,
    first: date,
    forms: tuple[ConsentDocument, ...],
) -> None:
    """Most say yes to everything; every ninth declines genetic research; one declines
    commercial use. Those enrolled on version 1 re-consent on version 2 a year on, if it exists."""
    answers = {"genetic": i % 9 != 4, "commercial": i != 7, "recontact": i % 11 != 3}
    dates = [(forms[1] if first >= V2_FROM else forms[0], first)]
    if first < V2_FROM and first + timedelta(days=365) >= V2_FROM:
        dates.append((forms[1], first + timedelta(days=365)))
    for form, signed in dates:
        given = {s.code: answers.get(s.code, True) for s in form.statements}
        record_consent(
            session, tech, study_code=code, document_id=form.id, consented_on=signed, answers=given
        )


def _storage(session: Session, tech: Actor) -> dict[SpecimenType, list[Box]]:
    serum = create_freezer(
        session, tech, name="F1 Serum -80", temperature_c=-80, room="B204", site_code="NA1"
    )
    dna = create_freezer(
        session, tech, name="F2 DNA -80", temperature_c=-80, room="B204", site_code="NA1"
    )
    boxes: dict[SpecimenType, list[Box]] = {SpecimenType.SERUM: [], SpecimenType.DNA: []}
    for freezer, kind, grid in ((serum, SpecimenType.SERUM, 9), (dna, SpecimenType.DNA, 10)):
        for r in range(1, 3):
            rack = create_rack(session, tech, freezer_id=freezer.id, name=f"Rack {r}")
            for b in range(1, 5):
                n = (r - 1) * 4 + b
                boxes[kind].append(
                    create_box(
                        session,
                        tech,
                        name=f"{kind.value.upper()} box {n}",
                        n_rows=grid,
                        n_cols=grid,
                        rack_id=rack.id,
                        specimen_type=kind,  # a DNA tube scanned into a serum box is refused
                    )
                )
    return boxes


def _subject(
    session: Session,
    tech: Actor,
    rng: random.Random,
    i: int,
    boxes: dict[SpecimenType, list[Box]],
    zone: str,
    forms: tuple[ConsentDocument, ...],
) -> int:
    site = SITES[i % len(SITES)][0]
    diagnosis = rng.choices(list(DIAGNOSIS_WEIGHTS), weights=list(DIAGNOSIS_WEIGHTS.values()))[0]
    # Focal dystonias are commoner in women: cervical about 2:1 (Defazio et al., "Descriptive
    # epidemiology of cervical dystonia", Tremor Other Hyperkinet Mov 2013;3, doi:10.7916/D80C4TGJ).
    sex = Sex.FEMALE if rng.random() < 0.65 else Sex.MALE
    subject = register_subject(
        session,
        tech,
        study_code=f"{site}-{i:04d}",
        site_code=site,
        sex=sex,
        primary_diagnosis=diagnosis,
        # From the subject's number, not the shared random stream, so the rest of the demo
        # stays as it was: born 1940 to 1989 (focal dystonia starts in adulthood, dystonia.md).
        birth_year=1940 + (i * 17) % 50,
    )
    # Up to four yearly visits, all before the end of 2025: the LIMS refuses a collection in the
    # future (docs/user/plausibility-rules.md), and the demo must load on any later day.
    first = date(2021, 1, 11) + timedelta(days=rng.randrange(0, 700))
    _consent(session, tech, i, subject.study_code, first, forms)
    made = 0
    for v in range(1, rng.randint(1, 4) + 1):
        visit_on = first + timedelta(days=365 * (v - 1) + rng.randrange(-20, 21))
        # The sample REDCap export's visits keep its dates, so it imports over the demo.
        visit_on = SAMPLE_VISITS.get((subject.study_code, v), visit_on)
        visit = register_visit(
            session, tech, study_code=subject.study_code, visit_number=v, visit_on=visit_on
        )
        # A morning clinic on the site's own clock (8:00 to 13:00 there, never in a DST gap).
        morning = datetime(visit_on.year, visit_on.month, visit_on.day, 8, 0)
        drawn = timezones.to_utc(morning + timedelta(minutes=rng.randrange(0, 300)), zone)
        made += _serum(session, tech, rng, visit, drawn, boxes[SpecimenType.SERUM])
        made += _dna(session, tech, rng, visit, drawn, boxes[SpecimenType.DNA])
    return made


def _serum(
    session: Session,
    tech: Actor,
    rng: random.Random,
    visit: Visit,
    drawn: datetime,
    boxes: list[Box],
) -> int:
    clot = timedelta(minutes=rng.randrange(30, 61))
    sst = accession_specimen(
        session,
        tech,
        study_code=visit.subject.study_code,
        visit_number=visit.visit_number,
        specimen_type=SpecimenType.WHOLE_BLOOD,
        tube_type=TubeType.SST,
        volume_ml=6.0,
        pre=PreAnalytics(
            collected_at=drawn,
            received_at=drawn + timedelta(minutes=20),
            processing_started_at=drawn + clot,
            pre_processing_temperature=Temperature.ROOM,
            centrifuge_g=1300,
            centrifuge_minutes=10,
            centrifuge_temperature=Temperature.ROOM,
            centrifuge_braked=True,
            processed_at=drawn + clot + timedelta(minutes=40),
            storage_temperature_c=-80,
        ),
    )
    aliquots = aliquot_specimen(
        session,
        tech,
        specimen_barcode=sst.barcode,
        specimen_type=SpecimenType.SERUM,
        count=rng.randint(3, 5),
        volume_ul=rng.choice((250, 500)),
    )
    for aliquot in aliquots:
        _store(session, tech, aliquot.barcode, boxes)
    return len(aliquots)


def _dna(
    session: Session,
    tech: Actor,
    rng: random.Random,
    visit: Visit,
    drawn: datetime,
    boxes: list[Box],
) -> int:
    edta = accession_specimen(
        session,
        tech,
        study_code=visit.subject.study_code,
        visit_number=visit.visit_number,
        specimen_type=SpecimenType.WHOLE_BLOOD,
        tube_type=TubeType.PED,
        volume_ml=4.0,
        pre=PreAnalytics(
            collected_at=drawn,
            received_at=drawn + timedelta(hours=2),
            pre_processing_temperature=Temperature.COLD,
            processed_at=drawn + timedelta(hours=rng.randrange(4, 48)),
            storage_temperature_c=-80,
        ),
    )
    concentration = round(rng.uniform(25, 180), 1)
    ratio = round(rng.uniform(1.72, 1.95), 2)
    (stock,) = aliquot_specimen(
        session,
        tech,
        specimen_barcode=edta.barcode,
        specimen_type=SpecimenType.DNA,
        count=1,
        volume_ul=200,
        concentration_ng_ul=concentration,
        a260_280=ratio,
    )
    subs = aliquot_specimen(
        session,
        tech,
        specimen_barcode=edta.barcode,
        specimen_type=SpecimenType.DNA,
        count=2,
        volume_ul=50,
        parent_barcode=stock.barcode,
        concentration_ng_ul=concentration,
        a260_280=ratio,
    )
    for aliquot in (stock, *subs):
        _store(session, tech, aliquot.barcode, boxes)
    return 1 + len(subs)


def _store(session: Session, tech: Actor, barcode: str, boxes: list[Box]) -> None:
    box = next(b for b in boxes if len(b.placements) < b.capacity)
    store_aliquot(session, tech, barcode=barcode, box_id=box.id)


def _bench_life(session: Session, tech: Actor, rng: random.Random) -> None:
    """A few tubes in the states a working biobank has: out on the bench, used, quarantined,
    missing, and one subject who withdrew consent, so every colour of the box map shows."""
    serum = list(
        session.scalars(
            select(Aliquot.barcode)
            .where(Aliquot.specimen_type == SpecimenType.SERUM)
            .order_by(Aliquot.id)
        )
    )
    if len(serum) < 12:
        return
    picks = rng.sample(serum[:81], 8)
    for barcode in picks[:2]:
        check_out(session, tech, barcode=barcode, reason="ELISA run, NfL panel")
    check_out(
        session, tech, barcode=picks[2], condition=OutCondition.ON_DRY_ICE, reason="to the core lab"
    )
    check_out(session, tech, barcode=picks[3], reason="cytokine pilot")
    use_aliquot(session, tech, barcode=picks[3], volume_ul=100)
    check_in(session, tech, barcode=picks[3])  # one more freeze-thaw cycle
    quarantine(
        session,
        tech,
        barcode=picks[4],
        reason="box found at -62 °C after a door alarm; awaiting review",
    )
    mark_missing(session, tech, barcode=picks[5], reason="not in its position at inventory")
    codes = session.scalars(select(Subject.study_code).order_by(Subject.id)).all()
    # One withdrawal at each level (UK Biobank's three options).
    for n, level in ((2, WithdrawalLevel.NO_FURTHER_USE), (5, WithdrawalLevel.NO_FURTHER_CONTACT),
                     (8, WithdrawalLevel.NO_FURTHER_ACCESS)):  # fmt: skip
        if len(codes) > n:
            withdraw_consent(
                session,
                tech,
                study_code=codes[n],
                withdrawn_at=datetime(2026, 10, 1 + n, 12, 0, tzinfo=UTC),
                reason="participant asked to leave the study (letter on file)",
                level=level,
            )


# Shipping addresses (made-up institutions; phone numbers in the 555-01xx range kept for fiction).
ADDRESSES = (
    # name, site, street, city, postal code, subdivision, country, contact, 24-hour phone
    (
        "Dystonia Biobank central biorepository",
        None,
        "601 Elmwood Avenue\nBox 673",
        "Rochester",
        "14642",
        "NY",
        "US",
        "Biorepository manager",
        "+1 585 555 0142",
    ),
    (
        "North America site 1 movement disorders lab",
        "NA1",
        "550 First Avenue",
        "New York",
        "10016",
        "NY",
        "US",
        "Site 1 research coordinator",
        "+1 212 555 0117",
    ),
    (
        "North America site 2 neurology research lab",
        "NA2",
        "399 Bathurst Street",
        "Toronto",
        "M5T 2S8",
        "ON",
        "CA",
        "Site 2 research coordinator",
        "+1 416 555 0123",
    ),
    (
        "Europe site 1 Neurologie Forschungslabor",
        "EU1",
        "Charitéplatz 1",
        "Berlin",
        "10117",
        "BE",
        "DE",
        "Studienkoordination Standort 1",
        "+49 30 5550 1234",
    ),
    (
        "Example University, Neurogenetics Laboratory",
        None,
        "300 Pasteur Drive",
        "Stanford",
        "94305",
        "CA",
        "US",
        "Principal investigator",
        "+1 650 555 0177",
    ),
)


def _shipments(session: Session, admin: Actor, tech: Actor) -> None:
    """An inbound shipment from NA1 being received (one tube not in the box, one extra), one
    from NA2 received, and two outbound ones to an investigator's institution: one delivered
    (its tubes released to the investigator), one on its way."""
    ids = {}
    for name, site, street, city, postcode, region, country, contact, phone in ADDRESSES:
        ids[site or name] = create_address(
            session,
            admin,
            name=name,
            street=street,
            city=city,
            postal_code=postcode,
            subdivision=region,
            country=country,
            contact_name=contact,
            phone_24h=phone,
            site_code=site,
            is_biorepository=site is None and "biorepository" in name,
        ).id
    home = ids[ADDRESSES[0][0]]
    # Outbound first: the extra tube scanned into NA1's shipment must not be one on its way.
    delivered = _travelling(session, None, DuoTerm.DS, 2)
    if len(delivered) == 2:
        shipment = _send(
            session,
            tech,
            home,
            ids[ADDRESSES[4][0]],
            delivered,
            DuoTerm.DS,
            datetime(2026, 11, 9, 15, 0, tzinfo=UTC),
        )
        confirm_delivery(
            session,
            tech,
            shipment_id=shipment,
            delivered_at=datetime(2026, 11, 10, 17, 30, tzinfo=UTC),
            notes="Received frozen, logger below -70 °C throughout (e-mail from the lab)",
        )
    out = _travelling(session, None, DuoTerm.DS, 3)
    if len(out) == 3:
        _send(
            session,
            tech,
            home,
            ids[ADDRESSES[4][0]],
            out,
            DuoTerm.DS,
            datetime(2026, 11, 24, 15, 0, tzinfo=UTC),
        )
    na1 = _travelling(session, "NA1", None, 7)
    if len(na1) == 7:
        shipment = _send(
            session,
            tech,
            ids["NA1"],
            home,
            na1[:6],
            None,
            datetime(2026, 11, 30, 15, 0, tzinfo=UTC),
        )
        for barcode in na1[:5]:  # the sixth is not in the box; the seventh came instead
            receive_scan(
                session,
                tech,
                shipment_id=shipment,
                barcode=barcode,
                scanned_at=datetime(2026, 12, 1, 14, 5, tzinfo=UTC),
            )
        receive_scan(
            session,
            tech,
            shipment_id=shipment,
            barcode=na1[6],
            scanned_at=datetime(2026, 12, 1, 14, 6, tzinfo=UTC),
        )
    na2 = _travelling(session, "NA2", None, 4)
    if len(na2) == 4:
        arrived = datetime(2026, 11, 17, 14, 30, tzinfo=UTC)
        shipment = _send(
            session, tech, ids["NA2"], home, na2, None, datetime(2026, 11, 16, 16, 0, tzinfo=UTC)
        )
        for barcode in na2:
            receive_scan(session, tech, shipment_id=shipment, barcode=barcode, scanned_at=arrived)
        record_arrival(
            session,
            tech,
            shipment_id=shipment,
            logger_reading_c=-74.5,
            dry_ice_left_kg=2.5,
            notes="box intact, dry ice left",
        )
        complete_receipt(session, tech, shipment_id=shipment, received_at=arrived)


def _travelling(session: Session, site: str | None, purpose: DuoTerm | None, n: int) -> list[str]:
    """Stored serum tubes (of a site's subjects) whose consent lets them travel for `purpose`."""
    stmt = (
        select(Aliquot)
        .where(Aliquot.specimen_type == SpecimenType.SERUM, Aliquot.status == AliquotStatus.STORED)
        .order_by(Aliquot.id.desc())
    )
    found = []
    for aliquot in session.scalars(stmt):
        if site is not None and aliquot.subject.site.code != site:
            continue
        decision = consent_permits(
            session, aliquot.subject, on=date.max, purpose=purpose or BenchWork.CUSTODY
        )
        if decision.permitted:
            found.append(aliquot.barcode)
        if len(found) == n:
            break
    return found


def _send(
    session: Session,
    tech: Actor,
    source: int,
    to: int,
    barcodes: list[str],
    purpose: DuoTerm | None,
    at: datetime,
) -> int:
    shipment = create_shipment(
        session, tech, from_address_id=source, to_address_id=to, purpose=purpose
    )
    pack_box(session, tech, shipment_id=shipment.id, barcodes=barcodes, label="Shipping box 1")
    ship_shipment(
        session,
        tech,
        shipment_id=shipment.id,
        courier="World Courier",
        tracking_number=f"WC{shipment.code[1:]}",
        shipped_at=at,
        dry_ice_kg=6.0,
        logger_id=f"TL-{shipment.code[-4:]}",
    )
    return shipment.id
