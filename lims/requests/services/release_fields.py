"""What a release data set offers (issue 19): the columns every row has, the phenotype fields
a request may ask for, and how each is read from what the LIMS holds of a visit. The rows are
made in release.py; phenotype_link.deidentify turns them into cells."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.phenotype.models import (
    BodyRegion,
    Diagnosis,
    DiagnosticFinding,
    FindingKind,
    ScaleAdministration,
)
from lims.phenotype.services import last_toxin_injections
from lims.requests.services.workflow import find_request
from lims.specimens.models import Dystonia, Sex, SpecimenType, Visit
from phenotype_link.catalog import lims_instruments
from phenotype_link.deidentify import ReleaseColumn, ReleaseInput, release_columns
from phenotype_link.instruments import Choice, Field, Instrument
from phenotype_link.scales import SCALES


def _choices(values: Any, label: Callable[[str], str] = str) -> tuple[Choice, ...]:
    return tuple(Choice(v.value, label(v.value)) for v in values)


def _words(value: str) -> str:
    return value.replace("_", " ")


# The columns every data set has, after the subject pseudonym.
FIXED = (
    ReleaseColumn("barcode", "Aliquot barcode, as printed on the tube", "tube_label"),
    ReleaseColumn("specimen_type", "Specimen type", "code", _choices(SpecimenType, _words)),
    ReleaseColumn("visit_date", "Visit (days since the subject's first visit)", "date"),
    ReleaseColumn(
        "age_at_collection", "Age at collection (year of collection - year of birth)", "age_at"
    ),
    ReleaseColumn("sex", "Sex", "code", _choices(Sex)),
    ReleaseColumn("diagnosis", "Dystonia at the visit", "codes", _choices(Dystonia, _words)),
    ReleaseColumn("body_regions", "Body regions affected", "codes", _choices(BodyRegion, _words)),
)
COUNTRY_LABEL = "Country of the collecting site (ISO 3166-1; sites are not released)"


@dataclass(frozen=True)
class VisitData:
    """What the LIMS holds of one visit's phenotype, as the readers below look it up."""

    diagnoses: list[Diagnosis]
    scales: dict[str, ScaleAdministration]  # by scale id; the first administration
    findings: dict[str, str]  # by item ("voice_severity_vas"), the value as stored
    weeks_since_toxin: int | None = None  # from the last injection on or before the visit
    genetic: dict[str, str] = field(default_factory=dict)  # by gene key ("tor1a"), result label


Reader = Callable[[VisitData], ReleaseInput]


def _number(value: Any) -> ReleaseInput:
    """A stored answer or score as a release number; missing codes stay codes."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)  # a missing data code ("UNK"); deidentify refuses anything else
    # 31.0 is released as 31, 2.50 as 2.5 (never as "3.1E+1").
    return int(number) if number == number.to_integral_value() else number.normalize()


def _total(scale_id: str) -> Reader:
    def read(visit: VisitData) -> ReleaseInput:
        given = visit.scales.get(scale_id)
        if given is None:
            return None
        return _number(given.total_score if given.total_score is not None else given.imported_total)

    return read


def _answer(scale_id: str, item: str) -> Reader:
    def read(visit: VisitData) -> ReleaseInput:
        given = visit.scales.get(scale_id)
        return _number(given.answers.get(item)) if given is not None else None

    return read


def _subscale(scale_id: str, subscale: str) -> Reader:
    def read(visit: VisitData) -> ReleaseInput:
        given = visit.scales.get(scale_id)
        return _number(given.subscale_scores.get(subscale)) if given is not None else None

    return read


def _finding(spec: Field) -> Reader:
    """A diagnostic finding is stored as its label ("Yes", "62"); read it back as the field's
    code, number or yes/no, so the dictionary's meanings apply."""

    def read(visit: VisitData) -> ReleaseInput:
        value = visit.findings.get(spec.name)
        if value is None:
            return None
        if spec.kind == "yesno":
            return {"yes": True, "no": False}.get(value.lower(), value)
        if spec.kind == "integer":
            return int(value) if value.isdigit() else value
        return spec.codes_by_label.get(value.lower(), value)

    return read


def _subtype_code(spec: Field) -> Reader:
    """The subtype is stored as the label's last part ("torticollis"); its code from the list."""
    codes = {_subtype_key(c.label): c.code for c in spec.choices}

    def read(visit: VisitData) -> ReleaseInput:
        subtypes = [d.subtype for d in visit.diagnoses if d.subtype]
        return codes.get(_subtype_key(subtypes[0]), "UNK") if subtypes else None

    return read


def _subtype_key(label: str) -> str:
    """ "Cervical: torticollis (rotation)", "torticollis (rotation)" and "torticollis" alike."""
    return label.split(": ")[-1].split(" (")[0].strip().lower()


