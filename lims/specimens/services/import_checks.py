"""The checks of an aliquot import that need the database, with every lookup preloaded.

At consortium size (50,000 rows) a SELECT per row would dominate; instead each kind of record the
file names (subjects, visits, tubes, aliquots) is loaded once (one `= ANY(array)` on PostgreSQL,
IN lists on SQLite), and the rows are checked against dictionaries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from operator import itemgetter
from typing import Any

from sqlalchemy import ARRAY, any_, bindparam, func, select
from sqlalchemy.orm import Session

from lims.auth.models import Site
from lims.auth.timezones import DEFAULT_ZONE
from lims.errors import FieldError
from lims.specimens.models import (
    TERMINAL_STATUSES,
    Aliquot,
    AliquotStatus,
    Specimen,
    SpecimenType,
    Subject,
    TubeType,
    Visit,
)
from lims.specimens.services.common import IssuedCodes, barcode_problem, issued_codes, locked
from lims.specimens.services.permits import BenchWork, consent_permits, withdrawal_levels
from lims.specimens.services.plausibility import (
    DEFAULT_LIMITS,
    Limits,
    split_volume_problem,
    time_problems,
)
from lims.specimens.services.tubes import PreAnalytics, in_utc, pre_analytics_problems

# The columns that describe the primary tube; every row of one tube must agree on them.
TUBE_COLUMNS = (
    "tube_type",
    "tube_volume_ml",
    "collected_at",
    "received_at",
    "processing_started_at",
    "pre_processing_temperature",
    "centrifuge_g",
    "centrifuge_minutes",
    "centrifuge_temperature",
    "centrifuge_braked",
    "processed_at",
    "storage_temperature_c",
    "is_second_spun",
    "hemolysis",
    "lipemia",
    "icterus",
    "is_fasting",
    "clotting_minutes",
)
_tube_columns = itemgetter(*TUBE_COLUMNS)
IN_LIST_SIZE = 2000  # well under SQLite's and PostgreSQL's bound-parameter limits

VisitKey = tuple[str, int]


@dataclass
class Row:
    number: int  # as the spreadsheet shows it: the header is row 1
    values: dict[str, Any]


@dataclass(frozen=True)
class KnownTube:
    id: int
    study_code: str
    visit_number: int
    tube_type: TubeType


@dataclass(frozen=True)
class KnownAliquot:
    id: int
    tube_barcode: str
    status: AliquotStatus


@dataclass
class Known:
    """What the database already holds of the records the file names."""

    subjects: dict[str, Subject]
    visits: dict[VisitKey, Visit]
    tubes: dict[str, KnownTube]
    aliquots: dict[str, KnownAliquot]
    issued: IssuedCodes
    stopped: dict[str, str] = field(default_factory=dict)  # study code -> why the bench may not


@dataclass
class NewTube:
    barcode: str
    visit: VisitKey
    values: dict[str, Any]  # the tube columns, times in UTC
    pre: PreAnalytics  # the same, as the SPREC code reads them


@dataclass
class Plan:
    """What the import will write, in the order it must be written."""

    new_visits: dict[VisitKey, date] = field(default_factory=dict)
    subject_ids: dict[str, int] = field(default_factory=dict)
    visit_ids: dict[VisitKey, int] = field(default_factory=dict)
    new_tubes: dict[str, NewTube] = field(default_factory=dict)
    tube_ids: dict[str, int] = field(default_factory=dict)
    parent_ids: dict[str, int] = field(default_factory=dict)
    levels: list[list[Row]] = field(default_factory=list)  # parents before their children
    processing_site_id: int | None = None  # None: each tube's collecting site


def _among(session: Session, column: Any, values: Iterable[Any]) -> Iterator[Any]:
    """WHERE clauses that together match `values`: on PostgreSQL one `= ANY(array)` with the
    values as a single array parameter, elsewhere IN lists of IN_LIST_SIZE. An IN list binds
    each value on its own, and psycopg parses a statement of 2,000 placeholders in Python every
    time (it caches only short ones): 1 s of a 20,000-row import's 8 s of client CPU."""
    items = sorted(set(values))
    if session.get_bind().dialect.name == "postgresql":
        if items:
            # A real array parameter. Not its text cast to an array: array_in is only stable,
            # so a sequential scan would parse the whole array again for every row it reads.
            yield column == any_(bindparam("values", items, type_=ARRAY(column.type)))
        return
    for start in range(0, len(items), IN_LIST_SIZE):
        yield column.in_(items[start : start + IN_LIST_SIZE])


