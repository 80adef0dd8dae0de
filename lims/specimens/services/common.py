"""Steps several specimen use cases share: barcodes, lookups and row locks, the consent rule.

Why row locks (SELECT ... FOR UPDATE) and not a version column: two benches acting on one tube
at once must both get an answer a technician can act on. With a lock the second request waits
for the first to commit, then reads the tube as it now is and gets the precise refusal ("is
checked_out; only a stored aliquot can be checked out", "holds 100 µL; 2 × 100 µL needs 200
µL"), or simply succeeds, as 20 partial uses of one tube all should. A version column would
turn every such overlap into a generic "changed by someone else, try again", and volumes drawn
in parallel would fail instead of adding up. Waits are short: each service holds its locks for
one transaction of a few statements.

Lock order, so two services never wait for each other in a circle: the subject, then primary
tubes (specimens), then aliquots, then boxes; several rows of one kind in ascending id. Recording
or withdrawing consent locks the subject first, as do registering a visit and accessioning a tube.
A withdrawal then locks the subject's tubes and open aliquots the same way, so a check-out or a
split that checked consent a moment before finishes first, and one that comes after sees the
withdrawal. SQLite ignores FOR UPDATE; there a writing transaction takes the database's write
lock when it begins (BEGIN IMMEDIATE, lims/db.py), which serialises the same services.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, joinedload, object_session
from sqlalchemy.orm.interfaces import LoaderOption

from lims.actors import STAFF, Actor
from lims.errors import Conflict, InvalidInput, NotFound, plural
from lims.specimens import barcodes
from lims.specimens.consent_models import WithdrawalLevel
from lims.specimens.models import (
    Aliquot,
    BarcodeCounter,
    Installation,
    Specimen,
    Subject,
    Visit,
)
from lims.specimens.services.permits import BenchWork, consent_permits

# Tubes and aliquots draw their 8-digit barcodes from one counter: one namespace, no clash.
ALIQUOT_COUNTER = "aliquot"


def issue_serials(session: Session, name: str, count: int) -> range:
    """Reserve `count` consecutive serials; the row update serialises two benches."""
    if session.get(BarcodeCounter, name) is None:
        session.add(BarcodeCounter(name=name, next_value=1))
        session.flush()
    stmt = (
        update(BarcodeCounter)
        .where(BarcodeCounter.name == name)
        .values(next_value=BarcodeCounter.next_value + count)
        .returning(BarcodeCounter.next_value)
    )
    end = session.execute(stmt).scalar_one()
    return range(end - count, end)


def next_serial(session: Session, name: str = ALIQUOT_COUNTER) -> int:
    """The serial the counter would issue next (1 when it has issued none)."""
    counter = session.get(BarcodeCounter, name)
    return counter.next_value if counter is not None else 1


def installation_number(session: Session) -> int:
    """The number this installation puts first in the tube codes it issues."""
    return _installation(session)[0]


def _installation(session: Session) -> tuple[int, int]:
    """(number, first serial), read from the database, not from a copy the session holds."""
    stmt = select(Installation.number, Installation.first_serial).where(Installation.id == 1)
    row = session.execute(stmt).one_or_none()
    if row is None:  # the migration makes the row; a database without it is not migrated
        raise Conflict("This database has no installation number: run flask db upgrade")
    return row.number, row.first_serial


@dataclass(frozen=True)
class IssuedCodes:
    """The tube codes this installation has issued: its number, and the serials it issued
    under that number (those below were issued as installation 0's, before it was numbered)."""

    installation: int
    serials: range


def issued_codes(session: Session) -> IssuedCodes:
    number, first_serial = _installation(session)
    return IssuedCodes(number, range(first_serial, next_serial(session)))


def barcode_problem(code: str, *, issued: IssuedCodes) -> str | None:
    """Why a scanned barcode cannot name a new tube, before looking at the database.

    A code that carries our installation number must have been issued here already: accepting
    an unissued one would make the counter hand out the same barcode again later. A code that
    carries another installation's number is that installation's tube, kept as it is: none of
    ours can ever have it.
    """
    if problem := barcodes.check_problem(code):
        return problem
    if barcodes.installation_of(code) == issued.installation and (
        barcodes.serial_of(code) not in issued.serials
    ):
        return (
            f"{code} carries this installation's number ({issued.installation}) but was never "
            "issued here; a tube of another installation carries that installation's number"
        )
    return None


SelectT = TypeVar("SelectT", bound=Select[Any])


def locked(stmt: SelectT) -> SelectT:
    """Lock the selected rows until commit, and read them afresh.

    populate_existing: the session may already hold a copy read before the lock was granted
    (e.g. by an earlier lookup in the same request); without it the ORM would hand back that
    stale copy and the decision would be taken on what another bench has since changed.
    """
    return stmt.with_for_update().execution_options(populate_existing=True)


def checked_code(barcode: str, field: str = "barcode") -> str:
    """A scanned or typed barcode, normalised, refusing a wrong check character."""
    code = barcodes.normalise(barcode)
    if problem := barcodes.check_problem(code):
        raise InvalidInput(problem, field=field)
    return code


def aliquot_origin() -> tuple[LoaderOption, ...]:
    """Loader options naming where an aliquot comes from: its tube, visit, subject and site
    joined into the aliquot's own query, and its parent's barcode. Every page and answer about a
    tube names them; lazily they were four or five more round trips (docs/benchmarks.md)."""
    return (
        joinedload(Aliquot.specimen, innerjoin=True)
        .joinedload(Specimen.visit, innerjoin=True)
        .joinedload(Visit.subject, innerjoin=True)
        .joinedload(Subject.site, innerjoin=True),
        joinedload(Aliquot.parent).load_only(Aliquot.barcode),
    )


def find_aliquot(
    session: Session, actor: Actor, barcode: str, *, for_update: bool = False
) -> Aliquot:
    """The aliquot with this scanned or typed barcode, refusing a wrong check digit.

    Services that change the aliquot pass for_update=True: the row stays locked until they
    commit, so a second request on the same tube waits and then sees the new state.
    """
    actor.require(*STAFF)
    code = checked_code(barcode)
    stmt = select(Aliquot).where(Aliquot.barcode == code).options(*aliquot_origin())
    if for_update:
        # Only the aliquot's row is locked (FOR UPDATE OF aliquots): the tube, visit and
        # subject come along unlocked, as their lazy loads did, so the lock order holds.
        stmt = stmt.with_for_update(of=Aliquot).execution_options(populate_existing=True)
    aliquot = session.scalar(stmt)
    if aliquot is None:
        raise NotFound(f"No aliquot has barcode {code}", field="barcode")
    return aliquot


def lock_aliquots(session: Session, ids: Sequence[int]) -> list[Aliquot]:
    """Lock several aliquots in ascending id order (the same order everywhere: no deadlock)."""
    stmt = select(Aliquot).where(Aliquot.id.in_(ids)).order_by(Aliquot.id)
    return list(session.scalars(locked(stmt)))


def find_specimen(
    session: Session, actor: Actor, barcode: str, *, for_update: bool = False
) -> Specimen:
    """A primary tube by its scanned barcode (locked for a service that makes aliquots of it)."""
    actor.require(*STAFF)
    code = checked_code(barcode)
    stmt = select(Specimen).where(Specimen.barcode == code)
    specimen = session.scalar(locked(stmt) if for_update else stmt)
    if specimen is None:
        raise NotFound(f"No primary tube has barcode {code}", field="barcode")
    return specimen


def take_barcodes(
    session: Session, given: Sequence[str] | None, count: int, *, field: str = "barcodes"
) -> list[str]:
    """Scanned pre-printed barcodes after checks, or `count` newly issued ones."""
    if not given:
        serials = issue_serials(session, ALIQUOT_COUNTER, count)
        number = installation_number(session)
        return [barcodes.aliquot_barcode(s, installation=number) for s in serials]
    codes = [barcodes.normalise(c) for c in given]
    if len(codes) != count:
        raise InvalidInput(
            f"{plural(len(codes), 'barcode')} scanned for {plural(count, 'tube')}", field=field
        )
    seen: set[str] = set()
    issued = issued_codes(session)
    for code in codes:
        if code in seen:
            raise InvalidInput(f"{code} was scanned twice", field=field)
        seen.add(code)
        if problem := barcode_problem(code, issued=issued):
            raise InvalidInput(problem, field=field)
    taken = [
        *session.scalars(select(Aliquot.barcode).where(Aliquot.barcode.in_(codes))),
        *session.scalars(select(Specimen.barcode).where(Specimen.barcode.in_(codes))),
    ]
    if taken:
        raise Conflict(f"Barcode {', '.join(sorted(taken))} is already in use", field=field)
    return codes


def consent_refusal(subject: Subject, doing: str, *, work: BenchWork = BenchWork.USE) -> str | None:
    """Why consent stops this bench work, or None: the consent rule at the bench, asked of the
    one consent function. After a withdrawal at "no further use" nothing is done with the
    subject's tubes but disposal (NCI Best Practices for Biospecimen Resources, 2016, §B.6); at
    "no further access" they are kept but not used. Pages ask it to offer only what is allowed.

    Asked as of the last day: a withdrawal stops the bench from the moment it is recorded,
    whatever date the participant's letter carries.
    """
    session = object_session(subject)
    assert session is not None, "a subject read through a session"
    decision = consent_permits(session, subject, on=date.max, purpose=work)
    if decision.permitted or (level := decision.withdrawal) is None:
        return None
    only = (
        "their tubes may only be disposed of"
        if level is WithdrawalLevel.NO_FURTHER_USE
        else "their tubes are kept but not used"
    )
    return (
        f"{subject.study_code} has withdrawn consent; {doing} is not allowed "
        f"({level.label}: {only})"
    )


def require_consent(
    subject: Subject, doing: str, *, field: str = "study_code", work: BenchWork = BenchWork.USE
) -> None:
    """Refuse bench work that consent stops (consent_refusal says why)."""
    if (why := consent_refusal(subject, doing, work=work)) is not None:
        raise Conflict(why, field=field)


def lock_subject(session: Session, subject_id: int) -> Subject:
    """Lock a subject row: consent is recorded, withdrawn and checked one at a time per subject,
    so a visit or a tube registered a moment before a withdrawal commits first, and one after
    it sees the withdrawal."""
    return session.scalars(locked(select(Subject).where(Subject.id == subject_id))).one()
