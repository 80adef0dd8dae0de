"""The criteria form (templates/requests/_criteria_form.html) to the criteria document.

Each input is named by its path in the document ("age.min", "scores[0].scale",
"purpose.modifiers"), so an InvalidInput from parse_criteria marks the input it names once
"criteria." is taken off. Nothing is checked here: blanks are left out, numbers are read when
they are numbers and passed on as typed when not, so parse_criteria's message names them.
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.datastructures import MultiDict

from lims.errors import LimsError
from lims.phenotype.models import BodyRegion
from lims.requests.criteria.document import ROOT, SPREC_ELEMENTS
from lims.specimens import sprec
from lims.specimens.duo import PERMISSIONS, DuoTerm
from lims.specimens.models import Dystonia, Sex, SpecimenType
from phenotype_link.scales import SCALES

SCORE_ROWS = 3  # score-range rows the form shows
LISTS = ("diagnoses", "body_regions", "specimen_types", "sexes")
WHOLE = ("min_volume_ul", "min_visits", "max_freeze_thaw")
RANGES = ("age", "toxin_weeks", "disease_duration_years")


def criteria_from_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """The JSON criteria document the form describes (not yet checked: see parse_criteria)."""
    doc: dict[str, Any] = {}
    for name in LISTS:
        if values := [v for v in form.getlist(name) if v.strip()]:
            doc[name] = values
    if sites := [s for s in re.split(r"[\s,;]+", form.get("sites", "")) if s]:
        doc["sites"] = sites
    for name in WHOLE:
        if (value := _number(form.get(name))) is not None:
            doc[name] = value
    for name in RANGES:
        if bounds := _bounds(form, name):
            doc[name] = bounds
    scores = []
    for n in range(SCORE_ROWS):
        scale = form.get(f"scores[{n}].scale", "").strip()
        if not scale:
            continue
        row: dict[str, Any] = {"scale": scale} | _bounds(form, f"scores[{n}]")
        if subscale := form.get(f"scores[{n}].subscale", "").strip():
            row["subscale"] = subscale
        scores.append(row)
    if scores:
        doc["scores"] = scores
    sprec = {
        name: letters
        for name in SPREC_ELEMENTS
        if (letters := [x for x in form.getlist(f"sprec.{name}") if x.strip()])
    }
    if sprec:
        doc["sprec"] = sprec
    if term := form.get("purpose.term", "").strip():
        purpose: dict[str, Any] = {"term": term}
        if modifiers := [m for m in form.getlist("purpose.modifiers") if m.strip()]:
            purpose["modifiers"] = modifiers
        if disease := form.get("purpose.disease", "").strip():
            purpose["disease"] = disease
        doc["purpose"] = purpose
    return doc


def form_field(path: str) -> str:
    """The form input a document path names: "criteria.age.min" -> "age.min", and a list item
    the list's input: "criteria.diagnoses[1]" -> "diagnoses"."""
    return re.sub(r"\[\d+\]$", "", path.removeprefix(f"{ROOT}."))


def form_errors(err: LimsError) -> dict[str, str]:
    """An error's messages keyed by the form input they belong to."""
    found: dict[str, str] = {}
    for name, message in err.field_errors.items():
        found.setdefault(form_field(name), message)
    return found


def criteria_choices() -> dict[str, Any]:
    """What the criteria form offers (templates/requests/_criteria_form.html reads it)."""
    pre, low = [], 0.0
    for hours, rt, cold in sprec.PRE_CENTRIFUGATION:
        band = f"under {hours:g} h" if low == 0 else f"{low:g} to {hours:g} h"
        if hours == float("inf"):
            band = f"over {low:g} h"
        pre += [(rt, f"{band}, room temperature"), (cold, f"{band}, 2-10 °C")]
        low = hours
    storage = [
        (code, f"below {high + 1:g} °C" if low == float("-inf") else f"{low:g} to {high:g} °C")
        for low, high, code in sprec.LONG_TERM_STORAGE
    ]
    return {
        "diagnoses": [d.value for d in Dystonia],
        "body_regions": [r.value for r in BodyRegion],
        "specimen_types": [t.value for t in SpecimenType],
        "sexes": [s.value for s in Sex if s is not Sex.UNKNOWN],
        "scales": [(s.id, s.name, [n for n, _ in s.subscale_names]) for s in SCALES.values()],
        "score_rows": range(SCORE_ROWS),
        "sprec": {"pre_centrifugation": pre, "long_term_storage": storage},
        "purposes": sorted((t.name, t.value, t.label) for t in PERMISSIONS),
        "modifiers": sorted((t.name, t.value, t.label) for t in DuoTerm if t not in PERMISSIONS),
    }


def form_values(doc: dict[str, Any]) -> MultiDict[str, str]:
    """A document back as the form's inputs, to show a stored or refused query again."""
    out: MultiDict[str, str] = MultiDict()
    for name in LISTS:
        for value in doc.get(name) or []:
            out.add(name, str(value))
    if doc.get("sites"):
        out.add("sites", ", ".join(str(s) for s in doc["sites"]))
    for name in WHOLE:
        if doc.get(name) is not None:
            out.add(name, _text(doc[name]))
    for name in RANGES:
        for end in ("min", "max"):
            if isinstance(doc.get(name), dict) and doc[name].get(end) is not None:
                out.add(f"{name}.{end}", _text(doc[name][end]))
    for n, row in enumerate(doc.get("scores") or []):
        for key in ("scale", "subscale", "min", "max"):
            if isinstance(row, dict) and row.get(key) is not None:
                out.add(f"scores[{n}].{key}", _text(row[key]))
    for name, letters in (doc.get("sprec") or {}).items():
        for letter in letters:
            out.add(f"sprec.{name}", str(letter))
    purpose = doc.get("purpose") or {}
    if isinstance(purpose, dict):
        if purpose.get("term"):
            out.add("purpose.term", str(purpose["term"]))
        for modifier in purpose.get("modifiers") or []:
            out.add("purpose.modifiers", str(modifier))
        if purpose.get("disease"):
            out.add("purpose.disease", str(purpose["disease"]))
    return out


def _bounds(form: MultiDict[str, str], prefix: str) -> dict[str, Any]:
    found = {}
    for end in ("min", "max"):
        if (value := _number(form.get(f"{prefix}.{end}"))) is not None:
            found[end] = value
    return found


def _number(text: str | None) -> int | float | str | None:
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        number = float(text)
    except ValueError:
        return text  # parse_criteria says why
    return int(number) if number.is_integer() else number


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