def _column(rows: list[Row], name: str) -> set[Any]:
    return {r.values[name] for r in rows if r.values[name] is not None}


def preload(session: Session, rows: list[Row]) -> Known:
    """Load every subject, visit, tube and aliquot the file mentions, a few queries in all."""
    subjects: dict[str, Subject] = {}
    # Locked, as registering a visit or a tube locks its subject (common.py's lock order): a
    # withdrawal then waits for the import, or the import sees it. One statement on
    # PostgreSQL, in id order, so two imports never lock crosswise; SQLite ignores the lock.
    for where in _among(session, Subject.study_code, _column(rows, "study_code")):
        found = session.scalars(locked(select(Subject).where(where).order_by(Subject.id)))
        subjects |= {s.study_code: s for s in found}
    code_of = {s.id: code for code, s in subjects.items()}
    visits: dict[VisitKey, Visit] = {}
    for where in _among(session, Visit.subject_id, code_of):
        for visit in session.scalars(select(Visit).where(where)):
            visits[(code_of[visit.subject_id], visit.visit_number)] = visit
    codes = _column(rows, "tube_barcode") | _column(rows, "aliquot_barcode")
    codes |= _column(rows, "parent_barcode")
    return Known(
        subjects,
        visits,
        _tubes(session, codes),
        _aliquots(session, codes),
        issued_codes(session),
        _stopped(session, subjects),
    )


def _stopped(session: Session, subjects: dict[str, Subject]) -> dict[str, str]:
    """Why the bench may not add to each subject it may not add to: the same consent rule as
    the bench's other services, asked only for the subjects who ever withdrew (two queries find
    them; a query per subject was a fifth of a 20,000-row import's time)."""
    withdrawn = withdrawal_levels(session, (s.id for s in subjects.values()))
    return {
        code: decision.reasons[0]
        for code, subject in subjects.items()
        if subject.id in withdrawn
        and not (
            decision := consent_permits(session, subject, on=date.max, purpose=BenchWork.USE)
        ).permitted
    }


def _tubes(session: Session, codes: set[str]) -> dict[str, KnownTube]:
    found: dict[str, KnownTube] = {}
    for where in _among(session, Specimen.barcode, codes):
        stmt = (
            select(
                Specimen.barcode,
                Specimen.id,
                Subject.study_code,
                Visit.visit_number,
                Specimen.tube_type,
            )
            .join(Visit, Specimen.visit_id == Visit.id)
            .join(Subject, Visit.subject_id == Subject.id)
            .where(where)
        )
        for code, tube_id, study_code, visit_number, tube_type in session.execute(stmt):
            found[code] = KnownTube(tube_id, study_code, visit_number, tube_type)
    return found


def _aliquots(session: Session, codes: set[str]) -> dict[str, KnownAliquot]:
    found: dict[str, KnownAliquot] = {}
    for where in _among(session, Aliquot.barcode, codes):
        stmt = (
            select(Aliquot.barcode, Aliquot.id, Specimen.barcode, Aliquot.status)
            .join(Specimen, Aliquot.specimen_id == Specimen.id)
            .where(where)
        )
        for code, aliquot_id, tube_barcode, status in session.execute(stmt):
            found[code] = KnownAliquot(aliquot_id, tube_barcode, status)
    return found


class Problems(list[FieldError]):
    def add(self, row: Row | int, column: str, message: str) -> None:
        number = row if isinstance(row, int) else row.number
        self.append({"row": number, "field": column, "message": message})


