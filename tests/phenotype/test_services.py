"""Recording a visit's phenotype, the timeline and an aliquot's summary."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import AuditEvent
from lims.errors import Conflict, Forbidden, InvalidInput
from lims.phenotype.models import BodyRegion, Dystonia, ScaleAdministration, distribution
from lims.phenotype.services import (
    DiagnosisIn,
    aliquot_phenotype,
    record_visit_phenotype,
    subject_timeline,
)
from lims.specimens.models import WithdrawalLevel
from lims.specimens.services import withdraw_consent
from tests.factories import make_aliquot, make_specimen, make_subject, make_visit
from tests.phenotype.factories import jrs, phenotype, toxin


def phenotype_events(session: Session) -> list[str]:
    stmt = select(AuditEvent.action).where(AuditEvent.action.like("phenotype%"))
    return list(session.scalars(stmt.order_by(AuditEvent.id)))


def test_recording_a_visit_scores_the_scale_and_audits_each_new_row(
    session: Session, tech: Actor
) -> None:
    visit = make_visit(session)
    record_visit_phenotype(
        session, tech, study_code=visit.subject.study_code, visit_number=1,
        phenotype=phenotype(scales=(jrs(3, 2),)),
    )  # fmt: skip

    row = session.scalars(select(ScaleAdministration)).one()
    assert (row.total_score, row.answers) == (5, {"jrs_frequency": 2, "jrs_severity": 3})
    assert phenotype_events(session) == ["phenotype.recorded"] * 3  # diagnosis, scale, finding


def test_recording_the_same_phenotype_twice_changes_nothing(session: Session, tech: Actor) -> None:
    visit = make_visit(session)
    given = phenotype(scales=(jrs(3, 2),))
    code = visit.subject.study_code
    record_visit_phenotype(session, tech, study_code=code, visit_number=1, phenotype=given)
    again = record_visit_phenotype(session, tech, study_code=code, visit_number=1, phenotype=given)

    assert {c.kind for c in again} == {"unchanged"}
    assert len(phenotype_events(session)) == 3


def test_a_changed_answer_is_an_audited_change_with_before_and_after(
    session: Session, tech: Actor
) -> None:
    code = make_visit(session).subject.study_code
    record_visit_phenotype(
        session, tech, study_code=code, visit_number=1, phenotype=phenotype(scales=(jrs(3, 2),))
    )
    changes = record_visit_phenotype(
        session, tech, study_code=code, visit_number=1, phenotype=phenotype(scales=(jrs(4, 2),))
    )

    changed = [c for c in changes if c.kind == "changed"]
    assert len(changed) == 1
    assert changed[0].before is not None and changed[0].before["total_score"] == 5
    assert changed[0].after["total_score"] == 6
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.action == "phenotype.changed"
    assert '"total_score": 5' in (event.before_json or "")


def test_an_out_of_range_item_is_refused_naming_it_and_nothing_is_written(
    session: Session, tech: Actor
) -> None:
    code = make_visit(session).subject.study_code
    with pytest.raises(InvalidInput, match="jrs_severity"):
        record_visit_phenotype(
            session, tech, study_code=code, visit_number=1, phenotype=phenotype(scales=(jrs(7, 2),))
        )
    assert session.scalars(select(ScaleAdministration)).all() == []
    assert phenotype_events(session) == []


def test_an_investigator_may_not_record_phenotype(session: Session, investigator: Actor) -> None:
    code = make_visit(session).subject.study_code
    with pytest.raises(Forbidden):
        record_visit_phenotype(
            session, investigator, study_code=code, visit_number=1, phenotype=phenotype()
        )


def test_the_timeline_shows_spread_to_an_adjacent_region_as_new_at_the_later_visit(
    session: Session, tech: Actor
) -> None:
    subject = make_subject(session)
    make_visit(session, subject, 1, date(2024, 1, 10))
    make_visit(session, subject, 2, date(2025, 1, 10))
    code = subject.study_code
    record_visit_phenotype(session, tech, study_code=code, visit_number=1, phenotype=phenotype())
    record_visit_phenotype(
        session, tech, study_code=code, visit_number=2,
        phenotype=phenotype(BodyRegion.EYES, BodyRegion.LOWER_FACE),
    )  # fmt: skip

    line = subject_timeline(session, tech, code)
    assert [(e.day, e.new_regions, e.distribution) for e in line.visits] == [
        (0, [], "focal"),
        (366, ["lower_face"], "segmental"),
    ]


def test_regions_that_do_not_touch_are_multifocal() -> None:
    assert distribution({BodyRegion.EYES, BodyRegion.HAND_RIGHT}) == "multifocal"


def test_the_timeline_counts_each_tubes_aliquots_and_draws_each_scale_over_time(
    session: Session, tech: Actor
) -> None:
    subject = make_subject(session)
    visit = make_visit(session, subject, 1, date(2026, 3, 18))
    make_aliquot(session, specimen=make_specimen(session, visit))
    record_visit_phenotype(
        session, tech, study_code=subject.study_code, visit_number=1,
        phenotype=phenotype(scales=(jrs(2, 2),)),
    )  # fmt: skip

    line = subject_timeline(session, tech, subject.study_code)
    tube = line.visits[0].tubes[0]
    assert (tube.aliquots, tube.in_storage) == (1, 0)  # received, not yet stored
    assert [(s.scale_id, s.points, s.maximum) for s in line.series] == [("jrs", [(0, 4.0)], 8.0)]


def test_an_aliquot_summary_gives_days_since_the_last_toxin_before_collection(
    session: Session, tech: Actor
) -> None:
    visit = make_visit(session)  # collected 2026-03-18
    aliquot = make_aliquot(session, specimen=make_specimen(session, visit))
    record_visit_phenotype(
        session, tech, study_code=visit.subject.study_code, visit_number=1,
        phenotype=phenotype(
            scales=(jrs(1, 2),),
            treatments=(toxin(date(2025, 12, 1), instance=1), toxin(date(2026, 3, 1), instance=2),
                        toxin(date(2026, 3, 25), instance=3)),
        ),
    )  # fmt: skip

    summary = aliquot_phenotype(session, tech, aliquot)
    assert summary.days_since_botulinum_toxin == 17
    assert (summary.diagnoses, summary.body_regions, summary.scale_totals) == (
        ["blepharospasm"], ["eyes"], {"jrs": 3.0},
    )  # fmt: skip


def test_an_aliquot_summary_joins_every_diagnosis_and_takes_an_imported_total_when_none_is_computed(
    session: Session, tech: Actor
) -> None:
    visit = make_visit(session)
    aliquot = make_aliquot(session, specimen=make_specimen(session, visit))
    # A TWSTRS whose items were not exported: only the site's own total came.
    twstrs = replace(jrs(0, 0), scale_id="twstrs", answers={}, imported_total=Decimal(31))
    given = phenotype(BodyRegion.NECK, scales=(jrs(1, 1), twstrs), dystonia=Dystonia.CERVICAL)
    blepharospasm = DiagnosisIn(Dystonia.BLEPHAROSPASM, (BodyRegion.EYES,), None, 50)
    given = replace(given, diagnoses=(*given.diagnoses, blepharospasm))
    record_visit_phenotype(
        session, tech, study_code=visit.subject.study_code, visit_number=1, phenotype=given
    )

    summary = aliquot_phenotype(session, tech, aliquot)
    assert sorted(summary.diagnoses) == ["blepharospasm", "cervical"]
    assert summary.body_regions == ["eyes", "neck"]
    assert summary.scale_totals == {"jrs": 2.0, "twstrs": 31.0}
    assert summary.days_since_botulinum_toxin is None


def test_recording_by_hand_follows_the_same_consent_rule_as_the_import(
    session: Session, tech: Actor
) -> None:
    code = make_visit(session).subject.study_code
    given = phenotype(scales=(jrs(3, 2),))
    record_visit_phenotype(session, tech, study_code=code, visit_number=1, phenotype=given)
    withdraw_consent(
        session, tech, study_code=code, withdrawn_at=datetime(2026, 11, 2, tzinfo=UTC),
        reason="letter", level=WithdrawalLevel.NO_FURTHER_ACCESS,
    )  # fmt: skip

    again = record_visit_phenotype(session, tech, study_code=code, visit_number=1, phenotype=given)
    with pytest.raises(Conflict, match=f"{code} has withdrawn consent .no further access."):
        record_visit_phenotype(
            session, tech, study_code=code, visit_number=1, phenotype=phenotype(scales=(jrs(4, 2),))
        )
    assert {c.kind for c in again} == {"unchanged"}
    assert session.scalars(select(ScaleAdministration.total_score)).one() == 5


def test_a_row_the_session_already_holds_shows_a_recorded_change(
    session: Session, tech: Actor
) -> None:
    code = make_visit(session).subject.study_code
    given = phenotype(scales=(jrs(3, 2),))
    record_visit_phenotype(session, tech, study_code=code, visit_number=1, phenotype=given)
    held = session.scalars(select(ScaleAdministration)).one()
    assert held.total_score == 5

    changed = phenotype(scales=(jrs(4, 2),))
    record_visit_phenotype(session, tech, study_code=code, visit_number=1, phenotype=changed)

    assert held.total_score == 6
