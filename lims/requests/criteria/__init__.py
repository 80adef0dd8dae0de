"""The criteria engine (issue 19): one JSON document, one form, one SQL query.

- document.py: `Criteria` and `parse_criteria` (the JSON document, docs/user/request-criteria.md)
- query.py: `aliquot_matches` (THE query feasibility, the pick list and the data set share) and
  `count_matches`
- consent.py: the consent rule of lims.specimens compiled to SQL
- form.py: `criteria_from_form`, the web form to the document

Other code imports from here: `from lims.requests.criteria import aliquot_matches`.
"""

from lims.requests.criteria.document import (
    Criteria,
    Purpose,
    Range,
    ScoreRange,
    duo_term,
    parse_criteria,
)
from lims.requests.criteria.form import (
    criteria_choices,
    criteria_from_form,
    form_errors,
    form_field,
    form_values,
)
from lims.requests.criteria.query import (
    Counts,
    DiagnosisCounts,
    aliquot_matches,
    count_matches,
    count_statement,
)

__all__ = [
    "Counts",
    "Criteria",
    "DiagnosisCounts",
    "Purpose",
    "Range",
    "ScoreRange",
    "aliquot_matches",
    "count_matches",
    "count_statement",
    "criteria_choices",
    "criteria_from_form",
    "duo_term",
    "form_errors",
    "form_field",
    "form_values",
    "parse_criteria",
]
