"""Storage test helpers: tubes already in a box, and snapshots for "a refusal changes nothing"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import AuditEvent
from lims.audit.services import events_for
from lims.specimens.consent_models import WithdrawalLevel
from lims.specimens.models import Aliquot, AliquotStatus, EnrolmentStatus, Subject
from lims.specimens.services import withdraw_consent
from lims.storage.models import Box, Placement
from lims.storage.services import store_aliquot
from tests.factories import make_aliquot, make_box


def stored(
    session: Session,
    actor: Actor,
    *,
    box: Box | None = None,
    position: str | None = None,
    **kwargs: object,
) -> Aliquot:
    """A fresh aliquot, stored (into a new 9x9 box unless one is given)."""
    aliquot = make_aliquot(session, **kwargs)
    box = box or make_box(session)
    store_aliquot(session, actor, barcode=aliquot.barcode, box_id=box.id, position=position)
    return aliquot


def actions(session: Session, aliquot: Aliquot) -> list[str]:
    return [str(e.action) for e in events_for(session, aliquot)]


def withdraw(session: Session, subject: Subject) -> None:
    """Consent withdrawn, as the specimens feature's withdraw_consent leaves it.

    Set directly: storage reads only the subject's flag, and that service belongs to (and was
    being written by) the specimens feature.
    """
    subject.enrolment_status = EnrolmentStatus.CONSENT_WITHDRAWN
    subject.consent_withdrawn_at = datetime(2026, 4, 1, tzinfo=UTC)
    session.commit()


def box_with_each_level(session: Session, tech: Actor) -> tuple[Box, list[Aliquot]]:
    """A box holding a tube of a subject who did not withdraw (A1), then one of a subject at
    each withdrawal level (A2 to A4), withdrawn through the specimens service."""
    box = make_box(session)
    tubes = [stored(session, tech, box=box, position=f"A{n}") for n in range(1, 5)]
    for tube, level in zip(tubes[1:], WithdrawalLevel, strict=True):
        withdraw_consent(
            session,
            tech,
            study_code=tube.subject.study_code,
            withdrawn_at=datetime(2026, 11, 2, 14, 0, tzinfo=UTC),
            reason="letter",
            level=level,
        )
    return box, tubes


@dataclass(frozen=True)
class Snapshot:
    status: AliquotStatus
    place: tuple[int, int, int] | None
    volume_ul: int
    freeze_thaw_count: int
    events: int


def snapshot(session: Session, aliquot: Aliquot) -> Snapshot:
    """Everything a refused request must leave as it was, read fresh from the database."""
    session.expire_all()
    fresh = session.get(Aliquot, aliquot.id)
    assert fresh is not None
    placement = session.scalar(select(Placement).where(Placement.aliquot_id == aliquot.id))
    events = session.scalar(select(func.count(AuditEvent.id))) or 0
    return Snapshot(
        fresh.status,
        (placement.box_id, placement.row, placement.col) if placement else None,
        fresh.volume_ul,
        fresh.freeze_thaw_count,
        events,
    )
