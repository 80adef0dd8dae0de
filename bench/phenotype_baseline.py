"""The competent baseline bench/phenotype_import.py times against import_redcap.

What a competent engineer writes without our optimisations: the same parser (phenotype_link's
parse_export, so parsing costs the same on both sides), the same mapping from REDCap
instruments to rows, the same visit-date and consent checks (consent once per subject), then the
ORM row by row: each visit looked up when the file first names it, each row looked up by its
natural key before it is created or changed, and one `audit.record` per created or changed row,
all in ONE transaction committed once; any problem and nothing is written. What it lacks: the
lookups preloaded with a few IN queries, and the audit events hashed and inserted in one batch
(audit.record_many).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor
from lims.audit.models import Action
from lims.errors import InvalidInput
from lims.phenotype.models import Diagnosis, DiagnosticFinding, ScaleAdministration, Treatment
from lims.phenotype.services._common import (
    _diagnosis_values,
    _treatment_values,
    consent_refusals,
    scale_values,
)
from lims.phenotype.services.imports import _into, _parse
from lims.specimens.models import Subject, Visit
from phenotype_link.catalog import lims_instruments


def _upsert(session: Session, actor: Actor, row: Any, new: Any, values: dict[str, Any]) -> int:
    if row is None:
        for name, value in values.items():
            setattr(new, name, value)
        session.add(new)
        audit.record(session, actor, Action.PHENOTYPE_RECORDED, new, **values)
        return 1
    before = {n: getattr(row, n) for n in values}
    if before != values:
        for name, value in values.items():
            setattr(row, name, value)
        audit.record(session, actor, Action.PHENOTYPE_CHANGED, row, before=before, **values)
    return 0


def competent_import(session: Session, actor: Actor, *, data: bytes, today: date) -> int:
    """Import through the ORM, one row and one audit event at a time, one commit; returns the
    number of rows created."""
    records = _parse(session, data.decode("utf-8-sig"), None, today)
    instruments = {i.name: i for i in lims_instruments()}
    visits: dict[tuple[str, int], Visit] = {}
    consented: set[str] = set()
    grouped: dict[int, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for rec in records:
        key = (rec.record, rec.visit_number)
        if key not in visits:
            visit = session.scalar(
                select(Visit)
                .join(Subject)
                .where(Subject.study_code == rec.record, Visit.visit_number == rec.visit_number)
            )
            if visit is None:
                raise InvalidInput(f"{rec.record} has no visit {rec.visit_number}")
            visits[key] = visit
        visit = visits[key]
        given = rec.values.get("visit_date") if rec.instrument == "visit" else None
        if given is not None and given != visit.visit_on:
            raise InvalidInput(f"{rec.record} visit {rec.visit_number}: visit_date {given}")
        if rec.record not in consented:  # the consent rule, asked once per subject
            refused = consent_refusals(session, {visit.subject_id: rec.record})
            if refused:
                raise InvalidInput(refused[visit.subject_id])
            consented.add(rec.record)
        _into(grouped[visit.id], rec, instruments[rec.instrument], visit.subject.primary_diagnosis)
    created = 0
    for visit_id, values in grouped.items():
        for d in values["diagnoses"]:
            row = session.scalar(
                select(Diagnosis).filter_by(visit_id=visit_id, dystonia=d.dystonia)
            )
            new = Diagnosis(visit_id=visit_id, dystonia=d.dystonia)
            created += _upsert(session, actor, row, new, _diagnosis_values(d))
        for s in values["scales"]:
            scored, problems = scale_values(s)
            if problems:
                raise InvalidInput("; ".join(problems))
            row = session.scalar(
                select(ScaleAdministration).filter_by(
                    visit_id=visit_id, scale_id=s.scale_id, repeat_instance=s.repeat_instance
                )
            )
            new = ScaleAdministration(
                visit_id=visit_id, scale_id=s.scale_id, repeat_instance=s.repeat_instance
            )
            created += _upsert(session, actor, row, new, scored)
        for t in values["treatments"]:
            row = session.scalar(
                select(Treatment).filter_by(
                    visit_id=visit_id, kind=t.kind, repeat_instance=t.repeat_instance
                )
            )
            new = Treatment(visit_id=visit_id, kind=t.kind, repeat_instance=t.repeat_instance)
            created += _upsert(session, actor, row, new, _treatment_values(t))
        for f in values["findings"]:
            row = session.scalar(
                select(DiagnosticFinding).filter_by(visit_id=visit_id, kind=f.kind, item=f.item)
            )
            new = DiagnosticFinding(visit_id=visit_id, kind=f.kind, item=f.item)
            created += _upsert(session, actor, row, new, {"value": f.value})
    session.commit()
    return created