def plan_import(
    session: Session,
    rows: list[Row],
    *,
    now: datetime,
    limits: Limits = DEFAULT_LIMITS,
    lab: Site | None = None,
) -> tuple[Plan, list[FieldError]]:
    """Check every row against the database and the rest of the file; say what to write.
    `lab` is the processing lab, whose clock the receipt and processing times are read on."""
    known = preload(session, rows)
    plan, problems = Plan(processing_site_id=lab.id if lab else None), Problems()
    _plan_visits(rows, known, plan, problems)
    _plan_tubes(rows, known, plan, problems, lab.time_zone if lab else None)
    _plan_aliquots(rows, known, plan, problems)
    _check_plausible(session, rows, known, plan, problems, now=now, limits=limits)
    return plan, problems


def _visit_key(row: Row) -> VisitKey | None:
    code, number = row.values["study_code"], row.values["visit_number"]
    return None if code is None or number is None else (code, number)


def _plan_visits(rows: list[Row], known: Known, plan: Plan, problems: Problems) -> None:
    by_visit: dict[VisitKey, list[Row]] = defaultdict(list)
    for row in rows:
        code = row.values["study_code"]
        subject = known.subjects.get(code) if code else None
        if code and subject is None:
            problems.add(row, "study_code", f"{code} is not registered; register the subject first")
        elif subject is not None and code in known.stopped:
            problems.add(row, "study_code", f"{known.stopped[code]}; nothing may be added")
        elif subject is not None and (key := _visit_key(row)) is not None:
            plan.subject_ids[code] = subject.id
            by_visit[key].append(row)
    for key, group in by_visit.items():
        dates = {r.values["visit_on"]: r for r in group if r.values["visit_on"] is not None}
        label = f"{key[0]} V{key[1]}"
        if (visit := known.visits.get(key)) is not None:
            plan.visit_ids[key] = visit.id
            for day, row in dates.items():
                if day != visit.visit_on:
                    problems.add(
                        row, "visit_on", f"{label} is on {visit.visit_on} in the LIMS, not {day}"
                    )
        elif len(dates) > 1:
            for row in group:
                problems.add(
                    row,
                    "visit_on",
                    f"{label} has different dates: {', '.join(map(str, sorted(dates)))}",
                )
        elif not dates:
            problems.add(group[0], "visit_on", f"{label} is a new visit; give its date")
        else:
            plan.new_visits[key] = next(iter(dates))


def _plan_tubes(
    rows: list[Row], known: Known, plan: Plan, problems: Problems, lab_zone: str | None
) -> None:
    by_tube: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if row.values["tube_barcode"] is not None:
            by_tube[row.values["tube_barcode"]].append(row)
    # Each subject's site's clock, read once (through the ORM per tube: 0.2 s per 100,000 rows).
    zone_of = {code: subject.site.time_zone for code, subject in known.subjects.items()}
    for code, group in by_tube.items():
        if (tube := known.tubes.get(code)) is not None:
            _check_known_tube(code, tube, group, problems)
            plan.tube_ids[code] = tube.id
        elif code in known.aliquots:
            for row in group:
                problems.add(row, "tube_barcode", f"{code} is an aliquot in the LIMS, not a tube")
        elif (problem := barcode_problem(code, issued=known.issued)) is not None:
            for row in group:
                problems.add(row, "tube_barcode", problem)
        elif new := _merge_tube(code, group, problems, _zones(group, zone_of, lab_zone)):
            plan.new_tubes[code] = new


def _zones(group: list[Row], zone_of: dict[str, str], lab_zone: str | None) -> tuple[str, str]:
    """The clocks of a tube's collection and processing (UTC for an unknown subject, whose rows
    are refused anyway)."""
    collection = zone_of.get(group[0].values["study_code"], DEFAULT_ZONE)
    return collection, lab_zone or collection


def _check_known_tube(code: str, tube: KnownTube, group: list[Row], problems: Problems) -> None:
    for row in group:
        key = _visit_key(row)
        if key is not None and key != (tube.study_code, tube.visit_number):
            problems.add(
                row,
                "tube_barcode",
                f"{code} belongs to {tube.study_code} V{tube.visit_number} in the LIMS",
            )
        tube_type = row.values["tube_type"]
        if tube_type is not None and tube_type != tube.tube_type:
            problems.add(row, "tube_type", f"{code} is {tube.tube_type.value} in the LIMS")


