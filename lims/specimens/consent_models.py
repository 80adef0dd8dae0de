"""Consent as the participant gave it: documents, their statements, and append-only events.

Consent belongs to the subject, so it lives in `specimens`. Events are never edited or deleted:
a new form version is a new event, and status is computed "as of" a date (privacy notes §5,
"Recording consent in the software"). Withdrawal levels follow UK Biobank's three options (Ethics
and Governance Framework, 2006/2007) and NIHR BioResource's "no further contact / no further use".
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.db import Base, str_enum, utcnow
from lims.specimens.duo import DuoTerm
from lims.specimens.models import Subject, WithdrawalLevel


class StatementKind(StrEnum):
    """How a statement's answer bears on a use."""

    PERMISSION = "permission"  # yes grants the DUO permission (GRU, HMB, DS, POA)
    RESTRICTION = "restriction"  # the answer in `restricts_on` puts the DUO modifier on every use
    REQUIRED_FOR = "required_for"  # a purpose that declares the DUO term needs a yes (GSO)
    RECONTACT = "recontact"  # not DUO: may the participant be contacted again
    SAMPLES_ON_WITHDRAWAL = "samples_on_withdrawal"  # not DUO: yes = destroy samples on withdrawal


class ConsentEventKind(StrEnum):
    CONSENTED = "consented"
    RECONSENTED = "reconsented"
    WITHDREW = "withdrew"


class ConsentDocument(Base):
    """A consent form version approved by an ethics committee."""

    __tablename__ = "consent_documents"
    __audit_type__: ClassVar[str] = "consent_document"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    version: Mapped[str] = mapped_column(String(20))
    effective_on: Mapped[date]
    irb_reference: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    statements: Mapped[list[ConsentStatement]] = relationship(
        back_populates="document", order_by="ConsentStatement.position"
    )

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


class ConsentStatement(Base):
    """One statement of a form the participant answers yes or no, mapped to a DUO term."""

    __tablename__ = "consent_statements"
    __table_args__ = (
        UniqueConstraint("document_id", "position"),
        UniqueConstraint("document_id", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("consent_documents.id"), index=True)
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(40))  # a CSV column: "genetic", "commercial"
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[StatementKind] = mapped_column(str_enum(StatementKind, 24))
    duo_id: Mapped[DuoTerm | None] = mapped_column(str_enum(DuoTerm, 11))
    disease_id: Mapped[str | None] = mapped_column(String(20))  # MONDO id, for DS only
    restricts_on: Mapped[bool | None]  # RESTRICTION: the answer that imposes the modifier

    document: Mapped[ConsentDocument] = relationship(back_populates="statements")


class ConsentEvent(Base):
    """Consent given, given again on a new version, or withdrawn at a level: append-only."""

    __tablename__ = "consent_events"
    __audit_type__: ClassVar[str] = "consent_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    kind: Mapped[ConsentEventKind] = mapped_column(str_enum(ConsentEventKind, 12))
    occurred_on: Mapped[date]  # the date signed, or the date of the withdrawal
    document_id: Mapped[int | None] = mapped_column(ForeignKey("consent_documents.id"))
    withdrawal_level: Mapped[WithdrawalLevel | None] = mapped_column(str_enum(WithdrawalLevel, 20))
    note: Mapped[str | None] = mapped_column(String(500))  # a withdrawal's documented reason
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    subject: Mapped[Subject] = relationship()
    document: Mapped[ConsentDocument | None] = relationship()
    answers: Mapped[list[ConsentAnswer]] = relationship(back_populates="event")


class ConsentAnswer(Base):
    """A participant's yes or no to one statement, at one consent event."""

    __tablename__ = "consent_answers"
    __table_args__ = (
        UniqueConstraint("event_id", "statement_id"),
        # A purpose's consent test reads the answers to two or three statements across every
        # subject: from this index alone on PostgreSQL, not a pass over all answers (issue 19,
        # bench/feasibility.py). SQLite has no INCLUDE: there it indexes statement_id only.
        Index(
            "ix_consent_answers_statement_id",
            "statement_id",
            postgresql_include=["event_id", "answer"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("consent_events.id"), index=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("consent_statements.id"))
    answer: Mapped[bool]

    event: Mapped[ConsentEvent] = relationship(back_populates="answers")
    statement: Mapped[ConsentStatement] = relationship()
