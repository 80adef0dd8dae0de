"""Write a records export the way REDCap lays one out, for the sample in docs/, tests and bench.

It follows redcap.md 2.1-2.4: the record id first, then redcap_event_name, the two repeat columns
and the data access group, then every form's fields in dictionary order (a checkbox as one column
per choice and per Missing Data Code) followed by `<form>_complete`. In a repeating instrument's
row every other form's cells are blank; in a plain row the repeating forms' cells are blank, and
an unfilled form shows unticked boxes and status 0 (redcap.md 2.4.2, 4.5).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from phenotype_link.instruments import RECORD_ID, Field, Instrument
from phenotype_link.redcap.cells import Value
from phenotype_link.redcap.columns import checkbox_suffix
from phenotype_link.redcap.mapping import MISSING_CODES

STATUS_LABELS = {"0": "Incomplete", "1": "Unverified", "2": "Complete"}


@dataclass(frozen=True)
class ExportRow:
    """One row: a record at an event, optionally one instance of a repeating instrument.
    A value that is a key of the Missing Data Codes is written as that code."""

    record: str
    event: str
    values: Mapping[str, Value]
    repeat_instrument: str = ""
    repeat_instance: int | None = None
    data_access_group: str = ""
    event_label: str = ""  # what a label export writes for the event
    statuses: Mapping[str, str] = field(default_factory=dict)  # form -> 0/1/2, default 2 if filled


def _header(instruments: Sequence[Instrument], labels: bool) -> list[str]:
    system = ["Event Name", "Repeat Instrument", "Repeat Instance", "Data Access Group"]
    out = ["Record ID" if labels else RECORD_ID]
    out += system if labels else [
        "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
        "redcap_data_access_group",
    ]  # fmt: skip
    for inst in instruments:
        for f in inst.fields:
            if f.kind != "checkbox":
                out.append(f.label if labels else f.name)
                continue
            for c in f.choices:
                out.append(f"{f.label} (choice={c.label})" if labels else f"{f.name}___{c.code}")
            for code, text in MISSING_CODES.items():
                name = f"{f.name}___{checkbox_suffix(code)}"
                out.append(f"{f.label} (choice={text})" if labels else name)
        out.append("Complete?" if labels else inst.complete_field)
    return out


def _text(f: Field, value: Value, labels: bool) -> str:
    if isinstance(value, bool):
        return ("Yes" if value else "No") if labels else ("1" if value else "0")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, str) and labels and (choice := f.choice(value)) is not None:
        return choice.label
    return str(value)


def _checkbox(f: Field, value: Value | None, filled: bool, labels: bool) -> list[str]:
    if not filled:
        return [""] * (len(f.choices) + len(MISSING_CODES))
    ticked = set(value) if isinstance(value, tuple) else set()
    missing = value if isinstance(value, str) else None
    marks = [c.code in ticked for c in f.choices] + [code == missing for code in MISSING_CODES]
    return [("Checked" if m else "Unchecked") if labels else ("1" if m else "0") for m in marks]


def _cells(inst: Instrument, row: ExportRow, shown: bool, labels: bool) -> list[str]:
    filled = any(f.name in row.values for f in inst.fields)
    out = []
    for f in inst.fields:
        value = row.values.get(f.name)
        if f.kind == "checkbox":
            out += _checkbox(f, value, shown, labels)
        else:
            out.append("" if value is None or not shown else _text(f, value, labels))
    status = row.statuses.get(inst.name, "2" if filled else "0") if shown else ""
    out.append(STATUS_LABELS.get(status, status) if labels and status else status)
    return out


def write_export(
    rows: Sequence[ExportRow], instruments: Sequence[Instrument], *, labels: bool = False
) -> str:
    """The CSV REDCap's "raw data" export (labels=False) or "labels" export would give."""
    by_name = {inst.name: inst for inst in instruments}
    nothing = ExportRow("", "", {})
    # An instrument without values in a row writes the same cells every time: made once each.
    hidden = {i.name: _cells(i, nothing, False, labels) for i in instruments}
    unfilled = {i.name: _cells(i, nothing, True, labels) for i in instruments}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_header(instruments, labels))
    for row in rows:
        repeat = by_name.get(row.repeat_instrument)
        cells = [row.record, row.event_label if labels and row.event_label else row.event]
        cells.append((repeat.label if labels else repeat.name) if repeat else "")
        cells += [str(row.repeat_instance or ""), row.data_access_group]
        for inst in instruments:
            shown = inst is repeat if repeat else not inst.is_repeating
            if not shown:
                cells += hidden[inst.name]
            elif inst.name in row.statuses or any(f.name in row.values for f in inst.fields):
                cells += _cells(inst, row, shown, labels)
            else:
                cells += unfilled[inst.name]
        writer.writerow(cells)
    return out.getvalue()
