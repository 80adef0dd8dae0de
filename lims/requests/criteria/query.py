"""The one query: criteria compiled to SQL, one row per matching aliquot.

Feasibility counts (count_matches), the pick list (services/fulfilment.py) and the data set
(services/release.py) all start from aliquot_matches, so the three always agree on what
matches. Every criterion is a condition on one row of aliquot -> specimen -> visit -> subject,
or an EXISTS on the visit's phenotype; nothing is filtered in Python afterwards.

Dates: a criterion "at collection" is read at the visit the specimen was drawn at (visit_on):
age, weeks since the last toxin injection and disease duration. Consent is read as of the day
asked (`on`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    and_,
    cast,
    distinct,
    exists,
    extract,
    func,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from lims.auth.models import Site
from lims.phenotype.models import Diagnosis, ScaleAdministration, Treatment, TreatmentKind
from lims.requests.criteria.consent import consent_allows
from lims.requests.criteria.document import SPREC_ELEMENTS, Criteria, Range, ScoreRange
from lims.specimens.models import Aliquot, AliquotStatus, Dystonia, Specimen, Subject, Visit
from lims.storage.models import Box, Freezer, Placement, Rack

FLUID_CODE_LENGTH = len("SER-SST-A-E-N-B-A")  # a derivative (DNA, RNA) code is shorter


class days_between(FunctionElement[int]):  # lower case: it reads as the SQL function it is
    """Whole days from the second date to the first: later - earlier."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between)
def _days_between(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)})"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def aliquot_matches(criteria: Criteria, *, on: date) -> Select[Any]:
    """Every available aliquot that matches, with where it sits: one row per aliquot.

    Columns: aliquot_id, barcode, subject_id, visit_id, diagnosis (the subject's primary
    dystonia), specimen_type, volume_ul, freeze_thaw_count, and the tube's place in walking
    order: freezer, rack, box, box_id, row, col (NULL where not placed; a stored tube is placed).
    The rows come from a subquery: refine by these columns (`stmt.selected_columns.volume_ul`,
    or `.subquery()` and its `.c`), not by the ORM's Aliquot.
    """
    core = _core(criteria, on)
    if criteria.min_visits > 1:
        # Match once (a CTE read twice is computed once on both databases), then keep the
        # subjects with enough matching visits. An IN over a second copy of the query let
        # PostgreSQL rescan the aliquots once per subject: 2.6 s instead of 0.1 (bench/).
        matching = core.cte("matching")
        enough = (
            select(matching.c.subject_id)
            .group_by(matching.c.subject_id)
            .having(func.count(distinct(matching.c.visit_id)) >= criteria.min_visits)
        )
        rows = select(matching).where(matching.c.subject_id.in_(enough)).subquery("matched")
    else:
        rows = core.subquery("matched")
    # Outer joins: a count over this query reads none of their columns, and both databases
    # drop such a join to a unique key, so counting costs nothing for the location.
    return (
        select(
            *rows.c,
            Freezer.name.label("freezer"),
            Rack.name.label("rack"),
            Box.name.label("box"),
            Placement.box_id.label("box_id"),
            Placement.row.label("row"),
            Placement.col.label("col"),
        )
        .select_from(rows)
        .outerjoin(Placement, Placement.aliquot_id == rows.c.aliquot_id)
        .outerjoin(Box, Box.id == Placement.box_id)
        .outerjoin(Rack, Rack.id == Box.rack_id)
        .outerjoin(Freezer, Freezer.id == Rack.freezer_id)
    )


@dataclass(frozen=True)
class DiagnosisCounts:
    diagnosis: Dystonia
    subjects: int
    visits: int
    aliquots: int


@dataclass(frozen=True)
class Counts:
    """True counts, per diagnosis (the subject's primary dystonia) and in total. A subject has
    one primary diagnosis, so the totals are the sums of the rows."""

    by_diagnosis: tuple[DiagnosisCounts, ...]

    @property
    def subjects(self) -> int:
        return sum(row.subjects for row in self.by_diagnosis)

    @property
    def visits(self) -> int:
        return sum(row.visits for row in self.by_diagnosis)

    @property
    def aliquots(self) -> int:
        return sum(row.aliquots for row in self.by_diagnosis)


