"""Writing a checked aliquot import: bulk inserts and a batch of chained audit events.

Visits, tubes and aliquots go in as executemany INSERTs on the tables (parents level by level,
since children need their ids). Every new record still gets its own audit event, so an imported
aliquot's chain of custody starts like any other; `audit.record_many` appends them after the
batch event in one pass. Measured 2026-11-25 on a 2-vCPU AMD EPYC VM: one `audit.record` per
event costs 2.1 s per 5,000 on SQLite and 4.0 s on PostgreSQL (about 21 s and 40 s for a
50,000-row file, before any aliquot is written); the whole 50,000-row import below takes about
6 s on SQLite (bench/imports.py; figures in docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import DeclarativeBase, Session

from lims import audit
from lims.actors import Actor
from lims.audit.models import Action
from lims.db import utcnow
from lims.specimens import barcodes, sprec
from lims.specimens.models import Aliquot as AliquotModel
from lims.specimens.models import AliquotStatus, Specimen, SpecimenType, Visit
from lims.specimens.services.import_checks import NewTube, Plan, Row
from lims.specimens.services.tubes import PreAnalytics


@dataclass(frozen=True)
class ImportResult:
    aliquots: int
    tubes: int
    visits: int
    sha256: str
    first_barcode: str
    last_barcode: str


def _table(model: type[DeclarativeBase]) -> Table:
    """The model's table: Core executemany skips the ORM's per-row bookkeeping."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _insert_all(session: Session, table: Table, values: list[dict[str, Any]]) -> list[Any]:
    """Insert the rows, then read back (id, *key) of the rows just written.

    Not INSERT ... RETURNING: SQLAlchemy sends that as 1,000-row statements of ~300 KB, and
    psycopg 3 re-parses each one in Python (it caches only statements under 4,096 characters),
    which was half of a 50,000-row import on PostgreSQL (bench/imports.py, 2026-11-25). A plain
    executemany is one small statement that psycopg caches and pipelines; the new ids are then
    those above the highest id before the insert (another bench's rows that interleave there are
    skipped by the caller, who looks up only its own keys).
    """
    before = session.scalar(select(func.max(table.c.id))) or 0
    session.execute(insert(table), values)
    new_rows = (
        select(table.c.id, *_KEYS[table.name](table))
        .where(table.c.id > before)
        .order_by(table.c.id)
    )
    return list(session.execute(new_rows))


_KEYS = {
    "visits": lambda t: (t.c.subject_id, t.c.visit_number),
    "specimens": lambda t: (t.c.barcode,),
    "aliquots": lambda t: (t.c.barcode,),
}


def write_import(
    session: Session, actor: Actor, plan: Plan, *, sha256: str, filename: str
) -> ImportResult:
    """Write what the plan says, with one batch event and one event per new record."""
    now = utcnow()
    events: list[audit.Event] = []
    # Each record's event names the file it came from, so its history alone says "imported".
    _insert_visits(session, plan, events, sha256)
    _insert_tubes(session, plan, now, events, sha256)
    made = _insert_aliquots(session, plan, now, events, sha256)
    file_order = sorted(made, key=lambda r: r.number)
    result = ImportResult(
        aliquots=len(made),
        tubes=len(plan.new_tubes),
        visits=len(plan.new_visits),
        sha256=sha256,
        first_barcode=file_order[0].values["aliquot_barcode"],
        last_barcode=file_order[-1].values["aliquot_barcode"],
    )
    batch = audit.Event(
        Action.ALIQUOTS_IMPORTED,
        ("aliquot_import", sha256),
        after={
            "filename": filename,
            "sha256": sha256,
            "aliquots": result.aliquots,
            "tubes": result.tubes,
            "visits": result.visits,
            "first_barcode": result.first_barcode,
            "last_barcode": result.last_barcode,
        },
    )
    audit.record_many(session, actor, [batch, *events], at=now)
    return result


def _insert_visits(session: Session, plan: Plan, events: list[audit.Event], sha256: str) -> None:
    if not plan.new_visits:
        return
    values = [
        {"subject_id": plan.subject_ids[code], "visit_number": number, "visit_on": day}
        for (code, number), day in plan.new_visits.items()
    ]
    code_of = {v: k for k, v in plan.subject_ids.items()}
    for visit_id, subject_id, number in _insert_all(session, _table(Visit), values):
        if subject_id not in code_of or (code_of[subject_id], number) not in plan.new_visits:
            continue  # another bench's visit, written at the same moment
        key = (code_of[subject_id], number)
        plan.visit_ids[key] = visit_id
        events.append(
            audit.Event(
                Action.VISIT_REGISTERED,
                audit.ref(Visit, visit_id),
                {
                    "subject": key[0],
                    "visit_number": number,
                    "visit_on": str(plan.new_visits[key]),
                    "import_sha256": sha256,
                },
            )
        )


