"""The LIMS's instruments as a REDCap Data Dictionary CSV, for a site to build its project from."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal

from phenotype_link.instruments import RECORD_ID, Field, Instrument, check_unique_names

# The 18 columns in REDCap's order and spelling, quoted as REDCap writes them (redcap.md 1.1.1).
DICTIONARY_HEADER = (
    '"Variable / Field Name","Form Name","Section Header","Field Type","Field Label",'
    '"Choices, Calculations, OR Slider Labels","Field Note",'
    '"Text Validation Type OR Show Slider Number","Text Validation Min","Text Validation Max",'
    'Identifier?,"Branching Logic (Show field only if...)","Required Field?","Custom Alignment",'
    '"Question Number (surveys only)","Matrix Group Name","Matrix Ranking?","Field Annotation"'
)
DICTIONARY_COLUMNS: tuple[str, ...] = tuple(next(csv.reader([DICTIONARY_HEADER])))
# A date, an integer and a number are REDCap text fields with a validation (redcap.md 1.2.3).
VALIDATION = {"date": "date_ymd", "integer": "integer", "number": "number"}
FIELD_TYPE = {"date": "text", "integer": "text", "number": "text"}


def _limit(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def _row(form: str, f: Field) -> list[str]:
    choices = " | ".join(f"{c.code}, {c.label}" for c in f.choices)
    note = " ".join(part for part in (f.unit and f"Unit: {f.unit}.", f.note) if part)
    if f.allowed:
        note = f"{note} Allowed: {', '.join(str(a) for a in f.allowed)}.".strip()
    row = [f.name, form, "", FIELD_TYPE.get(f.kind, f.kind), f.label, choices, note]
    row += [VALIDATION.get(f.kind, ""), _limit(f.minimum), _limit(f.maximum)]
    # Free text may hold a name: flagged, REDCap leaves it out of de-identified exports.
    row += ["y" if f.is_free_text else "", "", "y" if f.is_required else "", "", "", "", "", ""]
    return row


def dictionary_csv(instruments: Sequence[Instrument]) -> str:
    """The Data Dictionary: the record id first (a text field, redcap.md 1.2.1), then every
    instrument's fields in order. REDCap adds each form's `<form>_complete` itself."""
    if not instruments:
        raise ValueError("a data dictionary needs at least one instrument")
    check_unique_names(instruments)
    for inst in instruments:
        for f in inst.fields:
            if any("|" in c.label for c in f.choices):  # a | inside a label breaks REDCap's split
                raise ValueError(f"{f.name}: a choice label contains '|'")
    out = io.StringIO()
    out.write(DICTIONARY_HEADER + "\n")
    writer = csv.writer(out, lineterminator="\n")
    first = instruments[0].name
    writer.writerow([RECORD_ID, first, "", "text", "Record ID", *[""] * 13])
    for inst in instruments:
        writer.writerows(_row(inst.name, f) for f in inst.fields)
    return out.getvalue()
