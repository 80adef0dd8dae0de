"""A tube's lifecycle where it touches its position: check out and in, use, return after
distribution, missing, found, quarantine (disposal and voiding: disposal.py; lists of scanned
tubes: bulk.py). The allowed moves are read from ALIQUOT_TRANSITIONS via
Aliquot.require_transition; nothing here repeats them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.errors import Conflict, InvalidInput
from lims.specimens.models import ALIQUOT_TRANSITIONS, Aliquot, AliquotStatus, OutCondition
from lims.specimens.services import BenchWork, consent_refusal, find_aliquot, require_consent
from lims.specimens.services.plausibility import use_problem
from lims.storage.services._common import (
    change_status,
    free_position,
    placement_of,
    record_change,
    require_reason,
    require_status,
    where,
)
from lims.storage.services.placing import check_in_step, put_back

S = AliquotStatus


def can_check_out(session: Session, aliquot: Aliquot) -> None:
    """The check-out rule: the status map allows it and consent permits use."""
    aliquot.require_transition(S.CHECKED_OUT)
    require_consent(aliquot.subject, f"checking out {aliquot.barcode}", field="barcode")


def check_out_step(
    session: Session,
    actor: Actor,
    aliquot: Aliquot,
    *,
    condition: OutCondition,
    reason: str | None,
) -> None:
    """The tube leaves; how it travels is kept for its return. The caller commits."""
    place = where(placement_of(session, aliquot))
    before = change_status(aliquot, S.CHECKED_OUT)
    aliquot.out_condition = condition
    record_change(
        session,
        actor,
        Action.ALIQUOT_CHECKED_OUT,
        aliquot,
        before_status=before,
        before_place=place,
        reason=(reason or "").strip() or None,
        condition=condition,
    )


def check_out(
    session: Session,
    actor: Actor,
    *,
    barcode: str,
    condition: OutCondition = OutCondition.THAWED,
    reason: str | None = None,
) -> Aliquot:
    """Take a tube out for use, on dry ice or to thaw; its position stays held for its return.

    The forms and the API ask how it leaves; a caller that does not say gets the cautious
    answer, thawed (the next return to a freezer counts a cycle, as before the question)."""
    actor.require(Role.TECHNICIAN)
    aliquot = find_aliquot(session, actor, barcode, for_update=True)
    can_check_out(session, aliquot)
    check_out_step(session, actor, aliquot, condition=condition, reason=reason)
    session.commit()
    return aliquot


def check_in(
    session: Session,
    actor: Actor,
    *,
    barcode: str,
    box_id: int | None = None,
    position: str | None = None,
) -> Aliquot:
    """Put a checked-out tube back: into its held position unless a box is given."""
    actor.require(Role.TECHNICIAN)
    aliquot = find_aliquot(session, actor, barcode, for_update=True)
    aliquot.require_transition(S.STORED)
    require_status(aliquot, S.CHECKED_OUT, doing="checked in")
    place = where(placement_of(session, aliquot))
    placement = put_back(session, aliquot, box_id, position)
    check_in_step(session, actor, aliquot, before_place=place, placement=placement)
    session.commit()
    return aliquot


def can_use(
    session: Session, aliquot: Aliquot, *, volume_ul: int | None, consume_all: bool
) -> None:
    """The use rule: the map allows consuming it, consent permits use, the volume is there."""
    if S.CONSUMED not in ALIQUOT_TRANSITIONS[aliquot.status]:
        aliquot.require_transition(S.CONSUMED)  # raises, naming what it can become
    require_consent(aliquot.subject, f"using {aliquot.barcode}", field="barcode")
    _check_use(aliquot, volume_ul, consume_all)


def use_step(
    session: Session,
    actor: Actor,
    aliquot: Aliquot,
    *,
    volume_ul: int | None,
    consume_all: bool,
) -> None:
    """Take the volume out, or use the tube up (freeing its position). The caller commits."""
    held = placement_of(session, aliquot)
    place = where(held)
    volume_before = aliquot.volume_ul
    if not consume_all and volume_ul is not None and volume_ul < aliquot.volume_ul:
        aliquot.volume_ul -= volume_ul
        action, before = Action.ALIQUOT_VOLUME_USED, aliquot.status
    else:
        aliquot.volume_ul = 0
        before = change_status(aliquot, S.CONSUMED)
        action = Action.ALIQUOT_CONSUMED
        free_position(session, held)
        session.flush()
    record_change(
        session,
        actor,
        action,
        aliquot,
        before_status=before,
        before_place={**place, "volume_ul": volume_before},
        volume_ul=aliquot.volume_ul,
    )


def use_aliquot(
    session: Session,
    actor: Actor,
    *,
    barcode: str,
    volume_ul: int | None = None,
    consume_all: bool = False,
) -> Aliquot:
    """Record material used: part of the volume, or all of it when asked (the tube is consumed)."""
    actor.require(Role.TECHNICIAN)
    aliquot = find_aliquot(session, actor, barcode, for_update=True)
    can_use(session, aliquot, volume_ul=volume_ul, consume_all=consume_all)
    use_step(session, actor, aliquot, volume_ul=volume_ul, consume_all=consume_all)
    session.commit()
    return aliquot


def _check_use(aliquot: Aliquot, volume_ul: int | None, consume_all: bool) -> None:
    """Consuming a whole tube is destructive, so it is asked for, never inferred from a blank."""
    if consume_all:
        if volume_ul is not None:
            raise InvalidInput(
                "Give either the volume used or consume all, not both", field="volume_ul"
            )
        return
    if volume_ul is None:
        raise InvalidInput(
            f"Give the volume used, or choose to consume all {aliquot.volume_ul} µL",
            field="volume_ul",
        )
    if volume_ul <= 0:
        raise InvalidInput(f"Volume used must be above 0, not {volume_ul}", field="volume_ul")
    if problem := use_problem(
        barcode=aliquot.barcode, remaining_ul=aliquot.volume_ul, volume_ul=volume_ul
    ):
        raise Conflict(problem, field="volume_ul")


def return_aliquot(
    session: Session,
    actor: Actor,
    *,
    barcode: str,
    condition: OutCondition,
    volume_ul: int | None = None,
    reason: str | None = None,
) -> Aliquot:
    """A tube released to an investigator comes back: received again, ready to be placed.

    How it came back (on dry ice or thawed) decides whether storing it counts a freeze-thaw;
    the volume that came back replaces the recorded one when given (it cannot grow)."""
    actor.require(Role.TECHNICIAN)
    aliquot = find_aliquot(session, actor, barcode, for_update=True)
    aliquot.require_transition(S.RECEIVED)
    require_status(aliquot, S.RELEASED, doing="returned")
    volume_before = aliquot.volume_ul
    if volume_ul is not None:
        if not 0 < volume_ul <= aliquot.volume_ul:
            raise InvalidInput(
                f"{aliquot.barcode} left with {aliquot.volume_ul} µL; {volume_ul} µL cannot "
                "have come back",
                field="volume_ul",
            )
        aliquot.volume_ul = volume_ul
    # A released tube holds no position (release frees it); one still held is let go, so the
    # returned tube is placed afresh like any received one.
    held = placement_of(session, aliquot)
    place = where(held)
    free_position(session, held)
    before = change_status(aliquot, S.RECEIVED)
    aliquot.out_condition = condition
    record_change(
        session,
        actor,
        Action.ALIQUOT_RETURNED,
        aliquot,
        before_status=before,
        before_place={**place, "volume_ul": volume_before},
        reason=(reason or "").strip() or None,
        condition=condition,
        volume_ul=aliquot.volume_ul,
    )
    session.commit()
    return aliquot


def mark_missing(
    session: Session, actor: Actor, *, barcode: str, reason: str | None = None
) -> Aliquot:
    """The tube is not where it should be; its position stays held until it is found."""
    actor.require(Role.TECHNICIAN)
    aliquot = find_aliquot(session, actor, barcode, for_update=True)
    place = where(placement_of(session, aliquot))
    before = change_status(aliquot, S.MISSING)
    record_change(
        session,
        actor,
        Action.ALIQUOT_MARKED_MISSING,
        aliquot,
        before_status=before,
        before_place=place,
        reason=(reason or "").strip() or None,
    )
    session.commit()
    return aliquot


def _back_to_storage(
    session: Session,
    actor: Actor,
    *,
    barcode: str,
    source: AliquotStatus,
    action: Action,
    box_id: int | None,
    position: str | None,
    reason: str | None,
) -> Aliquot:
    """A missing or quarantined tube goes back to storage; the public caller commits."""
    aliquot = find_aliquot(session, actor, barcode, for_update=True)
    aliquot.require_transition(S.STORED)
    require_status(aliquot, source, doing=action.value.split(".")[1])
    place = where(placement_of(session, aliquot))
    put_back(session, aliquot, box_id, position)
    before = change_status(aliquot, S.STORED)
    aliquot.out_condition = None  # back in storage: a journey it was on is over
    record_change(
        session,
        actor,
        action,
        aliquot,
        before_status=before,
        before_place=place,
        reason=(reason or "").strip() or None,
    )
    return aliquot


def mark_found(
    session: Session,
    actor: Actor,
    *,
    barcode: str,
    box_id: int | None = None,
    position: str | None = None,
) -> Aliquot:
    """A missing tube turned up: back into its held position, or where it was found."""
    actor.require(Role.TECHNICIAN)
    aliquot = _back_to_storage(
        session,
        actor,
        barcode=barcode,
        source=S.MISSING,
        action=Action.ALIQUOT_FOUND,
        box_id=box_id,
        position=position,
        reason=None,
    )
    session.commit()
    return aliquot


def quarantine(session: Session, actor: Actor, *, barcode: str, reason: str | None) -> Aliquot:
    """Hold a tube back from any use until it is cleared (reason required)."""
    actor.require(Role.TECHNICIAN)
    why = require_reason(reason, "quarantined")
    aliquot = find_aliquot(session, actor, barcode, for_update=True)
    place = where(placement_of(session, aliquot))
    aliquot.require_transition(S.QUARANTINED)
    before = change_status(aliquot, S.QUARANTINED)
    record_change(
        session,
        actor,
        Action.ALIQUOT_QUARANTINED,
        aliquot,
        before_status=before,
        before_place=place,
        reason=why,
    )
    session.commit()
    return aliquot


def clear_quarantine(
    session: Session,
    actor: Actor,
    *,
    barcode: str,
    box_id: int | None = None,
    position: str | None = None,
    reason: str | None = None,
) -> Aliquot:
    """Release a quarantined tube back to storage (its position, or the box given)."""
    actor.require(Role.TECHNICIAN)
    aliquot = _back_to_storage(
        session,
        actor,
        barcode=barcode,
        source=S.QUARANTINED,
        action=Action.ALIQUOT_CLEARED,
        box_id=box_id,
        position=position,
        reason=reason,
    )
    session.commit()
    return aliquot


@dataclass(frozen=True)
class TubeAction:
    """A lifecycle step offered on the aliquot page; `to` is checked against the status map."""

    slug: str
    label: str
    to: AliquotStatus
    sources: frozenset[AliquotStatus] | None = None  # None: wherever the map allows `to`
    # form inputs: reason, reason! (required), volume_ul, box, condition (how it travels),
    # disposal (the reason list, a note and who authorised it), returned_ul
    asks: tuple[str, ...] = ()
    # The consent its service asks (require_consent, with BenchWork.USE by default); None: none.
    work: BenchWork | None = None


TUBE_ACTIONS = (
    TubeAction(
        "check-out", "Check out", S.CHECKED_OUT, asks=("condition", "reason"), work=BenchWork.USE
    ),
    TubeAction("check-in", "Check in", S.STORED, frozenset({S.CHECKED_OUT}), asks=("box",)),
    TubeAction("use", "Record use", S.CONSUMED, asks=("volume_ul",), work=BenchWork.USE),
    TubeAction("found", "Found", S.STORED, frozenset({S.MISSING}), asks=("box",)),
    TubeAction(
        "clear-quarantine",
        "Release from quarantine",
        S.STORED,
        frozenset({S.QUARANTINED}),
        ("box", "reason"),
    ),
    TubeAction("quarantine", "Quarantine", S.QUARANTINED, asks=("reason!",)),
    TubeAction("missing", "Mark missing", S.MISSING, asks=("reason",)),
    TubeAction("dispose", "Dispose", S.DISPOSED, asks=("disposal",)),
    TubeAction(
        "return",
        "Returned by the investigator",
        S.RECEIVED,
        frozenset({S.RELEASED}),
        ("condition", "returned_ul", "reason"),
    ),
    TubeAction("void", "Void (entered in error)", S.VOIDED, asks=("reason!",)),
)


def actions_allowed(aliquot: Aliquot) -> list[TubeAction]:
    """The steps the status map and the subject's consent allow for this tube now: the same
    rule the services apply (consent_refusal), so a step offered is not then refused."""
    allowed = ALIQUOT_TRANSITIONS[aliquot.status]
    subject = aliquot.subject
    stopped: set[BenchWork] = set()
    # A subject with no withdrawal recorded (most of them; the aliquot page reads this anyway)
    # has no bench work stopped; only the others ask the consent rule, a query per kind of work.
    if subject.withdrawal_level is not None:
        stopped = {w for w in BenchWork if consent_refusal(subject, aliquot.barcode, work=w)}
    return [
        a
        for a in TUBE_ACTIONS
        if a.to in allowed
        and (a.sources is None or aliquot.status in a.sources)
        and a.work not in stopped
    ]