def _tube_values(tube: NewTube, visit_id: int, plan: Plan, now: datetime) -> dict[str, Any]:
    values = tube.values
    pre = PreAnalytics(
        **{k: v for k, v in values.items() if k not in ("tube_type", "tube_volume_ml")}
    )
    return {
        "barcode": tube.barcode,
        "visit_id": visit_id,
        "specimen_type": SpecimenType.WHOLE_BLOOD,
        "tube_type": values["tube_type"],
        "volume_ml": values["tube_volume_ml"],
        "sprec_code": sprec.tube_code(pre, values["tube_type"]),
        "sprec_version": sprec.FLUID_VERSION,
        "created_at": now,
        "processing_site_id": plan.processing_site_id,
        **pre.as_columns(),
    }


def _insert_tubes(
    session: Session, plan: Plan, now: datetime, events: list[audit.Event], sha256: str
) -> None:
    if not plan.new_tubes:
        return
    values = [_tube_values(t, plan.visit_ids[t.visit], plan, now) for t in plan.new_tubes.values()]
    by_code = {v["barcode"]: v for v in values}
    for tube_id, code in _insert_all(session, _table(Specimen), values):
        if code not in by_code:
            continue  # another bench's tube, written at the same moment
        plan.tube_ids[code] = tube_id
        tube = by_code[code]
        events.append(
            audit.Event(
                Action.SPECIMEN_ACCESSIONED,
                audit.ref(Specimen, tube_id),
                {
                    "barcode": code,
                    "visit": "{} V{}".format(*plan.new_tubes[code].visit),
                    "tube_type": tube["tube_type"].value,
                    "sprec_code": tube["sprec_code"],
                    "sprec_version": sprec.FLUID_VERSION,
                    "import_sha256": sha256,
                },
            )
        )


# Issue #16: DNA quality and extraction, taken as the file gives them (a diluted tube's
# concentration too). The SPREC code of an imported aliquot is set when it is stored.
ALIQUOT_QUALITY_COLUMNS = (
    "a260_230",
    "quantification_method",
    "din",
    "gel_integrity",
    "dilution_factor",
    "extraction_method",
    "extraction_kit",
    "extracted_on",
    "extracted_by",
)


def _aliquot_values(row: Row, plan: Plan, now: datetime) -> dict[str, Any]:
    values = row.values
    code = values["aliquot_barcode"]
    parent = values["parent_barcode"]
    return {
        "barcode": code,
        "is_issued_barcode": barcodes.is_issued_aliquot_barcode(code),
        "specimen_id": plan.tube_ids[values["tube_barcode"]],
        "parent_id": plan.parent_ids[parent] if parent else None,
        "specimen_type": values["specimen_type"],
        "volume_ul": values["volume_ul"],
        "drawn_ul": values["volume_ul"],  # an imported tube: what it holds is all we know
        "concentration_ng_ul": values["concentration_ng_ul"],
        "a260_280": values["a260_280"],
        **{name: values[name] for name in ALIQUOT_QUALITY_COLUMNS},
        "status": AliquotStatus.RECEIVED,
        "freeze_thaw_count": 0,
        "created_at": now,
    }


def _insert_aliquots(
    session: Session, plan: Plan, now: datetime, events: list[audit.Event], sha256: str
) -> list[Row]:
    written: list[Row] = []
    for level in plan.levels:
        rows = {r.values["aliquot_barcode"]: r for r in level}
        values = [_aliquot_values(r, plan, now) for r in level]
        for aliquot_id, code in _insert_all(session, _table(AliquotModel), values):
            if code not in rows:
                continue  # another bench's aliquot, written at the same moment
            plan.parent_ids[code] = aliquot_id  # children on the next level point here
            row = rows[code].values
            events.append(
                audit.Event(
                    Action.ALIQUOT_CREATED,
                    audit.ref(AliquotModel, aliquot_id),
                    {
                        "barcode": code,
                        "specimen": row["tube_barcode"],
                        "parent": row["parent_barcode"],
                        "specimen_type": row["specimen_type"].value,
                        "volume_ul": row["volume_ul"],
                        "process": "import",
                        "import_sha256": sha256,
                    },
                )
            )
        written.extend(level)
    return written
