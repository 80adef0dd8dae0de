"""Release (issue 19): the de-identified data set that goes with a request's shipment, and the
delivery that makes the request's aliquots the investigator's.

The data set has one row per aliquot the request shipped: the barcode printed on the tube (so the
investigator finds the tube's row), the request's subject pseudonym, the visit as days since the
subject's first visit, age at collection, sex, the country of the collecting site (the agreed
level: the site itself never leaves), diagnosis and body regions at the visit, then the phenotype
fields the request asked for. phenotype_link.deidentify turns the rows into cells; nothing else
writes release rows. Every download is audited with its file's SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.errors import Conflict
from lims.phenotype.models import BodyRegion, Diagnosis, DiagnosticFinding, ScaleAdministration
from lims.requests.models import ItemStatus, RequestItem, RequestState, SpecimenRequest
from lims.requests.services.workflow import find_request
from lims.shipments.models import ShipmentStatus
from lims.shipments.services import delivery_step
from lims.specimens.models import Dystonia, Sex, SpecimenType, Subject
from phenotype_link.catalog import lims_instruments
from phenotype_link.deidentify import (
    LinkedRecord,
    Release,
    ReleaseColumn,
    ReleaseInput,
    ReleaseRefused,
    deidentify,
    release_columns,
)
from phenotype_link.instruments import Choice, Field, Instrument
from phenotype_link.scales import SCALES

# A data set exists once the tubes have left: shipped, and still after the request is closed.
DATA_SET_STATES = frozenset({RequestState.SHIPPED, RequestState.CLOSED})
ROW_ITEMS = frozenset({ItemStatus.SHIPPED, ItemStatus.RELEASED})
DataSetFileKind = Literal["data", "dictionary_csv", "dictionary_json"]
FILE_NAMES: dict[DataSetFileKind, tuple[str, str]] = {
    "data": ("data-set.csv", "text/csv"),
    "dictionary_csv": ("data-dictionary.csv", "text/csv"),
    "dictionary_json": ("data-dictionary.json", "application/json"),
}


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


Reader = Callable[[VisitData], ReleaseInput]


def _number(value: Any) -> ReleaseInput:
    """A stored answer or score as a release number; missing codes stay codes."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return Decimal(str(value)).normalize() if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError):
        return str(value)  # a missing data code ("UNK"); deidentify refuses anything else


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
    every rating-scale item, subscale and total, age at onset, subtype, and the voice and
    family-history findings. Free text is never offered; dates are not (every row has the
    visit day)."""
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
    return out


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
class DataSet:
    request: SpecimenRequest
    release: Release
    withheld: dict[str, str]  # asked for but not released, and why

    @property
    def row_count(self) -> int:
        return len(self.release.rows)

    def content(self, kind: DataSetFileKind) -> bytes:
        if kind == "data":
            return self.release.rows_csv().encode()
        if kind == "dictionary_csv":
            return self.release.dictionary_csv().encode()
        entries = [
            {"column": e.column, "label": e.label, "type": e.type, "values": e.values}
            for e in self.release.dictionary
        ]
        document = {"request": self.request.code, "columns": entries, "withheld": self.withheld}
        return (json.dumps(document, indent=2) + "\n").encode()


@dataclass(frozen=True)
class DataSetFile:
    filename: str
    mimetype: str
    content: bytes
    sha256: str


def data_set(session: Session, actor: Actor, *, request_id: int | str) -> DataSet:
    """The de-identified data set of a shipped request: its investigator's, or staff's."""
    req = find_request(session, actor, request_id)
    if req.state not in DATA_SET_STATES:
        raise Conflict(
            f"Request {req.code} is {req.state.label}: its data set exists once it has shipped",
            field="state",
        )
    if len(req.pseudonym_secret or b"") < 32:
        raise Conflict(f"Request {req.code} has no pseudonym secret", field="request")
    always = {c.name for c in FIXED} | {"country", "visit_day", "subject"}
    asked = [n for n in (req.phenotype_fields or "").split() if n not in always]
    offered = offered_fields()
    withheld = {n: _why_not(n) for n in asked if n not in offered}
    wanted = [offered[n] for n in dict.fromkeys(asked) if n in offered]
    items = [i for i in req.items if i.status in ROW_ITEMS]
    records, countries = _records(session, items, wanted)
    known = tuple(Choice(c, c) for c in countries)
    country = ReleaseColumn("country", COUNTRY_LABEL, "code", known)
    columns = [*FIXED, country, *(column for column, _ in wanted)]
    try:
        release = deidentify(records, columns, secret=req.pseudonym_secret)
    except ReleaseRefused as err:  # a bug above, or a stored value no code list knows
        raise Conflict(f"The data set of {req.code} cannot be released: {err}") from err
    return DataSet(req, release, {**withheld, **release.withheld})


@cache
def _free_text_fields() -> frozenset[str]:
    return frozenset(c.name for c in release_columns(lims_instruments()) if c.kind == "text")


def _why_not(name: str) -> str:
    if name in _free_text_fields():
        return "free text is never released"
    return "not a field the data set offers"


def _records(
    session: Session, items: list[RequestItem], wanted: list[tuple[ReleaseColumn, Reader]]
) -> tuple[list[LinkedRecord], list[str]]:
    aliquots = [i.aliquot for i in items]
    visits = _visit_data(session, list({a.specimen.visit_id for a in aliquots}))
    records = []
    for aliquot in aliquots:
        specimen = aliquot.specimen
        subject: Subject = specimen.visit.subject
        visit = visits[specimen.visit_id]
        collected_on = specimen.collected_at.astimezone(ZoneInfo(specimen.collection_zone)).date()
        names = [c.name for c in FIXED] + ["country"]
        fixed: list[ReleaseInput] = [
            aliquot.barcode,
            aliquot.specimen_type.value,
            specimen.visit.visit_on,
            collected_on,
            subject.sex.value,
            _diagnoses(visit, subject),
            tuple(sorted({r for d in visit.diagnoses for r in d.body_regions})),
            subject.site.country,
        ]
        values = dict(zip(names, fixed, strict=True))
        values |= {column.name: reader(visit) for column, reader in wanted}
        records.append(
            LinkedRecord(
                subject_key=f"subject:{subject.id}",  # internal key; the HMAC keeps it
                study_code=subject.study_code,
                first_visit_on=min(v.visit_on for v in subject.visits),
                values=values,
                # Only the birth year is kept: 1 January makes the age the year of collection
                # minus the year of birth, as the criteria engine counts it.
                birth_on=date(subject.birth_year, 1, 1) if subject.birth_year else None,
            )
        )
    return records, sorted({a.specimen.visit.subject.site.country for a in aliquots})


def _diagnoses(visit: VisitData, subject: Subject) -> tuple[str, ...]:
    """The dystonias recorded at the visit; the subject's primary one when none was recorded."""
    found = sorted({d.dystonia.value for d in visit.diagnoses})
    return tuple(found) or (subject.primary_diagnosis.value,)


