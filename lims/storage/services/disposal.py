"""The end of a tube that existed (disposal: why, from a fixed list, and who authorised it) and
of one that never did (voided: entered in error). Both free its position."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.auth.models import User
from lims.errors import Conflict, InvalidInput
from lims.specimens.models import Aliquot, AliquotStatus, DisposalReason
from lims.specimens.services import find_aliquot
from lims.storage.services._common import (
    change_status,
    free_position,
    placement_of,
    record_change,
    require_reason,
    scanned_tubes,
    where,
)

S = AliquotStatus
# Who may authorise a disposal: an active account of the biobank's bench or its administrator
# (the person who answers for the decision; easy-GCS "Destruction": record who authorised it).
AUTHORISING_ROLES = (Role.ADMIN, Role.TECHNICIAN)


@dataclass(frozen=True)
class Disposal:
    """Why a tube is destroyed, checked: the reason, its note, and who authorised it."""

    reason: DisposalReason
    note: str | None
    authorised_by: User

    @property
    def words(self) -> str:
        """As the custody timeline shows it: 'damaged: tube cracked in the centrifuge'."""
        return f"{self.reason.label}: {self.note}" if self.note else self.reason.label


def disposal_authorisers(session: Session, actor: Actor) -> list[User]:
    """The accounts a disposal form offers as having authorised it."""
    actor.require(Role.TECHNICIAN)
    stmt = (
        select(User)
        .where(User.is_active.is_(True), User.role.in_(AUTHORISING_ROLES))
        .order_by(User.username)
    )
    return list(session.scalars(stmt))


def checked_disposal(
    session: Session,
    *,
    reason: DisposalReason | None,
    note: str | None,
    authorised_by: str | None,
) -> Disposal:
    """The disposal rule: a reason from the list ("other" says what), and an active account of
    the bench or an administrator who authorised it."""
    if reason is None:
        raise InvalidInput("Choose why the tubes are disposed of", field="reason")
    text = (note or "").strip() or None
    if reason is DisposalReason.OTHER and text is None:
        raise InvalidInput("Say what the other reason is", field="note")
    name = (authorised_by or "").strip()
    if not name:
        raise InvalidInput("Say who authorised the disposal", field="authorised_by")
    user = session.scalar(select(User).where(User.username == name))
    if user is None or not user.is_active or user.role not in AUTHORISING_ROLES:
        raise InvalidInput(
            f"{name} cannot authorise a disposal: choose an active technician or administrator",
            field="authorised_by",
        )
    return Disposal(reason, text, user)


def _dispose(session: Session, actor: Actor, aliquot: Aliquot, disposal: Disposal) -> None:
    held = placement_of(session, aliquot)
    place = where(held)
    before = change_status(aliquot, S.DISPOSED)
    aliquot.disposal_reason = disposal.reason
    aliquot.disposal_authorised_by_id = disposal.authorised_by.id
    free_position(session, held)
    session.flush()
    record_change(
        session,
        actor,
        Action.ALIQUOT_DISPOSED,
        aliquot,
        before_status=before,
        before_place=place,
        reason=disposal.words,
        disposal_reason=disposal.reason,
        authorised_by=disposal.authorised_by.username,
    )


def dispose_aliquot(
    session: Session,
    actor: Actor,
    *,
    barcode: str,
    reason: DisposalReason | None,
    authorised_by: str | None,
    note: str | None = None,
) -> Aliquot:
    """Destroy a tube (why, from the list, and who authorised it); its position becomes free."""
    actor.require(Role.TECHNICIAN)
    disposal = checked_disposal(session, reason=reason, note=note, authorised_by=authorised_by)
    aliquot = find_aliquot(session, actor, barcode, for_update=True)
    aliquot.require_transition(S.DISPOSED)
    _dispose(session, actor, aliquot, disposal)
    session.commit()
    return aliquot


def dispose_aliquots(
    session: Session,
    actor: Actor,
    *,
    barcodes: Sequence[str],
    reason: DisposalReason | None,
    authorised_by: str | None,
    note: str | None = None,
) -> list[Aliquot]:
    """Dispose of several tubes at once, e.g. after consent withdrawal: all of them or none."""
    actor.require(Role.TECHNICIAN)
    disposal = checked_disposal(session, reason=reason, note=note, authorised_by=authorised_by)
    tubes = scanned_tubes(
        session,
        actor,
        barcodes,
        check=lambda a: a.require_transition(S.DISPOSED),
        doing="disposed of",
    )
    for aliquot in tubes:
        _dispose(session, actor, aliquot, disposal)
    session.commit()
    return tubes


def void_aliquot(session: Session, actor: Actor, *, barcode: str, reason: str | None) -> Aliquot:
    """Void a tube entered in error (it never existed): it leaves its position and drops out of
    counts and lists, but stays findable by its barcode with why it was voided."""
    actor.require(Role.TECHNICIAN)
    why = require_reason(reason, "voided")
    aliquot = find_aliquot(session, actor, barcode, for_update=True)
    aliquot.require_transition(S.VOIDED)
    if live := [c.barcode for c in aliquot.children if c.status is not S.VOIDED]:
        raise Conflict(
            f"{aliquot.barcode} has aliquots made from it ({', '.join(live)}); void those first",
            field="barcode",
        )
    held = placement_of(session, aliquot)
    place = where(held)
    before = change_status(aliquot, S.VOIDED)
    aliquot.out_condition = None
    free_position(session, held)
    session.flush()
    record_change(
        session,
        actor,
        Action.ALIQUOT_VOIDED,
        aliquot,
        before_status=before,
        before_place=place,
        reason=why,
    )
    session.commit()
    return aliquot
