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
from typing import Any, Literal

from sqlalchemy import BindParameter, Table, bindparam, select, update
from sqlalchemy.orm import Session

from lims import audit
from lims.audit.models import Action
from lims.bulk_copy import reserve_ids, write_rows
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
from lims.specimens.models import Dystonia, WithdrawalLevel
from lims.specimens.services import withdrawal_levels
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
    answers: Mapping[str, int | Decimal | None]  # whole numbers may come as ints
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


def _number(value: int | Decimal | None) -> int | float | None:
    """A Decimal as JSON holds it: an int when whole, else a float (UDRS half points)."""
    if value is None or isinstance(value, int):  # an import's answers are mostly ints
        return value
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


# The columns each kind of row is compared and written by, besides its natural key (KEYS).
VALUES: dict[type[Row], tuple[str, ...]] = {
    Diagnosis: ("subtype", "body_regions", "age_at_onset_years"),
    ScaleAdministration: (
        "scale_version", "answers", "total_score", "subscale_scores", "imported_total", "flags",
        "rater",
    ),
    Treatment: ("product", "given_on", "dose_units", "muscles", "dbs_targets"),
    DiagnosticFinding: ("value",),
}  # fmt: skip
# The natural key of each kind of row: what a stored row and a new value are matched on.
KEYS: dict[type[Row], tuple[str, ...]] = {
    Diagnosis: ("visit_id", "dystonia"),
    ScaleAdministration: ("visit_id", "scale_id", "repeat_instance"),
    Treatment: ("visit_id", "kind", "repeat_instance"),
    DiagnosticFinding: ("visit_id", "kind", "item"),
}
IN_LIST_SIZE = 2000  # ids per IN list, as the specimen import reads: under every bound limit


@dataclass
class Existing:
    """A visit's stored rows by natural key, each a compact row (id and value columns)."""

    diagnoses: dict[Dystonia, Any] = field(default_factory=dict)
    scales: dict[tuple[str, int], Any] = field(default_factory=dict)
    treatments: dict[tuple[TreatmentKind, int], Any] = field(default_factory=dict)
    findings: dict[tuple[FindingKind, str], Any] = field(default_factory=dict)


def existing_rows(session: Session, visit_ids: Sequence[int]) -> dict[int, Existing]:
    """Every phenotype row of these visits, by visit and natural key: plain tuples of the id and
    the compared columns, read per table and per 2,000 visits. Not ORM objects: building 184,000
    of them to compare was most of a re-import's time (cProfile, 2026-12-01)."""
    out = {visit_id: Existing() for visit_id in visit_ids}
    ids = sorted(out)
    for model, where in (
        (Diagnosis, "diagnoses"), (ScaleAdministration, "scales"), (Treatment, "treatments"),
        (DiagnosticFinding, "findings"),
    ):  # fmt: skip
        table = _table(model)
        key = KEYS[model][1:]
        columns = [table.c.id, table.c.visit_id, *(table.c[n] for n in key + VALUES[model])]
        for start in range(0, len(ids), IN_LIST_SIZE):
            stmt = select(*columns).where(
                table.c.visit_id.in_(_inline(ids[start : start + IN_LIST_SIZE]))
            )
            for row in session.execute(stmt).all():
                found = row[2] if len(key) == 1 else tuple(row[2 : 2 + len(key)])
                getattr(out[row.visit_id], where)[found] = row
    return out


def _inline(ids: Sequence[int]) -> BindParameter[Any]:
    """A list of ids written into the SQL text rather than bound one by one: psycopg parses a
    query's 2,000 placeholders in Python, 1.6 s of a 2,000-subject re-import (cProfile). Only
    for integers read from our own tables, never for text from a file."""
    return bindparam("ids", list(ids), expanding=True, literal_execute=True)


