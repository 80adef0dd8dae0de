"""Subjects, visits, the primary tubes collected at a visit, and their aliquots."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.auth.models import Site, User
from lims.db import Base, str_enum, utcnow
from lims.errors import Conflict, shown
from lims.specimens.quality import (
    ExtractionMethod,
    GelIntegrity,
    InterferenceGrade,
    QuantificationMethod,
)

if TYPE_CHECKING:
    from lims.specimens.consent_models import ConsentEvent


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"


class EnrolmentStatus(StrEnum):
    ENROLLED = "enrolled"
    COMPLETED = "completed"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up"
    CONSENT_WITHDRAWN = "consent_withdrawn"


class Dystonia(StrEnum):
    """The focal dystonias in the consortium's scope (Dystonia Coalition, NCT01373424)."""

    CERVICAL = "cervical"
    LARYNGEAL = "laryngeal"
    BLEPHAROSPASM = "blepharospasm"
    CRANIOFACIAL = "craniofacial"
    LIMB = "limb"


class SpecimenType(StrEnum):
    """What a tube holds. Primary tubes hold whole blood; aliquots hold its derivatives."""

    WHOLE_BLOOD = "whole_blood"
    SERUM = "serum"
    PLASMA = "plasma"
    BUFFY_COAT = "buffy_coat"
    DNA = "dna"
    RNA = "rna"


class TubeType(StrEnum):
    """Primary container, by SPREC code (SPREC 2.0 Table 1: Lehmann et al., Biopreserv Biobank
    2012;10(4):366-374; SED from SPREC 3.0)."""

    PED = "PED"  # potassium EDTA (lavender)
    SED = "SED"  # sodium EDTA
    SST = "SST"  # serum separator tube with clot activator
    CAT = "CAT"  # serum tube without clot activator (not BD's "CAT"!)
    SCI = "SCI"  # sodium citrate
    HEP = "HEP"  # lithium heparin
    PXD = "PXD"  # PAXgene blood DNA
    ZZZ = "ZZZ"  # other


class Temperature(StrEnum):
    """The temperature bands SPREC distinguishes before and after centrifugation."""

    ROOM = "RT"
    COLD = "2-10C"


class AliquotStatus(StrEnum):
    """Lifecycle of an aliquot, from collection to final disposition (NCI Best Practices for
    Biospecimen Resources, 2016, §B.6); the states are ours."""

    EXPECTED = "expected"
    RECEIVED = "received"
    STORED = "stored"
    RESERVED = "reserved"
    CHECKED_OUT = "checked_out"
    IN_TRANSIT = "in_transit"
    RELEASED = "released"
    CONSUMED = "consumed"
    DISPOSED = "disposed"
    QUARANTINED = "quarantined"
    MISSING = "missing"
    # Entered in error: the tube never physically existed (FHIR Specimen "entered-in-error").
    VOIDED = "voided"


class OutCondition(StrEnum):
    """How a tube travels while it is out of its freezer, asked at check-out: only a tube that
    thawed counts a freeze-thaw cycle when it is frozen again (issue #16)."""

    ON_DRY_ICE = "on_dry_ice"
    THAWED = "thawed"


class DisposalReason(StrEnum):
    """Why a tube was destroyed, from a fixed list so disposals can be counted by cause
    (reasons as in easy-GCS "Destruction": expiry, QC failure, consent withdrawal; issue #16)."""

    DEPLETED = "depleted"
    EXPIRED = "expired"
    DAMAGED = "damaged"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    QUALITY_FAILURE = "quality_failure"
    OTHER = "other"  # the free text says what

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class CollectionOutcome(StrEnum):
    """A planned tube of a visit that was never filled (OpenSpecimen's "Not Collected" and
    "Missed Collection"): it has no barcode and no aliquots, only the reason."""

    NOT_COLLECTED = "not_collected"  # the visit took place; this tube was not drawn
    MISSED = "missed"  # the collection itself did not take place

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