def _merge_tube(
    code: str, group: list[Row], problems: Problems, zones: tuple[str, str]
) -> NewTube | None:
    """One new tube from its rows: each tube column from the rows that fill it, all agreeing."""
    first = group[0]
    key = _visit_key(first)
    merged, ok = _merged_columns(code, key, group, problems)
    for name in ("tube_type", "collected_at"):
        if merged[name] is None:
            problems.add(first, name, f"is required for new tube {code}")
            ok = False
    if not ok or key is None:
        return None
    pre = PreAnalytics(
        **{k: merged[k] for k in TUBE_COLUMNS if k not in ("tube_type", "tube_volume_ml")}
    )
    pre, wall_clock = in_utc(pre, collection_zone=zones[0], processing_zone=zones[1])
    merged |= pre.as_columns()
    found = wall_clock or pre_analytics_problems(pre)
    for name, message in found:
        problems.add(first, name, message)
    return None if found else NewTube(code, key, merged, pre)


def _merged_columns(
    code: str, key: VisitKey | None, group: list[Row], problems: Problems
) -> tuple[dict[str, Any], bool]:
    """The tube columns of a tube's rows, and whether the rows agree (each disagreement is
    reported)."""
    columns = _tube_columns(group[0].values)
    # As a spreadsheet export writes them, every row repeats the same tube columns: then no
    # column needs merging (the merge was a third of the checks' time, 100,000 rows, 2026-12-02).
    if all(_tube_columns(r.values) == columns and _visit_key(r) == key for r in group):
        return dict(zip(TUBE_COLUMNS, columns, strict=True)), key is not None
    merged: dict[str, Any] = dict.fromkeys(TUBE_COLUMNS)
    ok = key is not None
    for row in group:
        if _visit_key(row) != key:
            problems.add(
                row, "tube_barcode", f"{code} is given for another visit on row {group[0].number}"
            )
            ok = False
        for name in TUBE_COLUMNS:
            value = row.values[name]
            if value is None:
                continue
            if merged[name] is None:
                merged[name] = value
            elif merged[name] != value:
                earlier = _shown(merged[name])
                problems.add(row, name, f"differs from an earlier row of tube {code} ({earlier})")
                ok = False
    return merged, ok


def _shown(value: Any) -> str:
    """A value as the sheet would show it."""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    return str(value.value if isinstance(value, Enum) else value)


def _plan_aliquots(rows: list[Row], known: Known, plan: Plan, problems: Problems) -> None:
    in_file: dict[str, Row] = {}
    tube_rows = {r.values["tube_barcode"]: r for r in rows if r.values["tube_barcode"] is not None}
    for row in rows:
        code = row.values["aliquot_barcode"]
        if code is None:
            continue
        if (earlier := in_file.get(code)) is not None:
            problems.add(row, "aliquot_barcode", f"{code} is also on row {earlier.number}")
            continue
        in_file[code] = row
        if code in known.aliquots or code in known.tubes:
            problems.add(row, "aliquot_barcode", f"{code} is already in use in the LIMS")
        elif code in tube_rows:
            problems.add(
                row, "aliquot_barcode", f"{code} is a tube barcode on row {tube_rows[code].number}"
            )
        elif (problem := barcode_problem(code, issued=known.issued)) is not None:
            problems.add(row, "aliquot_barcode", problem)
    for row in in_file.values():
        _check_parent(row, in_file, known, plan, problems)
    plan.levels = _levels(in_file, problems)


def _check_parent(
    row: Row, in_file: dict[str, Row], known: Known, plan: Plan, problems: Problems
) -> None:
    parent, tube = row.values["parent_barcode"], row.values["tube_barcode"]
    if parent is None:
        return
    if parent == row.values["aliquot_barcode"]:
        problems.add(row, "parent_barcode", "an aliquot cannot be its own parent")
    elif (parent_row := in_file.get(parent)) is not None:
        if parent_row.values["tube_barcode"] != tube:
            problems.add(
                row, "parent_barcode", f"{parent} (row {parent_row.number}) is from another tube"
            )
    elif (stock := known.aliquots.get(parent)) is not None:
        if stock.tube_barcode != tube:
            problems.add(
                row, "parent_barcode", f"{parent} is from tube {stock.tube_barcode} in the LIMS"
            )
        elif stock.status in TERMINAL_STATUSES:
            problems.add(row, "parent_barcode", f"{parent} is {stock.status.value}")
        else:
            plan.parent_ids[parent] = stock.id
    else:
        problems.add(row, "parent_barcode", f"{parent} is neither in this file nor in the LIMS")


