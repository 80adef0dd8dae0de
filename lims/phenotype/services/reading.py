"""Reading phenotype: a subject's timeline (visits, tubes, diagnoses, scales, treatments) and
the summary an aliquot carries of its visit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Select,
    String,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from lims.actors import STAFF, Actor
from lims.phenotype.models import (
    BodyRegion,
    Diagnosis,
    DiagnosticFinding,
    ScaleAdministration,
    Score,
    Treatment,
    TreatmentKind,
    distribution,
)
from lims.specimens.models import Aliquot, AliquotStatus, Subject, Visit
from lims.specimens.services import subject_record
from phenotype_link.scales import SCALES

# An aliquot still in the freezer, whether or not someone has reserved it.
IN_STORAGE = frozenset({AliquotStatus.STORED, AliquotStatus.RESERVED})


@dataclass(frozen=True)
class TubeEntry:
    barcode: str
    specimen_type: str
    aliquots: int  # every aliquot made of this tube (sub-aliquots included)
    in_storage: int  # of those, how many are still in a freezer


@dataclass(frozen=True)
class VisitEntry:
    visit: Visit
    day: int  # days since the subject's first visit
    tubes: list[TubeEntry]
    diagnoses: list[Diagnosis]
    regions: list[str]  # every body region affected at this visit
    new_regions: list[str]  # affected now and at no earlier visit: spread
    distribution: str | None
    scales: list[ScaleAdministration]
    treatments: list[Treatment]
    findings: list[DiagnosticFinding]


@dataclass(frozen=True)
class ScaleSeries:
    """One scale's totals over the visits that gave it, for a chart."""

    scale_id: str
    name: str
    maximum: float | None
    points: list[tuple[int, float]]  # (day since first visit, total)


@dataclass(frozen=True)
class Timeline:
    subject: Subject
    visits: list[VisitEntry]
    series: list[ScaleSeries]
    regions: list[str]  # every region ever affected, in vocabulary order
    toxin_days: list[int]  # days since first visit of every botulinum toxin injection
    last_day: int


def _all_aliquots(aliquots: list[Aliquot]) -> list[Aliquot]:
    out: list[Aliquot] = []
    for a in aliquots:
        out += [a, *_all_aliquots(a.children)]
    return out


def _tubes(visit: Visit) -> list[TubeEntry]:
    entries = []
    for specimen in visit.specimens:
        # Sub-aliquots are children of an aliquot and also listed on the specimen; count once.
        made = {a.id: a for a in _all_aliquots(specimen.aliquots)}.values()
        entries.append(
            TubeEntry(
                barcode=specimen.barcode,
                specimen_type=specimen.specimen_type.value,
                aliquots=len(made),
                in_storage=sum(a.status in IN_STORAGE for a in made),
            )
        )
    return entries


T = TypeVar("T", Diagnosis, ScaleAdministration, Treatment, DiagnosticFinding)
K = TypeVar("K")


def _by_visit(session: Session, model: type[T], visit_ids: list[int]) -> dict[int, list[T]]:
    out: dict[int, list[T]] = defaultdict(list)
    for row in session.scalars(
        select(model).where(model.visit_id.in_(visit_ids)).order_by(model.id)
    ):
        out[row.visit_id].append(row)
    return out


def _series(entries: list[VisitEntry]) -> list[ScaleSeries]:
    points: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for entry in entries:
        for s in entry.scales:
            total = s.total_score if s.total_score is not None else s.imported_total
            if total is not None:
                points[s.scale_id].append((entry.day, total))
    out = []
    for scale_id in sorted(points, key=lambda i: list(SCALES).index(i) if i in SCALES else 99):
        scale = SCALES.get(scale_id)
        top = scale.maximum() if scale is not None and scale.is_scorable else None
        name = scale.name if scale is not None else scale_id
        out.append(ScaleSeries(scale_id, name, float(top) if top else None, points[scale_id]))
    return out


def subject_timeline(session: Session, actor: Actor, study_code: str) -> Timeline:
    """A subject's visits in order, each with its tubes, phenotype and what spread since."""
    actor.require(*STAFF)
    subject = subject_record(session, actor, study_code)
    visits = list(subject.visits)
    ids = [v.id for v in visits]
    diagnoses = _by_visit(session, Diagnosis, ids)
    scales = _by_visit(session, ScaleAdministration, ids)
    treatments = _by_visit(session, Treatment, ids)
    findings = _by_visit(session, DiagnosticFinding, ids)
    first = visits[0].visit_on if visits else date.today()
    seen: set[str] = set()
    entries = []
    for visit in visits:
        regions = sorted({r for d in diagnoses[visit.id] for r in d.body_regions})
        new = [r for r in regions if r not in seen] if seen else []
        seen |= set(regions)
        entries.append(
            VisitEntry(
                visit=visit,
                day=(visit.visit_on - first).days,
                tubes=_tubes(visit),
                diagnoses=diagnoses[visit.id],
                regions=regions,
                new_regions=new,
                distribution=distribution({BodyRegion(r) for r in regions}) if regions else None,
                scales=scales[visit.id],
                treatments=treatments[visit.id],
                findings=findings[visit.id],
            )
        )
    toxin_days = sorted(
        (t.given_on - first).days
        for visit_rows in treatments.values()
        for t in visit_rows
        if t.kind is TreatmentKind.BOTULINUM_TOXIN and t.given_on is not None
    )
    last = max([e.day for e in entries] + toxin_days + [1])
    return Timeline(
        subject=subject,
        visits=entries,
        series=_series(entries),
        regions=[r.value for r in BodyRegion if r.value in seen],
        toxin_days=toxin_days,
        last_day=last,
    )


