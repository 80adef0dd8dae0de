"""Writing a checked aliquot import: rows by COPY under ids taken first, and a batch of chained
audit events.

Visits, tubes and aliquots go in through `bulk_copy.write_rows` (COPY on PostgreSQL, one
executemany on SQLite) under ids reserved beforehand (`bulk_copy.reserve_ids`), so nothing is
read back: children know their parents' ids before any row is written, and every aliquot goes
in one COPY, parents first (SQLite checks a foreign key row by row). Every new record still gets
its own audit event, so an imported aliquot's chain of custody starts like any other;
`audit.record_many` appends them after the batch event in one pass. 100,000 rows on PostgreSQL
(bench/imports.py, 2026-12-02, the shared 2-vCPU VM; docs/benchmarks.md): the executemany and
read-back version used 16.8 s of client and 19.9 s of server CPU (52 s at a load average of
4); this one 9.1 s and 7.3 s (22 s at a load average of 6), the audit trail's rows now the
largest part of both.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor
from lims.audit.models import Action
from lims.bulk_copy import reserve_ids, write_rows
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
    rows = []
    ids = reserve_ids(session, Visit, len(plan.new_visits))
    for (key, day), visit_id in zip(plan.new_visits.items(), ids, strict=True):
        plan.visit_ids[key] = visit_id
        rows.append((visit_id, plan.subject_ids[key[0]], key[1], day))
        after = {
            "subject": key[0],
            "visit_number": key[1],
            "visit_on": str(day),
            "import_sha256": sha256,
        }
        events.append(audit.Event(Action.VISIT_REGISTERED, audit.ref(Visit, visit_id), after))
    write_rows(session, Visit, ("id", "subject_id", "visit_number", "visit_on"), rows)


# The specimens table's columns a new tube's row fills, in _tube_row's order (import_checks'
# TUBE_COLUMNS are the file's tube columns).
SPECIMEN_COLUMNS = (
    "id",
    "barcode",
    "visit_id",
    "specimen_type",
    "tube_type",
    "volume_ml",
    "sprec_code",
    "sprec_version",
    "created_at",
    "processing_site_id",
    *PreAnalytics.__dataclass_fields__,
)


def _insert_tubes(
    session: Session, plan: Plan, now: datetime, events: list[audit.Event], sha256: str
) -> None:
    if not plan.new_tubes:
        return
    rows = []
    ids = reserve_ids(session, Specimen, len(plan.new_tubes))
    for tube, tube_id in zip(plan.new_tubes.values(), ids, strict=True):
        plan.tube_ids[tube.barcode] = tube_id
        sprec_code = sprec.tube_code(tube.pre, tube.values["tube_type"])
        rows.append(_tube_row(tube_id, tube, sprec_code, plan, now))
        after = {
            "barcode": tube.barcode,
            "visit": "{} V{}".format(*tube.visit),
            "tube_type": tube.values["tube_type"].value,
            "sprec_code": sprec_code,
            "sprec_version": sprec.FLUID_VERSION,
            "import_sha256": sha256,
        }
        events.append(audit.Event(Action.SPECIMEN_ACCESSIONED, audit.ref(Specimen, tube_id), after))
    write_rows(session, Specimen, SPECIMEN_COLUMNS, rows)


def _tube_row(
    tube_id: int, tube: NewTube, sprec_code: str, plan: Plan, now: datetime
) -> tuple[Any, ...]:
    values = tube.values  # its times already in UTC (_merge_tube)
    return (
        tube_id,
        tube.barcode,
        plan.visit_ids[tube.visit],
        SpecimenType.WHOLE_BLOOD,
        values["tube_type"],
        values["tube_volume_ml"],
        sprec_code,
        sprec.FLUID_VERSION,
        now,
        plan.processing_site_id,
        *(values[name] for name in PreAnalytics.__dataclass_fields__),
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
ALIQUOT_COLUMNS = (
    "id",
    "barcode",
    "is_issued_barcode",
    "specimen_id",
    "parent_id",
    "specimen_type",
    "volume_ul",
    "drawn_ul",
    "concentration_ng_ul",
    "a260_280",
    *ALIQUOT_QUALITY_COLUMNS,
    "status",
    "freeze_thaw_count",
    "created_at",
)


def _insert_aliquots(
    session: Session, plan: Plan, now: datetime, events: list[audit.Event], sha256: str
) -> list[Row]:
    """Every aliquot in one write, level by level so parents come before their children."""
    written = [row for level in plan.levels for row in level]
    ids = reserve_ids(session, AliquotModel, len(written))

    def made() -> Iterator[tuple[Any, ...]]:
        # Made as the COPY takes them: the server inserts what was sent meanwhile.
        for row, aliquot_id in zip(written, ids, strict=True):
            values = row.values
            code, parent = values["aliquot_barcode"], values["parent_barcode"]
            plan.parent_ids[code] = aliquot_id  # children, on a later level, point here
            yield (
                aliquot_id,
                code,
                barcodes.is_issued_aliquot_barcode(code),
                plan.tube_ids[values["tube_barcode"]],
                plan.parent_ids[parent] if parent else None,
                values["specimen_type"],
                values["volume_ul"],
                values["volume_ul"],  # drawn_ul: an imported tube holds all we know of it
                values["concentration_ng_ul"],
                values["a260_280"],
                *(values[name] for name in ALIQUOT_QUALITY_COLUMNS),
                AliquotStatus.RECEIVED,
                0,
                now,
            )
            after = {
                "barcode": code,
                "specimen": values["tube_barcode"],
                "parent": parent,
                "specimen_type": values["specimen_type"].value,
                "volume_ul": values["volume_ul"],
                "process": "import",
                "import_sha256": sha256,
            }
            ref = audit.ref(AliquotModel, aliquot_id)
            events.append(audit.Event(Action.ALIQUOT_CREATED, ref, after))

    write_rows(session, AliquotModel, ALIQUOT_COLUMNS, made())
    return written
