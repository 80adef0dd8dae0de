"""SPREC, the Standard PREanalytical Code for fluids, computed from what the bench recorded.

Pure functions over plain values; the code tables are data so a new SPREC version is a table
change. Sources: SPREC 2.0 (Lehmann et al., Biopreserv Biobank 2012;10(4):366-374, Table 1)
and 3.0 (Betsou et al., Biopreserv Biobank 2018;16(1)); codes beyond A-G of the
pre-centrifugation table and the centrifugation, post-centrifugation and storage tables are
cross-checked in two open-source implementations, not in the ISBER paper itself.

The fluid code has seven hyphen-separated elements: sample type, primary container,
pre-centrifugation, centrifugation, second centrifugation, post-centrifugation, long-term storage.
`X` means unknown (a value the bench did not record), `Z` other (recorded, but outside the table),
`N` not applicable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from lims.specimens.models import SpecimenType, Temperature, TubeType

SPREC_VERSION = "3.0"
UNKNOWN, OTHER, NOT_APPLICABLE = "X", "Z", "N"

# Element 1. SPREC describes the fluid in the tube that is stored, not the tube that was drawn:
# a serum aliquot from an SST is SER. DNA is not a SPREC fluid ("complex derivative"), so a DNA
# aliquot carries the code of the whole blood it was extracted from (BLD), as SPREC advises.
SAMPLE_TYPE_CODES: dict[SpecimenType, str] = {
    SpecimenType.SERUM: "SER",
    SpecimenType.PLASMA: "PL1",  # single spun: we record no second centrifugation
    SpecimenType.BUFFY_COAT: "BFF",  # non-viable: frozen without cryoprotectant
    SpecimenType.WHOLE_BLOOD: "BLD",
    SpecimenType.DNA: "BLD",
    SpecimenType.RNA: "BLD",
}
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


def fluid_code(record: PreAnalyticalRecord, *, tube_type: TubeType, sample: SpecimenType) -> str:
    """The seven-element SPREC fluid code of `sample` made from a tube with this record.

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
    return "-".join(
        (
            SAMPLE_TYPE_CODES[sample],
            tube_type.value,
            pre_centrifugation_code(
                _between(record.collected_at, started), record.pre_processing_temperature
            ),
            centrifugation_code(spin),
            NOT_APPLICABLE,  # second centrifugation: the bench records none, so plasma is PL1
            post,
            long_term_storage_code(record.storage_temperature_c),
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
    """The code stored on the primary tube (Specimen.sprec_code)."""
    return fluid_code(record, tube_type=tube_type, sample=tube_derivative(record, tube_type))