S = AliquotStatus
# The one place the allowed moves live; services read it through Aliquot.require_transition.
# Voided is offered wherever the tube is still only ours to correct: not while a request holds
# it (reserved), not on the road (in transit), and not once its story has ended. A released tube
# may come back from the investigator (returned): it is received again, ready to be placed.
ALIQUOT_TRANSITIONS: dict[AliquotStatus, frozenset[AliquotStatus]] = {
    S.EXPECTED: frozenset({S.RECEIVED, S.MISSING, S.DISPOSED, S.VOIDED}),
    S.RECEIVED: frozenset(
        {S.STORED, S.CHECKED_OUT, S.QUARANTINED, S.CONSUMED, S.DISPOSED, S.VOIDED}
    ),
    S.STORED: frozenset(
        {S.RESERVED, S.CHECKED_OUT, S.IN_TRANSIT, S.QUARANTINED, S.MISSING, S.DISPOSED, S.VOIDED}
    ),
    S.RESERVED: frozenset({S.STORED, S.CHECKED_OUT, S.IN_TRANSIT, S.QUARANTINED}),
    S.CHECKED_OUT: frozenset(
        {S.STORED, S.CONSUMED, S.RELEASED, S.QUARANTINED, S.DISPOSED, S.MISSING, S.VOIDED}
    ),
    # -> RELEASED only when an outbound shipment's delivery is confirmed (shipments'
    # confirm_delivery): the investigator's institution has the tube.
    S.IN_TRANSIT: frozenset({S.RECEIVED, S.RELEASED, S.QUARANTINED, S.MISSING}),
    S.QUARANTINED: frozenset({S.STORED, S.DISPOSED, S.VOIDED}),
    S.MISSING: frozenset({S.STORED, S.DISPOSED, S.VOIDED}),
    S.RELEASED: frozenset({S.RECEIVED}),
    S.CONSUMED: frozenset(),
    S.DISPOSED: frozenset(),
    S.VOIDED: frozenset(),
}
FINAL_STATUSES = frozenset(s for s, nxt in ALIQUOT_TRANSITIONS.items() if not nxt)
# No longer held here: final, or released to an investigator (only a return brings it back).
TERMINAL_STATUSES = FINAL_STATUSES | {S.RELEASED}


# A study code is a code, not a name: capitals, digits and '-' only, so a name or a date typed
# into the field by mistake is refused, and the code prints on any label and sits in any URL.
STUDY_CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,19}$")


def study_code_problem(code: str) -> str | None:
    """Why a (normalised, upper-case) study code is refused, or None."""
    if STUDY_CODE_PATTERN.match(code):
        return None
    return (
        f"'{shown(code)}' is not a study code: 1 to 20 capital letters, digits or '-', "
        "starting with a letter or digit (e.g. NA1-0042)"
    )


class WithdrawalLevel(StrEnum):
    """UK Biobank's three options, mildest first (the order is the escalation); the consent
    events that record them are in consent_models.py."""

    NO_FURTHER_CONTACT = "no_further_contact"  # existing samples and data still used
    NO_FURTHER_ACCESS = "no_further_access"  # kept, but no further use or release
    NO_FURTHER_USE = "no_further_use"  # no use at all; samples destroyed (the disposal offer)

    @property
    def rank(self) -> int:
        return list(WithdrawalLevel).index(self)

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @property
    def for_tube(self) -> str:
        """What the level means for each tube of the subject, as the storage pages say it."""
        return TUBE_MEANING[self]


TUBE_MEANING = {
    WithdrawalLevel.NO_FURTHER_CONTACT: "the tube may still be used (only contact stops)",
    WithdrawalLevel.NO_FURTHER_ACCESS: "keep the tube; do not use, reserve or ship it",
    WithdrawalLevel.NO_FURTHER_USE: "the tube may only be disposed of (samples to be destroyed)",
}


