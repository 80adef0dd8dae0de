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
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.errors import Conflict
from lims.requests.models import ItemStatus, RequestItem, RequestState, SpecimenRequest
from lims.requests.services.notifications import notify
from lims.requests.services.release_fields import (
    COUNTRY_LABEL,
    FIXED,
    Reader,
    VisitData,
    offered_fields,
    visit_data,
    why_not,
)
from lims.requests.services.workflow import find_request
from lims.shipments.models import ShipmentStatus
from lims.shipments.services import delivery_step
from lims.specimens.models import Subject
from phenotype_link.deidentify import (
    LinkedRecord,
    Release,
    ReleaseColumn,
    ReleaseInput,
    ReleaseRefused,
    deidentify,
)
from phenotype_link.instruments import Choice

log = logging.getLogger(__name__)
# A data set exists once the tubes have left: shipped, and still after the request is closed.
DATA_SET_STATES = frozenset({RequestState.SHIPPED, RequestState.CLOSED})
ROW_ITEMS = frozenset({ItemStatus.SHIPPED, ItemStatus.RELEASED})
DataSetFileKind = Literal["data", "dictionary_csv", "dictionary_json"]
FILE_NAMES: dict[DataSetFileKind, tuple[str, str]] = {
    "data": ("data-set.csv", "text/csv"),
    "dictionary_csv": ("data-dictionary.csv", "text/csv"),
    "dictionary_json": ("data-dictionary.json", "application/json"),
}


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
    withheld = {n: why_not(n) for n in asked if n not in offered}
    wanted = [offered[n] for n in dict.fromkeys(asked) if n in offered]
    items = [i for i in req.items if i.status in ROW_ITEMS]
    records, countries = _records(session, items, wanted)
    known = tuple(Choice(c, c) for c in countries)
    country = ReleaseColumn("country", COUNTRY_LABEL, "code", known)
    columns = [*FIXED, country, *(column for column, _ in wanted)]
    try:
        release = deidentify(records, columns, secret=req.pseudonym_secret)
    except ReleaseRefused as err:  # a bug above, or a stored value no code list knows
        # The reason may quote the very value that must not leave (a study code): it goes to
        # the server log, for staff, and the reader gets no cell.
        log.error("data set of %s refused: %s", req.code, err)
        raise Conflict(
            f"The data set of {req.code} failed the last de-identification check and is not "
            "released; the biobank's staff can read why in the server log"
        ) from err
    return DataSet(req, release, {**withheld, **release.withheld})


def _records(
    session: Session, items: list[RequestItem], wanted: list[tuple[ReleaseColumn, Reader]]
) -> tuple[list[LinkedRecord], list[str]]:
    aliquots = [i.aliquot for i in items]
    visits = visit_data(session, list({a.specimen.visit_id for a in aliquots}))
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
    said = f"{req.code} delivered: {len(shipped)} aliquots are yours; the data set is ready"
    notify(session, [req.investigator_id], req, said)
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
