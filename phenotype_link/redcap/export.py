"""Parse a REDCap records export (flat CSV, raw or label form) into typed instrument records.

All or nothing: parse_export returns every instrument record of the file, or raises ExportErrors
with every problem found (row, record, event, field, value, reason). Rows are numbered as a
spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter

from phenotype_link.instruments import Field, Instrument
from phenotype_link.redcap.cells import (
    CellProblem,
    Value,
    is_checked,
    missing_lookup,
    parse_status,
    parse_value,
)
from phenotype_link.redcap.columns import Column, is_label_header, label_columns, raw_columns
from phenotype_link.redcap.mapping import MISSING_CODES, ExportMapping
from phenotype_link.redcap.scoring import ScaleScore, score_instrument

VISIT_INSTRUMENT, VISIT_DATE = "visit", "visit_date"
# A checkbox or form-status cell that says nothing was entered (raw, label; redcap.md 4.5).
UNTICKED = frozenset({"0", "Unchecked", "Incomplete"})
SYSTEM_ROLES = frozenset({"record", "event", "repeat_instrument", "repeat_instance", "dag"})
# The event rule: a unique event name (or, in a label export, an event label) that starts with
# "visit <n>" belongs to visit n: visit_1_arm_1, visit_12_arm_2b, "Visit 3 (Arm 1: Arm 1)".
# Anything else needs the mapping file's [events] table. A classic project (no event column) is
# visit 1.
VISIT_EVENT = re.compile(r"^visit_(\d+)(?:_|$)")


@dataclass(frozen=True)
class ExportProblem:
    row: int
    record: str
    event: str
    field: str
    value: str
    reason: str

    def __str__(self) -> str:
        where = [f"Row {self.row}"]
        where += [f"record {self.record}"] if self.record else []
        where += [f"event {self.event}"] if self.event else []
        shown = f"{self.value!r} " if self.value else ""
        return f"{', '.join(where)}, {self.field}: {shown}{self.reason}"


class ExportErrors(ValueError):
    """The export cannot be imported; `problems` lists every reason, nothing is partial."""

    def __init__(self, problems: Sequence[ExportProblem]) -> None:
        super().__init__(f"{len(problems)} problems found; nothing was imported")
        self.problems = tuple(problems)


@dataclass(frozen=True)
class InstrumentRecord:
    """One instrument filled for one subject at one event (and one repeat instance)."""

    row: int
    record: str  # the subject's study code
    event: str  # as written in the file; "" in a classic project
    visit_number: int
    visit_date: date | None  # the event's visit_date, when the visit instrument was filled
    instrument: str
    repeat_instance: int  # 1 for an instrument that does not repeat
    values: Mapping[str, Value]
    missing: Mapping[str, str] = field(default_factory=dict)  # field -> Missing Data Code
    status: str | None = None  # incomplete, unverified or complete (<form>_complete)
    data_access_group: str = ""
    score: ScaleScore | None = None  # for a rating scale: its scores, computed from the items


@dataclass(frozen=True)
class ParsedExport:
    records: tuple[InstrumentRecord, ...]
    is_label_export: bool
    subjects: frozenset[str]


def visit_number(event: str, mapping: ExportMapping | None) -> int | None:
    """The visit an event belongs to: the mapping's [events] first, then the event rule."""
    if mapping is not None and event in mapping.events:
        return mapping.events[event]
    if not event:
        return 1
    normal = re.sub(r"[^a-z0-9]+", "_", event.lower()).strip("_")
    return int(match.group(1)) if (match := VISIT_EVENT.match(normal)) else None


def read_rows(text: str) -> list[list[str]]:
    """Every CSV record; a BOM is dropped and newlines inside quoted cells stay in their cell."""
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


_UNSEEN = object()  # a cell text not parsed yet (None, 0 and "" are values)
_Problem = Callable[[str, str, str], None]  # (field, value, reason), row/record/event bound


@dataclass
class _Context:
    instruments: Sequence[Instrument]
    known_subjects: Collection[str]
    today: date
    mapping: ExportMapping | None
    missing_codes: Mapping[str, str]
    missing: dict[str, str] = field(default_factory=dict)  # cell text -> Missing Data Code
    system: list[Column] = field(default_factory=list)
    problems: list[ExportProblem] = field(default_factory=list)
    seen: dict[tuple[str, str, str, int], int] = field(default_factory=dict)
    by_instrument: dict[str, list[Column]] = field(default_factory=dict)  # in file order
    plans: dict[str, _Plan] = field(default_factory=dict)  # instrument -> how to read its cells
    status_at: dict[str, int] = field(default_factory=dict)  # instrument -> its status column
    record_header: str = "record_id"
    shapes: dict[str, tuple[tuple[Field, ...], tuple[str, ...]]] = field(default_factory=dict)
    memos: dict[str, dict[str, Value]] = field(default_factory=dict)  # field -> cell -> value
    visits: dict[str, int | None] = field(default_factory=dict)  # event -> visit number


