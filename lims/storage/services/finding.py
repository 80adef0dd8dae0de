"""Finding tubes again: boxes by code (for the find box, lims/find.py), the box grid, lists and
the inventory export, custody."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from lims.actors import STAFF, Actor
from lims.audit.models import Action, AuditEvent
from lims.audit.services import Named, events_for
from lims.auth import timezones
from lims.auth.models import Site
from lims.specimens import barcodes
from lims.specimens.consent_models import ConsentEvent, ConsentEventKind
from lims.specimens.models import (
    Aliquot,
    AliquotStatus,
    EnrolmentStatus,
    Specimen,
    SpecimenType,
    Subject,
    Visit,
    WithdrawalLevel,
)
from lims.specimens.services import find_aliquot
from lims.storage.models import ROW_LETTERS, Box, Freezer, Placement, Rack, position_name
from lims.storage.services.setup import get_box


def find_boxes(session: Session, actor: Actor, code: str) -> list[Named]:
    """Boxes whose barcode is `code`, or whose name is (names repeat: each one is listed)."""
    actor.require(*STAFF)
    stmt = (
        select(Box.id, Box.barcode, Box.name)
        .where(or_(Box.barcode == code, func.upper(Box.name) == code))
        .order_by(Box.id)
    )
    return [
        Named("box", box_id, barcode, f"box {name}", {"box_id": box_id})
        for box_id, barcode, name in session.execute(stmt)
    ]


def storage_codes(
    session: Session, refs: Collection[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """The codes of the boxes (barcode), freezers and racks (names) among `refs`, in bulk."""
    ids: dict[str, set[int]] = {}
    for kind, object_id in refs:
        if object_id.isdigit():
            ids.setdefault(kind, set()).add(int(object_id))
    found: dict[tuple[str, str], str] = {}
    queries = {
        "box": select(Box.id, Box.barcode),
        "freezer": select(Freezer.id, Freezer.name),
        "rack": select(Rack.id, Freezer.name + " / " + Rack.name).join(
            Freezer, Rack.freezer_id == Freezer.id
        ),
    }
    for kind, stmt in queries.items():
        if wanted := ids.get(kind):
            model_id = stmt.selected_columns[0]
            for row_id, code in session.execute(stmt.where(model_id.in_(wanted))):
                found[kind, str(row_id)] = code
    return found


@dataclass(frozen=True)
class GridCell:
    row: int
    col: int
    barcode: str
    specimen_type: SpecimenType
    status: AliquotStatus
    consent_withdrawn: bool  # no further use: the tube may only be disposed of
    withdrawal: WithdrawalLevel | None = None  # the subject's strongest withdrawal, any level

    @property
    def position(self) -> str:
        return position_name(self.row, self.col)


@dataclass(frozen=True)
class BoxGrid:
    box: Box
    cells: list[list[GridCell | None]]  # [row][col]

    @property
    def row_letters(self) -> str:
        return ROW_LETTERS[: self.box.n_rows]

    @property
    def used(self) -> int:
        return sum(cell is not None for row in self.cells for cell in row)


def box_grid(session: Session, actor: Actor, box_id: int) -> BoxGrid:
    """A box's positions with what sits in each, in one query (a 10x10 box renders fast).

    Each subject's withdrawals come in the same query (an outer join on its withdrawal events),
    where withdrawal_levels would take two more; the rule is the same: the strongest level
    recorded, and a subject withdrawn before levels were recorded counts as "no further use".
    """
    box = get_box(session, actor, box_id)
    withdrew = and_(
        ConsentEvent.subject_id == Subject.id, ConsentEvent.kind == ConsentEventKind.WITHDREW
    )
    stmt = (
        select(
            Placement.row,
            Placement.col,
            Aliquot.barcode,
            Aliquot.specimen_type,
            Aliquot.status,
            Subject.enrolment_status,
            ConsentEvent.withdrawal_level,
        )
        .join(Aliquot, Placement.aliquot_id == Aliquot.id)
        .join(Specimen, Aliquot.specimen_id == Specimen.id)
        .join(Visit, Specimen.visit_id == Visit.id)
        .join(Subject, Visit.subject_id == Subject.id)
        .outerjoin(ConsentEvent, withdrew)
        .where(Placement.box_id == box.id)
    )
    cells: list[list[GridCell | None]] = [[None] * box.n_cols for _ in range(box.n_rows)]
    for row, col, code, kind, status, enrolment, level in session.execute(stmt):
        withdrawn = enrolment is EnrolmentStatus.CONSENT_WITHDRAWN
        if withdrawn:
            level = WithdrawalLevel.NO_FURTHER_USE
        held = cells[row][col]  # a subject who withdrew twice gives a row per withdrawal
        if held is None or _stronger(level, than=held.withdrawal):
            cells[row][col] = GridCell(row, col, code, kind, status, withdrawn, level)
    return BoxGrid(box, cells)


def _stronger(level: WithdrawalLevel | None, *, than: WithdrawalLevel | None) -> bool:
    return level is not None and (than is None or level.rank > than.rank)


@dataclass(frozen=True)
class AliquotFilter:
    """The list page's and the export's filters; None means any."""

    site: str | None = None
    subject: str | None = None
    specimen_type: SpecimenType | None = None
    status: AliquotStatus | None = None  # None: any but voided
    freezer_id: int | None = None
    box: str | None = None  # box barcode

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE clauses, for a query that has joined the tables they name."""
        found: list[ColumnElement[bool]] = []
        if self.subject:
            found.append(Subject.study_code == self.subject.strip().upper())
        if self.site:
            site_id = select(Site.id).where(Site.code == self.site.strip().upper())
            found.append(Subject.site_id == site_id.scalar_subquery())
        if self.specimen_type:
            found.append(Aliquot.specimen_type == self.specimen_type)
        if self.status:
            found.append(Aliquot.status == self.status)
        else:  # a voided tube never existed: only a list that asks for voided ones shows it
            found.append(Aliquot.status != AliquotStatus.VOIDED)
        if self.box:
            found.append(Box.barcode == barcodes.normalise(self.box))
        if self.freezer_id is not None:
            found.append(Rack.freezer_id == self.freezer_id)
        return found

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        """Add only the joins the filters need, so the plain list stays a scan of one index."""
        if self.site or self.subject:
            stmt = (
                stmt.join(Specimen, Aliquot.specimen_id == Specimen.id)
                .join(Visit, Specimen.visit_id == Visit.id)
                .join(Subject, Visit.subject_id == Subject.id)
            )
        if self.freezer_id is not None or self.box:
            stmt = stmt.join(Placement, Placement.aliquot_id == Aliquot.id).join(
                Box, Placement.box_id == Box.id
            )
        if self.freezer_id is not None:
            stmt = stmt.join(Rack, Box.rack_id == Rack.id)
        return stmt.where(*self.conditions())


