"""The demo's phenotype: every visit has one, with the cohort's features the issue asks for."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims import demo_phenotype
from lims.actors import Actor
from lims.phenotype.models import Diagnosis, ScaleAdministration, Treatment, TreatmentKind
from lims.phenotype.services import subject_timeline
from lims.specimens.models import Dystonia, Subject
from tests.factories import make_subject, make_visit


def _subject(session: Session, diagnosis: Dystonia, visits: int = 3) -> Subject:
    subject = make_subject(session, diagnosis=diagnosis)
    for n in range(1, visits + 1):
        make_visit(session, subject, n, date(2021 + n, 2, 1))
    return subject


def test_the_demo_gives_every_visit_a_phenotype_with_spread_toxin_cycles_and_vhi(
    session: Session, tech: Actor
) -> None:
    bsp = _subject(session, Dystonia.BLEPHAROSPASM)
    cervical = [_subject(session, Dystonia.CERVICAL) for _ in range(3)]
    laryngeal = _subject(session, Dystonia.LARYNGEAL, visits=1)

    assert demo_phenotype.load(session, tech, seed=20261125) == 3 + 9 + 1
    assert len(session.scalars(select(Diagnosis)).all()) == 13

    spread = subject_timeline(session, tech, bsp.study_code)
    assert [e.new_regions for e in spread.visits] == [[], ["lower_face"], []]
    injected = [subject_timeline(session, tech, s.study_code).toxin_days for s in cervical]
    assert sum(bool(days) for days in injected) >= 2  # most cervical dystonia subjects
    gaps = [b - a for days in injected for a, b in pairwise(days)]
    assert gaps and all(90 <= gap <= 120 for gap in gaps)  # every 3 to 4 months
    scales = {s.scale_id for s in session.scalars(select(ScaleAdministration))
              if s.visit.subject_id == laryngeal.id}  # fmt: skip
    assert "vhi" in scales
    toxins = session.scalars(select(Treatment)).all()
    assert all(t.kind is TreatmentKind.BOTULINUM_TOXIN for t in toxins)
