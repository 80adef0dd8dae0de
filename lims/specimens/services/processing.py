"""Processing primary tubes into aliquots: serum splits, DNA extraction, DNA sub-aliquots."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.errors import Conflict, InvalidInput, field_label
from lims.specimens import barcodes, sprec
from lims.specimens.models import Aliquot, AliquotStatus, Specimen, SpecimenType
from lims.specimens.quality import (
    DnaQuality,
    Extraction,
    ExtractionMethod,
    GelIntegrity,
    QuantificationMethod,
)
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
A260_280_RANGE = (0.0, 5.0)  # exclusive; the database holds the same bounds (A260/230 too)
DIN_RANGE = (1.0, 10.0)  # inclusive: Agilent's DNA integrity number


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
        quality=DnaQuality(concentration_ng_ul=concentration_ng_ul, a260_280=a260_280),
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
    a260_230: float | None = None,
    quantification_method: QuantificationMethod | None = None,
    din: float | None = None,
    gel_integrity: GelIntegrity | None = None,
    extraction_method: ExtractionMethod | None = None,
    extraction_kit: str | None = None,
    extracted_on: date | None = None,
    extracted_by: str | None = None,
) -> Aliquot:
    """Record a DNA extraction from a whole-blood tube as a DNA stock aliquot with its yield,
    its QC and how it was extracted (the operator is the signed-in user unless named)."""
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
        quality=DnaQuality(
            concentration_ng_ul, a260_280, a260_230, quantification_method, din, gel_integrity
        ),
        process="dna_extraction",
        extraction=Extraction(
            extraction_method,
            (extraction_kit or "").strip() or None,
            extracted_on,
            (extracted_by or "").strip() or actor.username,
        ),
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
    dilution_factor: float | None = None,
) -> list[Aliquot]:
    """Draw `count` sub-aliquots of `volume_ul` from a stock (e.g. DNA), reducing its volume.

    With a dilution factor each is a working dilution: volume_ul / factor of stock made up to
    volume_ul, at the stock's concentration / factor; it records its parent and the factor.
    """
    actor.require(Role.TECHNICIAN)
    parent = find_aliquot(session, actor, parent_barcode, for_update=True)
    quality = _quality_of(parent)
    if dilution_factor is not None:
        if not dilution_factor > 1:
            raise InvalidInput(
                f"{field_label('dilution_factor')} must be above 1 (1:10 is 10), "
                f"not {dilution_factor:g}",
                field="dilution_factor",
            )
        concentration = parent.concentration_ng_ul
        quality = replace(
            quality,
            concentration_ng_ul=None if concentration is None else concentration / dilution_factor,
        )
    made = _split(
        session,
        actor,
        specimen=parent.specimen,
        specimen_type=parent.specimen_type,
        count=count,
        volume_ul=volume_ul,
        barcodes_given=barcodes_given,
        parent=parent,
        quality=quality,
        process="dilution" if dilution_factor else "sub_aliquoting",
        extraction=_extraction_of(parent),
        dilution_factor=dilution_factor,
    )
    session.commit()
    return made


def _quality_of(parent: Aliquot) -> DnaQuality:
    """A sub-aliquot is the same DNA: purity and integrity carry over, as does concentration
    unless it is diluted."""
    return DnaQuality(
        parent.concentration_ng_ul,
        parent.a260_280,
        parent.a260_230,
        parent.quantification_method,
        parent.din,
        parent.gel_integrity,
    )


def _extraction_of(parent: Aliquot) -> Extraction:
    return Extraction(
        parent.extraction_method, parent.extraction_kit, parent.extracted_on, parent.extracted_by
    )


def _check_amounts(count: int, volume_ul: int, quality: DnaQuality) -> None:
    if not 1 <= count <= MAX_ALIQUOTS_PER_RUN:
        raise InvalidInput(
            f"{field_label('count')} must be 1 to {MAX_ALIQUOTS_PER_RUN}, not {count}",
            field="count",
        )
    if volume_ul <= 0:
        raise InvalidInput(
            f"{field_label('volume_ul')} must be above 0, not {volume_ul}", field="volume_ul"
        )
    concentration, ratio = quality.concentration_ng_ul, quality.a260_280
    if concentration is not None and concentration < 0:
        raise InvalidInput(
            f"{field_label('concentration_ng_ul')} must be 0 or more, not {concentration}",
            field="concentration_ng_ul",
        )
    low, high = A260_280_RANGE
    if ratio is not None and not low < ratio < high:
        raise InvalidInput(
            f"A260/280 {ratio} is outside {low}-{high}; pure DNA reads about 1.8",
            field="a260_280",
        )
    ratio = quality.a260_230
    if ratio is not None and not low < ratio < high:
        raise InvalidInput(
            f"A260/230 {ratio} is outside {low}-{high}; clean DNA reads about 2.0-2.2",
            field="a260_230",
        )
    din_low, din_high = DIN_RANGE
    if quality.din is not None and not din_low <= quality.din <= din_high:
        raise InvalidInput(f"DIN {quality.din} is outside {din_low:g}-{din_high:g}", field="din")


def _draw_from(
    session: Session,
    actor: Actor,
    parent: Aliquot,
    children: Sequence[str],
    volume_ul: int,
    dilution_factor: float | None = None,
) -> None:
    """Take the children's volume out of the parent, refusing when it does not hold enough."""
    if parent.status not in GIVING_STATUSES:
        raise Conflict(
            f"Stock {parent.barcode} is {parent.status.value}; "
            "sub-aliquots are drawn only from a received, stored or checked-out tube",
            field="parent_barcode",
        )
    # A 1:f dilution of V µL takes V/f µL of stock (rounded up: a pipette cannot take less).
    each = math.ceil(volume_ul / dilution_factor) if dilution_factor else volume_ul
    needed = each * len(children)
    if parent.volume_ul < needed:
        raise Conflict(
            f"Stock {parent.barcode} holds {parent.volume_ul} µL; "
            f"{len(children)} × {each} µL needs {needed} µL",
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
        volume_each_ul=each,
        dilution_factor=dilution_factor,
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
    quality: DnaQuality,
    process: str,
    extraction: Extraction | None = None,
    dilution_factor: float | None = None,
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
        _draw_from(session, actor, parent, codes, volume_ul, dilution_factor)
    made = [
        Aliquot(
            barcode=code,
            is_issued_barcode=barcodes.is_issued_aliquot_barcode(code),
            specimen=specimen,
            parent=parent,
            specimen_type=specimen_type,
            volume_ul=volume_ul,
            drawn_ul=volume_ul,
            **quality.as_columns(),
            **(extraction or Extraction()).as_columns(),
            dilution_factor=dilution_factor,
            status=AliquotStatus.RECEIVED,
            freeze_thaw_count=0,
        )
        for code in codes
    ]
    for aliquot in made:
        # Until it is placed, element 7 is the storage the bench recorded for the tube.
        sprec.restamp(aliquot, specimen.storage_temperature_c)
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
        process=process,
        **_quality_of(aliquot).as_columns(),
        **_extraction_of(aliquot).as_columns(),
        dilution_factor=aliquot.dilution_factor,
        # This tube's own code: SER for serum, the derivative code for DNA (see sprec.py).
        sprec_code=aliquot.sprec_code,
        sprec_version=aliquot.sprec_version,
    )
