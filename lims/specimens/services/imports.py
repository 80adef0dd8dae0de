"""Bulk import of aliquots from a CSV collection log: check every row, then write all or nothing.

One row per aliquot. The tube and visit columns repeat on every row of the same tube; the first
row of a tube defines it and later rows may leave those columns blank (or must agree). Subjects
must already be registered: a typo in a study code must not enrol a phantom participant. Visits
and tubes that the LIMS does not know yet are created.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import IO, Any

from sqlalchemy.orm import Session

from lims.actors import Actor, Role
from lims.bulk_copy import without_cyclic_gc
from lims.db import utcnow
from lims.errors import FieldError, InvalidInput, plural
from lims.specimens import barcodes
from lims.specimens.models import SpecimenType, Temperature, TubeType, study_code_problem
from lims.specimens.quality import (
    ExtractionMethod,
    GelIntegrity,
    InterferenceGrade,
    QuantificationMethod,
)
from lims.specimens.services.import_checks import Row, plan_import
from lims.specimens.services.import_writes import ImportResult, write_import
from lims.specimens.services.plausibility import DEFAULT_LIMITS, Limits
from lims.specimens.services.tubes import processing_site

MAX_ERRORS_REPORTED = 500  # a wholly wrong file should not produce a 50,000-line answer
# Rows per file; the app passes LIMS_MAX_IMPORT_ROWS. Every row is held until all are checked,
# so this bounds the memory an import takes.
MAX_ROWS = 100_000


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[str], Any]
    required: bool
    meaning: str
    example: str


def _code(value: str) -> str:
    code = barcodes.normalise(value)
    if len(code) > 32:
        raise ValueError(f"{code[:40]}… is longer than 32 characters")
    return code


def _study_code(value: str) -> str:
    code = value.strip().upper()
    if problem := study_code_problem(code):
        raise ValueError(problem)
    return code


def _int(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a whole number") from None
        if not low <= number <= high:
            raise ValueError(f"{number} is outside {low} to {high}")
        return number

    return parse


def _float(
    low: float, high: float, *, open_low: bool = False, open_high: bool = False
) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        # Written so that NaN fails too: "nan" reads as a float, and no comparison holds for it.
        if (
            not low <= number <= high
            or (open_low and number == low)
            or (open_high and number == high)
        ):
            above = " (exclusive)" if open_low else ""
            below = " (exclusive)" if open_high else ""
            raise ValueError(f"{number:g} is outside {low:g}{above} to {high:g}{below}")
        return number

    return parse


def _text(longest: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) > longest:
            raise ValueError(f"is longer than {longest} characters")
        return value

    return parse


def _datetime(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date and time; write e.g. 2026-03-18 09:30") from None
    # Without an offset it is a wall-clock time; plan_import reads it on the site's clock.
    return moment


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date; write e.g. 2026-03-18") from None


def _enum(cls: type[StrEnum]) -> Callable[[str], StrEnum]:
    by_value = {member.value.lower(): member for member in cls}

    def parse(value: str) -> StrEnum:
        member = by_value.get(value.lower())
        if member is None:
            raise ValueError(f"{value!r} is not one of {', '.join(m.value for m in cls)}")
        return member

    return parse


def _yes_no(value: str) -> bool:
    answer = {"yes": True, "y": True, "true": True, "1": True}
    answer |= {"no": False, "n": False, "false": False, "0": False}
    if value.lower() not in answer:
        raise ValueError(f"{value!r} is not yes or no")
    return answer[value.lower()]


COLUMNS: tuple[Column, ...] = (
    Column("study_code", _study_code, True, "registered subject", "NA1-0007"),
    Column("visit_number", _int(1, 999), True, "visit number (1 = baseline)", "1"),
    Column(
        "visit_on",
        _date,
        False,
        "visit date; required for a new visit (on one of its rows)",
        "2026-03-18",
    ),
    Column("tube_barcode", _code, True, "primary tube barcode", "NA1-T-000311"),
    Column(
        "tube_type", _enum(TubeType), False, "SPREC container code; required on a new tube", "SST"
    ),
    Column("tube_volume_ml", _float(0, 100, open_low=True), False, "blood drawn, mL", "6"),
    Column(
        "collected_at",
        _datetime,
        False,
        "blood draw, collecting site's local time; required on a new tube",
        "2026-03-18 09:30",
    ),
    Column(
        "received_at", _datetime, False, "received, processing lab's local time", "2026-03-18 09:50"
    ),
    Column(
        "processing_started_at",
        _datetime,
        False,
        "processing started, lab's local time",
        "2026-03-18 10:15",
    ),
    Column("pre_processing_temperature", _enum(Temperature), False, "until processing", "RT"),
    Column("centrifuge_g", _int(1, 100_000), False, "relative centrifugal force, g", "1300"),
    Column("centrifuge_minutes", _int(1, 240), False, "spin duration, min", "10"),
    Column("centrifuge_temperature", _enum(Temperature), False, "during the spin", "RT"),
    Column("centrifuge_braked", _yes_no, False, "brake on: yes or no", "yes"),
    Column(
        "processed_at", _datetime, False, "aliquoted/frozen, lab's local time", "2026-03-18 11:00"
    ),
    Column("storage_temperature_c", _int(-200, 8), False, "long-term storage, °C", "-80"),
    # Issue #16, all optional: SPREC element 5 and serum quality (tube columns) ...
    Column("is_second_spun", _yes_no, False, "second centrifugation: yes or no", "no"),
    Column("hemolysis", _enum(InterferenceGrade), False, "none/slight/moderate/marked", "none"),
    Column("lipemia", _enum(InterferenceGrade), False, "none/slight/moderate/marked", "none"),
    Column("icterus", _enum(InterferenceGrade), False, "none/slight/moderate/marked", "none"),
    Column("is_fasting", _yes_no, False, "donor fasting: yes or no", "yes"),
    Column("clotting_minutes", _int(0, 1440), False, "clotting before the first spin, min", "30"),
    Column("aliquot_barcode", _code, True, "the aliquot's barcode", "NA1-A-004711"),
    Column("specimen_type", _enum(SpecimenType), True, "what the aliquot holds", "serum"),
    Column("volume_ul", _int(1, 100_000), True, "volume now, µL", "500"),
    Column("concentration_ng_ul", _float(0, 100_000), False, "DNA concentration, ng/µL", ""),
    Column("a260_280", _float(0, 5, open_low=True, open_high=True), False, "DNA purity ratio", ""),
    Column("parent_barcode", _code, False, "stock it was drawn from (file or LIMS)", ""),
    # ... and DNA quality and extraction (aliquot columns).
    Column(
        "a260_230",
        _float(0, 5, open_low=True, open_high=True),
        False,
        "DNA purity ratio (salts)",
        "",
    ),
    Column(
        "quantification_method",
        _enum(QuantificationMethod),
        False,
        "uv_spectrophotometry or fluorometry",
        "",
    ),
    Column("din", _float(1, 10), False, "DNA integrity number, 1-10", ""),
    Column("gel_integrity", _enum(GelIntegrity), False, "intact/partly_degraded/degraded", ""),
    Column("dilution_factor", _float(1, 1_000_000, open_low=True), False, "of the parent", ""),
    Column("extraction_method", _enum(ExtractionMethod), False, "how DNA was extracted", ""),
    Column("extraction_kit", _text(80), False, "extraction kit", ""),
    Column("extracted_on", _date, False, "extraction date", ""),
    Column("extracted_by", _text(80), False, "extraction operator", ""),
)
COLUMN_NAMES = tuple(c.name for c in COLUMNS)
REQUIRED = frozenset(c.name for c in COLUMNS if c.required)


def template_csv() -> str:
    """The header and one example row, for the download link beside the upload form."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMN_NAMES)
    writer.writerow([c.example for c in COLUMNS])
    return buffer.getvalue()


