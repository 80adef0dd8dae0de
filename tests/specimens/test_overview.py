"""The front page's specimen counts."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.specimens.models import AliquotStatus, SpecimenType
from lims.specimens.services import specimen_overview
from tests.factories import make_aliquots, make_site, make_specimen


def test_the_overview_counts_subjects_tubes_and_aliquots_by_type_status_and_site(
    session: Session, investigator: Actor
) -> None:
    make_site(session, "EU2")
    make_aliquots(session, 3, specimen=make_specimen(session))

    overview = specimen_overview(session, investigator)

    assert (overview.subjects, overview.visits, overview.specimens, overview.aliquots) == (
        1,
        1,
        1,
        3,
    )
    assert overview.by_type_status == [(SpecimenType.SERUM, AliquotStatus.RECEIVED, 3)]
    assert overview.by_site == [("EU2", "Site EU2", 0), ("NA1", "Site NA1", 1)]