def count_matches(session: Session, criteria: Criteria, *, on: date) -> Counts:
    """Subjects, visits and aliquots matching, per diagnosis: one query, counted in SQL."""
    rows = session.execute(count_statement(criteria, on=on)).all()
    # int(): PostgreSQL sums a bigint count as numeric, which the driver gives as a Decimal
    return Counts(tuple(DiagnosisCounts(Dystonia(d), s, v, int(a)) for d, s, v, a in rows))


def count_statement(criteria: Criteria, *, on: date) -> Select[Any]:
    """The query count_matches runs: the rows of aliquot_matches, counted.

    The same matching aliquots (_core) and the same visits-per-subject rule, counted per visit
    first: 35,000 visit rows to count and rank instead of 250,000 aliquot rows, and no aliquot
    column beyond what the covering index on aliquots (specimen_id) holds, so PostgreSQL reads
    the index alone (bench/feasibility.py). A subject's visits are counted over its rows with a
    window rather than a second pass over the matches.
    """
    core = _core(criteria, on).subquery("matching")
    per_visit = (
        select(core.c.subject_id, core.c.visit_id, core.c.diagnosis, func.count().label("n"))
        .group_by(core.c.visit_id, core.c.subject_id, core.c.diagnosis)
        .subquery("per_visit")
    )
    visits_of_subject = func.count().over(partition_by=per_visit.c.subject_id)
    counted = select(*per_visit.c, visits_of_subject.label("visits_of_subject")).subquery("counted")
    return (
        select(
            counted.c.diagnosis,
            func.count(distinct(counted.c.subject_id)),
            func.count(),
            func.sum(counted.c.n),
        )
        .where(counted.c.visits_of_subject >= criteria.min_visits)
        .group_by(counted.c.diagnosis)
        .order_by(counted.c.diagnosis)
    )


def _core(criteria: Criteria, on: date) -> Select[Any]:
    """The matching aliquots, before the per-subject visit count.

    Visits are chosen first, once each, in a materialized CTE: consent, the subject and the
    visit's phenotype are read per visit, not per aliquot. Left to itself, PostgreSQL joined the
    aliquots first and ran every EXISTS once per aliquot, ten times the work (bench/).
    """
    visits = (
        select(
            Visit.id.label("visit_id"),
            Visit.subject_id.label("subject_id"),
            Subject.primary_diagnosis.label("diagnosis"),
        )
        .join(Subject, Subject.id == Visit.subject_id)
        .where(consent_allows(criteria.purpose, on=on))
        .where(*_subject_conditions(criteria), *_visit_conditions(criteria))
    )
    if not criteria.disease_duration_years.is_open:
        # The visit's diagnosis row for the subject's primary dystonia carries the onset age;
        # (visit_id, dystonia) is unique, so this join never repeats a visit.
        onset = aliased(Diagnosis, name="primary_dx")
        visits = visits.join(
            onset, and_(onset.visit_id == Visit.id, onset.dystonia == Subject.primary_diagnosis)
        )
        duration = _age_at_collection() - onset.age_at_onset_years
        visits = visits.where(*_within(duration, criteria.disease_duration_years))
    eligible: Any = visits.cte("eligible_visits").prefix_with("MATERIALIZED")
    if criteria.min_visits > 1:
        # A subject needs min_visits matching visits, and a matching visit is an eligible one:
        # drop the subjects with fewer eligible visits before their tubes are read. The rule
        # itself is applied after (a visit may have no tube that matches). A quarter of the
        # generated demo's eligible visits, and of the tube lookups, go here (bench/).
        eligible_of_subject = func.count().over(partition_by=eligible.c.subject_id)
        counted = select(*eligible.c, eligible_of_subject.label("of_subject")).subquery(
            "by_subject"
        )
        eligible = (
            select(counted.c.visit_id, counted.c.subject_id, counted.c.diagnosis)
            .where(counted.c.of_subject >= criteria.min_visits)
            .subquery("eligible")
        )
    return (
        select(
            Aliquot.id.label("aliquot_id"),
            Aliquot.barcode.label("barcode"),
            eligible.c.subject_id,
            eligible.c.visit_id,
            eligible.c.diagnosis,
            Aliquot.specimen_type.label("specimen_type"),
            Aliquot.volume_ul.label("volume_ul"),
            Aliquot.freeze_thaw_count.label("freeze_thaw_count"),
        )
        .select_from(Aliquot)
        .join(Specimen, Specimen.id == Aliquot.specimen_id)
        .join(eligible, eligible.c.visit_id == Specimen.visit_id)
        .where(Aliquot.status == AliquotStatus.STORED, *_tube_conditions(criteria))
    )


