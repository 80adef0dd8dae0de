"""The demo's phenotype: a diagnosis, rating scales, treatments and findings for every visit of
every demo subject, recorded through the phenotype service like a clinic's entries.

Deterministic for a seed. The cohort mix follows the subjects' primary diagnoses (lims/demo.py:
cervical dystonia the largest group); scores drift a little from visit to visit; most cervical
dystonia and blepharospasm subjects get botulinum toxin every 3 to 4 months (the usual
re-injection interval, dystonia.md §4.1); one blepharospasm subject spreads to the lower face
(the commonest first spread from BSP, Berman et al. 2020, JNNP 91:314).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lims.actors import Actor
from lims.phenotype.models import BodyRegion, FindingKind, TreatmentKind
from lims.phenotype.services import (
    DiagnosisIn,
    FindingIn,
    ScaleIn,
    TreatmentIn,
    VisitPhenotype,
    record_visit_phenotype,
)
from lims.specimens.models import Dystonia, Subject, Visit
from phenotype_link.scales import SCALES

R, D = BodyRegion, Dystonia
REGIONS = {
    D.CERVICAL: (R.NECK,),
    D.BLEPHAROSPASM: (R.EYES,),
    D.LARYNGEAL: (R.LARYNX,),
    D.CRANIOFACIAL: (R.LOWER_FACE, R.JAW_TONGUE),
    D.LIMB: (R.HAND_RIGHT,),
}
SUBTYPES = {
    D.CERVICAL: ("torticollis", "torticollis", "laterocollis", "anterocollis", "retrocollis"),
    D.BLEPHAROSPASM: (None,),
    D.LARYNGEAL: ("adductor", "adductor", "adductor", "abductor"),
    D.CRANIOFACIAL: ("jaw-closing", "jaw-opening"),
    D.LIMB: ("writer's cramp", "musician's dystonia"),
}
# GDRS and BFMDRS for everyone, then the region's own scale (rating-scales.md §9).
SCALES_FOR = {
    D.CERVICAL: ("gdrs", "bfmdrs_m", "twstrs"),
    D.BLEPHAROSPASM: ("gdrs", "bfmdrs_m", "jrs"),
    D.LARYNGEAL: ("gdrs", "bfmdrs_m", "vhi"),
    D.CRANIOFACIAL: ("gdrs", "bfmdrs_m", "udrs"),
    D.LIMB: ("gdrs", "bfmdrs_m", "bfmdrs_d"),
}
# Words in a regional scale's item ids that name a region (BFMDRS, GDRS, UDRS item ids).
ITEM_WORDS = {
    R.EYES: ("eyes", "upper_face"),
    R.LOWER_FACE: ("mouth", "lower_face"),
    R.JAW_TONGUE: ("mouth", "jaw"),
    R.LARYNX: ("speech", "larynx"),
    R.NECK: ("neck",),
    R.HAND_RIGHT: ("arm_r", "hand_r", "arm_right", "hand_right"),
}
REGIONAL_SCALES = {"bfmdrs_m", "gdrs", "udrs"}
TOXIN = {  # product, units per session (label ranges), muscles
    D.CERVICAL: ("onabotulinumtoxinA", (150, 300), ("sternocleidomastoid", "splenius capitis")),
    D.BLEPHAROSPASM: ("incobotulinumtoxinA", (25, 50), ("orbicularis oculi",)),
}


def load(session: Session, actor: Actor, *, seed: int) -> int:
    """Record the phenotype of every demo subject's visits; returns the number of visits."""
    rng = random.Random(seed)
    stmt = select(Subject).order_by(Subject.id).options(selectinload(Subject.visits))
    subjects = [s for s in session.scalars(stmt) if s.visits]
    spreader = next(
        (s for s in subjects if s.primary_diagnosis is D.BLEPHAROSPASM and len(s.visits) >= 3),
        None,
    )
    done = 0
    for subject in subjects:
        done += _subject(session, actor, rng, subject, spreads=subject is spreader)
    return done