def _table(model: type[Row]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _write(
    model: type[Row], row: Any, key: dict[str, Any], values: dict[str, Any], label: str
) -> Change:
    """What writing `values` over a stored row (or none) would change; nothing is written."""
    if row is None:
        return Change("created", model, values, label=label, insert={**key, **values})
    changed = [n for n, value in values.items() if getattr(row, n) != value]
    if not changed:
        return Change("unchanged", model, values, label=label, row_id=row.id)
    before = {n: getattr(row, n) for n in changed}
    return Change("changed", model, {n: values[n] for n in changed}, before, label, row.id)


def write_changes(session: Session, changes: Sequence[Change]) -> None:
    """Insert the new rows and update the changed values, a few executemany statements per
    table (no commit): the unit of work is not used, an import's 184,000 rows would cost more
    in ORM objects than in the statements."""
    insert_created(session, changes)
    by_model: dict[tuple[type[Row], tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
    for c in changes:
        if c.kind == "changed":  # only the changed columns: an update per set of columns
            by_model[(c.model, tuple(c.after))].append({"_id": c.row_id, **c.after})
    for (model, names), params in by_model.items():
        table = _table(model)
        stmt = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({n: bindparam(n, type_=table.c[n].type) for n in names})
        )
        session.execute(stmt, params)
    for c in changes:  # a copy the session already holds would be stale (no expiry on commit)
        if c.kind == "changed" and (held := session.identity_map.get(
            session.identity_key(c.model, c.row_id)
        )) is not None:  # fmt: skip
            session.expire(held)


def insert_created(session: Session, changes: Sequence[Change]) -> None:
    """Insert every new row, one COPY per table on PostgreSQL (an executemany on SQLite), and
    give each change its row's id.

    The ids are taken first (bulk_copy.reserve_ids), so nothing is read back. COPY, not Core
    executemany: psycopg sends an executemany as one Bind/Execute per row, which the server
    plans and runs one by one; COPY streams the rows. For the 46,000 rows of 10,000 events COPY
    took the insert from 1.6 / 1.1 s (client / server CPU) to 0.7 / 0.6 s (2026-12-02).
    """
    by_model: dict[type[Row], list[Change]] = defaultdict(list)
    for change in changes:
        if change.kind == "created" and change.insert is not None:
            by_model[change.model].append(change)
    now = utcnow()
    for model, made in by_model.items():
        names = (*KEYS[model], *VALUES[model])
        ids = reserve_ids(session, model, len(made))
        rows = []
        for change, row_id in zip(made, ids, strict=True):
            change.row_id = row_id
            # Enum keys go as they are: a StrEnum is the text both databases store.
            rows.append((row_id, now, *map(change.insert.get, names)))  # type: ignore[union-attr]
        write_rows(session, model, ("id", "created_at", *names), rows)


def apply_visit(
    visit_id: int, name: str, phenotype: VisitPhenotype, existing: Existing
) -> tuple[list[Change], list[FieldError]]:
    """One visit's changes against its stored rows (write_changes writes them), or its
    problems. `name` is the visit as previews say it ("NA1-0007 V2")."""
    problems: list[FieldError] = []
    changes: list[Change] = []
    for d in phenotype.diagnoses:
        key: dict[str, Any] = {"visit_id": visit_id, "dystonia": d.dystonia}
        label = f"{name} diagnosis {d.dystonia.value}"
        row_d = existing.diagnoses.get(d.dystonia)
        changes.append(_write(Diagnosis, row_d, key, _diagnosis_values(d), label))
    for s in phenotype.scales:
        values, scale_problems = scale_values(s)
        where = f"{name} {s.scale_id}"
        problems += [{"field": s.scale_id, "message": f"{where}: {p}"} for p in scale_problems]
        if not scale_problems:
            key = {
                "visit_id": visit_id,
                "scale_id": s.scale_id,
                "repeat_instance": s.repeat_instance,
            }
            row_s = existing.scales.get((s.scale_id, s.repeat_instance))
            label = f"{where} #{s.repeat_instance}"
            changes.append(_write(ScaleAdministration, row_s, key, values, label))
    for t in phenotype.treatments:
        key = {"visit_id": visit_id, "kind": t.kind, "repeat_instance": t.repeat_instance}
        label = f"{name} {t.kind.value} #{t.repeat_instance}"
        row_t = existing.treatments.get((t.kind, t.repeat_instance))
        changes.append(_write(Treatment, row_t, key, _treatment_values(t), label))
    for f in phenotype.findings:
        key = {"visit_id": visit_id, "kind": f.kind, "item": f.item}
        label = f"{name} {f.kind.value} {f.item}"
        row_f = existing.findings.get((f.kind, f.item))
        changes.append(_write(DiagnosticFinding, row_f, key, {"value": f.value}, label))
    return changes, problems


# What a withdrawal means for new phenotype (privacy.md §5; docs/user/phenotype-import.md,
# "Consent"), for the import and for recording by hand alike. New or changed phenotype is new
# data taken in about the subject, so it stops where new visits and tubes stop (BenchWork.USE):
# from "no further access", and "no further use" beyond it. "No further contact" stops only
# contact: what the site still records is taken in (UK Biobank, NIHR BioResource). A row stored
# exactly as the file gives it is nothing new, so re-importing an unchanged export still passes.
NEW_PHENOTYPE_STOPPED_FROM = WithdrawalLevel.NO_FURTHER_ACCESS


def consent_refusals(session: Session, subjects: Mapping[int, str]) -> dict[int, str]:
    """Why consent refuses new phenotype, by subject id, for those of `subjects` (id -> study
    code) it refuses; two queries for any number of subjects."""
    refused = {}
    for subject_id, level in withdrawal_levels(session, subjects).items():
        if level.rank >= NEW_PHENOTYPE_STOPPED_FROM.rank:
            refused[subject_id] = (
                f"{subjects[subject_id]} has withdrawn consent ({level.label}): no new "
                "phenotype is taken in for them"
            )
    return refused


def audit_events(changes: Sequence[Change], **context: Any) -> Iterator[audit.Event]:
    """One audit event per created or changed row (an unchanged row is not an event)."""
    for c in changes:
        if c.kind == "created":
            obj = audit.ref(c.model, c.row_id)
            after = {**c.after, **context} if context else c.after  # no copy per import row
            yield audit.Event(Action.PHENOTYPE_RECORDED, obj, after=after)
        elif c.kind == "changed":
            obj = audit.ref(c.model, c.row_id)
            yield audit.Event(Action.PHENOTYPE_CHANGED, obj, after=c.after, before=c.before)