@dataclass(frozen=True)
class InventoryRow:
    id: int
    barcode: str
    subject: str
    site: str
    visit: int
    specimen_type: SpecimenType
    volume_ul: int
    concentration_ng_ul: float | None
    status: AliquotStatus
    freeze_thaw_count: int
    freezer: str | None
    rack: str | None
    box: str | None
    box_barcode: str | None
    box_id: int | None
    position: str | None
    consent_withdrawn: bool
    collected_at: datetime
    collection_zone: str
    quality: tuple[Any, ...] = ()  # QUALITY_COLUMNS, in order (issue #16)


# Issue #16: the tube's own SPREC and its DNA and serum quality, appended to the export.
QUALITY_SELECT = (
    Aliquot.sprec_code,
    Aliquot.sprec_version,
    Aliquot.a260_280,
    Aliquot.a260_230,
    Aliquot.quantification_method,
    Aliquot.din,
    Aliquot.gel_integrity,
    Aliquot.dilution_factor,
    Aliquot.extraction_method,
    Aliquot.extraction_kit,
    Aliquot.extracted_on,
    Aliquot.extracted_by,
    Specimen.hemolysis,
    Specimen.lipemia,
    Specimen.icterus,
    Specimen.is_fasting,
    Specimen.clotting_minutes,
)
QUALITY_COLUMNS = tuple(c.key for c in QUALITY_SELECT)


