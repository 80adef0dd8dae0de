"""Processing primary tubes into aliquots: serum splits, DNA extraction, DNA sub-aliquots."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.errors import Conflict, InvalidInput
from lims.specimens import barcodes, sprec
from lims.specimens.models import Aliquot, AliquotStatus, Specimen, SpecimenType
from lims.specimens.services.common import (
    find_aliquot,
    find_specimen,
    require_consent,
    take_barcodes,
)
from lims.specimens.services.plausibility import check_split

MAX_ALIQUOTS_PER_RUN = 100
# A parent tube gives volume only while it is at the bench or in its box.
GIVING_STATUSES = frozenset(
    {AliquotStatus.RECEIVED, AliquotStatus.STORED, AliquotStatus.CHECKED_OUT}
)
A260_280_RANGE = (0.0, 5.0)  # exclusive; the database holds the same bounds


def aliquot_specimen(
    session: Session,
    actor: Actor,
    *,
    specimen_barcode: str,
    specimen_type: SpecimenType,
    count: int,
    volume_ul: int,
    barcodes_given: list[str] | None = None,
    parent_barcode: str | None = None,
    concentration_ng_ul: float | None = None,
    a260_280: float | None = None,
) -> list[Aliquot]:
    """Split a primary tube (or a parent aliquot, e.g. DNA stock) into `count` aliquots."""
    actor.require(Role.TECHNICIAN)
    specimen = find_specimen(session, actor, specimen_barcode, for_update=True)
    # The parent gives volume: locked, so parallel draws add up (see services/common.py).
    parent = (
        find_aliquot(session, actor, parent_barcode, for_update=True) if parent_barcode else None
    )
    made = _split(
        session,
        actor,
        specimen=specimen,
        specimen_type=specimen_type,
        count=count,
        volume_ul=volume_ul,
        barcodes_given=barcodes_given,
        parent=parent,
        quality=(concentration_ng_ul, a260_280),
        process="sub_aliquoting" if parent else "aliquoting",
    )
    session.commit()
    return made


def extract_dna(
    session: Session,
    actor: Actor,
    *,
    specimen_barcode: str,
    volume_ul: int,
    concentration_ng_ul: float,
    a260_280: float | None = None,
    barcode: str | None = None,
) -> Aliquot:
    """Record a DNA extraction from a whole-blood tube as a DNA stock aliquot with its yield."""
    actor.require(Role.TECHNICIAN)
    specimen = find_specimen(session, actor, specimen_barcode, for_update=True)
    if specimen.tube_type in sprec.SERUM_TUBES:
        raise Conflict(
            f"{specimen.barcode} is a serum tube ({specimen.tube_type.value}); "
            "DNA is extracted from whole blood in an EDTA tube",
            field="barcode",
        )
    (stock,) = _split(
        session,
        actor,
        specimen=specimen,
        specimen_type=SpecimenType.DNA,
        count=1,
        volume_ul=volume_ul,
        barcodes_given=[barcode] if barcode else None,
        parent=None,
        quality=(concentration_ng_ul, a260_280),
        process="dna_extraction",
    )
    session.commit()
    return stock


def sub_aliquot(
    session: Session,
    actor: Actor,
    *,
    parent_barcode: str,
    count: int,
    volume_ul: int,
    barcodes_given: list[str] | None = None,
) -> list[Aliquot]:
    """Draw `count` sub-aliquots of `volume_ul` from a stock (e.g. DNA), reducing its volume."""
    actor.require(Role.TECHNICIAN)
    parent = find_aliquot(session, actor, parent_barcode, for_update=True)
    made = _split(
        session,
        actor,
        specimen=parent.specimen,
        specimen_type=parent.specimen_type,
        count=count,
        volume_ul=volume_ul,
        barcodes_given=barcodes_given,
        parent=parent,
        quality=(parent.concentration_ng_ul, parent.a260_280),
        process="sub_aliquoting",
    )
    session.commit()
    return made


def _check_amounts(count: int, volume_ul: int, quality: tuple[float | None, float | None]) -> None:
    if not 1 <= count <= MAX_ALIQUOTS_PER_RUN:
        raise InvalidInput(f"count must be 1 to {MAX_ALIQUOTS_PER_RUN}, not {count}", field="count")
    if volume_ul <= 0:
        raise InvalidInput(f"volume_ul must be above 0, not {volume_ul}", field="volume_ul")
    concentration, ratio = quality
    if concentration is not None and concentration < 0:
        raise InvalidInput(
            f"concentration_ng_ul must be 0 or more, not {concentration}",
            field="concentration_ng_ul",
        )
    low, high = A260_280_RANGE
    if ratio is not None and not low < ratio < high:
        raise InvalidInput(
            f"a260_280 {ratio} is outside {low}-{high}; pure DNA reads about 1.8",
            field="a260_280",
        )


def _draw_from(
    session: Session, actor: Actor, parent: Aliquot, children: Sequence[str], volume_ul: int
) -> None:
    """Take the children's volume out of the parent, refusing when it does not hold enough."""
    if parent.status not in GIVING_STATUSES:
        raise Conflict(
            f"Stock {parent.barcode} is {parent.status.value}; "
            "sub-aliquots are drawn only from a received, stored or checked-out tube",
            field="parent_barcode",
        )
    needed = volume_ul * len(children)
    if parent.volume_ul < needed:
        raise Conflict(
            f"Stock {parent.barcode} holds {parent.volume_ul} µL; "
            f"{len(children)} × {volume_ul} µL needs {needed} µL",
            field="volume_ul",
        )
    before = parent.volume_ul
    parent.volume_ul -= needed
    audit.record(
        session,
        actor,
        Action.ALIQUOT_SUB_ALIQUOTED,
        parent,
        before={"volume_ul": before},
        volume_ul=parent.volume_ul,
        sub_aliquots=list(children),
        volume_each_ul=volume_ul,
    )


