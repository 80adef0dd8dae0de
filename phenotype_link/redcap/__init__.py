"""REDCap both ways: the data dictionary the LIMS publishes, and the exports it imports."""

from phenotype_link.redcap.dictionary import DICTIONARY_COLUMNS, dictionary_csv
from phenotype_link.redcap.export import (
    ExportErrors,
    ExportProblem,
    InstrumentRecord,
    ParsedExport,
    parse_export,
    visit_number,
)
from phenotype_link.redcap.mapping import MISSING_CODES, ExportMapping, MappingError, load_mapping

__all__ = [
    "DICTIONARY_COLUMNS",
    "MISSING_CODES",
    "ExportErrors",
    "ExportMapping",
    "ExportProblem",
    "InstrumentRecord",
    "MappingError",
    "ParsedExport",
    "dictionary_csv",
    "load_mapping",
    "parse_export",
    "visit_number",
]
