"""Every label print job and each label in it, so a reprint is visible to an auditor."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.db import Base, utcnow


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
