"""Every label print job, so a reprint is visible and an auditor can see what was printed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lims.db import Base, utcnow


class PrintJob(Base):
    __tablename__ = "print_jobs"
    __table_args__ = (CheckConstraint("label_count > 0", name="label_count_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    printed_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    stock_id: Mapped[str] = mapped_column(String(40))
    output_format: Mapped[str] = mapped_column(String(8))  # pdf or zpl
    barcodes: Mapped[str] = mapped_column(Text)  # newline-separated, in print order
    label_count: Mapped[int]
    is_reprint: Mapped[bool] = mapped_column(default=False)
