"""The header of an export -> what each column holds, for raw headers and for label headers.

Raw headers are variable names and are looked up (through the mapping file, when there is one).
Label headers repeat ("Complete?", "Name"), so they are never looked up: they are matched in
order against the labels our dictionary gives REDCap, as REDCap writes the columns in dictionary
order (redcap.md 2.1.2, 4.10).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from phenotype_link.instruments import Field, Instrument
from phenotype_link.redcap.mapping import ExportMapping

Role = Literal[
    "record", "event", "repeat_instrument", "repeat_instance", "dag", "ignored",
    "value", "checkbox", "checkbox_missing", "status",
]  # fmt: skip

# REDCap's system columns, raw name -> role, and their label-export headers (redcap.md 2.1.2).
SYSTEM: Mapping[str, Role] = {
    "redcap_event_name": "event",
    "redcap_repeat_instrument": "repeat_instrument",
    "redcap_repeat_instance": "repeat_instance",
    "redcap_data_access_group": "dag",
    "redcap_survey_identifier": "ignored",
}
SYSTEM_LABELS: Mapping[str, Role] = {
    "Event Name": "event",
    "Repeat Instrument": "repeat_instrument",
    "Repeat Instance": "repeat_instance",
    "Data Access Group": "dag",
    "Survey Identifier": "ignored",
    "Survey Timestamp": "ignored",
}


@dataclass(frozen=True)
class Column:
    index: int
    header: str
    role: Role
    instrument: Instrument | None = None
    field: Field | None = None
    code: str = ""  # a checkbox column's choice code, or the missing-data code it stands for

    @property
    def name(self) -> str:
        """The column as an error message names it: our field, else the header."""
        return self.field.name if self.field is not None else self.header


@dataclass(frozen=True)
class HeaderProblem:
    column: int  # 1-based, as a spreadsheet counts
    header: str
    reason: str


def checkbox_suffix(code: str) -> str:
    """REDCap's checkbox column suffix: lower case, anything but letters and digits -> `_`
    (`-999` -> `_999`, `UNK` -> `unk`; redcap.md 2.3.2)."""
    return re.sub(r"[^a-z0-9]", "_", code.lower())


_Spec = tuple[str, str, Role, Instrument, Field | None, str]


def _our_columns(
    instruments: Sequence[Instrument], missing_codes: Mapping[str, str]
) -> list[_Spec]:
    """(raw name, label header, role, instrument, field, code) in dictionary order."""
    out: list[_Spec] = []
    for inst in instruments:
        for f in inst.fields:
            if f.kind != "checkbox":
                out.append((f.name, f.label, "value", inst, f, ""))
                continue
            for c in f.choices:
                label = f"{f.label} (choice={c.label})"
                out.append((f"{f.name}___{c.code}", label, "checkbox", inst, f, c.code))
            for code, text in missing_codes.items():
                name, label = f"{f.name}___{checkbox_suffix(code)}", f"{f.label} (choice={text})"
                out.append((name, label, "checkbox_missing", inst, f, code))
        out.append((inst.complete_field, "Complete?", "status", inst, None, ""))
    return out


def is_label_header(header: Sequence[str], instruments: Sequence[Instrument]) -> bool:
    """A label export names its system columns "Event Name", ... and its statuses "Complete?"."""
    raw = {n for inst in instruments for n in (inst.complete_field, *(f.name for f in inst.fields))}
    if any(h in SYSTEM or h in raw or "___" in h for h in header[1:]):
        return False
    return any(h in SYSTEM_LABELS or h == "Complete?" for h in header[1:])


def _their_name(header: str, mapping: ExportMapping, ours: Mapping[str, _Spec]) -> str | None:
    """Our raw column name for one of their headers, or None when nothing maps it."""
    if header in mapping.fields:
        return mapping.fields[header]
    base, sep, suffix = header.partition("___")
    if sep and base in mapping.fields:
        our_field = mapping.fields[base]
        return f"{our_field}___{checkbox_suffix(mapping.our_code(our_field, suffix))}"
    form = header.removesuffix("_complete")
    if form != header and form in mapping.instruments:
        return f"{mapping.instruments[form]}_complete"
    return header if header in ours else None


def raw_columns(
    header: Sequence[str],
    instruments: Sequence[Instrument],
    mapping: ExportMapping | None,
    missing_codes: Mapping[str, str],
) -> tuple[list[Column], list[HeaderProblem]]:
    """Columns named by variable names; unknown and (with a mapping) unmapped names are problems."""
    ours = {spec[0]: spec for spec in _our_columns(instruments, missing_codes)}
    # Survey completion times (exportSurveyFields, redcap.md 2.2.5) are not imported.
    forms = [inst.name for inst in instruments] + list(mapping.instruments if mapping else ())
    timestamps = {f"{form}_timestamp" for form in forms}
    columns, problems = [Column(0, header[0], "record")], []
    for i, h in enumerate(header[1:], start=1):
        if h in SYSTEM:
            columns.append(Column(i, h, SYSTEM[h]))
            continue
        if (mapping is not None and h in mapping.ignore) or h in timestamps:
            columns.append(Column(i, h, "ignored"))
            continue
        name = _their_name(h, mapping, ours) if mapping is not None else h
        if name is None or name not in ours:
            reason = (
                "is not mapped: add it to the mapping file's [fields] or [ignore]"
                if mapping is not None
                else "is not a field of the LIMS dictionary (map another project's fields)"
            )
            problems.append(HeaderProblem(i + 1, h, reason))
            continue
        _raw, _label, role, inst, f, code = ours[name]
        columns.append(Column(i, h, role, inst, f, code))
    return columns, problems


def label_columns(
    header: Sequence[str], instruments: Sequence[Instrument], missing_codes: Mapping[str, str]
) -> tuple[list[Column], list[HeaderProblem]]:
    """Columns named by labels, matched in dictionary order (labels are not unique)."""
    expected = _our_columns(instruments, missing_codes)
    columns, problems, at = [Column(0, header[0], "record")], [], 0
    for i, h in enumerate(header[1:], start=1):
        if h in SYSTEM_LABELS:
            columns.append(Column(i, h, SYSTEM_LABELS[h]))
            continue
        found = next((j for j in range(at, len(expected)) if expected[j][1] == h), None)
        if found is None:
            reason = "matches no field label of the LIMS dictionary at this place in the order"
            problems.append(HeaderProblem(i + 1, h, reason))
            continue
        _raw, _label, role, inst, f, code = expected[found]
        columns.append(Column(i, h, role, inst, f, code))
        at = found + 1
    return columns, problems
