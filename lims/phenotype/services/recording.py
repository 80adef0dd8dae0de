"""Recording a visit's phenotype by hand or from the demo: the same writes as the import."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor, Role
from lims.errors import Conflict, InvalidInput
from lims.phenotype.services._common import (
    Change,
    VisitPhenotype,
    apply_visit,
    audit_events,
    consent_refusals,
    existing_rows,
    write_changes,
)
from lims.specimens.services import find_visit, lock_subject


def record_visit_phenotype(
    session: Session,
    actor: Actor,
    *,
    study_code: str,
    visit_number: int,
    phenotype: VisitPhenotype,
) -> list[Change]:
    """Record diagnoses, scales, treatments and findings of one visit; each change audited."""
    actor.require(Role.TECHNICIAN)  # reviewers read; the bench records
    visit = find_visit(session, actor, study_code=study_code, visit_number=visit_number)
    # The subject first, as every specimen service locks it: one writer per subject at a time.
    subject = lock_subject(session, visit.subject_id)
    stored = existing_rows(session, [visit.id])[visit.id]
    changes, problems = apply_visit(visit.id, visit.label, phenotype, stored)
    if problems:
        listed = "; ".join(p["message"] for p in problems)
        raise InvalidInput(f"Nothing was recorded: {listed}", errors=problems)
    refused = consent_refusals(session, {subject.id: subject.study_code})
    if subject.id in refused and any(c.kind != "unchanged" for c in changes):
        raise Conflict(refused[subject.id], field="study_code")
    write_changes(session, changes)
    audit.record_many(session, actor, list(audit_events(changes, visit=visit.label)))
    session.commit()
    return changes