def _onset_age(visit: VisitData) -> ReleaseInput:
    ages = [d.age_at_onset_years for d in visit.diagnoses if d.age_at_onset_years is not None]
    return min(ages) if ages else None


# The findings the phenotype import keeps (lims/phenotype/services/imports.py FINDING_FIELDS).
FINDINGS: tuple[str, ...] = ("voice_severity_vas", "voice_breaks", "voice_has_tremor")
FINDINGS += ("voice_nasolaryngoscopy", "fh_dystonia", "fh_other_movement_disorder")


@cache
def offered_fields() -> dict[str, tuple[ReleaseColumn, Reader]]:
    """The phenotype fields a request may ask for in its data set, by release column name:
    every rating-scale item, subscale and total, age at onset, subtype, the voice and
    family-history findings, weeks since the last toxin injection, and the genetic result class
    per gene. Free text is never offered; dates are not (every row has the visit day)."""
    instruments = {i.name: i for i in lims_instruments()}
    columns = {c.name: c for c in release_columns(instruments.values())}
    out: dict[str, tuple[ReleaseColumn, Reader]] = {}
    for inst in instruments.values():
        if inst.scale_id is not None:
            out |= _scale_fields(inst, columns)
    diagnosis = instruments["diagnosis"]
    out["dx_subtype"] = (columns["dx_subtype"], _subtype_code(_field(diagnosis, "dx_subtype")))
    out["dx_onset_age"] = (columns["dx_onset_age"], _onset_age)
    for name in FINDINGS:
        spec = next(f for i in instruments.values() if (f := i.field(name)) is not None)
        out[name] = (columns[name], _finding(spec))
    out["weeks_since_toxin"] = (TOXIN_WEEKS, lambda visit: visit.weeks_since_toxin)
    out |= _genetic_fields(instruments["genetic_test"])
    return out


TOXIN_WEEKS = ReleaseColumn(
    "weeks_since_toxin",
    "Whole weeks from the last botulinum toxin injection on or before the visit to the visit "
    "(blank: none recorded)",
    "integer",
    unit="weeks",
)


def _genetic_fields(inst: Instrument) -> dict[str, tuple[ReleaseColumn, Reader]]:
    """One coded column per gene on the genetic test form: the result class the site reported
    (never the variant, which is free text). A panel or exome without a gene counts as Other."""
    result = _field(inst, "gen_result")
    out: dict[str, tuple[ReleaseColumn, Reader]] = {}
    for gene in _field(inst, "gen_gene").choices:
        key = _gene_key(gene.label)
        label = f"Genetic test result, {gene.label} (ACMG/AMP class as the site reported it)"
        column = ReleaseColumn(f"gen_result_{key}", label, "code", result.choices)
        out[column.name] = (column, _genetic(key, result))
    return out


def _gene_key(label: str) -> str:
    """ "TOR1A (DYT1)", "TOR1A" -> "tor1a"; "test #2" (no gene reported) -> "other"."""
    key = label.split(" (")[0].strip().lower()
    return key if key.isalnum() else "other"


def _genetic(key: str, result: Field) -> Reader:
    def read(visit: VisitData) -> ReleaseInput:
        value = visit.genetic.get(key)
        return None if value is None else result.codes_by_label.get(value.lower(), "UNK")

    return read


def _field(instrument: Instrument, name: str) -> Field:
    spec = instrument.field(name)
    assert spec is not None, name  # the definition files are checked by their own tests
    return spec


def _scale_fields(
    inst: Instrument, columns: Mapping[str, ReleaseColumn]
) -> dict[str, tuple[ReleaseColumn, Reader]]:
    scale_id = inst.scale_id or inst.name
    out: dict[str, tuple[ReleaseColumn, Reader]] = {}
    for spec in inst.fields:
        if spec.name == f"{scale_id}_total":
            label = f"{inst.label}: total (computed from the items, else as recorded)"
            column = ReleaseColumn(spec.name, label, "number", unit=spec.unit)
            out[spec.name] = (column, _total(scale_id))
        elif spec.name != f"{scale_id}_mode" and spec.kind in ("integer", "number"):
            out[spec.name] = (columns[spec.name], _answer(scale_id, spec.name))
    scale = SCALES[scale_id]
    for sub, name in scale.subscale_names:
        column = ReleaseColumn(f"{scale_id}_{sub}", f"{inst.label}: {name}", "number")
        out.setdefault(column.name, (column, _subscale(scale_id, sub)))  # JRS: item = subscale
    return out


