"""SPREC, the Standard PREanalytical Code, computed from what the bench recorded.

Pure functions over plain values; the code tables are data so a new SPREC version is a table
change. Which version the tables follow, element by element (issue #16):

- Element 1 (sample type), 2 (primary container) and 3 (pre-centrifugation A-G): SPREC 2.0,
  Table 1 of Lehmann et al., Biopreserv Biobank 2012;10(4):366-374 (read on PMC6463986/T1).
- Elements 3 (H-N), 4, 5, 6 and 7: cross-checked in two open-source implementations of
  SPREC 2.0 (SPRECLib, Java, "Version 2"; an independent SPREC database), not in the paper.
- SPREC 3.0 (Betsou et al., "Standard PREanalytical Code Version 3.0", Biopreserv Biobank
  2018;16(1):9-12) adds options ("more options ... critical ranges of preanalytical times",
  IBBL's announcement); its tables were NOT available to check. So codes are labelled with the
  version they follow, FLUID_VERSION = "2.0", and stored beside each code (sprec_version); the
  one 3.0 addition we use, container SED, is marked below.

The fluid code has seven hyphen-separated elements: sample type, primary container,
pre-centrifugation, centrifugation, second centrifugation, post-centrifugation, long-term storage.
`X` means unknown (a value the bench did not record), `Z` other (recorded, but outside the table),
`N` not applicable.

Derivatives (DNA, RNA) get a five-element code instead: see derivative_code().

The fluid code has seven hyphen-separated elements: sample type, primary container,
pre-centrifugation, centrifugation, second centrifugation, post-centrifugation, long-term storage.
`X` means unknown (a value the bench did not record), `Z` other (recorded, but outside the table),
`N` not applicable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from lims.specimens.models import SpecimenType, Temperature, TubeType
from lims.specimens.quality import ExtractionMethod

if TYPE_CHECKING:
    from lims.specimens.models import Aliquot

FLUID_VERSION = "2.0"  # see the module docstring: no element was checked against 3.0 tables
SPREC_VERSION = FLUID_VERSION  # the name other features read
# The derivative code's shape is documented by IBRU; its letter tables were not (see below).
DERIVATIVE_VERSION = "ibru-derivative-unverified"
UNKNOWN, OTHER, NOT_APPLICABLE = "X", "Z", "N"

# Element 1. SPREC describes the fluid in the tube that is stored, not the tube that was drawn:
# a serum aliquot from an SST is SER. DNA and RNA are "complex derivatives", not SPREC fluids:
# their own code is derivative_code(); BLD here is the primary sample they came from.
SAMPLE_TYPE_CODES: dict[SpecimenType, str] = {
    SpecimenType.SERUM: "SER",
    SpecimenType.PLASMA: "PL1",  # single spun; PL2 when a second spin was recorded
    SpecimenType.BUFFY_COAT: "BFF",  # non-viable: frozen without cryoprotectant
    SpecimenType.WHOLE_BLOOD: "BLD",
    SpecimenType.DNA: "BLD",
    SpecimenType.RNA: "BLD",
}
DERIVATIVES = frozenset({SpecimenType.DNA, SpecimenType.RNA})
# Derivatives that come out of a centrifuge; the others are whole blood (no spin: `N`).
CENTRIFUGED = frozenset({SpecimenType.SERUM, SpecimenType.PLASMA, SpecimenType.BUFFY_COAT})
SERUM_TUBES = frozenset({TubeType.SST, TubeType.CAT})

# Element 3: (upper bound of the delay in hours, code at room temperature, code at 2-10 °C).
PRE_CENTRIFUGATION: tuple[tuple[float, str, str], ...] = (
    (2, "A", "B"),
    (4, "C", "D"),
    (8, "E", "F"),
    (12, "G", "H"),
    (24, "I", "J"),
    (48, "K", "L"),
    (float("inf"), "M", "N"),
)
# Element 6. The refrigerated option takes the FIRST letter here, the reverse of element 3.
POST_CENTRIFUGATION: tuple[tuple[float, str, str], ...] = (
    (1, "B", "A"),
    (2, "D", "C"),
    (8, "F", "E"),
    (24, "H", "G"),
    (float("inf"), "J", "I"),
)
# Element 4 (and 5), for a 10-15 min braked spin: (lowest force in g, code at room temperature,
# code at 2-10 °C), highest band first: < 3000, 3000-5999, 6000-10000, > 10000 g. A spin
# without brake below 3000 g has its own pair; 30 min below 1000 g at RT without brake is M.
CENTRIFUGATION_BRAKED: tuple[tuple[int, str, str], ...] = (
    (10001, "I", "J"),
    (6000, "G", "H"),
    (3000, "E", "F"),
    (0, "B", "D"),
)
CENTRIFUGATION_UNBRAKED_BELOW_3000 = ("A", "C")
# Element 7, for the lab's standard 0.5-2 mL polypropylene cryovial (the container size is not
# recorded per aliquot): (lowest °C, highest °C, code), in whole degrees as recorded.
LONG_TERM_STORAGE: tuple[tuple[float, float, str], ...] = (
    (-85, -60, "A"),
    (-35, -18, "B"),
    (float("-inf"), -136, "V"),  # below -135 °C: LN2 vapour phase
)


class PreAnalyticalRecord(Protocol):
    """What SPREC needs from a primary tube's record (a Specimen or the PreAnalytics input)."""

    @property
    def collected_at(self) -> datetime: ...
    @property
    def processing_started_at(self) -> datetime | None: ...
    @property
    def pre_processing_temperature(self) -> Temperature | None: ...
    @property
    def centrifuge_g(self) -> int | None: ...
    @property
    def centrifuge_minutes(self) -> int | None: ...
    @property
    def centrifuge_temperature(self) -> Temperature | None: ...
    @property
    def centrifuge_braked(self) -> bool | None: ...
    @property
    def processed_at(self) -> datetime | None: ...
    @property
    def storage_temperature_c(self) -> int | None: ...
    @property
    def is_second_spun(self) -> bool | None: ...