def _visit_data(session: Session, visit_ids: list[int]) -> dict[int, VisitData]:
    diagnoses: dict[int, list[Diagnosis]] = defaultdict(list)
    scales: dict[int, dict[str, ScaleAdministration]] = defaultdict(dict)
    findings: dict[int, dict[str, str]] = defaultdict(dict)
    for d in session.scalars(select(Diagnosis).where(Diagnosis.visit_id.in_(visit_ids))):
        diagnoses[d.visit_id].append(d)
    stmt = select(ScaleAdministration).where(ScaleAdministration.visit_id.in_(visit_ids))
    for s in session.scalars(stmt.order_by(ScaleAdministration.repeat_instance)):
        scales[s.visit_id].setdefault(s.scale_id, s)
    stmt_f = select(DiagnosticFinding).where(DiagnosticFinding.visit_id.in_(visit_ids))
    for f in session.scalars(stmt_f):
        findings[f.visit_id][f.item] = f.value
    return {v: VisitData(diagnoses[v], scales[v], findings[v]) for v in visit_ids}


def download_data_set(
    session: Session, actor: Actor, *, request_id: int | str, kind: DataSetFileKind
) -> DataSetFile:
    """Hand out one file of a request's data set, and record who took which file."""
    found = data_set(session, actor, request_id=request_id)
    content = found.content(kind)
    name, mimetype = FILE_NAMES[kind]
    digest = hashlib.sha256(content).hexdigest()
    req = found.request
    filename = f"{req.code}-{name}"
    audit.record(
        session,
        actor,
        Action.REQUEST_DATA_SET_DOWNLOADED,
        req,
        file=filename,
        sha256=digest,
        rows=found.row_count,
    )
    session.commit()
    return DataSetFile(filename, mimetype, content, digest)


def confirm_request_delivery(
    session: Session,
    actor: Actor,
    *,
    request_id: int | str,
    delivered_at: datetime,
    is_damaged: bool = False,
    notes: str | None = None,
) -> SpecimenRequest:
    """The investigator's institution has the tubes: the shipment is delivered and the
    request's aliquots are released to the investigator, in one transaction."""
    actor.require(Role.TECHNICIAN)
    # Lock order: the request, then the shipment and its aliquots (delivery_step).
    req = find_request(session, actor, request_id, for_update=True)
    if req.state not in DATA_SET_STATES or req.shipment is None:
        raise Conflict(
            f"Request {req.code} is {req.state.label}: only a shipped request is delivered",
            field="state",
        )
    # Delivery confirmed on the shipment's own page first: only the items are left to settle.
    if req.shipment.status is not ShipmentStatus.RECEIVED:
        delivery_step(
            session,
            actor,
            shipment_id=req.shipment.id,
            delivered_at=delivered_at,
            is_damaged=is_damaged,
            notes=notes,
        )
    shipped = [i for i in req.items if i.status is ItemStatus.SHIPPED]
    if not shipped:
        raise Conflict(f"Request {req.code} has no shipped aliquots left to release")
    events = []
    for item in shipped:
        item.status, item.open_aliquot_id = ItemStatus.RELEASED, None
        after = {"status": item.status, "barcode": item.aliquot.barcode, "request": req.code}
        events.append(
            audit.Event(Action.REQUEST_ITEM_RELEASED, item, after, {"status": ItemStatus.SHIPPED})
        )
    session.flush()
    audit.record_many(session, actor, events)
    audit.record(
        session, actor, Action.REQUEST_RELEASED, req, shipment=req.shipment.code, tubes=len(shipped)
    )
    session.commit()
    return req


def release_overview(session: Session, actor: Actor, *, request_id: int | str) -> ReleaseView:
    """What the release page shows: the request, its shipment, its items, and the data set
    once it exists (None before the tubes have shipped)."""
    req = find_request(session, actor, request_id)
    found = data_set(session, actor, request_id=req.id) if req.state in DATA_SET_STATES else None
    return ReleaseView(
        request=req,
        items=[i for i in req.items if i.status in ROW_ITEMS],
        data_set=found,
        may_confirm_delivery=actor.role in (Role.ADMIN, Role.TECHNICIAN)
        and req.state in DATA_SET_STATES
        and any(i.status is ItemStatus.SHIPPED for i in req.items),
    )


@dataclass(frozen=True)
class ReleaseView:
    request: SpecimenRequest
    items: list[RequestItem]
    data_set: DataSet | None
    may_confirm_delivery: bool
