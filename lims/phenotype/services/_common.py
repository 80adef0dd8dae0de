"""Steps the phenotype use cases share: the values a visit's phenotype is given in, scoring a
scale through phenotype_link, and writing a visit's rows so that what is already there is kept,
what differs is changed (with before and after), and what is new is created.

Rows are matched on their natural keys (a visit's dystonia; a scale and its repeat instance; a
treatment kind and its repeat instance; a finding's kind and item), so recording or importing the
same phenotype twice changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from lims import audit
from lims.audit.models import Action
from lims.db import utcnow
from lims.errors import FieldError
from lims.phenotype.models import (
    BodyRegion,
    Diagnosis,
    DiagnosticFinding,
    FindingKind,
    ScaleAdministration,
    Treatment,
    TreatmentKind,
)
from lims.specimens.models import Dystonia, Visit
from phenotype_link.scales import Score, ScoringError, UnknownScale, get_scale


@dataclass(frozen=True)
class DiagnosisIn:
    dystonia: Dystonia
    body_regions: tuple[BodyRegion, ...]
    subtype: str | None = None
    age_at_onset_years: int | None = None


@dataclass(frozen=True)
class ScaleIn:
    scale_id: str
    answers: Mapping[str, Decimal | None]
    imported_total: Decimal | None = None
    rater: str | None = None
    repeat_instance: int = 1
    score: Score | None = None  # already scored from these answers (the REDCap parser does)


@dataclass(frozen=True)
class TreatmentIn:
    kind: TreatmentKind
    product: str
    given_on: date | None = None
    dose_units: Decimal | None = None
    muscles: tuple[str, ...] = ()
    dbs_targets: tuple[str, ...] = ()
    repeat_instance: int = 1


@dataclass(frozen=True)
class FindingIn:
    kind: FindingKind
    item: str
    value: str


@dataclass(frozen=True)
class VisitPhenotype:
    """Everything recorded about one visit's phenotype; what is not named is left as it is."""

    diagnoses: tuple[DiagnosisIn, ...] = ()
    scales: tuple[ScaleIn, ...] = ()
    treatments: tuple[TreatmentIn, ...] = ()
    findings: tuple[FindingIn, ...] = ()


Row = Diagnosis | ScaleAdministration | Treatment | DiagnosticFinding
ChangeKind = Literal["created", "changed", "unchanged"]


@dataclass
class Change:
    """What writing one row did: the row's model and id, its values before (None when new) and
    after. A new row is inserted in bulk by insert_created, which fills in its id."""

    kind: ChangeKind
    model: type[Row]
    after: dict[str, Any]
    before: dict[str, Any] | None = None
    label: str = ""  # "NA1-0007 V2 twstrs #1", for previews
    row_id: int | None = None
    insert: dict[str, Any] | None = None  # a new row's columns