class HashingReader(io.RawIOBase):
    """Reads a binary stream once and hashes what passes, so the import's SHA-256 needs no copy
    of the file."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self.source.read(len(buffer))
        self.sha256.update(chunk)
        buffer[: len(chunk)] = chunk
        return len(chunk)


def read_rows(
    source: io.RawIOBase, *, max_rows: int = MAX_ROWS
) -> tuple[list[Row], list[FieldError]]:
    """Parse every row into typed values, collecting each bad value as a row/field error.

    The file is read as a stream (csv over a decoding wrapper), never as one string. Each
    distinct cell of a column is parsed once: a collection log repeats its dates, times, enums,
    study codes and tube barcodes on row after row, and the rows then share the parsed values
    (a bad one is still reported on every row that has it)."""
    # utf-8-sig: a spreadsheet's UTF-8 export starts with a BOM.
    text = io.TextIOWrapper(io.BufferedReader(source), "utf-8-sig", newline="")
    rows: list[Row] = []
    errors: list[FieldError] = []
    number = 1
    try:
        reader = csv.reader(text)
        header = [h.strip().lower() for h in next(reader, [])]
        _check_header(header)
        parsed = [(name, _cache(name)) for name in header]
        for number, cells in enumerate(reader, start=2):
            if not "".join(cells).strip():
                continue  # blank lines at the end of a sheet
            if len(rows) == max_rows:
                raise _too_many_rows(number, max_rows)
            if len(cells) != len(header):
                message = f"has {len(cells)} cells; the header has {len(header)}"
                errors.append({"row": number, "field": "row", "message": message})
                continue
            values: dict[str, Any] = dict.fromkeys(COLUMN_NAMES)
            for (column, seen), raw in zip(parsed, cells, strict=True):
                if (value := seen.get(raw, _UNSEEN)) is _UNSEEN:
                    value = seen[raw] = _parse_cell(column, raw.strip())
                if type(value) is _Bad:
                    errors.append({"row": number, "field": column, "message": value.message})
                else:
                    values[column] = value
            rows.append(Row(number, values))
    except UnicodeDecodeError as err:
        raise InvalidInput(
            f"The file is not UTF-8 text (after row {number}); save it as CSV UTF-8",
            errors=[{"row": number + 1, "field": "file", "message": "not UTF-8 text"}],
        ) from err
    if not rows and not errors:
        raise InvalidInput("The file has a header but no rows", errors=[_header_error("no rows")])
    return rows, errors


def _too_many_rows(number: int, max_rows: int) -> InvalidInput:
    return InvalidInput(
        f"The file has more than {max_rows:,} rows, the limit of one import; split it into "
        "files of at most that many rows; nothing was imported",
        errors=[{"row": number, "field": "file", "message": f"more than {max_rows:,} rows"}],
    )


_PARSERS = {c.name: c.parse for c in COLUMNS}
_UNSEEN = object()
# Every row has its own aliquot barcode: remembering them would only cost memory.
_NEVER_REPEATED = frozenset({"aliquot_barcode"})


class _NoCache(dict[str, Any]):
    """The cache of a column whose cells never repeat: it remembers nothing."""

    def __setitem__(self, key: str, value: Any) -> None:
        pass


def _cache(column: str) -> dict[str, Any]:
    return _NoCache() if column in _NEVER_REPEATED else {}


@dataclass(frozen=True)
class _Bad:
    """A cell that does not parse, and why; cached like a value, so it is explained once."""

    message: str


def _parse_cell(column: str, raw: str) -> Any:
    """The cell's value (None when empty and optional), or _Bad."""
    if "\x00" in raw:  # PostgreSQL text cannot hold one; the lookups would fail there
        return _Bad("contains a NUL character (\\x00)")
    if not raw:
        return _Bad("is required") if column in REQUIRED else None
    try:
        return _PARSERS[column](raw)
    except ValueError as err:
        return _Bad(str(err))


