"""The one query: aliquot_matches and count_matches on a real database (both dialects)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from lims.requests.criteria import Criteria, aliquot_matches, count_matches, parse_criteria
from lims.specimens.consent_models import WithdrawalLevel
from lims.specimens.models import Dystonia, SpecimenType
from lims.specimens.services import withdraw_consent
from tests.factories import SYSTEM, make_aliquot
from tests.requests.criteria_factories import ASKED_ON, a_box, phenotype, stored, subject, visit
from tests.specimens.factories import make_consent_form

D = Dystonia


def ask(**criteria: object) -> Criteria:
    return parse_criteria({"purpose": {"term": "HMB"}} | criteria)


def matched(session: Session, criteria: Criteria, on: date = ASKED_ON) -> set[int]:
    return {row.aliquot_id for row in session.execute(aliquot_matches(criteria, on=on))}


def test_counts_come_per_diagnosis_with_subjects_visits_and_aliquots(session: Session) -> None:
    form, box = make_consent_form(session), a_box(session)
    neck = subject(session, form, diagnosis=D.CERVICAL)
    stored(session, visit(session, neck, 1), box, count=2)
    stored(session, visit(session, neck, 2, date(2025, 3, 1)), box)
    eyes = subject(session, form, diagnosis=D.BLEPHAROSPASM)
    stored(session, visit(session, eyes), box, count=3)

    counts = count_matches(session, ask(), on=ASKED_ON)

    assert [(c.diagnosis, c.subjects, c.visits, c.aliquots) for c in counts.by_diagnosis] == [
        (D.BLEPHAROSPASM, 1, 1, 3),
        (D.CERVICAL, 1, 2, 3),
    ]
    assert (counts.subjects, counts.visits, counts.aliquots) == (2, 3, 6)


def test_counts_per_visit_agree_with_the_rows_of_the_one_query(session: Session) -> None:
    # count_matches counts per visit first (bench/feasibility.py): it must count what
    # aliquot_matches returns, the visits-per-subject rule included.
    form, box = make_consent_form(session), a_box(session)
    twice = subject(session, form, diagnosis=D.CERVICAL)
    stored(session, visit(session, twice, 1), box, count=2)
    stored(session, visit(session, twice, 2, date(2025, 3, 1)), box)
    once = subject(session, form, diagnosis=D.CERVICAL)  # its second visit has plasma only
    stored(session, visit(session, once, 1), box, count=3)
    plasma = SpecimenType.PLASMA
    stored(session, visit(session, once, 2, date(2025, 3, 1)), box, specimen_type=plasma)
    eyes = subject(session, form, diagnosis=D.BLEPHAROSPASM)
    stored(session, visit(session, eyes, 1), box)
    stored(session, visit(session, eyes, 2, date(2025, 3, 1)), box, count=2)
    asked = ask(specimen_types=["serum"], min_visits=2)

    rows = session.execute(aliquot_matches(asked, on=ASKED_ON)).all()
    counts = count_matches(session, asked, on=ASKED_ON)

    by_rows = sorted(
        (dx, len({r.subject_id for r in mine}), len({r.visit_id for r in mine}), len(mine))
        for dx in {r.diagnosis for r in rows}
        for mine in [[r for r in rows if r.diagnosis == dx]]
    )
    got = [(c.diagnosis, c.subjects, c.visits, c.aliquots) for c in counts.by_diagnosis]
    assert got == by_rows == [(D.BLEPHAROSPASM, 1, 2, 3), (D.CERVICAL, 1, 2, 3)]


def test_min_visits_counts_and_rows_agree_when_a_subject_has_too_few_eligible_visits(
    session: Session,
) -> None:
    # The engine drops subjects with fewer eligible visits than min_visits before it reads
    # their tubes (bench/feasibility.py); the rows and the counts must not change with it.
    form, box = make_consent_form(session), a_box(session)
    kept, short = subject(session, form), subject(session, form)
    tubes: list[int] = []
    for who, scores in ((kept, (30, 25, 10)), (short, (30, 12))):
        for number, score in enumerate(scores, start=1):
            at = visit(session, who, number, date(2023 + number, 3, 1))
            phenotype(session, at, scores={"twstrs": score})
            (tube,) = stored(session, at, box)
            tubes += [tube.id] if who is kept and score >= 20 else []
    asked = ask(min_visits=2, scores=[{"scale": "twstrs", "min": 20}])

    rows = session.execute(aliquot_matches(asked, on=ASKED_ON)).all()
    counts = count_matches(session, asked, on=ASKED_ON)

    assert sorted(r.aliquot_id for r in rows) == sorted(tubes)
    assert (counts.subjects, counts.visits, counts.aliquots) == (1, 2, 2)


def test_a_row_names_its_subject_visit_diagnosis_and_place_in_the_freezer(
    session: Session,
) -> None:
    form, box = make_consent_form(session), a_box(session)
    who = subject(session, form, diagnosis=D.LARYNGEAL)
    at = visit(session, who)
    (tube,) = stored(session, at, box)

    (row,) = session.execute(aliquot_matches(ask(), on=ASKED_ON)).all()

    assert (row.aliquot_id, row.barcode, row.subject_id, row.visit_id) == (
        tube.id, tube.barcode, who.id, at.id,
    )  # fmt: skip
    assert row.diagnosis == D.LARYNGEAL
    assert (row.freezer, row.rack, row.box, row.box_id, row.row, row.col) == (
        box.rack.freezer.name, box.rack.name, box.name, box.id, 0, 0,
    )  # fmt: skip


def test_only_stored_aliquots_are_available(session: Session) -> None:
    form, box = make_consent_form(session), a_box(session)
    who = subject(session, form)
    at = visit(session, who)
    (kept,) = stored(session, at, box)
    make_aliquot(session, specimen=kept.specimen)  # received, never stored

    assert matched(session, ask()) == {kept.id}


def test_diagnosis_specimen_type_and_volume_narrow_the_match(session: Session) -> None:
    form, box = make_consent_form(session), a_box(session)
    neck = visit(session, subject(session, form, diagnosis=D.CERVICAL))
    (serum,) = stored(session, neck, box, volume_ul=500)
    stored(session, neck, box, volume_ul=100)
    stored(session, neck, box, specimen_type=SpecimenType.PLASMA, volume_ul=500)
    stored(session, visit(session, subject(session, form, diagnosis=D.LIMB)), box, volume_ul=500)

    asked = ask(diagnoses=["cervical"], specimen_types=["serum"], min_volume_ul=250)

    assert matched(session, asked) == {serum.id}


def test_a_subject_whose_consent_is_withdrawn_is_not_matched_from_that_day(
    session: Session,
) -> None:
    form, box = make_consent_form(session), a_box(session)
    who = subject(session, form)
    (tube,) = stored(session, visit(session, who), box)
    withdraw_consent(
        session,
        SYSTEM,
        study_code=who.study_code,
        level=WithdrawalLevel.NO_FURTHER_ACCESS,
        withdrawn_at=datetime(2026, 5, 1, 10, 0, tzinfo=UTC),
        reason="asked by phone",
    )

    assert matched(session, ask(), on=date(2026, 4, 30)) == {tube.id}
    assert matched(session, ask(), on=date(2026, 5, 1)) == set()


def test_a_subject_who_declined_genetic_research_is_not_matched_for_a_genetic_study(
    session: Session,
) -> None:
    form, box = make_consent_form(session), a_box(session)
    (yes,) = stored(session, visit(session, subject(session, form)), box)
    (no,) = stored(session, visit(session, subject(session, form, genetic=False)), box)

    assert matched(session, ask()) == {yes.id, no.id}
    assert matched(session, ask(purpose={"term": "HMB", "modifiers": ["GSO"]})) == {yes.id}