def _inventory_select() -> Select:
    """Every column of the list and the export, with every table joined once."""
    return (
        select(
            Aliquot.id,
            Aliquot.barcode,
            Subject.study_code,
            Site.code,
            Visit.visit_number,
            Aliquot.specimen_type,
            Aliquot.volume_ul,
            Aliquot.concentration_ng_ul,
            Aliquot.status,
            Aliquot.freeze_thaw_count,
            Freezer.name,
            Rack.name,
            Box.name,
            Box.barcode,
            Box.id,
            Placement.row,
            Placement.col,
            Subject.enrolment_status,
            Specimen.collected_at,
            Site.time_zone,
            *QUALITY_SELECT,
        )
        .join(Specimen, Aliquot.specimen_id == Specimen.id)
        .join(Visit, Specimen.visit_id == Visit.id)
        .join(Subject, Visit.subject_id == Subject.id)
        .join(Site, Subject.site_id == Site.id)
        .outerjoin(Placement, Placement.aliquot_id == Aliquot.id)
        .outerjoin(Box, Placement.box_id == Box.id)
        .outerjoin(Rack, Box.rack_id == Rack.id)
        .outerjoin(Freezer, Rack.freezer_id == Freezer.id)
        .order_by(Aliquot.id)
    )


def _rows_for(session: Session, ids: list[int]) -> list[InventoryRow]:
    stmt = _inventory_select().where(Aliquot.id.in_(ids))
    return [_row(*r) for r in session.execute(stmt)]


def _row(*r: Any) -> InventoryRow:
    position = position_name(r[15], r[16]) if r[15] is not None else None
    withdrawn = r[17] is EnrolmentStatus.CONSENT_WITHDRAWN
    return InventoryRow(
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
        r[14], position, withdrawn, r[18], r[19], tuple(r[20:]),
    )  # fmt: skip


# Counting every match grows with the table (21 ms at 250,000 rows; at 2,000,000 even counting
# up to 10,000 matches of a rare filter took 100 ms): the list counts up to TOTAL_LIMIT
# exactly, and beyond gives PostgreSQL's planner estimate, or "more than" on SQLite
# (docs/benchmarks.md).
TOTAL_LIMIT = 1_000


class TotalKind(StrEnum):
    EXACT = "exact"
    ESTIMATE = "estimate"  # the planner's estimate of the matches, above TOTAL_LIMIT
    MORE_THAN = "more_than"  # more than `total` match


@dataclass(frozen=True)
class AliquotPage:
    """One page of the aliquot list. Pages are found by keyset (`after` / `before` an aliquot
    id), so a deep page costs what the first one does."""

    rows: list[InventoryRow]
    total: int  # how many match: exact up to a limit, else as total_kind says
    total_kind: TotalKind
    next_after: int | None  # pass as `after` for the next page; None on the last page
    prev_before: int | None  # pass as `before` for the previous page; None on the first