def _header_error(message: str) -> FieldError:
    return {"row": 1, "field": "header", "message": message}


def _check_header(header: list[str]) -> None:
    problems = []
    if missing := [c for c in COLUMN_NAMES if c in REQUIRED and c not in header]:
        problems.append(_header_error(f"missing required columns: {', '.join(missing)}"))
    if unknown := [c for c in header if c not in COLUMN_NAMES]:
        problems.append(_header_error(f"unknown columns: {', '.join(unknown)}"))
    if repeated := sorted({c for c in header if header.count(c) > 1}):
        problems.append(_header_error(f"repeated columns: {', '.join(repeated)}"))
    if problems:
        raise InvalidInput(
            "; ".join(p["message"] for p in problems) + "; nothing was imported", errors=problems
        )


def import_aliquots(
    session: Session,
    actor: Actor,
    *,
    data: bytes | IO[bytes],
    filename: str = "upload.csv",
    max_rows: int = MAX_ROWS,
    now: datetime | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ImportResult:
    """Import a CSV of aliquots: every row is checked first; any problem and nothing is written."""
    actor.require(Role.TECHNICIAN)
    with without_cyclic_gc():  # a 100,000-row file makes millions of objects that live to the end
        return _import_aliquots(session, actor, data, filename, max_rows, now, limits)


def _import_aliquots(
    session: Session,
    actor: Actor,
    data: bytes | IO[bytes],
    filename: str,
    max_rows: int,
    now: datetime | None,
    limits: Limits,
) -> ImportResult:
    source = HashingReader(io.BytesIO(data) if isinstance(data, bytes) else data)
    rows, errors = read_rows(source, max_rows=max_rows)
    plan, problems = plan_import(
        session, rows, now=now or utcnow(), limits=limits, lab=processing_site(session, actor)
    )
    errors = sorted([*errors, *problems], key=lambda e: (e.get("row", 0), e.get("field", "")))
    if errors:
        shown = errors[:MAX_ERRORS_REPORTED]
        more = f" (the first {len(shown)} are listed)" if len(errors) > len(shown) else ""
        raise InvalidInput(
            f"{plural(len(errors), 'problem')} found in {filename}{more}; nothing was imported",
            errors=shown,
        )
    sha256 = source.sha256.hexdigest()  # read_rows read to the end
    result = write_import(session, actor, plan, sha256=sha256, filename=filename)
    session.commit()
    # The rows went in around the unit of work; loaded collections (a subject's visits) are stale.
    session.expire_all()
    return result
