"""Lists of scanned tubes: check out, check in or record use for each, all or nothing.

Each asks the same rule and takes the same step as the one-tube service (lifecycle.py), for
every tube first, then writes them all and commits once. One bad line and nothing is written;
the error names each line, its barcode and why.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from lims.actors import Actor, Role
from lims.errors import Conflict
from lims.specimens.models import Aliquot, AliquotStatus, OutCondition
from lims.storage.services._common import (
    placement_of,
    require_status,
    scanned_tubes,
    where,
)
from lims.storage.services.lifecycle import can_check_out, can_use, check_out_step, use_step
from lims.storage.services.placing import check_in_step

S = AliquotStatus


def check_out_many(
    session: Session,
    actor: Actor,
    *,
    barcodes: Sequence[str],
    condition: OutCondition,
    reason: str | None = None,
) -> list[Aliquot]:
    """Check out every scanned tube, all travelling the same way (on dry ice or to thaw)."""
    actor.require(Role.TECHNICIAN)
    tubes = scanned_tubes(
        session,
        actor,
        barcodes,
        check=lambda a: can_check_out(session, a),
        doing="checked out",
    )
    for aliquot in tubes:
        check_out_step(session, actor, aliquot, condition=condition, reason=reason)
    session.commit()
    return tubes


def _can_check_in_to_held(session: Session, aliquot: Aliquot) -> None:
    """A list is checked in to the positions held for its tubes (one tube goes elsewhere on its
    own page, where a box can be given)."""
    aliquot.require_transition(S.STORED)
    require_status(aliquot, S.CHECKED_OUT, doing="checked in")
    if placement_of(session, aliquot) is None:
        raise Conflict(
            "no position is held for it (it was taken out); check it in on its own page "
            "with the box it goes into",
            field="barcodes",
        )


def check_in_many(session: Session, actor: Actor, *, barcodes: Sequence[str]) -> list[Aliquot]:
    """Check every scanned tube back into its held position; a thawed one counts a cycle."""
    actor.require(Role.TECHNICIAN)
    tubes = scanned_tubes(
        session,
        actor,
        barcodes,
        check=lambda a: _can_check_in_to_held(session, a),
        doing="checked in",
    )
    for aliquot in tubes:
        held = placement_of(session, aliquot)
        assert held is not None  # checked above, under the tube's lock
        check_in_step(session, actor, aliquot, before_place=where(held), placement=held)
    session.commit()
    return tubes


def use_many(
    session: Session,
    actor: Actor,
    *,
    barcodes: Sequence[str],
    volume_ul: int | None = None,
    consume_all: bool = False,
) -> list[Aliquot]:
    """Record the same use for every scanned tube: `volume_ul` from each, or each used up."""
    actor.require(Role.TECHNICIAN)
    tubes = scanned_tubes(
        session,
        actor,
        barcodes,
        check=lambda a: can_use(session, a, volume_ul=volume_ul, consume_all=consume_all),
        doing="used",
    )
    for aliquot in tubes:
        use_step(session, actor, aliquot, volume_ul=volume_ul, consume_all=consume_all)
    session.commit()
    return tubes
