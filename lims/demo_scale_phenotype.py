"""The generated demo's phenotype rows (lims/demo_scale.py): rating scales, treatments and
diagnostic findings for every visit, as tuples in column order, in the proportions of the
everyday demo (lims/demo_phenotype.py) but written in bulk.

Per visit: GDRS and BFMDRS for everyone, then the region's own scale (TWSTRS for cervical, JRS
for blepharospasm, VHI for laryngeal, UDRS for craniofacial, the BFMDRS disability scale for
limb dystonia; rating-scales.md §9). From 2021 on, cervical visits also carry a TWSTRS-2 and
blepharospasm visits a BSDI, as a site's export gives them: totals only, since their items are
not encoded yet (phenotype_link/scales/definitions). Item answers sit near the subject's
severity for that visit, which drifts a little from visit to visit.

Scoring one administration through phenotype_link takes about 0.2 ms, 150 s for the 800,000
of 50,000 subjects; so answers come from a pool: for each scale, regions and severity step
(1/20 of the range), a few answer sets are drawn and scored once (ScalePool). The stored
scores are phenotype_link's for the stored answers, so recomputing them gives the same.

Treatments: most cervical dystonia and blepharospasm subjects get botulinum toxin every 90 to
120 days (the usual re-injection interval, dystonia.md §4.1), each session recorded at the
next visit; about a fifth take an oral drug; about 1 in 100 cervical or limb subjects has DBS.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from lims.demo_phenotype import ITEM_WORDS, REGIONAL_SCALES, REGIONS, SCALES_FOR, TOXIN
from lims.phenotype.models import BodyRegion, FindingKind, TreatmentKind
from lims.specimens.models import Dystonia
from phenotype_link.scales import SCALES

D = Dystonia
SCALE_COLUMNS = (
    "id", "visit_id", "scale_id", "scale_version", "repeat_instance", "answers", "total_score",
    "subscale_scores", "imported_total", "flags", "rater", "created_at",
)  # fmt: skip
TREATMENT_COLUMNS = (
    "id", "visit_id", "kind", "repeat_instance", "product", "dose_units", "muscles",
    "dbs_targets", "given_on", "created_at",
)  # fmt: skip
FINDING_COLUMNS = ("id", "visit_id", "kind", "item", "value", "created_at")

# Scales a site's export gives as a total only (items not encoded here), and the total's range
# as the demo draws it: TWSTRS-2 like the original's 0-85, BSDI 0-24 (6 items scored 0-4).
IMPORTED_FROM = date(2021, 1, 1)
IMPORTED = {D.CERVICAL: ("twstrs2", 85), D.BLEPHAROSPASM: ("bsdi", 24)}
NOT_ENCODED = ["items not encoded yet: only the imported total is kept"]
LEVEL_STEPS = 20  # severity steps of the pool
VARIANTS = 6  # answer sets per scale, regions and step
ORAL = ("trihexyphenidyl", "clonazepam", "baclofen", "tetrabenazine")
ORAL_SHARE = {D.LIMB: 0.4, D.CRANIOFACIAL: 0.3}  # others 0.15
DBS_SHARE = {D.CERVICAL: 0.01, D.LIMB: 0.02}
DBS_DEVICE, DBS_TARGETS = "Medtronic Percept PC", ["GPi left", "GPi right"]
RATER = "demo clinician"


class Rows(Protocol):
    """Where a batch keeps its phenotype rows (lims/demo_scale_rows.Batch)."""

    scales: list[tuple[Any, ...]]
    treatments: list[tuple[Any, ...]]
    findings: list[tuple[Any, ...]]

    def new_id(self, table: str) -> int: ...


def _number(value: Decimal | None) -> int | float | None:
    """As the phenotype service stores a Decimal in JSON: an int when whole, else a float."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass(frozen=True)
class Scored:
    """A scale administration's values, scored once and shared by the rows that pick it."""

    version: str
    answers: dict[str, Any]
    total: int | float | None
    subscales: dict[str, Any]
    flags: list[str]


class ScalePool:
    """Scored answer sets, drawn on first use from a generator seeded by the pool's seed and
    the set's key, so the rows do not depend on the order sets are first needed in."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.sets: dict[tuple[str, tuple[str, ...], int], list[Scored]] = {}

    def pick(
        self, rng: random.Random, scale_id: str, regions: tuple[str, ...], level: float
    ) -> Scored:
        key = (scale_id, regions, round(level * LEVEL_STEPS))
        found = self.sets.get(key)
        if found is None:
            found = self.sets[key] = self._draw(*key)
        return found[rng.randrange(len(found))]

    def _draw(self, scale_id: str, regions: tuple[str, ...], step: int) -> list[Scored]:
        """Answers near `step` of each item's range; regional scales rate only the affected
        regions (as lims/demo_phenotype.py does)."""
        rng = random.Random(f"{self.seed} {scale_id} {' '.join(regions)} {step}")
        scale, level = SCALES[scale_id], step / LEVEL_STEPS
        words = [w for r in regions for w in ITEM_WORDS.get(BodyRegion(r), ())]
        out = []
        for _ in range(VARIANTS):
            answers: dict[str, Decimal | None] = {}
            for item in scale.items:
                if scale_id in REGIONAL_SCALES and not any(w in item.id for w in words):
                    answers[item.id] = item.values[0]
                    continue
                top = len(item.values) - 1
                at = max(0, min(top, round(level * top + rng.uniform(-1, 1))))
                answers[item.id] = item.values[at]
            score = scale.score(answers, None, partial=True)
            out.append(
                Scored(
                    scale.version,
                    {k: _number(v) for k, v in sorted(answers.items())},
                    _number(score.total),
                    {k: _number(v) for k, v in sorted(score.subscales.items())},
                    list(score.flags),
                )
            )
        return out


@dataclass
class Course:
    """One subject's phenotype over the study: severity, toxin sessions, drugs, DBS."""

    dystonia: Dystonia
    level: float
    toxin: list[date]
    family: str
    oral: str | None
    dbs_on: date | None
    previous: date | None = None
    regions: tuple[str, ...] = field(default=())