@dataclass(frozen=True)
class Centrifugation:
    g: int | None
    minutes: int | None
    temperature: Temperature | None
    braked: bool | None


def _banded(
    hours: float, temperature: Temperature, table: tuple[tuple[float, str, str], ...]
) -> str:
    for upper, room, cold in table:
        if hours < upper:
            return room if temperature is Temperature.ROOM else cold
    raise AssertionError("the last band is unbounded")


def pre_centrifugation_code(delay: timedelta | None, temperature: Temperature | None) -> str:
    """Delay from collection to processing, and the temperature meanwhile (A-N)."""
    if delay is None or temperature is None or delay < timedelta(0):
        return UNKNOWN
    return _banded(delay.total_seconds() / 3600, temperature, PRE_CENTRIFUGATION)


def centrifugation_code(spin: Centrifugation | None) -> str:
    """One centrifugation: temperature, duration, force and braking (A-J, M; N for none)."""
    if spin is None:
        return NOT_APPLICABLE
    if None in (spin.g, spin.minutes, spin.temperature, spin.braked):
        return UNKNOWN
    assert spin.g is not None and spin.minutes is not None
    room = spin.temperature is Temperature.ROOM
    if room and spin.minutes == 30 and spin.g < 1000 and not spin.braked:
        return "M"
    if not 10 <= spin.minutes <= 15:
        return OTHER
    if not spin.braked:
        if spin.g >= 3000:
            return OTHER
        return CENTRIFUGATION_UNBRAKED_BELOW_3000[0 if room else 1]
    for lowest, room_code, cold_code in CENTRIFUGATION_BRAKED:
        if spin.g >= lowest:
            return room_code if room else cold_code
    raise AssertionError("the lowest band starts at 0 g")