def list_aliquots(
    session: Session,
    actor: Actor,
    *,
    filters: AliquotFilter,
    after: int | None = None,
    before: int | None = None,
    page: int = 1,
    per_page: int = 50,
    count_up_to: int = TOTAL_LIMIT,
) -> AliquotPage:
    """One page of aliquots matching the filters, oldest first: the page after (or before) an
    aliquot id, else page number `page`; and how many match (see TotalKind)."""
    actor.require(*STAFF)
    ids = filters.apply(select(Aliquot.id))
    bounded = ids.limit(count_up_to + 1).subquery()
    total = session.scalar(select(func.count()).select_from(bounded)) or 0
    kind = TotalKind.EXACT
    if total > count_up_to:
        total, kind = count_up_to, TotalKind.MORE_THAN
        if (guess := _planner_estimate(session, ids)) is not None and guess > count_up_to:
            total, kind = guess, TotalKind.ESTIMATE
    if before is not None:
        back = ids.where(Aliquot.id < before).order_by(Aliquot.id.desc()).limit(per_page + 1)
        found = list(session.scalars(back))[::-1]
        has_prev, page_ids = len(found) > per_page, found[-per_page:]
        has_next = True
    else:
        stmt = ids.order_by(Aliquot.id)
        if after is not None:
            stmt = stmt.where(Aliquot.id > after)
        else:  # a page number, for API clients that page by number (OFFSET: slow when deep)
            stmt = stmt.offset((page - 1) * per_page)
        found = list(session.scalars(stmt.limit(per_page + 1)))
        has_next, page_ids = len(found) > per_page, found[:per_page]
        has_prev = after is not None or page > 1
    return AliquotPage(
        rows=_rows_for(session, page_ids),
        total=total,
        total_kind=kind,
        next_after=page_ids[-1] if has_next and page_ids else None,
        prev_before=page_ids[0] if has_prev and page_ids else None,
    )


def _planner_estimate(session: Session, stmt: Select[Any]) -> int | None:
    """PostgreSQL's estimate of the rows `stmt` returns (EXPLAIN, no execution); None on
    SQLite, which has no such estimate."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return None
    compiled = stmt.compile(dialect=bind.dialect)
    plan = session.connection().exec_driver_sql(
        f"EXPLAIN (FORMAT JSON) {compiled}", dict(compiled.params)
    )
    rows = plan.scalar_one()[0]["Plan"]["Plan Rows"]
    # Two significant figures: an estimate shown as 16,384 would claim a precision it lacks.
    return int(float(f"{int(rows):.2g}"))


def iter_inventory(
    session: Session, actor: Actor, *, filters: AliquotFilter, batch: int = 2000
) -> Iterator[InventoryRow]:
    """Every matching aliquot in one query read in batches (a server-side cursor on
    PostgreSQL), so an export of 250,000 rows streams without holding them all."""
    actor.require(*STAFF)
    stmt = _inventory_select().where(*filters.conditions())
    for r in session.execute(stmt.execution_options(yield_per=batch)):
        yield _row(*r)


INVENTORY_COLUMNS = (
    "barcode",
    "subject",
    "site",
    "visit",
    "type",
    "volume_ul",
    "concentration_ng_ul",
    "status",
    "freeze_thaw",
    "freezer",
    "rack",
    "box",
    "position",
    "collected_at",
    *QUALITY_COLUMNS,
)


def inventory_line(row: InventoryRow) -> list[str | int | float | Decimal | None]:
    """One export line, in INVENTORY_COLUMNS order (the box by its barcode, as scanned)."""
    return [
        row.barcode,
        row.subject,
        row.site,
        row.visit,
        row.specimen_type.value,
        row.volume_ul,
        row.concentration_ng_ul,
        row.status.value,
        row.freeze_thaw_count,
        row.freezer,
        row.rack,
        row.box_barcode,
        row.position,
        # ISO 8601 with the collecting site's offset: the instant, and the site's wall clock.
        timezones.iso(row.collected_at, row.collection_zone),
        *(_cell(value) for value in row.quality),
    ]


def _cell(value: Any) -> Any:
    """A quality value as a sheet shows it: an enum by its value, a flag as yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, StrEnum):
        return value.value
    return value


def custody(session: Session, actor: Actor, barcode: str) -> tuple[Aliquot, list[AuditEvent]]:
    """An aliquot's chain of custody: its events, and its subject's consent withdrawal (which
    flags every tube of theirs), oldest first."""
    aliquot = find_aliquot(session, actor, barcode)
    consent = [
        e
        for e in events_for(session, aliquot.subject)
        if e.action == Action.SUBJECT_CONSENT_WITHDRAWN
    ]
    return aliquot, sorted([*events_for(session, aliquot), *consent], key=lambda e: e.id)
