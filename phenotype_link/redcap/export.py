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
from dataclasses import dataclass, field, replace
from datetime import date

from phenotype_link.instruments import Instrument
from phenotype_link.redcap.cells import (
    CellProblem,
    Value,
    is_checked,
    missing_code,
    parse_status,
    parse_value,
)
from phenotype_link.redcap.columns import Column, is_label_header, label_columns, raw_columns
from phenotype_link.redcap.mapping import MISSING_CODES, ExportMapping
from phenotype_link.redcap.scoring import ScaleScore, score_instrument

VISIT_INSTRUMENT, VISIT_DATE = "visit", "visit_date"
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


_Problem = Callable[[str, str, str], None]  # (field, value, reason), row/record/event bound


@dataclass
class _Context:
    instruments: Sequence[Instrument]
    known_subjects: Collection[str]
    today: date
    mapping: ExportMapping | None
    missing_codes: Mapping[str, str]
    problems: list[ExportProblem] = field(default_factory=list)
    seen: dict[tuple[str, str, str, int], int] = field(default_factory=dict)
    unknown_subjects: set[str] = field(default_factory=set)


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
    codes = mapping.missing_codes if mapping is not None else MISSING_CODES
    is_label = mapping is None and is_label_header(header, instruments)
    if is_label:
        columns, header_problems = label_columns(header, instruments, codes)
    else:
        columns, header_problems = raw_columns(header, instruments, mapping, codes)
    ctx = _Context(instruments, known_subjects, today, mapping, codes)
    ctx.problems += [
        ExportProblem(1, "", "", h.header or f"column {h.column}", h.header, h.reason)
        for h in header_problems
    ]
    if len(set(header)) != len(header) and not is_label:
        for h in sorted({h for h in header if header.count(h) > 1}):
            ctx.problems.append(ExportProblem(1, "", "", h, h, "is a column twice"))
    records: list[InstrumentRecord] = []
    for number, row in enumerate(rows[1:], start=2):
        if any(cell.strip() for cell in row):
            records += _parse_row(ctx, number, row, columns)
    if ctx.problems:
        raise ExportErrors(ctx.problems)
    return ParsedExport(
        records=_with_visit_dates(records),
        is_label_export=is_label,
        subjects=frozenset(r.record for r in records),
    )


def _with_visit_dates(records: list[InstrumentRecord]) -> tuple[InstrumentRecord, ...]:
    dates = {
        (r.record, r.event): day
        for r in records
        if r.instrument == VISIT_INSTRUMENT and isinstance(day := r.values.get(VISIT_DATE), date)
    }
    return tuple(
        _replace_visit_date(r, dates.get((r.record, r.event)))
        for r in records  # the records are frozen; a copy carries the event's date
    )


def _replace_visit_date(record: InstrumentRecord, visit_on: date | None) -> InstrumentRecord:
    return replace(record, visit_date=visit_on) if visit_on else record


def _system(row: Sequence[str], columns: Sequence[Column]) -> dict[str, str]:
    out: dict[str, str] = {}
    for col in columns:
        if col.role in ("record", "event", "repeat_instrument", "repeat_instance", "dag"):
            out[col.role] = row[col.index].strip() if col.index < len(row) else ""
    return out


def _repeat_instrument(ctx: _Context, text: str) -> Instrument | None:
    name = ctx.mapping.instruments.get(text, text) if ctx.mapping is not None else text
    return next((i for i in ctx.instruments if text and name in (i.name, i.label)), None)


def _parse_row(
    ctx: _Context, number: int, row: Sequence[str], columns: Sequence[Column]
) -> list[InstrumentRecord]:
    system = _system(row, columns)
    record, event = system["record"], system.get("event", "")

    def problem(field_name: str, value: str, reason: str) -> None:  # binds row, record, event
        ctx.problems.append(ExportProblem(number, record, event, field_name, value, reason))

    if not record:
        problem(columns[0].header, "", "the record id is blank")
        return []
    if record not in ctx.known_subjects:
        problem(columns[0].header, record, "is not a study code the LIMS knows")
    visit = visit_number(event, ctx.mapping)
    if visit is None:
        problem("redcap_event_name", event, "names no visit: use visit_<n>_... or map it")
    repeat_text, instance_text = (
        system.get("repeat_instrument", ""),
        system.get("repeat_instance", ""),
    )
    repeat = _repeat_instrument(ctx, repeat_text)
    if repeat_text and repeat is None:
        problem("redcap_repeat_instrument", repeat_text, "is not an instrument of the LIMS")
    instance = int(instance_text) if instance_text.isdigit() and int(instance_text) > 0 else None
    if instance_text and instance is None:
        problem("redcap_repeat_instance", instance_text, "is not a repeat instance (1, 2, ...)")
    key = (record, event, repeat_text, instance or 1)
    if (first := ctx.seen.setdefault(key, number)) != number:
        what = f"instance {instance} of {repeat_text}" if repeat_text else "this event"
        problem(columns[0].header, record, f"repeats row {first} ({what} of this record)")
        return []
    if repeat_text and repeat is None:
        return []
    chosen = [repeat] if repeat is not None else list(ctx.instruments)
    out = []
    for inst in chosen:
        mine = [c for c in columns if c.instrument is inst]
        made = _parse_instrument(ctx, problem, row, inst, mine)
        if made is not None:
            values, missing, status, score = made
            out.append(
                InstrumentRecord(
                    row=number,
                    record=record,
                    event=event,
                    visit_number=visit or 0,
                    visit_date=None,
                    instrument=inst.name,
                    repeat_instance=instance or 1,
                    values=values,
                    missing=missing,
                    status=status,
                    data_access_group=system.get("dag", ""),
                    score=score,
                )
            )
    return out


_Parsed = tuple[dict[str, Value], dict[str, str], str | None, ScaleScore | None]


def _parse_instrument(
    ctx: _Context,
    problem: _Problem,
    row: Sequence[str],
    inst: Instrument,
    columns: Sequence[Column],
) -> _Parsed | None:
    """One instrument's cells in one row; None when the instrument was not filled there."""
    values: dict[str, Value] = {}
    missing: dict[str, str] = {}
    ticked: dict[str, set[str]] = {}
    refused: set[str] = set()
    status = None
    for col in columns:
        text = row[col.index].strip() if col.index < len(row) else ""
        try:
            if col.role == "status":
                status = parse_status(text)
            elif col.field is None or (not text and col.role == "value"):
                continue
            elif col.role == "value":
                if ctx.mapping is not None and col.field.choices:
                    text = ctx.mapping.our_code(col.field.name, text)
                # A choice wins over a Missing Data Code of the same label ("Unknown").
                is_choice = any(text in (c.code, c.label) for c in col.field.choices)
                if not is_choice and (code := missing_code(text, ctx.missing_codes)) is not None:
                    missing[col.field.name] = code
                    continue
                values[col.field.name] = parse_value(col.field, text, today=ctx.today)
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
    checkboxes = {c.field.name: c.field for c in columns if c.role == "checkbox" and c.field}
    for name, f in checkboxes.items():
        if name not in missing:
            values[name] = tuple(c.code for c in f.choices if c.code in ticked.get(name, ()))
    present = {c.field.name for c in columns if c.field is not None}
    for f in inst.fields:
        is_blank = f.name not in values or values[f.name] == ()
        if f.is_required and f.name in present and f.name not in {*missing, *refused} and is_blank:
            problem(f.name, "", "is required (or give a Missing Data Code)")
    score = score_instrument(inst, values, missing, problem)
    return values, missing, status, score