def post_centrifugation_code(delay: timedelta | None, temperature: Temperature | None) -> str:
    """Delay from the end of the spin to aliquoting/freezing, and the temperature meanwhile."""
    if delay is None or temperature is None or delay < timedelta(0):
        return UNKNOWN
    return _banded(delay.total_seconds() / 3600, temperature, POST_CENTRIFUGATION)


def long_term_storage_code(storage_temperature_c: float | None) -> str:
    if storage_temperature_c is None:
        return UNKNOWN
    for low, high, code in LONG_TERM_STORAGE:
        if low <= storage_temperature_c <= high:
            return code
    return OTHER


def _between(start: datetime | None, end: datetime | None) -> timedelta | None:
    return end - start if start is not None and end is not None else None


def second_centrifugation_code(sample: SpecimenType, is_second_spun: bool | None) -> str:
    """Element 5. Not recorded is unknown (X), not "no second spin" (N); a second spin whose
    settings were not recorded is unknown too. Whole blood was never spun: N."""
    if sample not in CENTRIFUGED:
        return NOT_APPLICABLE
    return NOT_APPLICABLE if is_second_spun is False else UNKNOWN


def fluid_code(
    record: PreAnalyticalRecord,
    *,
    tube_type: TubeType,
    sample: SpecimenType,
    storage_temperature_c: float | None,
) -> str:
    """The seven-element SPREC fluid code of `sample` made from a tube with this record, kept
    at `storage_temperature_c` (element 7: where this tube is stored, not the primary tube).

    Whole blood is not spun, so elements 4-6 are N and element 3 runs from collection to the
    start of processing (extraction or freezing), or to `processed_at` when no start was noted.
    The post-centrifugation temperature is taken as the centrifuge's: the bench records no
    separate one, and serum waits beside the centrifuge it came out of.
    """
    if sample in CENTRIFUGED:
        started = record.processing_started_at
        spin: Centrifugation | None = Centrifugation(
            record.centrifuge_g,
            record.centrifuge_minutes,
            record.centrifuge_temperature,
            record.centrifuge_braked,
        )
        spun_until = (
            started + timedelta(minutes=record.centrifuge_minutes)
            if started is not None and record.centrifuge_minutes is not None
            else None
        )
        post = post_centrifugation_code(
            _between(spun_until, record.processed_at), record.centrifuge_temperature
        )
    else:
        started = record.processing_started_at or record.processed_at
        spin, post = None, NOT_APPLICABLE
    sample_code = SAMPLE_TYPE_CODES[sample]
    if sample is SpecimenType.PLASMA and record.is_second_spun:
        sample_code = "PL2"  # plasma, double spun (SPREC 2.0 Table 1)
    return "-".join(
        (
            sample_code,
            tube_type.value,
            pre_centrifugation_code(
                _between(record.collected_at, started), record.pre_processing_temperature
            ),
            centrifugation_code(spin),
            second_centrifugation_code(sample, record.is_second_spun),
            post,
            long_term_storage_code(storage_temperature_c),
        )
    )


def tube_derivative(record: PreAnalyticalRecord, tube_type: TubeType) -> SpecimenType:
    """What the tube's code describes when it is accessioned, before any aliquot exists.

    A serum tube is drawn for serum; an anticoagulant tube that was spun gives plasma; one that
    was not spun stays whole blood (the DNA parent).
    """
    if tube_type in SERUM_TUBES:
        return SpecimenType.SERUM
    if record.centrifuge_g is not None:
        return SpecimenType.PLASMA
    return SpecimenType.WHOLE_BLOOD


def tube_code(record: PreAnalyticalRecord, tube_type: TubeType) -> str:
    """The code stored on the primary tube (Specimen.sprec_code): element 7 is the storage
    temperature the bench recorded for the tube's derivatives."""
    return fluid_code(
        record,
        tube_type=tube_type,
        sample=tube_derivative(record, tube_type),
        storage_temperature_c=record.storage_temperature_c,
    )


