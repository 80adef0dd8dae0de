"""Recording a visit's phenotype by hand or from the demo: the same writes as the import."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor, Role
from lims.errors import InvalidInput
from lims.phenotype.services._common import (
    Change,
    VisitPhenotype,
    apply_visit,
    audit_events,
    existing_rows,
    insert_created,
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
    lock_subject(session, visit.subject_id)
    changes, problems = apply_visit(visit, phenotype, existing_rows(session, [visit.id])[visit.id])
    if problems:
        listed = "; ".join(p["message"] for p in problems)
        raise InvalidInput(f"Nothing was recorded: {listed}", errors=problems)
    insert_created(session, changes)
    audit.record_many(session, actor, list(audit_events(changes, visit=visit.label)))
    session.commit()
    return changes