def _levels(in_file: dict[str, Row], problems: Problems) -> list[list[Row]]:
    """Rows by depth of their parent chain within the file, so parents are written first."""
    depth: dict[str, int] = {}
    for code in in_file:
        chain: list[str] = []
        current: str | None = code
        while current in in_file and current not in depth:
            if current in chain:
                problems.add(
                    in_file[code], "parent_barcode", "the parent chain loops back on itself"
                )
                break
            chain.append(current)
            current = in_file[current].values["parent_barcode"]
        else:
            base = depth.get(current, -1) if current is not None else -1
            for offset, member in enumerate(reversed(chain), start=1):
                depth[member] = base + offset
            continue
        for member in chain:
            depth[member] = 0  # reported above; the plan is not written anyway
    levels: list[list[Row]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for code, row in in_file.items():
        levels[depth[code]].append(row)
    return levels


def _check_plausible(
    session: Session,
    rows: list[Row],
    known: Known,
    plan: Plan,
    problems: Problems,
    *,
    now: datetime,
    limits: Limits,
) -> None:
    """The plausibility rules (services/plausibility.py) on what the file would write: a new
    tube's times, and the volume its aliquots take, summed per tube across rows."""
    first_row: dict[str, Row] = {}
    for row in rows:
        first_row.setdefault(row.values["tube_barcode"], row)
    for code, tube in plan.new_tubes.items():
        visit = known.visits.get(tube.visit)
        visit_on = visit.visit_on if visit is not None else plan.new_visits.get(tube.visit)
        for name, message in time_problems(tube.values, visit_on=visit_on, now=now, limits=limits):
            problems.add(first_row[code], name, message)
    drawn: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        values = row.values
        if (
            values["aliquot_barcode"]
            and values["parent_barcode"] is None
            and values["specimen_type"] not in (None, SpecimenType.DNA)
        ):
            drawn[values["tube_barcode"]].append(row)
    volumes, already = _known_volumes(
        session, [plan.tube_ids[c] for c in drawn if c in plan.tube_ids]
    )
    for code, group in drawn.items():
        if code in plan.new_tubes:
            volume_ml, before = plan.new_tubes[code].values["tube_volume_ml"], 0
        elif code in plan.tube_ids:
            tube_id = plan.tube_ids[code]
            volume_ml, before = volumes.get(tube_id), already.get(tube_id, 0)
        else:
            continue
        total = sum(r.values["volume_ul"] or 0 for r in group)
        if problem := split_volume_problem(
            tube=code, volume_ml=volume_ml, already_ul=before, count=1, volume_ul=total
        ):
            rows_named = ", ".join(str(r.number) for r in group[:10])
            problems.add(group[-1], "volume_ul", f"{problem} (rows {rows_named})")


def _known_volumes(
    session: Session, tube_ids: list[int]
) -> tuple[dict[int, float | None], dict[int, int]]:
    """Each tube's volume (mL) and what its direct non-DNA aliquots took from it (µL, as
    drawn: their later use does not give it back)."""
    volumes: dict[int, float | None] = {}
    already: dict[int, int] = {}
    for where in _among(session, Specimen.id, tube_ids):
        stmt = select(Specimen.id, Specimen.volume_ml).where(where)
        volumes |= {tube_id: volume for tube_id, volume in session.execute(stmt)}
    for where in _among(session, Aliquot.specimen_id, tube_ids):
        sums = (
            select(Aliquot.specimen_id, func.sum(Aliquot.drawn_ul))
            .where(
                where,
                Aliquot.parent_id.is_(None),
                Aliquot.specimen_type != SpecimenType.DNA,
            )
            .group_by(Aliquot.specimen_id)
        )
        already |= {tube_id: int(total or 0) for tube_id, total in session.execute(sums)}
    return volumes, already