# ---- complex derivatives (DNA, RNA) -------------------------------------------------------
# IBRU, the H3Africa biorepository at Makerere (ibru.mak.ac.ug/resources/sprec/ and its SPREC
# form), codes complex derivatives with five elements: type of sample, primary sample type,
# extraction method, storage conditions, number of freeze-thaw cycles. That shape is verified
# on the IBRU page. Its letter tables (the "IBRH3AU SPREC Documentation" download) were NOT
# found, so the letters below are UNVERIFIED local choices, labelled DERIVATIVE_VERSION:
#   - type of sample: DNA / RNA                                            [unverified]
#   - primary sample: the SPREC 2.0 fluid code of the parent tube (BLD)    [SPREC 2.0 Table 1]
#   - extraction method: EXTRACTION_METHOD_CODES                          [unverified, local]
#   - storage: the fluid long-term storage table (element 7)              [as element 7]
#   - freeze-thaw: the count of cycles, as a number                       [unverified format]
DERIVATIVE_SAMPLE_CODES: dict[SpecimenType, str] = {
    SpecimenType.DNA: "DNA",
    SpecimenType.RNA: "RNA",
}
EXTRACTION_METHOD_CODES: dict[ExtractionMethod, str] = {
    ExtractionMethod.SILICA_COLUMN: "C",
    ExtractionMethod.MAGNETIC_BEADS: "M",
    ExtractionMethod.SALTING_OUT: "S",
    ExtractionMethod.PHENOL_CHLOROFORM: "P",
    ExtractionMethod.OTHER: OTHER,
}


def derivative_code(
    *,
    sample: SpecimenType,
    primary: SpecimenType,
    method: ExtractionMethod | None,
    storage_temperature_c: float | None,
    freeze_thaw_count: int,
) -> str:
    """The five-element derivative code, e.g. DNA-BLD-C-A-0 (see the table comment above)."""
    return "-".join(
        (
            DERIVATIVE_SAMPLE_CODES[sample],
            SAMPLE_TYPE_CODES[primary],
            EXTRACTION_METHOD_CODES[method] if method is not None else UNKNOWN,
            long_term_storage_code(storage_temperature_c),
            str(freeze_thaw_count),
        )
    )


def aliquot_code(aliquot: Aliquot, storage_temperature_c: float | None) -> tuple[str, str]:
    """(code, version) of one tube kept at `storage_temperature_c` (None: not known)."""
    specimen = aliquot.specimen
    if aliquot.specimen_type in DERIVATIVES:
        code = derivative_code(
            sample=aliquot.specimen_type,
            primary=tube_derivative(specimen, specimen.tube_type),
            method=aliquot.extraction_method,
            storage_temperature_c=storage_temperature_c,
            freeze_thaw_count=aliquot.freeze_thaw_count,
        )
        return code, DERIVATIVE_VERSION
    code = fluid_code(
        specimen,
        tube_type=specimen.tube_type,
        sample=aliquot.specimen_type,
        storage_temperature_c=storage_temperature_c,
    )
    return code, FLUID_VERSION


def restamp(aliquot: Aliquot, storage_temperature_c: float | None) -> dict[str, str | None]:
    """Recompute a tube's code for where it is now kept; the change, for the audit event, or {}.

    Storage calls this with the set point of the freezer a tube is placed in (storage sits above
    specimens, so specimens cannot look the freezer up). Element 7 describes each stored tube:
    a -80 °C freezer gives A, -20 °C gives B (0.5-2 mL polypropylene cryovial).
    """
    code, version = aliquot_code(aliquot, storage_temperature_c)
    if code == aliquot.sprec_code and version == aliquot.sprec_version:
        return {}
    aliquot.sprec_code, aliquot.sprec_version = code, version
    return {"sprec_code": code, "sprec_version": version}