def parse_export(
    text: str,
    instruments: Sequence[Instrument],
    *,
    known_subjects: Collection[str],
    today: date,
    mapping: ExportMapping | None = None,
) -> ParsedExport:
    """Every instrument record of a REDCap export, or ExportErrors naming every problem."""
    rows = read_rows(text)
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise ExportErrors([ExportProblem(1, "", "", "header", "", "the file has no header row")])
    header = [h.strip() for h in rows[0]]
    ctx = _Context(
        instruments,
        known_subjects,
        today,
        mapping,
        mapping.missing_codes if mapping else MISSING_CODES,
    )
    is_label = _read_header(ctx, header)
    parsed: list[_Parsed] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            # REDCap writes every cell; a short or long row is a broken file, e.g. a line break
            # in an unquoted cell shifting the columns (redcap.md 4.2).
            reason = f"has {len(row)} cells where the header has {len(header)}"
            ctx.problems.append(ExportProblem(number, row[0].strip(), "", "row", "", reason))
            continue
        parsed += _parse_row(ctx, number, row)
    if ctx.problems:
        raise ExportErrors(ctx.problems)
    records = _with_visit_dates(parsed, instruments)
    return ParsedExport(
        records=records, is_label_export=is_label, subjects=frozenset(r.record for r in records)
    )


def _read_header(ctx: _Context, header: list[str]) -> bool:
    """What each column holds, into ctx; header problems are row 1. True for label headers."""
    is_label = is_label_header(header, ctx.instruments)
    if is_label and ctx.mapping is not None:
        reason = "a mapping file needs an export with raw headers (variable names), not labels"
        raise ExportErrors([ExportProblem(1, "", "", "header", header[0], reason)])
    if is_label:
        columns, header_problems = label_columns(header, ctx.instruments, ctx.missing_codes)
    else:
        columns, header_problems = raw_columns(
            header, ctx.instruments, ctx.mapping, ctx.missing_codes
        )
    ctx.missing = missing_lookup(ctx.missing_codes)
    ctx.record_header = header[0]
    ctx.system = [c for c in columns if c.role in SYSTEM_ROLES]
    for col in columns:
        if col.instrument is not None:
            ctx.by_instrument.setdefault(col.instrument.name, []).append(col)
            if col.role == "status":
                ctx.status_at[col.instrument.name] = col.index
    ctx.plans = {name: _plan(cols, ctx.memos) for name, cols in ctx.by_instrument.items()}
    ctx.problems += [
        ExportProblem(1, "", "", h.header or f"column {h.column}", h.header, h.reason)
        for h in header_problems
    ]
    if len(set(header)) != len(header) and not is_label:
        for h in sorted({h for h in header if header.count(h) > 1}):
            ctx.problems.append(ExportProblem(1, "", "", h, h, "is a column twice"))
    return is_label


def _with_visit_dates(
    parsed: list[_Parsed], instruments: Sequence[Instrument]
) -> tuple[InstrumentRecord, ...]:
    """Each record with its event's visit date. In a repeating event each instance has its
    own visit form; a repeating instrument's instances share the event's (instance 1).

    The records are made here, once, with their dates: copying 224,000 frozen records with
    dataclasses.replace to add the date cost 2 s of a 40,000-event parse (cProfile, 2026-12-01).
    """
    repeating = {i.name for i in instruments if i.is_repeating}
    dates = {
        (p[1], p[2], p[5]): day
        for p in parsed
        if p[4] == VISIT_INSTRUMENT and isinstance(day := p[6].get(VISIT_DATE), date)
    }
    records = []
    for row, record, event, visit, name, n, values, missing, status, dag, score in parsed:
        on = dates.get((record, event, 1 if name in repeating else n))
        made = (row, record, event, visit, on, name, n, values, missing, status, dag, score)
        records.append(InstrumentRecord(*made))
    return tuple(records)


def _system(row: Sequence[str], columns: Sequence[Column]) -> dict[str, str]:
    return {c.role: row[c.index].strip() if c.index < len(row) else "" for c in columns}


