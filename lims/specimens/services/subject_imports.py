"""Enrolling subjects from a CSV, each with the consent they signed: all rows or none.

Columns: study_code, site_code, sex, primary_diagnosis, ninds_guid (optional), then
consent_version and consented_on, then one column per statement code of that version
("genetic", "commercial", ...) holding yes or no. A row without consent_version enrols the
subject with no consent recorded. Subjects are few (hundreds, not the aliquot import's tens of
thousands), so rows are written through the ORM.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.auth.models import Site
from lims.errors import FieldError, InvalidInput, plural
from lims.specimens.consent_models import (
    ConsentAnswer,
    ConsentDocument,
    ConsentEvent,
    ConsentEventKind,
)
from lims.specimens.models import Dystonia, Sex, Subject, study_code_problem

REQUIRED = ("study_code", "site_code", "sex", "primary_diagnosis")
OPTIONAL = ("ninds_guid", "consent_version", "consented_on")
MAX_ROWS = 5_000
YES, NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}


@dataclass(frozen=True)
class SubjectImportResult:
    subjects: int
    consents: int


@dataclass
class _Row:
    number: int
    cells: dict[str, str]
    problems: list[FieldError]

    def problem(self, field: str, message: str) -> None:
        self.problems.append({"row": self.number, "field": field, "message": message})


def _read(data: IO[bytes], max_rows: int) -> list[_Row]:
    try:
        # A subjects file is small (MAX_ROWS rows; the app bounds the request size): read whole.
        text = io.StringIO(data.read().decode("utf-8-sig"), newline="")
        reader = csv.DictReader(text)
        header = [h.strip().lower() for h in reader.fieldnames or []]
        if missing := [c for c in REQUIRED if c not in header]:
            raise InvalidInput(
                f"The header lacks {', '.join(missing)}",
                errors=[{"row": 1, "field": c, "message": "column missing"} for c in missing],
            )
        reader.fieldnames = header
        rows: list[_Row] = []
        for number, raw in enumerate(reader, start=2):
            if len(rows) == max_rows:
                raise InvalidInput(f"More than {max_rows} rows; split the file", field="file")
            cells = {k: (v or "").strip() for k, v in raw.items() if k is not None}
            if any(cells.values()):
                rows.append(_Row(number, cells, []))
    except UnicodeDecodeError as err:
        raise InvalidInput(
            "The file is not UTF-8 text; save it as CSV UTF-8", field="file"
        ) from err
    if not rows:
        raise InvalidInput("The file has no rows", field="file")
    return rows


@dataclass(frozen=True)
class _Known:
    sites: dict[str, Site]
    taken: set[str]
    guids: set[str]
    documents: dict[str, list[ConsentDocument]]


def _known(session: Session, rows: list[_Row]) -> _Known:
    codes = {r.cells.get("study_code", "").upper() for r in rows}
    guids = {r.cells.get("ninds_guid", "") for r in rows} - {""}
    documents: dict[str, list[ConsentDocument]] = {}
    stmt = select(ConsentDocument).options(selectinload(ConsentDocument.statements))
    for document in session.scalars(stmt):
        documents.setdefault(document.version, []).append(document)
    return _Known(
        sites={s.code: s for s in session.scalars(select(Site))},
        taken=set(session.scalars(select(Subject.study_code).where(Subject.study_code.in_(codes)))),
        guids=set(session.scalars(select(Subject.ninds_guid).where(Subject.ninds_guid.in_(guids)))),
        documents=documents,
    )


def _subject(row: _Row, known: _Known, seen: set[str]) -> Subject | None:
    cells = row.cells
    code = cells.get("study_code", "").upper()
    if problem := study_code_problem(code):
        row.problem("study_code", problem)
    elif code in known.taken:
        row.problem("study_code", f"{code} is already registered")
    elif code in seen:
        row.problem("study_code", f"{code} appears twice in the file")
    seen.add(code)
    site = known.sites.get(cells.get("site_code", "").upper())
    if site is None:
        row.problem("site_code", f"{cells.get('site_code')!r} is not a site")
    sex = next((s for s in Sex if s.value == cells.get("sex", "").lower()), None)
    if sex is None:
        row.problem("sex", f"{cells.get('sex')!r} is not one of {', '.join(Sex)}")
    dx = next((d for d in Dystonia if d.value == cells.get("primary_diagnosis", "").lower()), None)
    if dx is None:
        row.problem("primary_diagnosis", f"{cells.get('primary_diagnosis')!r} is not one of "
                    + ", ".join(Dystonia))  # fmt: skip
    guid = cells.get("ninds_guid") or None
    if guid is not None and (guid in known.guids or len(guid) > 20):
        row.problem("ninds_guid", f"{guid[:24]} is already registered or too long")
    if row.problems or site is None or sex is None or dx is None:
        return None
    return Subject(study_code=code, site=site, sex=sex, primary_diagnosis=dx, ninds_guid=guid)


def _consent(row: _Row, known: _Known) -> ConsentEvent | None:
    version = row.cells.get("consent_version", "")
    if not version:
        return None
    documents = known.documents.get(version, [])
    if len(documents) != 1:
        why = "no consent document has" if not documents else "several consent documents have"
        row.problem("consent_version", f"{why} version {version}")
        return None
    document = documents[0]
    try:
        signed = date.fromisoformat(row.cells.get("consented_on", ""))
    except ValueError:
        row.problem("consented_on", "give the date signed, e.g. 2024-03-18")
        return None
    if signed < document.effective_on:
        row.problem("consented_on", f"{document.label} took effect on {document.effective_on}")
    answers: list[ConsentAnswer] = []
    for statement in document.statements:
        given = row.cells.get(statement.code, "").lower()
        if given not in YES | NO:
            row.problem(statement.code, f"answer yes or no: {statement.text}")
        answers.append(ConsentAnswer(statement=statement, answer=given in YES))
    return ConsentEvent(
        kind=ConsentEventKind.CONSENTED, occurred_on=signed, document=document, answers=answers
    )


def import_subjects(
    session: Session, actor: Actor, *, data: IO[bytes], max_rows: int = MAX_ROWS
) -> SubjectImportResult:
    """Enrol the subjects of a CSV with the consent each signed; any problem imports none."""
    actor.require(Role.TECHNICIAN)
    rows = _read(data, max_rows)
    known, seen = _known(session, rows), set[str]()
    planned = [(row, _subject(row, known, seen), _consent(row, known)) for row in rows]
    problems = [p for row in rows for p in row.problems]
    if problems:
        raise InvalidInput(
            f"{plural(len(problems), 'problem')} found; nothing was imported", errors=problems[:500]
        )
    events: list[audit.Event] = []
    consents = 0
    for _row, subject, event in planned:
        assert subject is not None  # a row without problems made one
        session.add(subject)
        if event is not None:
            event.subject = subject
            session.add(event)
            consents += 1
    session.flush()
    for _row, subject, event in planned:
        assert subject is not None
        after: dict[str, Any] = {
            "study_code": subject.study_code,
            "site": subject.site.code,
            "sex": subject.sex,
            "primary_diagnosis": subject.primary_diagnosis,
            "ninds_guid": subject.ninds_guid,
        }
        events.append(audit.Event(Action.SUBJECT_REGISTERED, subject, after))
        if event is not None and event.document is not None:
            answers = {a.statement.code: a.answer for a in event.answers}
            detail = {"subject": subject.study_code, "kind": event.kind,
                      "document": event.document.label, "consented_on": event.occurred_on,
                      "answers": answers}  # fmt: skip
            events.append(audit.Event(Action.CONSENT_RECORDED, event, detail))
    audit.record_many(session, actor, events)
    session.commit()
    return SubjectImportResult(len(planned), consents)