def _number(value: Decimal | None) -> int | float | None:
    """A Decimal as JSON holds it: an int when whole, else a float (UDRS half points)."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def scale_values(scale_in: ScaleIn) -> tuple[dict[str, Any], list[str]]:
    """The row values of a scale administration, scored by phenotype_link; or the problems.

    Scored with partial=True: an unanswered item leaves its part unscored (the scale's flags say
    why) instead of refusing the visit; an out-of-range or unknown item is refused.
    """
    try:
        scale = get_scale(scale_in.scale_id)
    except UnknownScale:
        return {}, [f"scale_id: {scale_in.scale_id!r} is not a known rating scale"]
    if not scale.is_scorable:  # items not yet confirmed: the total is kept as the site gave it
        return {
            "scale_version": scale.version,
            "answers": {},
            "total_score": None,
            "subscale_scores": {},
            "imported_total": _number(scale_in.imported_total),
            "flags": ["items not encoded yet: only the imported total is kept"],
        } | ({"rater": scale_in.rater} if scale_in.rater is not None else {}), []
    try:
        score = scale_in.score or scale.score(
            scale_in.answers, scale_in.imported_total, partial=True
        )
    except ScoringError as err:
        return {}, [f"{scale.id}.{p.item_id}: {p.reason}" for p in err.problems]
    values = {
        "scale_version": scale.version,
        "answers": {k: _number(v) for k, v in sorted(scale_in.answers.items())},
        "total_score": _number(score.total),
        "subscale_scores": {k: _number(v) for k, v in sorted(score.subscales.items())},
        "imported_total": _number(scale_in.imported_total),
        "flags": list(score.flags),
    }
    if scale_in.rater is not None:  # a REDCap export names no rater: keep the one recorded
        values["rater"] = scale_in.rater
    return values, []


def _diagnosis_values(d: DiagnosisIn) -> dict[str, Any]:
    return {
        "subtype": d.subtype,
        "body_regions": sorted({r.value for r in d.body_regions}),
        "age_at_onset_years": d.age_at_onset_years,
    }


def _treatment_values(t: TreatmentIn) -> dict[str, Any]:
    return {
        "product": t.product,
        "given_on": t.given_on,
        "dose_units": _number(t.dose_units),
        "muscles": list(t.muscles),
        "dbs_targets": list(t.dbs_targets),
    }


def _current(row: Row, values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in values}


@dataclass
class _Existing:
    """A visit's rows by natural key, read once."""

    diagnoses: dict[Dystonia, Diagnosis] = field(default_factory=dict)
    scales: dict[tuple[str, int], ScaleAdministration] = field(default_factory=dict)
    treatments: dict[tuple[TreatmentKind, int], Treatment] = field(default_factory=dict)
    findings: dict[tuple[FindingKind, str], DiagnosticFinding] = field(default_factory=dict)


def existing_rows(session: Session, visit_ids: Sequence[int]) -> dict[int, _Existing]:
    """Every phenotype row of these visits, by visit and natural key (four queries in all)."""
    out = {visit_id: _Existing() for visit_id in visit_ids}
    for d in session.scalars(select(Diagnosis).where(Diagnosis.visit_id.in_(visit_ids))):
        out[d.visit_id].diagnoses[d.dystonia] = d
    stmt = select(ScaleAdministration).where(ScaleAdministration.visit_id.in_(visit_ids))
    for s in session.scalars(stmt):
        out[s.visit_id].scales[(s.scale_id, s.repeat_instance)] = s
    for t in session.scalars(select(Treatment).where(Treatment.visit_id.in_(visit_ids))):
        out[t.visit_id].treatments[(t.kind, t.repeat_instance)] = t
    stmt_f = select(DiagnosticFinding).where(DiagnosticFinding.visit_id.in_(visit_ids))
    for f in session.scalars(stmt_f):
        out[f.visit_id].findings[(f.kind, f.item)] = f
    return out


def _write(
    model: type[Row], row: Row | None, key: dict[str, Any], values: dict[str, Any], label: str
) -> Change:
    if row is None:
        return Change("created", model, values, label=label, insert={**key, **values})
    before = _current(row, values)
    if before == values:
        return Change("unchanged", model, values, label=label, row_id=row.id)
    for name, value in values.items():
        setattr(row, name, value)
    changed = [n for n in values if before[n] != values[n]]
    after = {n: values[n] for n in changed}
    return Change("changed", model, after, {n: before[n] for n in changed}, label, row.id)


# The natural key of each kind of row: what a change is matched back to its new id by.
KEYS: dict[type[Row], tuple[str, ...]] = {
    Diagnosis: ("visit_id", "dystonia"),
    ScaleAdministration: ("visit_id", "scale_id", "repeat_instance"),
    Treatment: ("visit_id", "kind", "repeat_instance"),
    DiagnosticFinding: ("visit_id", "kind", "item"),
}


