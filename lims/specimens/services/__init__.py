"""The specimen use cases: subjects and visits, accessioning, processing, imports.

Other features import from here (`from lims.specimens.services import find_aliquot`), so the
split into modules by use-case group stays an inner detail.
"""

from lims.specimens.services.common import (
    aliquot_origin,
    checked_code,
    consent_refusal,
    find_aliquot,
    find_specimen,
    installation_number,
    issue_serials,
    lock_aliquots,
    lock_subject,
    locked,
    next_serial,
    require_consent,
)
from lims.specimens.services.consent import (
    ConsentSummary,
    StatementSpec,
    consent_summary,
    create_consent_document,
    get_consent_document,
    list_consent_documents,
    record_consent,
)
from lims.specimens.services.corrections import set_ninds_guid, set_tube_notes
from lims.specimens.services.finding import find_records, record_codes
from lims.specimens.services.imports import ImportResult, import_aliquots, template_csv
from lims.specimens.services.installation import set_installation
from lims.specimens.services.overview import SpecimenOverview, specimen_overview
from lims.specimens.services.permits import (
    BenchWork,
    ConsentDecision,
    consent_events,
    consent_permits,
    withdrawal_levels,
)
from lims.specimens.services.processing import aliquot_specimen, extract_dna, sub_aliquot
from lims.specimens.services.subject_imports import SubjectImportResult, import_subjects
from lims.specimens.services.subjects import (
    ConsentWithdrawal,
    SubjectRow,
    find_visit,
    get_subject,
    list_sites,
    list_subjects,
    open_aliquots,
    register_subject,
    register_visit,
    subject_record,
    withdraw_consent,
)
from lims.specimens.services.tubes import (
    PreAnalytics,
    accession_specimen,
    get_specimen,
    record_uncollected_tube,
)

__all__ = [
    "BenchWork",
    "ConsentDecision",
    "ConsentSummary",
    "ConsentWithdrawal",
    "ImportResult",
    "PreAnalytics",
    "SpecimenOverview",
    "StatementSpec",
    "SubjectImportResult",
    "SubjectRow",
    "accession_specimen",
    "aliquot_origin",
    "aliquot_specimen",
    "checked_code",
    "consent_events",
    "consent_permits",
    "consent_refusal",
    "consent_summary",
    "create_consent_document",
    "extract_dna",
    "find_aliquot",
    "find_records",
    "find_specimen",
    "find_visit",
    "get_consent_document",
    "get_specimen",
    "get_subject",
    "import_aliquots",
    "import_subjects",
    "installation_number",
    "issue_serials",
    "list_consent_documents",
    "list_sites",
    "list_subjects",
    "lock_aliquots",
    "lock_subject",
    "locked",
    "next_serial",
    "open_aliquots",
    "record_codes",
    "record_consent",
    "record_uncollected_tube",
    "register_subject",
    "register_visit",
    "require_consent",
    "set_installation",
    "set_ninds_guid",
    "set_tube_notes",
    "specimen_overview",
    "sub_aliquot",
    "subject_record",
    "template_csv",
    "withdraw_consent",
    "withdrawal_levels",
]
