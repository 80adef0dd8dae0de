"""Placement import: a CSV of barcode,box_barcode,position. Every row is checked; one bad row
and nothing is written."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor, Role
from lims.errors import FieldError, InvalidInput, LimsError, plural
from lims.specimens import barcodes
from lims.specimens.models import Aliquot
from lims.specimens.services import lock_aliquots, locked
from lims.storage.models import Box, Placement, position_name
from lims.storage.services._common import lock_box
from lims.storage.services.placing import place_new, storable_problem

PLACEMENT_COLUMNS = ("barcode", "box_barcode", "position")
# Each row is checked with its own queries (the box, the aliquot, the position), so this import
# stays below the aliquot import's LIMS_MAX_IMPORT_ROWS; the lower of the two applies.
MAX_ROWS = 10_000


def read_placement_csv(
    source: str | IO[bytes], *, max_rows: int = MAX_ROWS
) -> list[dict[str, str]]:
    """The rows of a pasted or uploaded CSV (an upload is read as a stream), checking its
    header (row 1), its size and that no cell holds a NUL."""
    if isinstance(source, str):
        text: IO[str] = io.StringIO(source.lstrip("\ufeff"), newline="")
    else:  # utf-8-sig drops a spreadsheet's BOM; a bad byte shows as U+FFFD in the message
        text = io.TextIOWrapper(source, "utf-8-sig", errors="replace", newline="")
    max_rows = min(max_rows, MAX_ROWS)
    reader = csv.DictReader(text)
    header = [(h or "").strip().lower() for h in reader.fieldnames or []]
    if header != list(PLACEMENT_COLUMNS):
        raise InvalidInput(
            f"Row 1 must be the header {','.join(PLACEMENT_COLUMNS)}, not {','.join(header)}",
            errors=[
                {"row": 1, "field": "header", "message": "expected barcode,box_barcode,position"}
            ],
        )
    reader.fieldnames = header
    rows: list[dict[str, str]] = []
    for n, row in enumerate(reader, start=2):
        if len(rows) == max_rows:
            raise InvalidInput(
                f"At most {max_rows:,} rows per file; this one has more. Split it and import "
                "each part; nothing was imported",
                errors=[{"row": n, "field": "file", "message": f"more than {max_rows:,} rows"}],
            )
        values = {k: (v or "").strip() for k, v in row.items() if k}
        if nul := [k for k, v in values.items() if "\x00" in v]:  # PostgreSQL text cannot hold one
            raise InvalidInput(
                f"Row {n}, {nul[0]}: contains a NUL character (\\x00); nothing was imported",
                errors=[{"row": n, "field": nul[0], "message": "contains a NUL character"}],
            )
        rows.append(values)
    if not rows:
        raise InvalidInput("The file has no rows below its header", field="file")
    return rows


@dataclass(frozen=True)
class _Checked:
    aliquot: Aliquot
    box: Box
    row: int
    col: int


class _Checker:
    """Checks rows one by one, remembering what earlier rows of the same file claimed."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.boxes: dict[str, Box | None] = {}
        self.positions: dict[tuple[int, int, int], int] = {}
        self.aliquots: dict[str, int] = {}

    def box(self, code: str) -> Box:
        if code not in self.boxes:
            box_id = self.session.scalar(select(Box.id).where(Box.barcode == code))
            self.boxes[code] = lock_box(self.session, box_id) if box_id is not None else None
        if (box := self.boxes[code]) is None:
            raise InvalidInput(f"no box has barcode {code}", field="box_barcode")
        return box

    def aliquot(self, code: str, n: int) -> Aliquot:
        if problem := barcodes.check_problem(code):
            raise InvalidInput(problem, field="barcode")
        aliquot = self.session.scalar(select(Aliquot).where(Aliquot.barcode == code))
        if aliquot is None:
            raise InvalidInput(f"no aliquot has barcode {code}", field="barcode")
        if (earlier := self.aliquots.setdefault(code, n)) != n:
            raise InvalidInput(f"{code} is also placed by row {earlier}", field="barcode")
        if (refusal := storable_problem(self.session, aliquot)) is not None:
            raise refusal
        return aliquot

    def position(self, box: Box, text: str, n: int) -> tuple[int, int]:
        if not text:
            raise InvalidInput("give a position such as A1", field="position")
        row, col = box.parse_position(text)
        if (held := box.aliquot_at(row, col)) is not None:
            raise InvalidInput(
                f"{box.barcode} {position_name(row, col)} already holds {held.barcode}",
                field="position",
            )
        if (earlier := self.positions.setdefault((box.id, row, col), n)) != n:
            raise InvalidInput(
                f"row {earlier} also places a tube at {box.barcode} {position_name(row, col)}",
                field="position",
            )
        return row, col

    def check(self, n: int, values: dict[str, str]) -> tuple[_Checked | None, list[FieldError]]:
        problems: list[FieldError] = []
        aliquot = box = None
        for name, step in (("barcode", "aliquot"), ("box_barcode", "box")):
            code = barcodes.normalise(values.get(name, ""))
            try:
                if not code:
                    raise InvalidInput("is empty", field=name)
                if step == "aliquot":
                    aliquot = self.aliquot(code, n)
                else:
                    box = self.box(code)
            except LimsError as err:
                problems.append({"row": n, "field": name, "message": err.detail})
        if box is None:
            return None, problems
        if aliquot is not None and (mismatch := box.specimen_type_problem(aliquot)):
            problems.append({"row": n, "field": "box_barcode", "message": mismatch})
        try:
            row, col = self.position(box, values.get("position", ""), n)
        except LimsError as err:
            return None, [*problems, {"row": n, "field": "position", "message": err.detail}]
        return (_Checked(aliquot, box, row, col) if aliquot else None), problems


def _lock_named(session: Session, rows: Sequence[dict[str, str]]) -> None:
    """Lock the tubes the sheet names, then its boxes, each by id: the order every service
    locks in (lims/specimens/services/common.py), whatever order the rows come in."""

    def named(column: str) -> set[str]:
        return {barcodes.normalise(r.get(column) or "") for r in rows} - {""}

    ids = session.scalars(select(Aliquot.id).where(Aliquot.barcode.in_(named("barcode")))).all()
    lock_aliquots(session, ids)
    session.scalars(
        locked(select(Box).where(Box.barcode.in_(named("box_barcode"))).order_by(Box.id))
    ).all()


def import_placements(
    session: Session, actor: Actor, *, rows: Sequence[dict[str, str]]
) -> list[Placement]:
    """Place many tubes from a sheet. Rows are numbered as in the sheet: the header is row 1."""
    actor.require(Role.TECHNICIAN)
    _lock_named(session, rows)
    checker = _Checker(session)
    checked: list[_Checked] = []
    problems: list[FieldError] = []
    for n, values in enumerate(rows, start=2):
        ok, found = checker.check(n, values)
        problems.extend(found)
        if ok is not None and not found:
            checked.append(ok)
    if problems:
        raise InvalidInput(
            f"{plural(len(problems), 'problem')} found in {plural(len(rows), 'row')}; "
            "nothing was imported",
            errors=problems,
        )
    placements = [
        place_new(session, actor, c.aliquot, c.box, c.row, c.col, source="placement import")
        for c in checked
    ]
    session.commit()
    return placements
