"""Reading the cells of a manifest CSV: each reader names the problem instead of raising."""

import re
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from shipping.errors import ManifestProblem
from shipping.model import ManifestItem

ITEM_COLUMNS = tuple(f.name for f in fields(ManifestItem))
REQUIRED_COLUMNS = ("barcode", "specimen_type", "quantity", "unit", "box", "position")

# What label_printing can print as Code 128 and ZPL field data (label_printing/content.py);
# the LIMS stores barcodes of up to 32 characters.
CODE = re.compile(r"[0-9A-Za-z-]{1,32}")
POSITION = re.compile(r"[A-Z]{1,2}[0-9]{1,3}")


@dataclass
class Problems:
    """The problems found so far; `missing_line` is where a missing key is reported."""

    found: list[ManifestProblem] = field(default_factory=list)
    missing_line: int = 1

    def add(self, line: int, column: str, value: str, reason: str) -> None:
        self.found.append(ManifestProblem(line or self.missing_line, column, value, reason))

    def __bool__(self) -> bool:
        return bool(self.found)


def check_code(problems: Problems, line: int, column: str, value: str) -> None:
    if not CODE.fullmatch(value):
        problems.add(line, column, value, "is not a barcode: 1-32 letters, digits or '-'")


def read_decimal(problems: Problems, line: int, column: str, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        problems.add(line, column, value, "is not a number (use a point for decimals: 2.5)")
        return None
    if not number.is_finite() or number < 0:
        problems.add(line, column, value, "is not a number of 0 or more")
        return None
    return number


def read_int(problems: Problems, line: int, column: str, value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        problems.add(line, column, value, "is not a whole number of 0 or more")
        return None
    return int(value)


def read_date(problems: Problems, line: int, column: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.add(line, column, value, "is not a date as YYYY-MM-DD")
        return None


def read_datetime(problems: Problems, line: int, column: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        problems.add(line, column, value, "is not a date and time as 2026-03-18T09:30:00+01:00")
        return None
    if moment.tzinfo is None:
        # A time without its offset is ambiguous across the sites' time zones.
        problems.add(line, column, value, "has no UTC offset (add +01:00, -05:00 or Z)")
        return None
    return moment


@dataclass
class ItemReader:
    """The [Items] section read into ManifestItems, or its problems collected."""

    problems: Problems
    _first_line: dict[str, int] = field(default_factory=dict)
    _places: dict[tuple[str, str], int] = field(default_factory=dict)

    def read(
        self, columns: tuple[int, list[str]] | None, rows: list[tuple[int, list[str]]]
    ) -> tuple[ManifestItem, ...]:
        if columns is None:
            self.problems.add(0, "", "", "has no [Items] section with a header row")
            return ()
        line, names = columns
        before = len(self.problems.found)
        for name in names:
            if name not in ITEM_COLUMNS:
                self.problems.add(line, name, "", "is not a column of manifest version 1")
            elif names.count(name) > 1:
                self.problems.add(line, name, "", "is a column given twice")
        for name in REQUIRED_COLUMNS:
            if name not in names:
                self.problems.add(line, name, "", "is a required column that is missing")
        if len(self.problems.found) > before:
            return ()  # the rows cannot be read against a wrong header
        if not rows:
            self.problems.add(line, "", "", "is followed by no items: a manifest lists its tubes")
        items = [self._item(n, names, cells) for n, cells in rows]
        return tuple(item for item in items if item is not None)

    def _item(self, line: int, names: list[str], cells: list[str]) -> ManifestItem | None:
        if len(cells) > len(names):
            self.problems.add(
                line, "", ",".join(cells[len(names) :]), "are cells beyond the header"
            )
            return None
        raw = {n: (c.strip() or None) for n, c in zip(names, cells, strict=False)}
        before = len(self.problems.found)
        p, add = self.problems, self.problems.add
        for name in ("barcode", "specimen_type", "quantity", "unit"):
            if raw.get(name) is None:
                add(line, name, "", "is required")
        barcode, box, position = raw.get("barcode"), raw.get("box"), raw.get("position")
        for name in ("barcode", "specimen_barcode", "parent_barcode"):
            if (code := raw.get(name)) is not None:
                check_code(p, line, name, code)
        if box is not None and len(box) > 40:
            # A box is named by its barcode or, at a site without box barcodes, by its name.
            add(line, "box", box, "is longer than 40 characters")
        if barcode is not None and (first := self._first_line.setdefault(barcode, line)) != line:
            add(line, "barcode", barcode, f"is listed twice (first on line {first})")
        self._check_place(line, box, position)
        quantity = read_decimal(p, line, "quantity", raw.get("quantity"))
        visit_number = read_int(p, line, "visit_number", raw.get("visit_number"))
        collected_at = read_datetime(p, line, "collected_at", raw.get("collected_at"))
        concentration = read_decimal(p, line, "concentration_ng_ul", raw.get("concentration_ng_ul"))
        thaws = read_int(p, line, "freeze_thaw_count", raw.get("freeze_thaw_count"))
        if len(self.problems.found) > before or quantity is None:
            return None
        return ManifestItem(
            barcode=str(barcode),
            specimen_type=str(raw["specimen_type"]),
            quantity=quantity,
            unit=str(raw["unit"]),
            box=box,
            position=position,
            study_code=raw.get("study_code"),
            visit_number=visit_number,
            collected_at=collected_at,
            specimen_barcode=raw.get("specimen_barcode"),
            parent_barcode=raw.get("parent_barcode"),
            tube_type=raw.get("tube_type"),
            sprec=raw.get("sprec"),
            concentration_ng_ul=concentration,
            freeze_thaw_count=thaws,
        )

    def _check_place(self, line: int, box: str | None, position: str | None) -> None:
        if position is None:
            return
        if box is None:
            self.problems.add(line, "position", position, "is given without a box")
        elif not POSITION.fullmatch(position):
            self.problems.add(line, "position", position, "is not a position such as A1 or J10")
        elif (first := self._places.setdefault((box, position), line)) != line:
            self.problems.add(
                line, "position", position, f"in box {box} is taken already (line {first})"
            )