def _subject(
    session: Session, actor: Actor, rng: random.Random, subject: Subject, *, spreads: bool
) -> int:
    dystonia = subject.primary_diagnosis
    subtype = rng.choice(SUBTYPES[dystonia])
    onset = rng.randint(28, 62)
    level = rng.uniform(0.3, 0.6)
    visits = list(subject.visits)
    toxin = _toxin_dates(rng, dystonia, visits)
    # Worded as the REDCap form's choices, so importing the sample export over the demo changes
    # only what differs.
    family = "Yes" if rng.random() < 0.12 else rng.choice(("No", "No", "No", "Unknown"))
    for n, visit in enumerate(visits):
        regions = REGIONS[dystonia] + ((R.LOWER_FACE,) if spreads and n >= 1 else ())
        level = min(0.95, max(0.05, level + rng.uniform(-0.06, 0.1) + (0.1 if spreads else 0)))
        since = visits[n - 1].visit_on if n else visit.visit_on - timedelta(days=130)
        sessions = [d for d in toxin if since < d <= visit.visit_on]
        phenotype = VisitPhenotype(
            diagnoses=(DiagnosisIn(dystonia, regions, subtype, onset),),
            scales=tuple(
                _scale(rng, scale_id, level, regions) for scale_id in SCALES_FOR[dystonia]
            ),
            treatments=tuple(_toxin(rng, dystonia, day, i) for i, day in enumerate(sessions, 1)),
            findings=_findings(rng, dystonia, family, level),
        )
        record_visit_phenotype(
            session,
            actor,
            study_code=subject.study_code,
            visit_number=visit.visit_number,
            phenotype=phenotype,
        )
    return len(visits)


def _toxin_dates(rng: random.Random, dystonia: Dystonia, visits: list[Visit]) -> list[date]:
    """Injections every 90 to 120 days, from before the first visit to the last, for most CD
    and BSP subjects (about one in six is not injected: oral drugs only, or toxin stopped)."""
    if dystonia not in TOXIN or rng.random() < 0.17:
        return []
    day, end, out = visits[0].visit_on - timedelta(days=rng.randrange(20, 110)), visits[-1], []
    while day <= end.visit_on:
        out.append(day)
        day += timedelta(days=rng.randrange(90, 121))
    return out


def _toxin(rng: random.Random, dystonia: Dystonia, day: date, instance: int) -> TreatmentIn:
    product, (low, high), muscles = TOXIN[dystonia]
    return TreatmentIn(
        kind=TreatmentKind.BOTULINUM_TOXIN,
        product=product,
        given_on=day,
        dose_units=Decimal(rng.randrange(low, high + 1, 5)),
        muscles=muscles,
        repeat_instance=instance,
    )


def _scale(
    rng: random.Random, scale_id: str, level: float, regions: tuple[BodyRegion, ...]
) -> ScaleIn:
    """Plausible answers: each item near `level` of its range; regional scales score only the
    affected regions."""
    words = [w for r in regions for w in ITEM_WORDS.get(r, ())]
    answers: dict[str, Decimal | None] = {}
    for item in SCALES[scale_id].items:
        if scale_id in REGIONAL_SCALES and not any(w in item.id for w in words):
            answers[item.id] = item.values[0]
            continue
        top = len(item.values) - 1
        answers[item.id] = item.values[max(0, min(top, round(level * top + rng.uniform(-1, 1))))]
    return ScaleIn(scale_id=scale_id, answers=answers, rater="demo clinician")


def _findings(
    rng: random.Random, dystonia: Dystonia, family: str, level: float
) -> tuple[FindingIn, ...]:
    found = [FindingIn(FindingKind.FAMILY_HISTORY, "fh_dystonia", family)]
    if dystonia is D.LARYNGEAL:
        vas = max(0, min(100, round(level * 100 + rng.uniform(-8, 8))))
        found.append(FindingIn(FindingKind.VOICE_RATING, "voice_severity_vas", str(vas)))
    if family == "Yes":
        found.append(FindingIn(FindingKind.GENETIC_TEST, "THAP1", "No variant found"))
    return tuple(found)
