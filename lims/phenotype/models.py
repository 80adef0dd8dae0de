"""A visit's phenotype: diagnoses, rating-scale administrations, treatments and diagnostic data.

Every row hangs off a visit, so an aliquot reaches its phenotype through specimen -> visit.
Scale definitions and scoring live in the plain library phenotype_link.scales; here we keep the
raw item answers as given, the scores computed from them, and an imported total as given.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.db import Base, str_enum, utcnow
from lims.specimens.models import Dystonia, Visit

# Scores carry UDRS half points (Comella 2003: duration 0-4 in 0.5 steps), so never an integer.
Score = Numeric(7, 2, asdecimal=False)


class BodyRegion(StrEnum):
    """One internal region vocabulary that every scale maps onto (docs/shared dystonia.md §1,
    the GDRS/UDRS regions with laterality)."""

    EYES = "eyes"  # eyes and upper face
    LOWER_FACE = "lower_face"
    JAW_TONGUE = "jaw_tongue"
    LARYNX = "larynx"
    NECK = "neck"
    SHOULDER_LEFT = "shoulder_left"  # shoulder and proximal arm
    SHOULDER_RIGHT = "shoulder_right"
    HAND_LEFT = "hand_left"  # distal arm and hand
    HAND_RIGHT = "hand_right"
    LEG_LEFT = "leg_left"  # pelvis and proximal leg
    LEG_RIGHT = "leg_right"
    FOOT_LEFT = "foot_left"  # distal leg and foot
    FOOT_RIGHT = "foot_right"
    TRUNK = "trunk"


# Which regions touch, for telling segmental from multifocal spread. No published table exists
# (dystonia.md §1: "keep the adjacency map as configuration"); this one follows the body.
R = BodyRegion
ADJACENT: dict[BodyRegion, frozenset[BodyRegion]] = {
    R.EYES: frozenset({R.LOWER_FACE}),
    R.LOWER_FACE: frozenset({R.EYES, R.JAW_TONGUE}),
    R.JAW_TONGUE: frozenset({R.LOWER_FACE, R.LARYNX, R.NECK}),
    R.LARYNX: frozenset({R.JAW_TONGUE, R.NECK}),
    R.NECK: frozenset({R.JAW_TONGUE, R.LARYNX, R.SHOULDER_LEFT, R.SHOULDER_RIGHT, R.TRUNK}),
    R.SHOULDER_LEFT: frozenset({R.NECK, R.HAND_LEFT, R.TRUNK}),
    R.SHOULDER_RIGHT: frozenset({R.NECK, R.HAND_RIGHT, R.TRUNK}),
    R.HAND_LEFT: frozenset({R.SHOULDER_LEFT}),
    R.HAND_RIGHT: frozenset({R.SHOULDER_RIGHT}),
    R.LEG_LEFT: frozenset({R.TRUNK, R.FOOT_LEFT}),
    R.LEG_RIGHT: frozenset({R.TRUNK, R.FOOT_RIGHT}),
    R.FOOT_LEFT: frozenset({R.LEG_LEFT}),
    R.FOOT_RIGHT: frozenset({R.LEG_RIGHT}),
    R.TRUNK: frozenset({R.NECK, R.SHOULDER_LEFT, R.SHOULDER_RIGHT, R.LEG_LEFT, R.LEG_RIGHT}),
}


def distribution(regions: set[BodyRegion]) -> str:
    """Axis I body distribution (Albanese 2013) of a set of regions: focal, segmental (all
    contiguous) or multifocal. Generalized needs the trunk and two more sites."""
    if len(regions) <= 1:
        return "focal"
    if R.TRUNK in regions and len(regions) >= 3:
        return "generalized"
    seen, todo = set(), [next(iter(sorted(regions)))]
    while todo:
        here = todo.pop()
        seen.add(here)
        todo.extend(r for r in ADJACENT[here] & regions if r not in seen)
    return "segmental" if seen == regions else "multifocal"


class TreatmentKind(StrEnum):
    BOTULINUM_TOXIN = "botulinum_toxin"
    ORAL_MEDICATION = "oral_medication"
    DBS = "dbs"


class FindingKind(StrEnum):
    """Diagnostic data a site reports beside the scales."""

    VOICE_RATING = "voice_rating"  # e.g. CAPE-V overall severity, for laryngeal dystonia
    FAMILY_HISTORY = "family_history"
    GENETIC_TEST = "genetic_test"


class Diagnosis(Base):
    """Which focal dystonia a subject had at a visit, where, and since what age."""

    __tablename__ = "diagnoses"
    __audit_type__: ClassVar[str] = "diagnosis"
    __table_args__ = (
        UniqueConstraint("visit_id", "dystonia"),
        CheckConstraint(
            "age_at_onset_years IS NULL OR (age_at_onset_years >= 0 AND age_at_onset_years < 120)",
            name="age_at_onset_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    dystonia: Mapped[Dystonia] = mapped_column(str_enum(Dystonia, 16))
    subtype: Mapped[str | None] = mapped_column(String(80))  # "adductor", "torticollis", ...
    body_regions: Mapped[list[str]] = mapped_column(JSON)  # BodyRegion values, sorted
    age_at_onset_years: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    visit: Mapped[Visit] = relationship()


class ScaleAdministration(Base):
    """One rating scale given at a visit: the raw answers, the scores computed from them, and
    the total a site's export gave, kept as given and flagged when it disagrees."""

    __tablename__ = "scale_administrations"
    __audit_type__: ClassVar[str] = "scale_administration"
    __table_args__ = (
        UniqueConstraint("visit_id", "scale_id", "repeat_instance"),
        CheckConstraint("repeat_instance >= 1", name="repeat_instance_positive"),
        # A score criterion reads one scale's score per visit (lims/requests/criteria): covering
        # on PostgreSQL, so it never reads the wide rows with their answers (bench/
        # feasibility.py). Statistics on that score: migration 0019_feas6.
        Index(
            "ix_scale_administrations_scale_id_visit_id",
            "scale_id",
            "visit_id",
            postgresql_include=["total_score", "imported_total"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    scale_id: Mapped[str] = mapped_column(String(24))  # phenotype_link.scales id: "twstrs", "vhi"
    scale_version: Mapped[str] = mapped_column(String(80))  # "Jacobson et al. 1997, 30 items"
    repeat_instance: Mapped[int] = mapped_column(default=1)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)  # item id -> raw value, as given
    total_score: Mapped[float | None] = mapped_column(Score)  # None: not computable (flags say why)
    subscale_scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    imported_total: Mapped[float | None] = mapped_column(Score)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    rater: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    visit: Mapped[Visit] = relationship()


class Treatment(Base):
    """A treatment reported at a visit: a botulinum toxin session, an oral drug, or DBS."""

    __tablename__ = "treatments"
    __audit_type__: ClassVar[str] = "treatment"
    __table_args__ = (
        CheckConstraint("dose_units IS NULL OR dose_units > 0", name="dose_positive"),
        CheckConstraint(
            "kind <> 'botulinum_toxin' OR given_on IS NOT NULL", name="toxin_has_injection_date"
        ),
        UniqueConstraint("visit_id", "kind", "repeat_instance"),
        CheckConstraint("repeat_instance >= 1", name="repeat_instance_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    kind: Mapped[TreatmentKind] = mapped_column(str_enum(TreatmentKind, 16))
    # Several toxin sessions since the last visit are REDCap repeat instances of one instrument.
    repeat_instance: Mapped[int] = mapped_column(default=1)
    # Toxin product ("onabotulinumtoxinA"), drug name ("trihexyphenidyl") or DBS device.
    product: Mapped[str] = mapped_column(String(60))
    dose_units: Mapped[float | None] = mapped_column(Score)  # toxin units (not interchangeable)
    muscles: Mapped[list[str]] = mapped_column(JSON, default=list)  # toxin: injected muscles
    dbs_targets: Mapped[list[str]] = mapped_column(JSON, default=list)  # "GPi", "STN", sides
    given_on: Mapped[date | None]  # toxin: injection date; DBS: implant date; drug: start
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    visit: Mapped[Visit] = relationship()


class DiagnosticFinding(Base):
    """A diagnostic datum a site reported: a voice rating, family history, a genetic result."""

    __tablename__ = "diagnostic_findings"
    __audit_type__: ClassVar[str] = "diagnostic_finding"
    __table_args__ = (UniqueConstraint("visit_id", "kind", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    kind: Mapped[FindingKind] = mapped_column(str_enum(FindingKind, 16))
    item: Mapped[str] = mapped_column(String(40))  # "cape_v_overall", "first_degree", "THAP1"
    value: Mapped[str] = mapped_column(String(120))  # "62", "yes", "pathogenic"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    visit: Mapped[Visit] = relationship()


class PhenotypeImport(Base):
    """One REDCap export taken in: its file's SHA-256 and what it changed."""

    __tablename__ = "phenotype_imports"
    __audit_type__: ClassVar[str] = "phenotype_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str | None] = mapped_column(String(200))
    created_count: Mapped[int] = mapped_column(default=0)
    changed_count: Mapped[int] = mapped_column(default=0)
    unchanged_count: Mapped[int] = mapped_column(default=0)
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
