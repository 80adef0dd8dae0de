"""The one place that turns linked records into release rows.

Rules (privacy.md 3.1-3.3; HIPAA Safe Harbor 45 CFR 164.514(b)(2)(i)(C)):
- a subject is a request-specific pseudonym, HMAC-SHA256 of the LIMS's random internal subject
  key under a per-request secret, so two releases cannot be joined on it; never the study code;
- a date becomes whole days since the subject's first visit; the anchor date is never released;
- an age is whole years, and 90 or more is released as "90+";
- free text is never released; a requested free-text column is listed as withheld;
- identifiers that persist across requests get request-specific pseudonyms too; the one exception
  is the label printed on a tube the recipient holds (`tube_label`: the aliquot barcode), which
  is how they find a tube's row, and which they read off the tube anyway;
- every released column has a data dictionary entry.
A last check refuses the release if any cell still holds a study code or a calendar date.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from phenotype_link.instruments import Choice, Instrument
from phenotype_link.redcap.mapping import MISSING_CODES

ColumnKind = Literal[
    "code", "codes", "integer", "number", "boolean", "date", "age_at", "years", "identifier",
    "tube_label", "text",
]  # fmt: skip
ReleaseInput = str | int | Decimal | date | bool | tuple[str, ...] | None

SUBJECT_COLUMN = "subject"
PSEUDONYM_HEX = 16  # 64 bits: collisions are checked within a release (privacy.md 3.1)
SECRET_BYTES = 32  # a key at least as long as SHA-256's output (NIST SP 800-107 5.3.4)
AGE_CAP = 90  # ages over 89 are pooled as "90 or older" (164.514(b)(2)(i)(C))
# A label printed on a tube: capitals, digits and '-' (DYS-000123-7), nothing a sentence fits in.
TUBE_LABEL = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")
DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}")


class ReleaseRefused(ValueError):
    """The records cannot be released as asked; nothing is returned."""


@dataclass(frozen=True)
class ReleaseColumn:
    """A column the request asks for. `code` and `codes` columns need their choices: a code
    without a list of meanings is free text."""

    name: str
    label: str
    kind: ColumnKind
    choices: tuple[Choice, ...] = ()
    unit: str = ""


@dataclass(frozen=True)
class LinkedRecord:
    """One row before release, as the LIMS links it (a visit, an aliquot, a treatment)."""

    subject_key: str  # the LIMS's random internal key: the only input to the pseudonym
    study_code: str  # never released; the last check looks for it in every cell
    first_visit_on: date  # day 0 for this subject
    values: Mapping[str, ReleaseInput]
    birth_on: date | None = None


@dataclass(frozen=True)
class DictionaryEntry:
    column: str
    label: str
    type: str
    values: str  # the codes and their meanings, the unit, or how the column was derived


@dataclass(frozen=True)
class Release:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    dictionary: tuple[DictionaryEntry, ...]
    withheld: Mapping[str, str] = field(default_factory=dict)  # requested column -> why not

    def rows_csv(self) -> str:
        return _csv([self.columns, *self.rows])

    def dictionary_csv(self) -> str:
        head = ("column", "label", "type", "values")
        return _csv([head, *((e.column, e.label, e.type, e.values) for e in self.dictionary)])


def _csv(rows: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def new_request_secret() -> bytes:
    """A fresh secret for one request; keep it apart from the data or destroy it."""
    return secrets.token_bytes(SECRET_BYTES)


def pseudonym(secret: bytes, key: str, *, namespace: str = SUBJECT_COLUMN) -> str:
    """HMAC-SHA256(secret, namespace + key), first 16 hex digits (RFC 2104; privacy.md 3.1)."""
    if len(secret) < SECRET_BYTES:
        raise ReleaseRefused(f"the request secret must be at least {SECRET_BYTES} bytes")
    digest = hmac.new(secret, f"{namespace}\x00{key}".encode(), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_HEX]


def age_in_years(birth_on: date, on: date) -> int:
    return on.year - birth_on.year - ((on.month, on.day) < (birth_on.month, birth_on.day))


def capped_age(years: int) -> str:
    return f"{AGE_CAP}+" if years >= AGE_CAP else str(years)


def released_name(column: ReleaseColumn) -> str:
    """A date column is released as days: visit_date -> visit_day, onset -> onset_day."""
    if column.kind != "date":
        return column.name
    return column.name.removesuffix("_date") + "_day"


def _cell(column: ReleaseColumn, value: ReleaseInput, record: LinkedRecord, secret: bytes) -> str:
    """One released cell; ReleaseRefused names the column when the value has the wrong type."""
    if value is None or value == "":
        return ""
    if (
        isinstance(value, str)
        and value in MISSING_CODES
        and column.kind not in ("identifier", "tube_label")
    ):
        return value
    kind = column.kind
    if kind == "date" and isinstance(value, date):
        return str((value - record.first_visit_on).days)
    if kind == "age_at" and isinstance(value, date):
        return capped_age(age_in_years(record.birth_on, value)) if record.birth_on else ""
    if kind == "years" and isinstance(value, int) and not isinstance(value, bool):
        return capped_age(value)
    if kind == "identifier" and isinstance(value, str):
        return pseudonym(secret, value, namespace=column.name)
    if kind == "tube_label" and isinstance(value, str) and TUBE_LABEL.match(value):
        return value
    if kind == "boolean" and isinstance(value, bool):
        return "1" if value else "0"
    if kind in ("integer", "number") and isinstance(value, int | Decimal) and not _is_bool(value):
        return str(value)
    codes = {c.code for c in column.choices}
    if kind == "code" and isinstance(value, str) and value in codes:
        return value
    if kind == "codes" and isinstance(value, tuple) and set(value) <= codes:
        return ";".join(value)
    raise ReleaseRefused(f"{column.name}: {type(value).__name__} value is not a {kind} value")


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def _entry(column: ReleaseColumn) -> DictionaryEntry:
    name, kind = released_name(column), column.kind
    meanings = "; ".join(f"{c.code} = {c.label}" for c in column.choices)
    missing = "; ".join(f"{code} = {label}" for code, label in MISSING_CODES.items())
    described: dict[str, tuple[str, str]] = {
        "code": ("code", meanings),
        "codes": ("codes separated by ;", meanings),
        "integer": ("integer", column.unit),
        "number": ("number", column.unit),
        "boolean": ("boolean", "1 = yes; 0 = no"),
        "date": ("integer (days)", "days since the subject's first visit (day 0)"),
        "age_at": ("age in whole years", f'ages of {AGE_CAP} or more are "{AGE_CAP}+"'),
        "years": ("whole years", f'{AGE_CAP} or more is "{AGE_CAP}+"'),
        "identifier": ("pseudonym", "HMAC-SHA256 under this request's secret, 16 hex digits"),
        "tube_label": ("label", "as printed on the tube you received"),
    }
    type_, values = described[kind]
    if kind not in ("identifier", "tube_label"):
        values = f"{values}; missing: {missing}" if values else f"missing: {missing}"
    return DictionaryEntry(name, column.label, type_, values)


def deidentify(
    records: Sequence[LinkedRecord], columns: Sequence[ReleaseColumn], *, secret: bytes
) -> Release:
    """Release rows for one request: the subject's pseudonym first, then the asked columns."""
    for column in columns:
        if column.kind in ("code", "codes") and not column.choices:
            raise ReleaseRefused(f"{column.name}: a code column needs its choices")
    withheld = {c.name: "free text is never released" for c in columns if c.kind == "text"}
    released = [c for c in columns if c.kind != "text"]
    names = (SUBJECT_COLUMN, *(released_name(c) for c in released))
    if len(set(names)) != len(names):
        raise ReleaseRefused(f"two columns would be released under one name: {names}")
    owners: dict[str, str] = {}
    rows = []
    for record in records:
        subject = pseudonym(secret, record.subject_key)
        if owners.setdefault(subject, record.subject_key) != record.subject_key:
            raise ReleaseRefused("two subjects share a pseudonym; draw a new request secret")
        cells = [_cell(c, record.values.get(c.name), record, secret) for c in released]
        rows.append((subject, *cells))
    _check_nothing_identifying(rows, {r.study_code for r in records})
    dictionary = (
        DictionaryEntry(SUBJECT_COLUMN, "Subject", "pseudonym", _entry_subject()),
        *(_entry(c) for c in released),
    )
    return Release(names, tuple(rows), dictionary, withheld)


def _entry_subject() -> str:
    return "HMAC-SHA256 of the LIMS's internal subject key under this request's secret"


def _check_nothing_identifying(rows: Sequence[Sequence[str]], study_codes: set[str]) -> None:
    """The last line of defence: a study code or a calendar date in any cell is a bug above."""
    for row in rows:
        for cell in row:
            if DATE_LIKE.search(cell) or any(code and code in cell for code in study_codes):
                raise ReleaseRefused(f"a cell would release a study code or a date: {cell!r}")


def release_columns(instruments: Iterable[Instrument]) -> tuple[ReleaseColumn, ...]:
    """Every field of the instruments as a release column (free text comes out withheld)."""
    kinds: dict[str, ColumnKind] = {
        "text": "text", "notes": "text", "dropdown": "code", "radio": "code",
        "checkbox": "codes", "yesno": "boolean", "date": "date", "integer": "integer",
        "number": "number",
    }  # fmt: skip
    out = []
    for inst in instruments:
        for f in inst.fields:
            kind = "years" if f.kind == "integer" and f.unit == "years" else kinds[f.kind]
            out.append(ReleaseColumn(f.name, f.label, kind, f.choices, f.unit))
    return tuple(out)