def _repeat_instrument(ctx: _Context, text: str) -> Instrument | None:
    name = ctx.mapping.instruments.get(text, text) if ctx.mapping is not None else text
    return next((i for i in ctx.instruments if text and name in (i.name, i.label)), None)


# A record before its visit date is known: row, record, event, visit, instrument, instance,
# values, missing, status, data access group, score (InstrumentRecord's fields, in order).
_Parsed = tuple[
    int, str, str, int, str, int, dict[str, Value], dict[str, str], str | None, str,
    ScaleScore | None,
]  # fmt: skip


def _parse_row(ctx: _Context, number: int, row: Sequence[str]) -> list[_Parsed]:
    system = _system(row, ctx.system)
    record, event = system["record"], system.get("event", "")

    def problem(field_name: str, value: str, reason: str) -> None:  # binds row, record, event
        ctx.problems.append(ExportProblem(number, record, event, field_name, value, reason))

    where = _where(ctx, problem, number, system)
    if where is None:
        return []
    visit, repeat, instance = where
    dag = system.get("dag", "")
    out: list[_Parsed] = []
    plans = ctx.plans
    for inst in [repeat] if repeat is not None else ctx.instruments:
        if (plan := plans.get(inst.name)) is None:
            continue
        if not any(plan.values(row)) and _EMPTY_BOX.issuperset(plan.boxes(row)):
            continue  # not filled in this row: every value blank, every box unticked
        if (made := _parse_instrument(ctx, problem, row, inst, plan)) is not None:
            values, missing, status, score = made
            out.append((number, record, event, visit, inst.name, instance, values, missing,
                        status, dag, score))  # fmt: skip
    return out


def _where(
    ctx: _Context, problem: _Problem, number: int, system: Mapping[str, str]
) -> tuple[int, Instrument | None, int] | None:
    """(visit, repeating instrument, instance) of a row; None when the row cannot be read."""
    record, event = system["record"], system.get("event", "")
    if not record:
        problem(ctx.record_header, "", "the record id is blank")
        return None
    if record not in ctx.known_subjects:
        problem(ctx.record_header, record, "is not a study code the LIMS knows")
    if (visit := ctx.visits.get(event, 0)) == 0:  # read once per event name and file
        visit = ctx.visits[event] = visit_number(event, ctx.mapping)
    if visit is None:
        problem("redcap_event_name", event, "names no visit: use visit_<n>_... or map it")
    repeat_text = system.get("repeat_instrument", "")
    instance_text = system.get("repeat_instance", "")
    repeat = _repeat_instrument(ctx, repeat_text)
    if repeat_text and repeat is None:
        problem("redcap_repeat_instrument", repeat_text, "is not an instrument of the LIMS")
    instance = int(instance_text) if instance_text.isdigit() and int(instance_text) > 0 else None
    if instance_text and instance is None:
        problem("redcap_repeat_instance", instance_text, "is not a repeat instance (1, 2, ...)")
    if repeat is not None and instance is None:
        problem("redcap_repeat_instance", "", f"is needed in a row of {repeat_text}")
    key = (record, event, repeat.name if repeat else repeat_text, instance or 1)
    if (first := ctx.seen.setdefault(key, number)) != number:
        what = f"instance {instance} of {repeat_text}" if repeat_text else "this event"
        problem(ctx.record_header, record, f"repeats row {first} ({what} of this record)")
        return None
    if repeat_text and repeat is None:
        return None
    return visit or 0, repeat, instance or 1


def _cells(indexes: Sequence[int]) -> Callable[[Sequence[str]], tuple[str, ...]]:
    """A function giving a row's cells at these indexes, as a tuple, in C (itemgetter)."""
    if len(indexes) > 1:
        return itemgetter(*indexes)
    if indexes:
        at = indexes[0]
        return lambda row: (row[at],)
    return lambda row: ()


# A box or status cell that says nothing was entered, or a blank cell.
_EMPTY_BOX = UNTICKED | {""}


@dataclass(frozen=True)
class _Plan:
    """How one instrument's cells are read from a row, worked out once per file.

    Most cells of a wide export are blank or an unticked box: an instrument is read only when
    one of its value cells holds something or one of its boxes is ticked, found by itemgetter,
    any() and a set in C. Looking at every cell in Python was a third of a 40,000-event parse
    (cProfile, 2026-12-02).
    """

    columns: tuple[Column, ...]
    is_box: tuple[bool, ...]
    memos: tuple[dict[str, Value] | None, ...]  # a value column's cell text -> its value
    names: tuple[str, ...]  # each column as values are keyed: its field's name
    cells: Callable[[Sequence[str]], tuple[str, ...]]
    values: Callable[[Sequence[str]], tuple[str, ...]]
    boxes: Callable[[Sequence[str]], tuple[str, ...]]


