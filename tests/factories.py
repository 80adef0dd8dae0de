"""Small typed factories with a default for everything. Rule-carrying states go through services."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor, Role
from lims.auth.models import Site, User
from lims.auth.services import create_site, create_user
from lims.specimens.models import (
    Aliquot,
    Dystonia,
    Sex,
    Specimen,
    SpecimenType,
    Subject,
    TubeType,
    Visit,
)
from lims.specimens.services import (
    PreAnalytics,
    accession_specimen,
    aliquot_specimen,
    register_subject,
    register_visit,
)
from lims.storage.models import Box, Freezer, Rack
from lims.storage.services import create_box, create_freezer, create_rack

DEMO_PASSWORD = "biobank-demo"
SYSTEM = Actor.system("tests")
_seq = itertools.count(1)
COLLECTED_AT = datetime(2026, 3, 18, 9, 30, tzinfo=UTC)


def make_site(session: Session, code: str = "NA1") -> Site:
    site = session.scalar(select(Site).where(Site.code == code))
    return site or create_site(session, SYSTEM, code=code, name=f"Site {code}", country="US")


def make_user(session: Session, username: str, role: Role, password: str = DEMO_PASSWORD) -> User:
    existing = session.scalar(select(User).where(User.username == username))
    if existing is not None:
        return existing
    make_site(session)
    return create_user(
        session, SYSTEM, username=username, password=password, role=role, site_code="NA1"
    )


def make_subject(
    session: Session,
    *,
    study_code: str | None = None,
    site: str | None = None,
    diagnosis: Dystonia = Dystonia.CERVICAL,
) -> Subject:
    # A study code begins with its site's code (NA1-0042), so a given code names its site.
    site = site or (study_code.split("-", 1)[0] if study_code else "NA1")
    make_site(session, site)
    code = study_code or f"{site}-{next(_seq):04d}"
    return register_subject(
        session,
        SYSTEM,
        study_code=code,
        site_code=site,
        sex=Sex.FEMALE,
        primary_diagnosis=diagnosis,
    )


def make_visit(
    session: Session,
    subject: Subject | None = None,
    number: int = 1,
    visit_on: date = date(2026, 3, 18),
) -> Visit:
    subject = subject or make_subject(session)
    return register_visit(
        session,
        SYSTEM,
        study_code=subject.study_code,
        visit_number=number,
        visit_on=visit_on,
    )


def make_specimen(
    session: Session, visit: Visit | None = None, tube_type: TubeType = TubeType.SST
) -> Specimen:
    visit = visit or make_visit(session)
    return accession_specimen(
        session,
        SYSTEM,
        study_code=visit.subject.study_code,
        visit_number=visit.visit_number,
        specimen_type=SpecimenType.WHOLE_BLOOD,
        tube_type=tube_type,
        pre=PreAnalytics(collected_at=COLLECTED_AT),
        volume_ml=6.0,
    )


def make_aliquots(
    session: Session,
    count: int = 1,
    *,
    specimen: Specimen | None = None,
    specimen_type: SpecimenType = SpecimenType.SERUM,
    volume_ul: int = 250,
) -> list[Aliquot]:
    specimen = specimen or make_specimen(session)
    return aliquot_specimen(
        session,
        SYSTEM,
        specimen_barcode=specimen.barcode,
        specimen_type=specimen_type,
        count=count,
        volume_ul=volume_ul,
    )


def make_aliquot(session: Session, **kwargs: object) -> Aliquot:
    return make_aliquots(session, 1, **kwargs)[0]  # type: ignore[arg-type]


def make_freezer(session: Session, name: str | None = None) -> Freezer:
    return create_freezer(
        session, SYSTEM, name=name or f"F{next(_seq)}", temperature_c=-80, room="B204"
    )


def make_rack(session: Session, freezer: Freezer | None = None) -> Rack:
    freezer = freezer or make_freezer(session)
    return create_rack(session, SYSTEM, freezer_id=freezer.id, name=f"Rack {next(_seq)}")


def make_box(
    session: Session,
    *,
    rows: int = 9,
    cols: int = 9,
    rack: Rack | None = None,
    specimen_type: SpecimenType | None = None,
) -> Box:
    rack = rack or make_rack(session)
    return create_box(
        session,
        SYSTEM,
        name=f"Box {next(_seq)}",
        n_rows=rows,
        n_cols=cols,
        rack_id=rack.id,
        specimen_type=specimen_type,
    )
