"""Phenotype values for tests: a cervical dystonia visit with a JRS-free, hand-checkable set."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lims.phenotype.models import BodyRegion, FindingKind, TreatmentKind
from lims.phenotype.services import DiagnosisIn, FindingIn, ScaleIn, TreatmentIn, VisitPhenotype
from lims.specimens.models import Dystonia


def jrs(severity: int, frequency: int, *, imported: int | None = None) -> ScaleIn:
    """Jankovic Rating Scale: total = severity + frequency, each 0-4 (Jankovic & Orman 1987)."""
    return ScaleIn(
        scale_id="jrs",
        answers={"jrs_severity": Decimal(severity), "jrs_frequency": Decimal(frequency)},
        imported_total=Decimal(imported) if imported is not None else None,
        rater="dr-test",
    )


def toxin(given_on: date, units: int = 200, instance: int = 1) -> TreatmentIn:
    return TreatmentIn(
        kind=TreatmentKind.BOTULINUM_TOXIN,
        product="onabotulinumtoxinA",
        given_on=given_on,
        dose_units=Decimal(units),
        muscles=("sternocleidomastoid",),
        repeat_instance=instance,
    )


def phenotype(
    *regions: BodyRegion,
    scales: tuple[ScaleIn, ...] = (),
    treatments: tuple[TreatmentIn, ...] = (),
    dystonia: Dystonia = Dystonia.BLEPHAROSPASM,
) -> VisitPhenotype:
    return VisitPhenotype(
        diagnoses=(DiagnosisIn(dystonia, regions or (BodyRegion.EYES,), None, 52),),
        scales=scales,
        treatments=treatments,
        findings=(FindingIn(FindingKind.FAMILY_HISTORY, "fh_dystonia", "no"),),
    )
