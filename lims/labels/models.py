"""Every label print job and each label in it, so a reprint is visible to an auditor."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.db import Base, utcnow


class Printer(Base):
    """A label printer on the network, with the stock it is loaded with.

    A ZPL printer takes raw ZPL on TCP `host:port` (9100 is Zebra's raw port, ZPL II
    Programming Guide); a PDF printer is a print queue of this server (`lp -d queue`).
    The offsets move everything right and down, in mm, as measured with the calibration
    page (sheets) or a printed label (rolls).
    """

    __tablename__ = "printers"
    __audit_type__: ClassVar[str] = "printer"
    __table_args__ = (
        CheckConstraint("language IN ('zpl', 'pdf')", name="language_known"),
        CheckConstraint("port BETWEEN 1 AND 65535", name="port_in_range"),
        CheckConstraint("dpi > 0", name="dpi_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(8))  # zpl or pdf
    host: Mapped[str] = mapped_column(String(255), default="")  # zpl: address on the network
    port: Mapped[int] = mapped_column(default=9100)
    queue: Mapped[str] = mapped_column(String(64), default="")  # pdf: the print queue's name
    stock_id: Mapped[str] = mapped_column(String(40))
    dpi: Mapped[int]
    x_offset_mm: Mapped[float] = mapped_column(default=0.0)
    y_offset_mm: Mapped[float] = mapped_column(default=0.0)
    is_active: Mapped[bool] = mapped_column(default=True)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}" if self.language == "zpl" else f"queue {self.queue}"


class PrintJob(Base):
    __tablename__ = "print_jobs"
    __audit_type__: ClassVar[str] = "print_job"
    __table_args__ = (CheckConstraint("label_count > 0", name="label_count_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    printed_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    stock_id: Mapped[str] = mapped_column(String(40))
    output_format: Mapped[str] = mapped_column(String(8))  # pdf or zpl
    label_count: Mapped[int]
    is_reprint: Mapped[bool] = mapped_column(default=False)  # any label printed before
    # The printer the job was sent to; None when the PDF or ZPL was downloaded instead.
    printer_id: Mapped[int | None] = mapped_column(ForeignKey("printers.id"), index=True)

    printer: Mapped[Printer | None] = relationship()
    labels: Mapped[list[PrintedLabel]] = relationship(
        back_populates="job", order_by="PrintedLabel.id"
    )


class PrintedLabel(Base):
    """One label of a job, in print order; is_reprint when that barcode was printed before."""

    __tablename__ = "printed_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    print_job_id: Mapped[int] = mapped_column(ForeignKey("print_jobs.id"), index=True)
    barcode: Mapped[str] = mapped_column(String(32), index=True)
    is_reprint: Mapped[bool] = mapped_column(default=False)

    job: Mapped[PrintJob] = relationship(back_populates="labels")
