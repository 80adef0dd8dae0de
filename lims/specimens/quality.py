"""The quality vocabulary of serum and DNA: what a bench records beside the volume.

Kept apart from models.py so the lists (and their sources) read in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum
from typing import Any


class InterferenceGrade(StrEnum):
    """Hemolysis, lipemia or icterus seen in serum, as a graded flag (visual inspection against a
    chart, or the analyser's H/L/I index banded the same way). The domain reference lists an
    "hemolysis/lipemia/icterus flag" among the serum fields (docs: biospecimens.md §1.1)."""

    NONE = "none"
    SLIGHT = "slight"
    MODERATE = "moderate"
    MARKED = "marked"


class QuantificationMethod(StrEnum):
    """How a DNA concentration was measured: A260 by UV spectrophotometry (e.g. NanoDrop, Thermo
    technical bulletin T042) or a dsDNA-specific fluorescent dye (e.g. Qubit). The two differ on
    the same tube, so a concentration without its method cannot be compared."""

    UV = "uv_spectrophotometry"
    FLUOROMETRY = "fluorometry"


class GelIntegrity(StrEnum):
    """DNA integrity read from an agarose gel when no DIN (Agilent TapeStation) was measured."""

    INTACT = "intact"  # one high-molecular-weight band
    PARTLY_DEGRADED = "partly_degraded"
    DEGRADED = "degraded"  # smear


class ExtractionMethod(StrEnum):
    """How DNA was extracted from whole blood (the pre-analytical variable that matters most for
    DNA: docs/shared biospecimens.md, addendum on nucleic-acid derivatives)."""

    SILICA_COLUMN = "silica_column"  # e.g. QIAamp DNA Blood
    MAGNETIC_BEADS = "magnetic_beads"  # e.g. EZ1, Maxwell, chemagic
    SALTING_OUT = "salting_out"  # e.g. Puregene / Gentra
    PHENOL_CHLOROFORM = "phenol_chloroform"
    OTHER = "other"


@dataclass(frozen=True)
class DnaQuality:
    """What a DNA tube's QC recorded. Purity: A260/280 about 1.8 and A260/230 about 2.0-2.2 for
    clean DNA; both are unreliable below about 10 ng/µL (Thermo NanoDrop T042, T123)."""

    concentration_ng_ul: float | None = None
    a260_280: float | None = None
    a260_230: float | None = None
    quantification_method: QuantificationMethod | None = None
    din: float | None = None
    gel_integrity: GelIntegrity | None = None

    def as_columns(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Extraction:
    """How, when and by whom DNA was extracted (the derivative code's third element)."""

    method: ExtractionMethod | None = None
    kit: str | None = None
    extracted_on: date | None = None
    extracted_by: str | None = None

    def as_columns(self) -> dict[str, Any]:
        return {
            "extraction_method": self.method,
            "extraction_kit": self.kit,
            "extracted_on": self.extracted_on,
            "extracted_by": self.extracted_by,
        }