def _tube_conditions(c: Criteria) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if c.specimen_types:
        found.append(Aliquot.specimen_type.in_(sorted(c.specimen_types)))
    if c.min_volume_ul is not None:
        found.append(Aliquot.volume_ul >= c.min_volume_ul)
    if c.max_freeze_thaw is not None:
        found.append(Aliquot.freeze_thaw_count <= c.max_freeze_thaw)
    if c.sprec:
        found.append(func.length(Aliquot.sprec_code) == FLUID_CODE_LENGTH)
        for name, letters in c.sprec:
            element = func.substr(Aliquot.sprec_code, SPREC_ELEMENTS[name], 1)
            found.append(element.in_(sorted(letters)))
    return found


def _subject_conditions(c: Criteria) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if c.diagnoses:
        found.append(Subject.primary_diagnosis.in_(sorted(c.diagnoses)))
    if c.sexes:
        found.append(Subject.sex.in_(sorted(c.sexes)))
    if c.sites:
        found.append(Subject.site_id.in_(select(Site.id).where(Site.code.in_(sorted(c.sites)))))
    if not c.age.is_open:
        found.extend(_within(_age_at_collection(), c.age))
    return found


def _visit_conditions(c: Criteria) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if c.body_regions:
        # body_regions is a JSON list of region words; a quoted word matches only itself
        # ("neck" is not inside "hand_left"), and the test works alike on both databases.
        text = cast(Diagnosis.body_regions, Text)
        found.append(
            exists().where(
                Diagnosis.visit_id == Visit.id,
                or_(*(text.like(f'%"{region}"%') for region in sorted(c.body_regions))),
            )
        )
    found.extend(_score_condition(score) for score in c.scores)
    found.extend(_toxin_conditions(c.toxin_weeks))
    return found


def _score_condition(score: ScoreRange) -> ColumnElement[bool]:
    sa = ScaleAdministration
    if score.subscale is None:
        # The score the phenotype pages show: computed from the answers, else as imported.
        value: ColumnElement[Any] = func.coalesce(sa.total_score, sa.imported_total)
    else:
        value = sa.subscale_scores[score.subscale].as_float()
    bounds = Range(score.min, score.max)
    return exists().where(
        sa.visit_id == Visit.id, sa.scale_id == score.scale, *_within(value, bounds)
    )


def _toxin_conditions(weeks: Range) -> list[ColumnElement[bool]]:
    """Weeks from the subject's last botulinum toxin injection on or before the visit to the
    visit. A subject never injected meets any minimum and no maximum."""
    if weeks.is_open:
        return []
    injection, at = aliased(Treatment, name="toxin"), aliased(Visit, name="toxin_visit")
    days = days_between(Visit.visit_on, injection.given_on)

    def injected(*within: ColumnElement[bool]) -> ColumnElement[bool]:
        return (
            select(injection.id)
            .join(at, at.id == injection.visit_id)
            .where(
                at.subject_id == Visit.subject_id,
                injection.kind == TreatmentKind.BOTULINUM_TOXIN,
                days >= 0,
                *within,
            )
            .exists()
        )

    # Whole days, so a fractional week (12.5 = 87.5 days) needs no fractional comparison.
    found: list[ColumnElement[bool]] = []
    if weeks.min is not None:
        found.append(~injected(days < math.ceil(weeks.min * 7)))
    if weeks.max is not None:
        found.append(injected(days <= math.floor(weeks.max * 7)))
    return found


def _age_at_collection() -> ColumnElement[int]:
    """Whole years in the year of the visit: the LIMS keeps the birth year only."""
    return extract("year", Visit.visit_on) - Subject.birth_year


def _within(value: ColumnElement[Any], bounds: Range) -> Sequence[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if bounds.min is not None:
        found.append(value >= bounds.min)
    if bounds.max is not None:
        found.append(value <= bounds.max)
    return found
