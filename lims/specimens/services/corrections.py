"""Values recorded after the fact: a subject's NINDS GUID (the GUID tool issues it, often after
enrolment) and a primary tube's notes. Each change is an audit event with the value before it,
and replacing a recorded value asks why (21 CFR 11.10(e): changes must not obscure what was
recorded before)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.errors import Conflict, InvalidInput
from lims.specimens.models import Specimen, Subject
from lims.specimens.services.common import find_specimen, lock_subject
from lims.specimens.services.subjects import get_subject

GUID_MAX = 20  # subjects.ninds_guid
NOTES_MAX = 2000


def set_ninds_guid(
    session: Session,
    actor: Actor,
    *,
    study_code: str,
    ninds_guid: str | None,
    reason: str | None = None,
) -> Subject:
    """Record a subject's NINDS GUID, or correct it (with a reason)."""
    actor.require(Role.TECHNICIAN)
    subject = lock_subject(session, get_subject(session, actor, study_code).id)
    guid = (ninds_guid or "").strip().upper() or None
    if guid is not None and (len(guid) > GUID_MAX or not guid.replace("-", "").isalnum()):
        raise InvalidInput(
            f"A NINDS GUID is at most {GUID_MAX} letters and digits (e.g. NIHAB123CDE)",
            field="ninds_guid",
        )
    before = subject.ninds_guid
    _require_a_change(before, guid, f"{subject.study_code}'s NINDS GUID", "ninds_guid")
    reason = _reason_for(before, reason)
    if guid is not None:
        holder = session.scalar(select(Subject.study_code).where(Subject.ninds_guid == guid))
        if holder is not None:
            raise Conflict(f"NINDS GUID {guid} is already {holder}'s", field="ninds_guid")
    subject.ninds_guid = guid
    audit.record(
        session,
        actor,
        Action.SUBJECT_NINDS_GUID_CHANGED,
        subject,
        before={"ninds_guid": before},
        reason=reason,
        ninds_guid=guid,
    )
    session.commit()
    return subject


def set_tube_notes(
    session: Session, actor: Actor, *, barcode: str, notes: str | None, reason: str | None = None
) -> Specimen:
    """Write a primary tube's notes (a deviation seen later), or correct them (with a reason)."""
    actor.require(Role.TECHNICIAN)
    specimen = find_specimen(session, actor, barcode, for_update=True)
    text = (notes or "").strip() or None
    if text is not None and len(text) > NOTES_MAX:
        raise InvalidInput(f"Notes are at most {NOTES_MAX} characters", field="notes")
    before = specimen.notes
    _require_a_change(before, text, f"{specimen.barcode}'s notes", "notes")
    reason = _reason_for(before, reason)
    specimen.notes = text
    audit.record(
        session,
        actor,
        Action.SPECIMEN_NOTES_CHANGED,
        specimen,
        before={"notes": before},
        reason=reason,
        notes=text,
    )
    session.commit()
    return specimen


def _require_a_change(before: str | None, after: str | None, what: str, field: str) -> None:
    if before == after:
        raise InvalidInput(
            f"{what} already read {after or 'nothing'}; nothing changed", field=field
        )


def _reason_for(before: str | None, reason: str | None) -> str | None:
    """A first value needs no reason; replacing or removing a recorded one does."""
    reason = (reason or "").strip() or None
    if before is not None and reason is None:
        raise InvalidInput("Say why the recorded value is changed", field="reason")
    return reason
