"""The two baselines bench/inventory.py times against the storage services, on the same data.

The competent baseline is what a competent engineer writes with the ORM without our
optimisations: one joined query of ORM objects (Aliquot with its placement, the many-to-one
chain loaded by the same joins through contains_eager or joinedload) that filters and pages in
SQL with ORDER BY, LIMIT and OFFSET, and a count over the same joins; the export streams that
query with yield_per. What it lacks are the services' optimisations: the count and the page's
ids taken from only the tables the filters need, the page's rows then fetched by id, and plain
column tuples instead of ORM objects.

The strawman is what one writes first: load every Aliquot, filter and slice in Python, and
reach the subject, the site and the location through lazy loads and one Placement query per
aliquot (N+1).
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from lims.auth import timezones
from lims.auth.models import Site
from lims.specimens.models import Aliquot, EnrolmentStatus, Specimen, Subject, Visit
from lims.storage.models import Box, Placement, Rack
from lims.storage.services import AliquotFilter
from lims.storage.services.finding import QUALITY_COLUMNS

PER_PAGE = 50
YIELD_PER = 2000
S = TypeVar("S", bound=Select)


def orm_line(aliquot: Aliquot, placement: Placement | None) -> list[Any]:
    """One export line from ORM objects, in INVENTORY_COLUMNS order."""
    visit = aliquot.specimen.visit
    box = placement.box if placement else None
    rack = box.rack if box else None
    return [
        aliquot.barcode,
        visit.subject.study_code,
        visit.subject.site.code,
        visit.visit_number,
        aliquot.specimen_type.value,
        aliquot.volume_ul,
        aliquot.concentration_ng_ul,
        aliquot.status.value,
        aliquot.freeze_thaw_count,
        rack.freezer.name if rack else None,
        rack.name if rack else None,
        box.barcode if box else None,
        placement.position if placement else None,
        timezones.iso(aliquot.specimen.collected_at, visit.subject.site.time_zone),
        *(
            _cell(getattr(aliquot if hasattr(Aliquot, name) else aliquot.specimen, name))
            for name in QUALITY_COLUMNS
        ),
    ]


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value.value if isinstance(value, StrEnum) else value


# The competent baseline: one joined ORM query that filters and pages in SQL.


def _joined(stmt: S) -> S:
    """Every table a line shows, joined once; the aliquots not in a box are outer-joined."""
    return (
        stmt.select_from(Aliquot)
        .join(Aliquot.specimen)
        .join(Specimen.visit)
        .join(Visit.subject)
        .join(Subject.site)
        .outerjoin(Placement, Placement.aliquot_id == Aliquot.id)
        .outerjoin(Placement.box)
        .outerjoin(Box.rack)
        .outerjoin(Rack.freezer)
    )


def _where(filters: AliquotFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if filters.site:
        found.append(Site.code == filters.site)
    if filters.subject:
        found.append(Subject.study_code == filters.subject)
    if filters.specimen_type:
        found.append(Aliquot.specimen_type == filters.specimen_type)
    if filters.status:
        found.append(Aliquot.status == filters.status)
    if filters.freezer_id is not None:
        found.append(Rack.freezer_id == filters.freezer_id)
    if filters.box:
        found.append(Box.barcode == filters.box)
    return found


def _objects(filters: AliquotFilter) -> Select[Aliquot, Placement]:
    chain = contains_eager(Aliquot.specimen).contains_eager(Specimen.visit)
    location = contains_eager(Placement.box).contains_eager(Box.rack)
    return (
        _joined(select(Aliquot, Placement))
        .where(*_where(filters))
        .options(
            chain.contains_eager(Visit.subject).contains_eager(Subject.site),
            location.contains_eager(Rack.freezer),
        )
        .order_by(Aliquot.id)
    )


def competent_list(
    session: Session, filters: AliquotFilter, page: int
) -> tuple[list[list[Any]], int]:
    total = session.scalar(_joined(select(func.count(Aliquot.id))).where(*_where(filters)))
    stmt = _objects(filters).offset((page - 1) * PER_PAGE).limit(PER_PAGE)
    return [orm_line(a, p) for a, p in session.execute(stmt)], total or 0


def competent_export(session: Session) -> Iterator[list[Any]]:
    stmt = _objects(AliquotFilter()).execution_options(yield_per=YIELD_PER)
    for aliquot, placement in session.execute(stmt):
        yield orm_line(aliquot, placement)


def competent_grid(session: Session, box_id: int) -> list[tuple[Any, ...]]:
    box = session.get(Box, box_id)
    assert box is not None
    stmt = (
        select(Placement)
        .where(Placement.box_id == box.id)
        .options(
            joinedload(Placement.aliquot)
            .joinedload(Aliquot.specimen)
            .joinedload(Specimen.visit)
            .joinedload(Visit.subject)
        )
    )
    return sorted(_grid_cell(p) for p in session.scalars(stmt))


def _grid_cell(placement: Placement) -> tuple[Any, ...]:
    aliquot = placement.aliquot
    withdrawn = aliquot.subject.enrolment_status is EnrolmentStatus.CONSENT_WITHDRAWN
    kind, status = aliquot.specimen_type, aliquot.status
    return (placement.row, placement.col, aliquot.barcode, kind, status, withdrawn)


# The strawman: ORM objects, lazy loading, and Python doing the database's work.


def _placement(session: Session, aliquot: Aliquot) -> Placement | None:
    return session.scalars(select(Placement).where(Placement.aliquot_id == aliquot.id)).first()


def _matches(session: Session, aliquot: Aliquot, filters: AliquotFilter) -> bool:
    """The filters in the form's order, each through the relationships it needs."""
    if filters.site and aliquot.specimen.visit.subject.site.code != filters.site:
        return False
    if filters.subject and aliquot.specimen.visit.subject.study_code != filters.subject:
        return False
    if filters.specimen_type and aliquot.specimen_type != filters.specimen_type:
        return False
    if filters.status and aliquot.status != filters.status:
        return False
    if filters.freezer_id is None and not filters.box:
        return True
    placement = _placement(session, aliquot)
    if placement is None or (filters.box and placement.box.barcode != filters.box):
        return False
    rack = placement.box.rack
    wanted = filters.freezer_id
    return wanted is None or (rack is not None and rack.freezer_id == wanted)


def strawman_list(
    session: Session, filters: AliquotFilter, page: int
) -> tuple[list[list[Any]], int]:
    aliquots = session.scalars(select(Aliquot).order_by(Aliquot.id)).all()
    matching = [a for a in aliquots if _matches(session, a, filters)]
    shown = matching[(page - 1) * PER_PAGE : page * PER_PAGE]
    return [orm_line(a, _placement(session, a)) for a in shown], len(matching)


def strawman_export(session: Session, limit: int | None) -> Iterator[list[Any]]:
    aliquots = session.scalars(select(Aliquot).order_by(Aliquot.id).limit(limit)).all()
    return (orm_line(a, _placement(session, a)) for a in aliquots)


def strawman_grid(session: Session, box_id: int) -> list[tuple[Any, ...]]:
    box = session.get(Box, box_id)
    assert box is not None
    return sorted(_grid_cell(p) for p in box.placements)
