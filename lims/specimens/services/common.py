"""Steps several specimen use cases share: barcodes, lookups, the consent rule."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lims.actors import STAFF, Actor
from lims.errors import Conflict, InvalidInput, NotFound
from lims.specimens import barcodes
from lims.specimens.models import Aliquot, BarcodeCounter, Specimen, Subject

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


def barcode_problem(code: str, *, issued_below: int) -> str | None:
    """Why a scanned barcode cannot name a new tube, before looking at the database.

    A code in our issued shape must have been issued already: accepting an unissued one would
    make the counter hand out the same barcode again later.
    """
    if problem := barcodes.check_problem(code):
        return problem
    if barcodes.is_issued_aliquot_barcode(code) and int(code[:-1]) >= issued_below:
        return f"{code} has the shape of a barcode this LIMS issues, but it was never issued"
    return None


def find_aliquot(session: Session, actor: Actor, barcode: str) -> Aliquot:
    """The aliquot with this scanned or typed barcode, refusing a wrong check digit."""
    actor.require(*STAFF)
    code = barcodes.normalise(barcode)
    if problem := barcodes.check_problem(code):
        raise InvalidInput(problem, field="barcode")
    aliquot = session.scalar(select(Aliquot).where(Aliquot.barcode == code))
    if aliquot is None:
        raise NotFound(f"No aliquot has barcode {code}", field="barcode")
    return aliquot


def take_barcodes(
    session: Session, given: Sequence[str] | None, count: int, *, field: str = "barcodes"
) -> list[str]:
    """Scanned pre-printed barcodes after checks, or `count` newly issued ones."""
    if not given:
        serials = issue_serials(session, ALIQUOT_COUNTER, count)
        return [barcodes.aliquot_barcode(s) for s in serials]
    codes = [barcodes.normalise(c) for c in given]
    if len(codes) != count:
        raise InvalidInput(f"{len(codes)} barcodes scanned for {count} tubes", field=field)
    seen: set[str] = set()
    issued_below = next_serial(session)
    for code in codes:
        if code in seen:
            raise InvalidInput(f"{code} was scanned twice", field=field)
        seen.add(code)
        if problem := barcode_problem(code, issued_below=issued_below):
            raise InvalidInput(problem, field=field)
    taken = [
        *session.scalars(select(Aliquot.barcode).where(Aliquot.barcode.in_(codes))),
        *session.scalars(select(Specimen.barcode).where(Specimen.barcode.in_(codes))),
    ]
    if taken:
        raise Conflict(f"Barcode {', '.join(sorted(taken))} is already in use", field=field)
    return codes


def require_consent(subject: Subject, doing: str) -> None:
    """Nothing new is made from a subject who withdrew consent (NCI Best Practices for
    Biospecimen Resources, 2016, §B.6)."""
    if not subject.has_consent:
        raise Conflict(
            f"{subject.study_code} has withdrawn consent; {doing} is not allowed",
            field="study_code",
        )
