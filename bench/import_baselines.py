"""The two baselines bench/imports.py times against import_aliquots, on the same file.

competent_import is what a competent engineer writes without our optimisations: the rows go
through the ORM (models, session.add, relationships), each record is looked up when the file
first names it (subject, visit, tube, then the aliquot's barcode), and every new record gets
its own `audit.record` event, all in ONE transaction committed once; any problem and nothing
is written. It parses with our own `read_rows`, so parsing costs the same on both sides, and it
makes the same checks, records and audit events as import_aliquots (a sub-aliquot's stock must
come before it in the file). What it lacks are the import's optimisations: the lookups preloaded
with a few IN queries, the Core executemany inserts, and the audit events hashed in a batch.

strawman_import is what one writes first: the per-record services (register_visit,
accession_specimen, aliquot_specimen) called for each row, each checking, auditing and
committing on its own. It is not all-or-nothing: a bad row 40,000 leaves 39,999 written.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.errors import FieldError, InvalidInput
from lims.specimens import barcodes, sprec
from lims.specimens.models import (
    TERMINAL_STATUSES,
    Aliquot,
    AliquotStatus,
    Specimen,
    SpecimenType,
    Subject,
    Temperature,
    TubeType,
    Visit,
)
from lims.specimens.services import (
    PreAnalytics,
    accession_specimen,
    aliquot_specimen,
    register_visit,
)
from lims.specimens.services.common import IssuedCodes, barcode_problem, issued_codes
from lims.specimens.services.import_checks import TUBE_COLUMNS, Row
from lims.specimens.services.imports import HashingReader, read_rows
from lims.specimens.services.tubes import in_utc, pre_analytics_problems, processing_site

REQUIRED = (
    "study_code",
    "visit_number",
    "tube_barcode",
    "aliquot_barcode",
    "specimen_type",
    "volume_ul",
)
PRE_COLUMNS = tuple(c for c in TUBE_COLUMNS if c not in ("tube_type", "tube_volume_ml"))


@dataclass
class _Seen:
    """What the file has named so far, each looked up in the database once."""

    sha256: str
    issued: IssuedCodes
    subjects: dict[str, Subject | None] = field(default_factory=dict)
    visits: dict[tuple[str, int], Visit] = field(default_factory=dict)
    tubes: dict[str, Specimen] = field(default_factory=dict)
    new_tubes: dict[str, Row] = field(default_factory=dict)  # the row each was first named on
    new_visits: int = 0
    aliquots: dict[str, tuple[int, Aliquot]] = field(default_factory=dict)
    problems: list[FieldError] = field(default_factory=list)

    def problem(self, row: Row, column: str, message: str) -> None:
        self.problems.append({"row": row.number, "field": column, "message": message})


def competent_import(session: Session, actor: Actor, *, data: bytes, filename: str) -> int:
    """Check and write each row through the ORM, one audit event per record, one commit."""
    actor.require(Role.TECHNICIAN)
    rows, parse_problems = read_rows(HashingReader(io.BytesIO(data)))
    sha256 = hashlib.sha256(data).hexdigest()
    seen = _Seen(sha256, issued_codes(session), problems=parse_problems)
    for row in rows:
        if all(row.values[c] is not None for c in REQUIRED):
            _import_row(session, actor, seen, row)
    if seen.problems:
        session.rollback()
        raise InvalidInput(f"{len(seen.problems)} problems found; nothing was imported")
    audit.record(
        session,
        actor,
        Action.ALIQUOTS_IMPORTED,
        ("aliquot_import", sha256),
        filename=filename,
        sha256=sha256,
        aliquots=len(seen.aliquots),
        tubes=len(seen.new_tubes),
        visits=seen.new_visits,
    )
    session.commit()
    return len(seen.aliquots)


def _import_row(session: Session, actor: Actor, seen: _Seen, row: Row) -> None:
    subject = _subject(session, seen, row)
    visit = _visit(session, actor, seen, row, subject) if subject is not None else None
    tube = _tube(session, actor, seen, row, visit) if visit is not None else None
    if tube is not None:
        _aliquot(session, actor, seen, row, tube)


def _subject(session: Session, seen: _Seen, row: Row) -> Subject | None:
    code = row.values["study_code"]
    if code not in seen.subjects:
        seen.subjects[code] = session.scalar(select(Subject).where(Subject.study_code == code))
    subject = seen.subjects[code]
    if subject is None:
        seen.problem(row, "study_code", f"{code} is not registered; register the subject first")
    elif not subject.has_consent:
        seen.problem(row, "study_code", f"{code} has withdrawn consent; nothing may be added")
        return None
    return subject


def _visit(session: Session, actor: Actor, seen: _Seen, row: Row, subject: Subject) -> Visit | None:
    key = (subject.study_code, row.values["visit_number"])
    day: date | None = row.values["visit_on"]
    visit = seen.visits.get(key)
    if visit is None:
        visit = session.scalar(
            select(Visit).where(Visit.subject_id == subject.id, Visit.visit_number == key[1])
        )
    if visit is None:
        if day is None:
            seen.problem(row, "visit_on", f"{key[0]} V{key[1]} is a new visit; give its date")
            return None
        visit = Visit(subject=subject, visit_number=key[1], visit_on=day)
        session.add(visit)
        audit.record(
            session, actor, Action.VISIT_REGISTERED, visit,
            subject=key[0], visit_number=key[1], visit_on=str(day), import_sha256=seen.sha256,
        )  # fmt: skip
        seen.new_visits += 1
    seen.visits[key] = visit
    if day is not None and day != visit.visit_on:
        seen.problem(row, "visit_on", f"{key[0]} V{key[1]} is on {visit.visit_on}, not {day}")
    return visit


def _tube(session: Session, actor: Actor, seen: _Seen, row: Row, visit: Visit) -> Specimen | None:
    code = row.values["tube_barcode"]
    tube = seen.tubes.get(code)
    if tube is None:
        tube = session.scalar(select(Specimen).where(Specimen.barcode == code))
        if tube is None and (tube := _new_tube(session, actor, seen, row, visit)) is None:
            return None
        seen.tubes[code] = tube
    if tube.visit is not visit:
        seen.problem(row, "tube_barcode", f"{code} belongs to {tube.visit.label}")
    elif (first := seen.new_tubes.get(code)) is not None:
        # Against the first row as written: the tube holds its times in UTC, the sheet local.
        for name in TUBE_COLUMNS:
            value, held = row.values[name], first.values[name]
            if value is not None and held is not None and value != held:
                seen.problem(row, name, f"differs from an earlier row of tube {code} ({held})")
    elif row.values["tube_type"] not in (None, tube.tube_type):
        seen.problem(row, "tube_type", f"{code} is {tube.tube_type.value} in the LIMS")
    return tube


def _new_tube(
    session: Session, actor: Actor, seen: _Seen, row: Row, visit: Visit
) -> Specimen | None:
    values, code = row.values, row.values["tube_barcode"]
    if problem := barcode_problem(code, issued=seen.issued):
        seen.problem(row, "tube_barcode", problem)
        return None
    if session.scalar(select(Aliquot.id).where(Aliquot.barcode == code)) is not None:
        seen.problem(row, "tube_barcode", f"{code} is an aliquot in the LIMS, not a tube")
        return None
    problems = [
        (name, f"is required for new tube {code}")
        for name in ("tube_type", "collected_at")
        if values[name] is None
    ]
    pre = PreAnalytics(**{name: values[name] for name in PRE_COLUMNS}) if not problems else None
    lab = processing_site(session, actor)
    if pre is not None:  # the sheet's wall-clock times, on the clocks the service reads them on
        collection = visit.subject.site.time_zone
        processing = lab.time_zone if lab is not None else collection
        pre, wall_clock = in_utc(pre, collection_zone=collection, processing_zone=processing)
        problems += wall_clock or pre_analytics_problems(pre)
    for name, message in problems:
        seen.problem(row, name, message)
    if pre is None or problems:
        return None
    tube = Specimen(
        barcode=code,
        visit=visit,
        specimen_type=SpecimenType.WHOLE_BLOOD,
        tube_type=values["tube_type"],
        volume_ml=values["tube_volume_ml"],
        sprec_code=sprec.tube_code(pre, values["tube_type"]),
        processing_site_id=lab.id if lab is not None else None,
        **pre.as_columns(),
    )
    session.add(tube)
    audit.record(
        session, actor, Action.SPECIMEN_ACCESSIONED, tube,
        barcode=code, visit=visit.label, tube_type=tube.tube_type, sprec_code=tube.sprec_code,
        sprec_version=sprec.SPREC_VERSION, import_sha256=seen.sha256,
    )  # fmt: skip
    seen.new_tubes[code] = row
    return tube


def _aliquot(session: Session, actor: Actor, seen: _Seen, row: Row, tube: Specimen) -> None:
    values, code = row.values, row.values["aliquot_barcode"]
    if (earlier := seen.aliquots.get(code)) is not None:
        seen.problem(row, "aliquot_barcode", f"{code} is also on row {earlier[0]}")
        return
    if code in seen.tubes:
        seen.problem(row, "aliquot_barcode", f"{code} is a tube barcode in this file")
        return
    if problem := barcode_problem(code, issued=seen.issued):
        seen.problem(row, "aliquot_barcode", problem)
        return
    taken = session.scalar(select(Aliquot.id).where(Aliquot.barcode == code))
    if taken is not None or session.scalar(select(Specimen.id).where(Specimen.barcode == code)):
        seen.problem(row, "aliquot_barcode", f"{code} is already in use in the LIMS")
        return
    parent = _parent(session, seen, row, tube) if values["parent_barcode"] else None
    if values["parent_barcode"] and parent is None:
        return
    aliquot = Aliquot(
        barcode=code,
        is_issued_barcode=barcodes.is_issued_aliquot_barcode(code),
        specimen=tube,
        parent=parent,
        specimen_type=values["specimen_type"],
        volume_ul=values["volume_ul"],
        concentration_ng_ul=values["concentration_ng_ul"],
        a260_280=values["a260_280"],
        status=AliquotStatus.RECEIVED,
        freeze_thaw_count=0,
    )
    session.add(aliquot)
    seen.aliquots[code] = (row.number, aliquot)
    audit.record(
        session, actor, Action.ALIQUOT_CREATED, aliquot,
        barcode=code, specimen=tube.barcode, parent=values["parent_barcode"],
        specimen_type=aliquot.specimen_type, volume_ul=aliquot.volume_ul, process="import",
        import_sha256=seen.sha256,
    )  # fmt: skip


def _parent(session: Session, seen: _Seen, row: Row, tube: Specimen) -> Aliquot | None:
    code = row.values["parent_barcode"]
    if (in_file := seen.aliquots.get(code)) is not None:
        parent: Aliquot | None = in_file[1]
    else:
        parent = session.scalar(select(Aliquot).where(Aliquot.barcode == code))
    if parent is None:
        seen.problem(row, "parent_barcode", f"{code} is not earlier in the file nor in the LIMS")
    elif parent.specimen is not tube:
        seen.problem(row, "parent_barcode", f"{code} is from tube {parent.specimen.barcode}")
    elif parent.status in TERMINAL_STATUSES:
        seen.problem(row, "parent_barcode", f"{code} is {parent.status.value}")
    else:
        return parent
    return None


# The strawman: the per-record services, one commit per row.


def _when(value: str) -> datetime | None:
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


def _number(value: str) -> int | None:
    return int(value) if value else None


def _decimal(value: str) -> float | None:
    return float(value) if value else None


def _pre(row: dict[str, str]) -> PreAnalytics:
    pre_temperature = row["pre_processing_temperature"]
    spin_temperature = row["centrifuge_temperature"]
    return PreAnalytics(
        collected_at=datetime.fromisoformat(row["collected_at"]).replace(tzinfo=UTC),
        received_at=_when(row["received_at"]),
        processing_started_at=_when(row["processing_started_at"]),
        pre_processing_temperature=Temperature(pre_temperature) if pre_temperature else None,
        centrifuge_g=_number(row["centrifuge_g"]),
        centrifuge_minutes=_number(row["centrifuge_minutes"]),
        centrifuge_temperature=Temperature(spin_temperature) if spin_temperature else None,
        centrifuge_braked=row["centrifuge_braked"] == "yes" if row["centrifuge_braked"] else None,
        processed_at=_when(row["processed_at"]),
        storage_temperature_c=_number(row["storage_temperature_c"]),
    )


def strawman_import(session: Session, actor: Actor, data: bytes) -> None:
    """One per-record service call per CSV row, each checking, auditing and committing."""
    visits: set[tuple[str, str]] = set()
    tubes: set[str] = set()
    for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig"))):
        key = (row["study_code"], row["visit_number"])
        if key not in visits:
            register_visit(
                session,
                actor,
                study_code=row["study_code"],
                visit_number=int(row["visit_number"]),
                visit_on=date.fromisoformat(row["visit_on"]),
            )
            visits.add(key)
        if row["tube_barcode"] not in tubes:
            _accession(session, actor, row)
            tubes.add(row["tube_barcode"])
        aliquot_specimen(
            session,
            actor,
            specimen_barcode=row["tube_barcode"],
            specimen_type=SpecimenType(row["specimen_type"]),
            count=1,
            volume_ul=int(row["volume_ul"]),
            barcodes_given=[row["aliquot_barcode"]],
            parent_barcode=row["parent_barcode"] or None,
            concentration_ng_ul=_decimal(row["concentration_ng_ul"]),
            a260_280=_decimal(row["a260_280"]),
        )


def _accession(session: Session, actor: Actor, row: dict[str, Any]) -> None:
    accession_specimen(
        session,
        actor,
        study_code=row["study_code"],
        visit_number=int(row["visit_number"]),
        specimen_type=SpecimenType.WHOLE_BLOOD,
        tube_type=TubeType(row["tube_type"]),
        pre=_pre(row),
        volume_ml=float(row["tube_volume_ml"]),
        barcode=row["tube_barcode"],
    )