def course(rng: random.Random, dystonia: Dystonia, days: list[date]) -> Course:
    """Draw a subject's course from the visit days."""
    toxin: list[date] = []
    if dystonia in TOXIN and rng.random() >= 0.17:  # about 1 in 6 not injected (demo_phenotype)
        day = days[0] - timedelta(days=rng.randrange(20, 110))
        while day <= days[-1]:
            toxin.append(day)
            day += timedelta(days=rng.randrange(90, 121))
    family = "Yes" if rng.random() < 0.12 else rng.choice(("No", "No", "No", "Unknown"))
    oral = rng.choice(ORAL) if rng.random() < ORAL_SHARE.get(dystonia, 0.15) else None
    dbs_on = None
    if len(days) >= 2 and rng.random() < DBS_SHARE.get(dystonia, 0.0):
        dbs_on = days[0] + timedelta(days=rng.randrange(30, max(31, (days[1] - days[0]).days)))
    regions = tuple(sorted(r.value for r in REGIONS[dystonia]))
    return Course(dystonia, rng.uniform(0.3, 0.6), toxin, family, oral, dbs_on, regions=regions)


def visit_rows(
    rows: Rows,
    rng: random.Random,
    pool: ScalePool,
    c: Course,
    visit_id: int,
    day: date,
    first: bool,
) -> None:
    """One visit's scales, treatments and findings, appended to the batch `rows`."""
    c.level = min(0.95, max(0.05, c.level + rng.uniform(-0.06, 0.1)))
    at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    for scale_id in SCALES_FOR[c.dystonia]:
        s = pool.pick(rng, scale_id, c.regions, c.level)
        rows.scales.append(
            (rows.new_id("scale_administrations"), visit_id, scale_id, s.version, 1, s.answers,
             s.total, s.subscales, None, s.flags, RATER, at)
        )  # fmt: skip
    if c.dystonia in IMPORTED and day >= IMPORTED_FROM:
        scale_id, top = IMPORTED[c.dystonia]
        total = max(0, min(top, round(c.level * top + rng.uniform(-2, 2))))
        rows.scales.append(
            (rows.new_id("scale_administrations"), visit_id, scale_id, SCALES[scale_id].version,
             1, {}, None, {}, total, NOT_ENCODED, RATER, at)
        )  # fmt: skip
    _treatments(rows, rng, c, visit_id, day, at)
    _findings(rows, rng, c, visit_id, at, first)
    c.previous = day


def _treatments(
    rows: Rows, rng: random.Random, c: Course, visit_id: int, day: date, at: datetime
) -> None:
    since = c.previous or day - timedelta(days=130)
    sessions = [d for d in c.toxin if since < d <= day]
    for instance, given_on in enumerate(sessions, start=1):
        product, (low, high), muscles = TOXIN[c.dystonia]
        rows.treatments.append(
            (rows.new_id("treatments"), visit_id, TreatmentKind.BOTULINUM_TOXIN.value, instance,
             product, rng.randrange(low, high + 1, 5), list(muscles), [], given_on, at)
        )  # fmt: skip
    if c.oral is not None:  # the drug the subject takes, reported at each visit
        rows.treatments.append(
            (rows.new_id("treatments"), visit_id, TreatmentKind.ORAL_MEDICATION.value, 1, c.oral,
             None, [], [], None, at)
        )  # fmt: skip
    if c.dbs_on is not None and c.dbs_on <= day:
        rows.treatments.append(
            (rows.new_id("treatments"), visit_id, TreatmentKind.DBS.value, 1, DBS_DEVICE, None,
             [], DBS_TARGETS, c.dbs_on, at)
        )  # fmt: skip


def _findings(
    rows: Rows, rng: random.Random, c: Course, visit_id: int, at: datetime, first: bool
) -> None:
    """Family history at each visit, a voice rating for laryngeal dystonia, and a THAP1 test at
    the first visit of a subject with a family history (worded as the REDCap form's choices)."""
    rows.findings.append(
        (rows.new_id("diagnostic_findings"), visit_id, FindingKind.FAMILY_HISTORY.value,
         "fh_dystonia", c.family, at)
    )  # fmt: skip
    if c.dystonia is D.LARYNGEAL:
        vas = max(0, min(100, round(c.level * 100 + rng.uniform(-8, 8))))
        rows.findings.append(
            (rows.new_id("diagnostic_findings"), visit_id, FindingKind.VOICE_RATING.value,
             "voice_severity_vas", str(vas), at)
        )  # fmt: skip
    if first and c.family == "Yes":
        rows.findings.append(
            (rows.new_id("diagnostic_findings"), visit_id, FindingKind.GENETIC_TEST.value,
             "THAP1", "No variant found", at)
        )  # fmt: skip