class Subject(Base):
    """A participant, known here only by a study code (no names, MRNs or birth dates)."""

    __tablename__ = "subjects"
    __audit_type__: ClassVar[str] = "subject"
    __table_args__ = (
        CheckConstraint(
            "birth_year IS NULL OR (birth_year >= 1900 AND birth_year <= 2100)",
            name="birth_year_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_code: Mapped[str] = mapped_column(String(20), unique=True)
    ninds_guid: Mapped[str | None] = mapped_column(String(20), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    sex: Mapped[Sex] = mapped_column(str_enum(Sex, 8))
    primary_diagnosis: Mapped[Dystonia] = mapped_column(str_enum(Dystonia, 16))
    enrolment_status: Mapped[EnrolmentStatus] = mapped_column(
        str_enum(EnrolmentStatus, 20), default=EnrolmentStatus.ENROLLED
    )
    consent_withdrawn_at: Mapped[datetime | None]
    # The year only (Safe Harbor keeps it; a birth date would identify): age at collection for
    # request criteria and the data set is counted in whole years from it (issue 19).
    birth_year: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[Site] = relationship()
    visits: Mapped[list[Visit]] = relationship(
        back_populates="subject", order_by="Visit.visit_number"
    )
    # Read-only here: events are appended by the consent services (consent_models.py).
    consent_events: Mapped[list[ConsentEvent]] = relationship(
        viewonly=True, order_by="ConsentEvent.id"
    )

    @property
    def has_consent(self) -> bool:
        return self.enrolment_status is not EnrolmentStatus.CONSENT_WITHDRAWN

    @property
    def withdrawal_level(self) -> WithdrawalLevel | None:
        """The strongest withdrawal recorded, at any level; None if the subject never withdrew.
        A subject withdrawn before levels were recorded counts as "no further use"."""
        levels = [e.withdrawal_level for e in self.consent_events if e.withdrawal_level]
        if not self.has_consent:
            levels.append(WithdrawalLevel.NO_FURTHER_USE)
        return max(levels, key=lambda level: level.rank, default=None)


class Visit(Base):
    __tablename__ = "visits"
    __audit_type__: ClassVar[str] = "visit"
    __table_args__ = (
        UniqueConstraint("subject_id", "visit_number"),
        CheckConstraint("visit_number >= 1", name="visit_number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    visit_number: Mapped[int]
    visit_on: Mapped[date]

    subject: Mapped[Subject] = relationship(back_populates="visits")
    specimens: Mapped[list[Specimen]] = relationship(back_populates="visit", order_by="Specimen.id")
    uncollected: Mapped[list[UncollectedTube]] = relationship(
        back_populates="visit", order_by="UncollectedTube.id"
    )

    @property
    def label(self) -> str:
        return f"{self.subject.study_code} V{self.visit_number}"


class Specimen(Base):
    """A primary tube collected at a visit, with its pre-analytical record (SPREC inputs)."""

    __tablename__ = "specimens"
    __audit_type__: ClassVar[str] = "specimen"
    __table_args__ = (
        CheckConstraint("volume_ml IS NULL OR volume_ml > 0", name="volume_positive"),
        CheckConstraint(
            "clotting_minutes IS NULL OR clotting_minutes >= 0", name="clotting_non_negative"
        ),
        CheckConstraint("centrifuge_g IS NULL OR centrifuge_g > 0", name="g_positive"),
        CheckConstraint(
            "received_at IS NULL OR received_at >= collected_at", name="received_after_collection"
        ),
        CheckConstraint(
            "processed_at IS NULL OR processed_at >= collected_at",
            name="processed_after_collection",
        ),
        # Covering on PostgreSQL: a feasibility count finds the tubes of eligible visits in the
        # index alone, not in 400,000 heap rows (bench/feasibility.py). SQLite: a plain index.
        Index("ix_specimens_visit_id", "visit_id", postgresql_include=["id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    barcode: Mapped[str] = mapped_column(String(32), unique=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"))
    specimen_type: Mapped[SpecimenType] = mapped_column(str_enum(SpecimenType, 16))
    tube_type: Mapped[TubeType] = mapped_column(str_enum(TubeType, 3))
    volume_ml: Mapped[float | None]
    collected_at: Mapped[datetime]
    received_at: Mapped[datetime | None]
    # Pre-centrifugation: delay from collection to processing and the temperature meanwhile.
    processing_started_at: Mapped[datetime | None]
    pre_processing_temperature: Mapped[Temperature | None] = mapped_column(
        str_enum(Temperature, 8, name="pre_processing_temperature")
    )
    centrifuge_g: Mapped[int | None]  # RCF in g, not rpm (depends on rotor radius)
    centrifuge_minutes: Mapped[int | None]
    centrifuge_temperature: Mapped[Temperature | None] = mapped_column(
        str_enum(Temperature, 8, name="centrifuge_temperature")
    )
    centrifuge_braked: Mapped[bool | None]
    processed_at: Mapped[datetime | None]  # aliquoted / frozen
    # The lab whose wall clock the receipt and processing times were read on; None: the
    # collecting site (rows from before time zones, and tubes recorded by an account with no site).
    processing_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    storage_temperature_c: Mapped[int | None]
    # SPREC element 5: None is "not recorded" (X), False "no second spin" (N).
    is_second_spun: Mapped[bool | None]
    sprec_code: Mapped[str | None] = mapped_column(String(20))
    sprec_version: Mapped[str | None] = mapped_column(String(32))
    # Serum quality. Fasting is an in-vivo variable outside SPREC (Betsou, Clin Proteomics 2015).
    hemolysis: Mapped[InterferenceGrade | None] = mapped_column(
        str_enum(InterferenceGrade, 8, name="hemolysis")
    )
    lipemia: Mapped[InterferenceGrade | None] = mapped_column(
        str_enum(InterferenceGrade, 8, name="lipemia")
    )
    icterus: Mapped[InterferenceGrade | None] = mapped_column(
        str_enum(InterferenceGrade, 8, name="icterus")
    )
    is_fasting: Mapped[bool | None]
    clotting_minutes: Mapped[int | None]  # upright at RT, before the first spin
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    visit: Mapped[Visit] = relationship(back_populates="specimens")
    aliquots: Mapped[list[Aliquot]] = relationship(back_populates="specimen", order_by="Aliquot.id")
    processing_site: Mapped[Site | None] = relationship()

    @property
    def collection_zone(self) -> str:
        """The zone the collection time is shown in: the collecting site's."""
        return self.visit.subject.site.time_zone

    @property
    def aliquoted_ul(self) -> int:
        """What the tube has given its aliquots: the direct (not sub-) aliquots, except DNA,
        whose volume is eluate rather than blood. Counted as drawn, not as they hold it now:
        using 400 µL of an aliquot does not put 400 µL back into this tube (issue 15)."""
        return sum(
            a.drawn_ul
            for a in self.aliquots
            if a.parent_id is None and a.specimen_type != SpecimenType.DNA
        )

    @property
    def remaining_ul(self) -> int | None:
        """What is left to aliquot (None when the tube's volume was not recorded)."""
        if self.volume_ml is None:
            return None
        return max(round(self.volume_ml * 1000) - self.aliquoted_ul, 0)

    @property
    def processing_zone(self) -> str:
        """The zone of the receipt and processing times: the processing lab's."""
        return (self.processing_site or self.visit.subject.site).time_zone


def _drawn_as_made(context: DefaultExecutionContext) -> int:
    """A new aliquot holds what was drawn into it: drawn_ul defaults to its volume_ul."""
    volume: int = context.get_current_parameters()["volume_ul"]
    return volume


class Aliquot(Base):
    """A tube in the freezer: a portion of a specimen, or of another aliquot (DNA sub-aliquots)."""

    __tablename__ = "aliquots"
    __audit_type__: ClassVar[str] = "aliquot"
    __table_args__ = (
        CheckConstraint("volume_ul >= 0", name="volume_non_negative"),
        CheckConstraint("volume_ul <= drawn_ul", name="volume_within_drawn"),
        CheckConstraint(
            "concentration_ng_ul IS NULL OR concentration_ng_ul >= 0",
            name="concentration_non_negative",
        ),
        CheckConstraint(
            "a260_280 IS NULL OR (a260_280 > 0 AND a260_280 < 5)", name="a260_280_range"
        ),
        CheckConstraint(
            "a260_230 IS NULL OR (a260_230 > 0 AND a260_230 < 5)", name="a260_230_range"
        ),
        CheckConstraint("din IS NULL OR (din >= 1 AND din <= 10)", name="din_range"),
        CheckConstraint("dilution_factor IS NULL OR dilution_factor > 1", name="dilution_above_1"),
        CheckConstraint("freeze_thaw_count >= 0", name="freeze_thaw_non_negative"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        # Covering on PostgreSQL: a feasibility count reads the aliquots of eligible visits from
        # the index alone, never the table (issue 19, bench/feasibility.py). SQLite has no
        # INCLUDE and keeps the plain index.
        Index(
            "ix_aliquots_specimen_id",
            "specimen_id",
            postgresql_include=["status", "specimen_type", "volume_ul", "freeze_thaw_count"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    barcode: Mapped[str] = mapped_column(String(32), unique=True)
    is_issued_barcode: Mapped[bool] = mapped_column(default=True)
    specimen_id: Mapped[int] = mapped_column(ForeignKey("specimens.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("aliquots.id"), index=True)
    specimen_type: Mapped[SpecimenType] = mapped_column(str_enum(SpecimenType, 16), index=True)
    volume_ul: Mapped[int]  # what remains in the tube: use and sub-aliquots take from it
    # What went into the tube when it was made, never changed afterwards: a primary tube has given
    # its aliquots their drawn volume, however much of it was used since (issue 15).
    drawn_ul: Mapped[int] = mapped_column(default=_drawn_as_made)
    concentration_ng_ul: Mapped[float | None]
    a260_280: Mapped[float | None]
    a260_230: Mapped[float | None]
    quantification_method: Mapped[QuantificationMethod | None] = mapped_column(
        str_enum(QuantificationMethod, 24, name="quantification_method")
    )
    din: Mapped[float | None]  # DNA integrity number, 1-10 (Agilent TapeStation)
    gel_integrity: Mapped[GelIntegrity | None] = mapped_column(
        str_enum(GelIntegrity, 16, name="gel_integrity")
    )
    # A working dilution of its parent: concentration = parent's / dilution_factor.
    dilution_factor: Mapped[float | None]
    extraction_method: Mapped[ExtractionMethod | None] = mapped_column(
        str_enum(ExtractionMethod, 20, name="extraction_method")
    )
    extraction_kit: Mapped[str | None] = mapped_column(String(80))
    extracted_on: Mapped[date | None]
    extracted_by: Mapped[str | None] = mapped_column(String(80))  # the operator's username
    # This tube's own SPREC: element 7 follows the freezer it sits in (see sprec.py).
    sprec_code: Mapped[str | None] = mapped_column(String(24))
    sprec_version: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[AliquotStatus] = mapped_column(
        str_enum(AliquotStatus, 16), default=AliquotStatus.RECEIVED, index=True
    )
    freeze_thaw_count: Mapped[int] = mapped_column(default=0)
    # While out of its freezer: how it travels (None: in storage, or never frozen yet).
    out_condition: Mapped[OutCondition | None] = mapped_column(
        str_enum(OutCondition, 12, name="out_condition")
    )
    disposal_reason: Mapped[DisposalReason | None] = mapped_column(
        str_enum(DisposalReason, 20, name="disposal_reason")
    )
    disposal_authorised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    specimen: Mapped[Specimen] = relationship(back_populates="aliquots")
    disposal_authorised_by: Mapped[User | None] = relationship()
    parent: Mapped[Aliquot | None] = relationship(
        remote_side="Aliquot.id", back_populates="children"
    )
    children: Mapped[list[Aliquot]] = relationship(back_populates="parent", order_by="Aliquot.id")

    @property
    def subject(self) -> Subject:
        return self.specimen.visit.subject

    @property
    def total_ug(self) -> float | None:
        """DNA yield in µg: concentration (ng/µL) x volume (µL) / 1000."""
        if self.concentration_ng_ul is None:
            return None
        return round(self.concentration_ng_ul * self.volume_ul / 1000, 2)

    def require_transition(self, to: AliquotStatus) -> None:
        """Refuse a move the lifecycle does not allow, naming where the aliquot stands."""
        if to not in ALIQUOT_TRANSITIONS[self.status]:
            allowed = ", ".join(sorted(s.value for s in ALIQUOT_TRANSITIONS[self.status]))
            raise Conflict(
                f"Aliquot {self.barcode} is {self.status.value} and cannot become {to.value}"
                + (f" (it can become: {allowed})" if allowed else " (no further changes)"),
                field="status",
            )


class UncollectedTube(Base):
    """A tube the visit's plan called for that was not collected or was missed, with why.

    Recorded at accession instead of a tube: it never existed, so it has no barcode, no
    pre-analytics and no aliquots, and nothing can happen to it afterwards.
    """

    __tablename__ = "uncollected_tubes"
    __audit_type__: ClassVar[str] = "uncollected_tube"
    __table_args__ = (CheckConstraint("length(trim(reason)) > 0", name="reason_given"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    specimen_type: Mapped[SpecimenType] = mapped_column(str_enum(SpecimenType, 16))
    tube_type: Mapped[TubeType] = mapped_column(str_enum(TubeType, 3))
    outcome: Mapped[CollectionOutcome] = mapped_column(str_enum(CollectionOutcome, 16))
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    visit: Mapped[Visit] = relationship(back_populates="uncollected")


class BarcodeCounter(Base):
    """The next serial for each kind of issued barcode ('aliquot', 'box'), taken under a lock."""

    __tablename__ = "barcode_counters"
    __table_args__ = (CheckConstraint("next_value >= 1", name="next_value_positive"),)

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    next_value: Mapped[int]


class Installation(Base):
    """This installation's number, the first digit of every tube code it issues (barcodes.py).

    One row, made by the migration as number 0 (the codes issued before numbering are exactly
    installation 0's). The number is printed on the labels, so it changes only while no code
    carries it, or once away from 0: the codes issued as 0 stay ours, and `first_serial` says
    where the codes carrying the new number begin.
    """

    __tablename__ = "installations"
    __audit_type__: ClassVar[str] = "installation"
    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint("number >= 0 AND number <= 9", name="number_one_digit"),
        CheckConstraint("first_serial >= 1", name="first_serial_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    number: Mapped[int]
    first_serial: Mapped[int] = mapped_column(default=1)
