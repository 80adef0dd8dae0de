"""The phenotype use cases: recording a visit's phenotype, reading a subject's timeline and an
aliquot's summary, and importing REDCap exports.

Other code imports from here, so the split into modules stays an inner detail.
"""

from lims.phenotype.services._common import (
    Change,
    DiagnosisIn,
    FindingIn,
    ScaleIn,
    TreatmentIn,
    VisitPhenotype,
)
from lims.phenotype.services.imports import ImportResult, import_redcap
from lims.phenotype.services.reading import (
    PhenotypeSummary,
    ScaleSeries,
    Timeline,
    TubeEntry,
    VisitEntry,
    aliquot_phenotype,
    last_toxin_injections,
    subject_timeline,
)
from lims.phenotype.services.recording import record_visit_phenotype

__all__ = [
    "Change",
    "DiagnosisIn",
    "FindingIn",
    "ImportResult",
    "PhenotypeSummary",
    "ScaleIn",
    "ScaleSeries",
    "Timeline",
    "TreatmentIn",
    "TubeEntry",
    "VisitEntry",
    "VisitPhenotype",
    "aliquot_phenotype",
    "import_redcap",
    "last_toxin_injections",
    "record_visit_phenotype",
    "subject_timeline",
]