def _split(
    session: Session,
    actor: Actor,
    *,
    specimen: Specimen,
    specimen_type: SpecimenType,
    count: int,
    volume_ul: int,
    barcodes_given: Sequence[str] | None,
    parent: Aliquot | None,
    quality: tuple[float | None, float | None],
    process: str,
) -> list[Aliquot]:
    """Make the aliquots and their audit events; the caller commits."""
    require_consent(specimen.visit.subject, "making new aliquots")
    _check_amounts(count, volume_ul, quality)
    if parent is not None and parent.specimen_id != specimen.id:
        raise Conflict(
            f"{parent.barcode} comes from tube {parent.specimen.barcode}, not {specimen.barcode}",
            field="parent_barcode",
        )
    if parent is None:  # the tube is locked (find_specimen), so parallel splits add up
        check_split(specimen, specimen_type=specimen_type, count=count, volume=volume_ul)
    codes = take_barcodes(session, barcodes_given, count)
    if parent is not None:
        _draw_from(session, actor, parent, codes, volume_ul)
    concentration, ratio = quality
    made = [
        Aliquot(
            barcode=code,
            is_issued_barcode=barcodes.is_issued_aliquot_barcode(code),
            specimen=specimen,
            parent=parent,
            specimen_type=specimen_type,
            volume_ul=volume_ul,
            concentration_ng_ul=concentration,
            a260_280=ratio,
            status=AliquotStatus.RECEIVED,
        )
        for code in codes
    ]
    session.add_all(made)
    for aliquot in made:
        _record_created(session, actor, aliquot, process)
    return made


def _record_created(session: Session, actor: Actor, aliquot: Aliquot, process: str) -> None:
    specimen = aliquot.specimen
    audit.record(
        session,
        actor,
        Action.ALIQUOT_CREATED,
        aliquot,
        barcode=aliquot.barcode,
        specimen=specimen.barcode,
        parent=aliquot.parent.barcode if aliquot.parent else None,
        specimen_type=aliquot.specimen_type,
        volume_ul=aliquot.volume_ul,
        concentration_ng_ul=aliquot.concentration_ng_ul,
        a260_280=aliquot.a260_280,
        process=process,
        # The code of what this aliquot holds (SER for serum, BLD for DNA), see sprec.py.
        sprec_code=sprec.fluid_code(
            specimen, tube_type=specimen.tube_type, sample=aliquot.specimen_type
        ),
        sprec_version=sprec.SPREC_VERSION,
    )