def insert_created(session: Session, changes: Sequence[Change]) -> None:
    """Insert every new row, one executemany per table, and give each change its row's id.

    Core inserts, not ORM objects: building and flushing an entity per row cost more than the
    inserts. Not INSERT ... RETURNING either: SQLAlchemy sends that as 1,000-row statements
    that psycopg 3 re-parses in Python, a third of a 4,000-event import on PostgreSQL (cProfile,
    2026-12-01), as lims/specimens/services/import_writes.py found for aliquots. The new ids are
    read back by natural key among the ids above the highest one before the insert.
    """
    by_model: dict[type[Row], list[Change]] = defaultdict(list)
    for change in changes:
        if change.kind == "created" and change.insert is not None:
            by_model[change.model].append(change)
    now = utcnow()
    for model, made in by_model.items():
        table = model.__table__
        assert isinstance(table, Table)
        before = session.scalar(select(func.max(table.c.id))) or 0
        session.execute(insert(table), [{"created_at": now, **c.insert} for c in made])  # type: ignore[dict-item]
        names = KEYS[model]
        new = select(table.c.id, *(table.c[n] for n in names)).where(table.c.id > before)
        ids = {tuple(_stored(v) for v in row[1:]): row[0] for row in session.execute(new)}
        for change in made:
            assert change.insert is not None
            change.row_id = ids[tuple(_stored(change.insert[n]) for n in names)]


def _stored(value: Any) -> Any:
    """A key value as the database gives it back (an enum as its text)."""
    return value.value if isinstance(value, Enum) else value


def apply_visit(
    visit: Visit, phenotype: VisitPhenotype, existing: _Existing
) -> tuple[list[Change], list[FieldError]]:
    """One visit's changes (existing rows changed in the session, new rows left for
    insert_created; no commit), or its problems."""
    problems: list[FieldError] = []
    changes: list[Change] = []
    name = f"{visit.subject.study_code} V{visit.visit_number}"
    for d in phenotype.diagnoses:
        key: dict[str, Any] = {"visit_id": visit.id, "dystonia": d.dystonia}
        label = f"{name} diagnosis {d.dystonia.value}"
        row_d = existing.diagnoses.get(d.dystonia)
        changes.append(_write(Diagnosis, row_d, key, _diagnosis_values(d), label))
    for s in phenotype.scales:
        values, scale_problems = scale_values(s)
        where = f"{name} {s.scale_id}"
        problems += [{"field": s.scale_id, "message": f"{where}: {p}"} for p in scale_problems]
        if not scale_problems:
            key = {
                "visit_id": visit.id,
                "scale_id": s.scale_id,
                "repeat_instance": s.repeat_instance,
            }
            row_s = existing.scales.get((s.scale_id, s.repeat_instance))
            label = f"{where} #{s.repeat_instance}"
            changes.append(_write(ScaleAdministration, row_s, key, values, label))
    for t in phenotype.treatments:
        key = {"visit_id": visit.id, "kind": t.kind, "repeat_instance": t.repeat_instance}
        label = f"{name} {t.kind.value} #{t.repeat_instance}"
        row_t = existing.treatments.get((t.kind, t.repeat_instance))
        changes.append(_write(Treatment, row_t, key, _treatment_values(t), label))
    for f in phenotype.findings:
        key = {"visit_id": visit.id, "kind": f.kind, "item": f.item}
        label = f"{name} {f.kind.value} {f.item}"
        row_f = existing.findings.get((f.kind, f.item))
        changes.append(_write(DiagnosticFinding, row_f, key, {"value": f.value}, label))
    return changes, problems


def audit_events(changes: Sequence[Change], **context: Any) -> Iterator[audit.Event]:
    """One audit event per created or changed row (an unchanged row is not an event)."""
    for c in changes:
        if c.kind == "created":
            obj = audit.ref(c.model, c.row_id)
            yield audit.Event(Action.PHENOTYPE_RECORDED, obj, after={**c.after, **context})
        elif c.kind == "changed":
            obj = audit.ref(c.model, c.row_id)
            yield audit.Event(Action.PHENOTYPE_CHANGED, obj, after=c.after, before=c.before)