@dataclass(frozen=True)
class PhenotypeSummary:
    """What an aliquot's visit says of the subject: no study code, date or free text in it."""

    diagnoses: list[str]
    body_regions: list[str]
    distribution: str | None
    scale_totals: dict[str, float | None]
    days_since_botulinum_toxin: int | None  # at collection; None: no injection before it


def _visit_rows(kind: str, name: Any, regions: Any, total: Any, order: Any) -> Select[Any]:
    return select(
        literal(kind).label("kind"),
        name.label("name"),
        regions.label("regions"),
        total.label("total"),
        order.label("id"),
    )


# A visit's diagnoses and scale totals in one statement, built once: every aliquot lookup asks
# it. Only the columns the summary shows: whole rows (the scales' answers and subscores as
# JSON) were a third of a lookup's CPU, and two statements built per request a fifth
# (docs/benchmarks.md, issue #20). A scale's total is the computed one, else the imported one.
_VISIT_PHENOTYPE = union_all(
    _visit_rows(
        "diagnosis",
        cast(Diagnosis.dystonia, String),
        Diagnosis.body_regions,
        type_coerce(null(), Score),
        Diagnosis.id,
    ).where(Diagnosis.visit_id == bindparam("visit_id")),
    _visit_rows(
        "scale",
        ScaleAdministration.scale_id,
        type_coerce(null(), JSON),
        func.coalesce(ScaleAdministration.total_score, ScaleAdministration.imported_total),
        ScaleAdministration.id,
    ).where(ScaleAdministration.visit_id == bindparam("visit_id")),
).order_by(literal_column("kind"), literal_column("id"))


def aliquot_phenotype(session: Session, actor: Actor, aliquot: Aliquot) -> PhenotypeSummary:
    """The phenotype of the visit an aliquot was collected at, as of its collection day."""
    actor.require(*STAFF)
    specimen = aliquot.specimen
    visit_id = specimen.visit_id
    rows = session.execute(_VISIT_PHENOTYPE, {"visit_id": visit_id}).all()
    diagnoses = [row for row in rows if row.kind == "diagnosis"]
    regions = sorted({r for d in diagnoses for r in d.regions})
    # The collection day on the collecting site's calendar, as the clinic dated the injection.
    collected_on = specimen.collected_at.astimezone(ZoneInfo(specimen.collection_zone)).date()
    asked = {specimen.id: (specimen.visit.subject_id, collected_on)}
    last_toxin = last_toxin_injections(session, asked).get(specimen.id)
    return PhenotypeSummary(
        diagnoses=[d.name for d in diagnoses],
        body_regions=regions,
        distribution=distribution({BodyRegion(r) for r in regions}) if regions else None,
        scale_totals={row.name: row.total for row in rows if row.kind == "scale"},
        days_since_botulinum_toxin=(collected_on - last_toxin).days if last_toxin else None,
    )


def last_toxin_injections(session: Session, days: Mapping[K, tuple[int, date]]) -> dict[K, date]:
    """The day of each subject's last botulinum toxin injection on or before a day: `days`
    maps a key to (subject id, day); keys without an injection by then are left out. An
    injection is reported at the visit after it, so every visit of the subject is read.

    The criteria engine states the same rule in SQL (lims/requests/criteria/query.py,
    _toxin_conditions); tests/requests/test_criteria_phenotype.py checks that they agree."""
    subjects = {subject_id for subject_id, _ in days.values()}
    injected: dict[int, list[date]] = defaultdict(list)
    stmt = (
        select(Visit.subject_id, Treatment.given_on)
        .join(Visit, Treatment.visit_id == Visit.id)
        .where(
            Visit.subject_id.in_(subjects),
            Treatment.kind == TreatmentKind.BOTULINUM_TOXIN,
            Treatment.given_on.is_not(None),
        )
    )
    for subject_id, given_on in session.execute(stmt):
        if given_on is not None:  # the query leaves none out; the type does not know
            injected[subject_id].append(given_on)
    found: dict[K, date] = {}
    for key, (subject_id, day) in days.items():
        if before := [d for d in injected[subject_id] if d <= day]:
            found[key] = max(before)
    return found
