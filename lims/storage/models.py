"""Freezers, racks (or shelves), boxes of any grid size, and which aliquot sits where."""

from __future__ import annotations

import re
import string
from datetime import datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.auth.models import Site
from lims.db import Base, str_enum, utcnow
from lims.errors import InvalidInput
from lims.specimens.models import Aliquot, SpecimenType

ROW_LETTERS = string.ascii_uppercase
_POSITION = re.compile(r"^([A-Z])\s*0*([1-9][0-9]?)$")


class Freezer(Base):
    __tablename__ = "freezers"
    __audit_type__: ClassVar[str] = "freezer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    temperature_c: Mapped[int]  # set-point, e.g. -80
    room: Mapped[str] = mapped_column(String(60))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[Site | None] = relationship()
    racks: Mapped[list[Rack]] = relationship(back_populates="freezer", order_by="Rack.name")

    @property
    def is_frozen(self) -> bool:
        """Below 0 °C: taking a tube out and putting it back counts a freeze-thaw cycle."""
        return self.temperature_c < 0


class Rack(Base):
    """A rack, drawer or shelf inside a freezer."""

    __tablename__ = "racks"
    __audit_type__: ClassVar[str] = "rack"
    __table_args__ = (UniqueConstraint("freezer_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    freezer_id: Mapped[int] = mapped_column(ForeignKey("freezers.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))

    freezer: Mapped[Freezer] = relationship(back_populates="racks")
    boxes: Mapped[list[Box]] = relationship(back_populates="rack", order_by="Box.name")


class Box(Base):
    """A storage box with a rows x columns grid; position A1 is the notched corner, from above."""

    __tablename__ = "boxes"
    __audit_type__: ClassVar[str] = "box"
    __table_args__ = (
        CheckConstraint("n_rows BETWEEN 1 AND 26", name="rows_range"),
        CheckConstraint("n_cols BETWEEN 1 AND 30", name="cols_range"),
        # The find box asks for a box by name, case-blind (services/finding.py find_boxes). On
        # PostgreSQL only: SQLite cannot reflect an index on an expression (so neither can the
        # migrations' drift check), and reads its few boxes fast enough without.
        Index("ix_boxes_upper_name", text("upper(name)")).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    barcode: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    rack_id: Mapped[int | None] = mapped_column(ForeignKey("racks.id"), index=True)
    n_rows: Mapped[int]
    n_cols: Mapped[int]
    # What the box is set up for (serum, DNA, ...); None is a mixed box that takes any aliquot.
    specimen_type: Mapped[SpecimenType | None] = mapped_column(
        str_enum(SpecimenType, 16, name="box_specimen_type")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    rack: Mapped[Rack | None] = relationship(back_populates="boxes")
    placements: Mapped[list[Placement]] = relationship(
        back_populates="box", order_by="(Placement.row, Placement.col)"
    )

    @property
    def capacity(self) -> int:
        return self.n_rows * self.n_cols

    @property
    def label(self) -> str:
        return f"{self.name} ({self.barcode})"

    def specimen_type_problem(self, aliquot: Aliquot) -> str | None:
        """Why this aliquot does not belong in this box (a DNA tube in a serum box), or None."""
        if self.specimen_type is None or aliquot.specimen_type == self.specimen_type:
            return None
        return (
            f"{aliquot.barcode} holds {aliquot.specimen_type.value.replace('_', ' ')}, but box "
            f"{self.barcode} is set up for {self.specimen_type.value.replace('_', ' ')}"
        )

    def parse_position(self, position: str) -> tuple[int, int]:
        """'B7' -> (1, 6), zero-based, refusing positions outside this box's grid."""
        match = _POSITION.match(position.strip().upper())
        if match is None:
            raise InvalidInput(
                f"{position!r} is not a position; write a row letter and a column, e.g. A1",
                field="position",
            )
        row, col = ROW_LETTERS.index(match.group(1)), int(match.group(2)) - 1
        if row >= self.n_rows or col >= self.n_cols:
            last = position_name(self.n_rows - 1, self.n_cols - 1)
            raise InvalidInput(
                f"{position} is outside box {self.barcode} (A1 to {last})", field="position"
            )
        return row, col

    def first_free_position(self) -> tuple[int, int] | None:
        """Row-major first empty position (A1, A2, ...), the order a technician fills a box."""
        taken = {(p.row, p.col) for p in self.placements}
        for row in range(self.n_rows):
            for col in range(self.n_cols):
                if (row, col) not in taken:
                    return row, col
        return None

    def aliquot_at(self, row: int, col: int) -> Aliquot | None:
        for placement in self.placements:
            if placement.row == row and placement.col == col:
                return placement.aliquot
        return None

    @property
    def freezer(self) -> Freezer | None:
        return self.rack.freezer if self.rack else None

    def location_path(self) -> str:
        if self.rack is None:
            return self.name
        return f"{self.rack.freezer.name} / {self.rack.name} / {self.name}"


def position_name(row: int, col: int) -> str:
    return f"{ROW_LETTERS[row]}{col + 1}"


class Placement(Base):
    """Where an aliquot sits. The database refuses two aliquots in one position."""

    __tablename__ = "placements"
    __table_args__ = (
        UniqueConstraint("box_id", "row", "col"),
        CheckConstraint('"row" >= 0 AND col >= 0', name="position_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    aliquot_id: Mapped[int] = mapped_column(ForeignKey("aliquots.id"), unique=True)
    box_id: Mapped[int] = mapped_column(ForeignKey("boxes.id"), index=True)
    row: Mapped[int]
    col: Mapped[int]
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)

    box: Mapped[Box] = relationship(back_populates="placements")
    aliquot: Mapped[Aliquot] = relationship()

    @property
    def position(self) -> str:
        return position_name(self.row, self.col)
