"""This installation's number: the first digit of every tube code it issues (barcodes.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.errors import Conflict, InvalidInput, plural
from lims.specimens import barcodes
from lims.specimens.models import BarcodeCounter, Installation
from lims.specimens.services.common import ALIQUOT_COUNTER, locked


def set_installation(session: Session, actor: Actor, *, number: int) -> Installation:
    """Give this installation its number, which every tube code it issues from now on carries.

    While no code carries the number it may change freely. Once codes were issued as number 0
    (a database from before numbering, or one started without LIMS_INSTALLATION) it may leave 0
    once: those codes stay ours as printed, and the new ones carry the new number. After that
    it never changes: the labels carry it.
    """
    actor.require(Role.ADMIN)
    if number not in barcodes.INSTALLATIONS:
        raise InvalidInput(
            f"The installation number is one digit, 0-9, not {number}", field="number"
        )
    # Locked: of two administrators numbering the installation at once, the second waits.
    row = session.scalars(locked(select(Installation).where(Installation.id == 1))).one()
    if row.number == number:
        return row
    # The counter too: a bench issuing codes now either finishes first (and is counted) or
    # waits, then reads the new number (take_barcodes reads it after taking its serials).
    counter = session.scalars(
        locked(select(BarcodeCounter).where(BarcodeCounter.name == ALIQUOT_COUNTER))
    ).first()
    serial = counter.next_value if counter is not None else 1
    carrying = serial - row.first_serial  # codes issued with the current number
    if carrying and not (row.number == 0 and row.first_serial == 1):
        raise Conflict(
            f"This installation is number {row.number} and has issued "
            f"{plural(carrying, 'tube code')} that carry it; it cannot become number {number}",
            field="number",
        )
    before = {"number": row.number, "first_serial": row.first_serial}
    row.number, row.first_serial = number, serial
    audit.record(
        session,
        actor,
        Action.INSTALLATION_NUMBERED,
        row,
        before=before,
        number=number,
        first_serial=serial,
        issued_before=carrying,
    )
    session.commit()
    return row