@dataclass(frozen=True)
class FieldGroup:
    """Offered fields as the request form shows them: a scale's totals and subscales first,
    its items apart (a scale may have a hundred)."""

    label: str
    first: tuple[ReleaseColumn, ...]
    items: tuple[ReleaseColumn, ...] = ()


@cache
def field_groups() -> tuple[FieldGroup, ...]:
    offered = {name: column for name, (column, _) in offered_fields().items()}
    groups: list[FieldGroup] = []
    for inst in lims_instruments():
        if inst.scale_id is None:
            continue
        names = list(_scale_fields(inst, offered))
        first = [f"{inst.scale_id}_total"] + [
            f"{inst.scale_id}_{sub}" for sub, _ in SCALES[inst.scale_id].subscale_names
        ]
        first = [n for n in dict.fromkeys(first) if n in names]
        groups.append(
            FieldGroup(
                inst.label,
                tuple(offered[n] for n in first),
                tuple(offered[n] for n in names if n not in first),
            )
        )
    genes = tuple(c for n, c in offered.items() if n.startswith("gen_result_"))
    groups += [
        FieldGroup("Diagnosis", (offered["dx_subtype"], offered["dx_onset_age"])),
        FieldGroup("Voice and family history findings", tuple(offered[n] for n in FINDINGS)),
        FieldGroup("Treatment and genetic tests", (offered["weeks_since_toxin"], *genes)),
    ]
    return tuple(groups)


@dataclass(frozen=True)
class OfferedField:
    """A phenotype field a request's data set offers, in the request form's group."""

    column: ReleaseColumn
    group: str
    is_requested: bool


@dataclass(frozen=True)
class RequestFields:
    code: str
    fields: list[OfferedField]


def request_fields(session: Session, actor: Actor, *, request_id: str) -> RequestFields:
    """The phenotype fields a request may ask for, in the form's order, and which it asks for."""
    req = find_request(session, actor, request_id)
    asked = set(req.phenotype_fields.split())
    offered = [
        OfferedField(column, group.label, column.name in asked)
        for group in field_groups()
        for column in (*group.first, *group.items)
    ]
    return RequestFields(req.code, offered)


def unknown_fields(names: Sequence[str]) -> dict[str, str]:
    """The names a request may not ask for, and why (the release columns every row has are
    accepted: asking for them changes nothing)."""
    always = {c.name for c in FIXED} | {"country", "visit_day", "subject"}
    offered = offered_fields()
    return {n: why_not(n) for n in names if n not in offered and n not in always}


@cache
def free_text_fields() -> frozenset[str]:
    return frozenset(c.name for c in release_columns(lims_instruments()) if c.kind == "text")


def why_not(name: str) -> str:
    if name in free_text_fields():
        return "free text is never released"
    return "not a field the data set offers"


def visit_data(session: Session, visit_ids: list[int]) -> dict[int, VisitData]:
    diagnoses: dict[int, list[Diagnosis]] = defaultdict(list)
    scales: dict[int, dict[str, ScaleAdministration]] = defaultdict(dict)
    findings: dict[int, dict[str, str]] = defaultdict(dict)
    for d in session.scalars(select(Diagnosis).where(Diagnosis.visit_id.in_(visit_ids))):
        diagnoses[d.visit_id].append(d)
    stmt = select(ScaleAdministration).where(ScaleAdministration.visit_id.in_(visit_ids))
    for s in session.scalars(stmt.order_by(ScaleAdministration.repeat_instance)):
        scales[s.visit_id].setdefault(s.scale_id, s)
    stmt_f = select(DiagnosticFinding).where(DiagnosticFinding.visit_id.in_(visit_ids))
    genetic: dict[int, dict[str, str]] = defaultdict(dict)
    for f in session.scalars(stmt_f.order_by(DiagnosticFinding.id)):
        if f.kind == FindingKind.GENETIC_TEST:
            genetic[f.visit_id].setdefault(_gene_key(f.item), f.value)  # the first reported
        else:
            findings[f.visit_id][f.item] = f.value
    weeks = _weeks_since_toxin(session, visit_ids)
    return {
        v: VisitData(diagnoses[v], scales[v], findings[v], weeks.get(v), genetic[v])
        for v in visit_ids
    }


def _weeks_since_toxin(session: Session, visit_ids: list[int]) -> dict[int, int]:
    """Whole weeks from each visit's subject's last toxin injection on or before the visit day."""
    visits = session.execute(
        select(Visit.id, Visit.subject_id, Visit.visit_on).where(Visit.id.in_(visit_ids))
    ).all()
    on = {visit_id: visit_on for visit_id, _, visit_on in visits}
    last = last_toxin_injections(session, {v.id: (v.subject_id, v.visit_on) for v in visits})
    return {visit_id: (on[visit_id] - given_on).days // 7 for visit_id, given_on in last.items()}
