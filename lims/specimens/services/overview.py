"""The front page's view of the specimen side: how many subjects, visits, tubes and aliquots."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.auth.models import Site
from lims.specimens.models import Aliquot, AliquotStatus, Specimen, SpecimenType, Subject, Visit


@dataclass(frozen=True)
class SpecimenOverview:
    subjects: int
    visits: int
    specimens: int
    aliquots: int
    by_type_status: list[tuple[SpecimenType, AliquotStatus, int]]
    by_site: list[tuple[str, str, int]]  # site code, site name, subjects


def specimen_overview(session: Session, actor: Actor) -> SpecimenOverview:
    """Counts of subjects, visits, primary tubes and aliquots; every signed-in role may see them
    (no row, code or name of a participant is in them)."""
    existing = Aliquot.status != AliquotStatus.VOIDED  # a voided tube never existed
    by_type_status = session.execute(
        select(Aliquot.specimen_type, Aliquot.status, func.count())
        .where(existing)
        .group_by(Aliquot.specimen_type, Aliquot.status)
        .order_by(Aliquot.specimen_type, Aliquot.status)
    ).all()
    by_site = session.execute(
        select(Site.code, Site.name, func.count(Subject.id))
        .join(Subject, Subject.site_id == Site.id, isouter=True)
        .group_by(Site.code, Site.name)
        .order_by(Site.code)
    ).all()
    return SpecimenOverview(
        subjects=session.scalar(select(func.count(Subject.id))) or 0,
        visits=session.scalar(select(func.count(Visit.id))) or 0,
        specimens=session.scalar(select(func.count(Specimen.id))) or 0,
        aliquots=session.scalar(select(func.count(Aliquot.id)).where(existing)) or 0,
        by_type_status=[(t, s, n) for t, s, n in by_type_status],
        by_site=[(code, name, n) for code, name, n in by_site],
    )