def _plan(columns: Sequence[Column], memos: dict[str, dict[str, Value]]) -> _Plan:
    is_box = tuple(c.role in ("checkbox", "checkbox_missing", "status") for c in columns)
    values = [c.index for c, box in zip(columns, is_box, strict=True) if not box]
    boxes = [c.index for c, box in zip(columns, is_box, strict=True) if box]
    kept = tuple(
        memos.setdefault(c.field.name, {}) if c.role == "value" and c.field else None
        for c in columns
    )
    return _Plan(
        tuple(columns),
        is_box,
        kept,
        tuple(c.name for c in columns),
        _cells([c.index for c in columns]),
        _cells(values),
        _cells(boxes),
    )


_Filled = tuple[dict[str, Value], dict[str, str], str | None, ScaleScore | None]


def _parse_instrument(
    ctx: _Context,
    problem: _Problem,
    row: Sequence[str],
    inst: Instrument,
    plan: _Plan,
) -> _Filled | None:
    """One instrument's non-blank cells in one row; None when it was not filled there."""
    values: dict[str, Value] = {}
    missing: dict[str, str] = {}
    ticked: dict[str, set[str]] = {}
    refused: set[str] = set()
    status = None
    width = len(row)
    cells = zip(plan.columns, plan.is_box, plan.memos, plan.names, plan.cells(row), strict=True)
    for col, box, memo, name, text in cells:
        if not text or (box and text in UNTICKED):
            continue  # blank, or a box left unticked
        # A file repeats few distinct values per field (scale answers 0-4, codes, visit dates):
        # each cell text is parsed once per file and looked up after, a third of the parse
        # (2026-12-02). Only values are kept; missing codes and errors are not.
        if memo is not None and (known := memo.get(text, _UNSEEN)) is not _UNSEEN:
            values[name] = known  # type: ignore[assignment]
            continue
        cell = text
        text = text.strip()
        try:
            if col.role == "status":
                status = parse_status(text)
            elif col.field is None:
                continue
            elif col.role == "value":
                f = col.field
                if ctx.mapping is not None and f.choices:
                    text = ctx.mapping.our_code(f.name, text)
                # A choice wins over a Missing Data Code of the same label ("Unknown"). Most
                # cells are no code: look for one first, and for a choice only then.
                code = ctx.missing.get(text) or ctx.missing.get(text.lower())
                if code is not None and not (text in f.codes or text.lower() in f.codes_by_label):
                    missing[f.name] = code
                    continue
                values[f.name] = parse_value(f, text, today=ctx.today)
                if memo is not None:
                    memo[cell] = values[f.name]
            elif col.role == "checkbox":
                choice = col.field.choice(col.code)
                if is_checked(text, choice.label if choice else ""):
                    ticked.setdefault(col.field.name, set()).add(col.code)
            elif col.role == "checkbox_missing" and is_checked(text, ctx.missing_codes[col.code]):
                missing[col.field.name] = col.code
        except CellProblem as err:
            problem(col.name, text, str(err))
            refused.add(col.name)
    if not values and not missing and not ticked:
        return None  # a blank instrument for this event (unticked boxes and gray status are 0)
    if status is None and (at := ctx.status_at.get(inst.name)) is not None and at < width:
        status = "incomplete" if row[at].strip() in UNTICKED else None
    checkboxes, required = _shape(ctx, inst)
    for f in checkboxes:
        if f.name not in missing:
            values[f.name] = tuple(c.code for c in f.choices if c.code in ticked.get(f.name, ()))
    for name in required:
        if name not in missing and name not in refused and values.get(name, ()) == ():
            problem(name, "", "is required (or give a Missing Data Code)")
    score = score_instrument(inst, values, missing, problem)
    return values, missing, status, score


def _shape(ctx: _Context, inst: Instrument) -> tuple[tuple[Field, ...], tuple[str, ...]]:
    """The instrument's checkbox fields and its required fields that this file has columns for
    (worked out once per file)."""
    if inst.name not in ctx.shapes:
        columns = ctx.by_instrument[inst.name]
        boxes = {c.field.name: c.field for c in columns if c.role == "checkbox" and c.field}
        present = {c.field.name for c in columns if c.field is not None}
        required = tuple(f.name for f in inst.fields if f.is_required and f.name in present)
        ctx.shapes[inst.name] = (tuple(boxes.values()), required)
    return ctx.shapes[inst.name]
