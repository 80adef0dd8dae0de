"""Each criterion of the engine on a real database: phenotype at the visit of collection, the
subject, the tube (both dialects)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from lims.phenotype.models import BodyRegion
from lims.phenotype.services import (
    ScaleIn,
    VisitPhenotype,
    last_toxin_injections,
    record_visit_phenotype,
)
from lims.requests.criteria import Criteria, aliquot_matches, parse_criteria
from lims.specimens.consent_models import ConsentDocument
from lims.specimens.models import Aliquot, Dystonia, Sex
from tests.factories import SYSTEM
from tests.requests.criteria_factories import (
    ASKED_ON,
    a_box,
    phenotype,
    stored,
    subject,
    visit,
)
from tests.specimens.factories import make_consent_form

DRAWN_ON = date(2024, 3, 1)


def ask(**criteria: object) -> Criteria:
    return parse_criteria({"purpose": {"term": "HMB"}} | criteria)


def matched(session: Session, criteria: Criteria) -> set[int]:
    return {row.aliquot_id for row in session.execute(aliquot_matches(criteria, on=ASKED_ON))}


def one_tube(session: Session, form: ConsentDocument, **subject_kw: object) -> Aliquot:
    who = subject(session, form, **subject_kw)  # type: ignore[arg-type]
    return stored(session, visit(session, who, on=DRAWN_ON), a_box(session))[0]


def test_body_regions_match_any_region_of_the_visits_diagnosis(session: Session) -> None:
    form, box = make_consent_form(session), a_box(session)
    at_neck = visit(session, subject(session, form))
    phenotype(session, at_neck, regions=(BodyRegion.NECK, BodyRegion.SHOULDER_LEFT))
    at_hand = visit(session, subject(session, form, diagnosis=Dystonia.LIMB))
    phenotype(session, at_hand, dystonia=Dystonia.LIMB, regions=(BodyRegion.HAND_LEFT,))
    (neck,), (hand,) = stored(session, at_neck, box), stored(session, at_hand, box)

    assert matched(session, ask(body_regions=["shoulder_left"])) == {neck.id}
    assert matched(session, ask(body_regions=["hand_left", "eyes"])) == {hand.id}
    assert matched(session, ask(body_regions=["trunk"])) == set()


def test_min_visits_counts_only_visits_that_match_everything_else(session: Session) -> None:
    form, box = make_consent_form(session), a_box(session)
    twice = subject(session, form)
    first, second = visit(session, twice, 1), visit(session, twice, 2, date(2025, 3, 3))
    phenotype(session, first, scores={"twstrs": 30})
    phenotype(session, second, scores={"twstrs": 12})
    tubes = stored(session, first, box) + stored(session, second, box)

    assert matched(session, ask(min_visits=2)) == {t.id for t in tubes}
    assert matched(session, ask(min_visits=2, scores=[{"scale": "twstrs", "min": 20}])) == set()


def test_a_score_range_reads_the_visit_the_tube_was_drawn_at(session: Session) -> None:
    form, box = make_consent_form(session), a_box(session)
    who = subject(session, form)
    mild, severe = visit(session, who, 1), visit(session, who, 2, date(2025, 3, 3))
    phenotype(session, mild, scores={"twstrs": 18.5})
    phenotype(session, severe, scores={"twstrs": 41})
    (early,), (late,) = stored(session, mild, box), stored(session, severe, box)

    assert matched(session, ask(scores=[{"scale": "twstrs", "min": 30}])) == {late.id}
    assert matched(session, ask(scores=[{"scale": "twstrs", "max": 18.5}])) == {early.id}
    assert matched(session, ask(scores=[{"scale": "gdrs", "min": 0}])) == set()


def test_a_subscale_range_reads_the_subscale_score(session: Session) -> None:
    form, box = make_consent_form(session), a_box(session)
    at = visit(session, subject(session, form, diagnosis=Dystonia.LARYNGEAL))
    answers = {
        f"vhi_{part}{n}": Decimal(2 if part == "p" else 0) for part in "fpe" for n in range(1, 11)
    }
    record_visit_phenotype(
        session, SYSTEM, study_code=at.subject.study_code, visit_number=1,
        phenotype=VisitPhenotype(scales=(ScaleIn("vhi", answers),)),
    )  # fmt: skip
    (tube,) = stored(session, at, box)

    assert matched(session, ask(scores=[{"scale": "vhi", "subscale": "physical", "min": 20}])) == {
        tube.id
    }
    assert (
        matched(session, ask(scores=[{"scale": "vhi", "subscale": "functional", "min": 1}]))
        == set()
    )


def test_weeks_since_the_last_toxin_injection_are_counted_to_the_visit(session: Session) -> None:
    form, box = make_consent_form(session), a_box(session)
    tubes = {}
    for name, injected in {
        "8 weeks": (DRAWN_ON - timedelta(weeks=30), DRAWN_ON - timedelta(weeks=8)),
        "12 weeks": (DRAWN_ON - timedelta(weeks=12),),
        "never": (),
        "after": (DRAWN_ON + timedelta(days=3),),  # injected after the draw: does not count
    }.items():
        at = visit(session, subject(session, form), on=DRAWN_ON)
        phenotype(session, at, toxin_on=injected)
        tubes[name] = stored(session, at, box)[0].id

    assert matched(session, ask(toxin_weeks={"min": 12})) == {
        tubes["12 weeks"],
        tubes["never"],
        tubes["after"],
    }
    assert matched(session, ask(toxin_weeks={"max": 10})) == {tubes["8 weeks"]}
    assert matched(session, ask(toxin_weeks={"min": 8, "max": 12})) == {
        tubes["8 weeks"],
        tubes["12 weeks"],
    }
    assert matched(session, ask(toxin_weeks={"min": 12.1})) == {tubes["never"], tubes["after"]}


def test_the_toxin_rule_in_sql_agrees_with_the_last_injection_python_reads(
    session: Session,
) -> None:
    # The release's weeks_since_toxin and an aliquot's phenotype summary read the last injection
    # in Python (last_toxin_injections); the criteria state the rule in SQL. Same cohort, same
    # answer, including an injection reported at the next visit.
    form, box = make_consent_form(session), a_box(session)
    visits = []
    for injected in [(), (-3,), (-11, -40), (-12,), (-13,), (4,), (-84, -83)]:
        at = visit(session, subject(session, form), on=DRAWN_ON)
        phenotype(session, at, toxin_on=tuple(DRAWN_ON + timedelta(weeks=w) for w in injected))
        visits.append(at)
    later = subject(session, form)
    first, second = visit(session, later, 1, DRAWN_ON), visit(session, later, 2, date(2024, 6, 3))
    phenotype(session, second, toxin_on=(DRAWN_ON - timedelta(days=20),))  # reported late
    visits += [first, second]
    for at in visits:
        stored(session, at, box)
    last = last_toxin_injections(session, {v.id: (v.subject_id, v.visit_on) for v in visits})
    days = {v.id: (v.visit_on - last[v.id]).days if v.id in last else None for v in visits}

    for weeks in ({"min": 12}, {"max": 10}, {"min": 3, "max": 12}, {"min": 2.5}):
        low, high = weeks.get("min"), weeks.get("max")
        expected = {
            v
            for v, d in days.items()
            if (d is None and high is None)
            or (d is not None and (low is None or d >= low * 7) and (high is None or d <= high * 7))
        }
        rows = session.execute(aliquot_matches(ask(toxin_weeks=weeks), on=ASKED_ON))
        assert {row.visit_id for row in rows} == expected, weeks
    assert days[first.id] == 20 and days[visits[0].id] is None


def test_age_sex_and_site_describe_the_subject_at_collection(session: Session) -> None:
    form = make_consent_form(session)
    young = one_tube(session, form, birth_year=2000, sex=Sex.MALE)  # 24 in 2024
    old = one_tube(session, form, birth_year=1934, site="EU1")  # 90 in 2024
    unknown = one_tube(session, form, birth_year=None)

    assert matched(session, ask(age={"max": 24})) == {young.id}
    assert matched(session, ask(age={"min": 25})) == {old.id}
    assert unknown.id not in matched(session, ask(age={"min": 0}))
    assert matched(session, ask(sexes=["male"])) == {young.id}
    assert matched(session, ask(sites=["eu1"])) == {old.id}


def test_disease_duration_is_age_at_collection_less_age_at_onset(session: Session) -> None:
    form, box = make_consent_form(session), a_box(session)
    tubes = {}
    for onset in (50, 44):  # born 1970, drawn 2024 at 54: 4 and 10 years
        at = visit(session, subject(session, form, birth_year=1970), on=DRAWN_ON)
        phenotype(session, at, onset_age=onset)
        tubes[onset] = stored(session, at, box)[0].id

    assert matched(session, ask(disease_duration_years={"max": 5})) == {tubes[50]}
    assert matched(session, ask(disease_duration_years={"min": 10})) == {tubes[44]}


def test_sprec_elements_and_freeze_thaw_cycles_narrow_the_tubes(session: Session) -> None:
    form, box = make_consent_form(session), a_box(session)
    at = visit(session, subject(session, form))
    (prompt,) = stored(session, at, box)
    (late,) = stored(session, at, box, late=True)
    (thawed,) = stored(session, at, box)
    thawed.freeze_thaw_count = 3
    session.flush()

    assert prompt.sprec_code is not None and prompt.sprec_code[8] == "A"
    under_2_hours = ask(sprec={"pre_centrifugation": ["A", "B"]})
    assert matched(session, under_2_hours) == {prompt.id, thawed.id}
    assert matched(session, ask(max_freeze_thaw=2)) == {prompt.id, late.id}
