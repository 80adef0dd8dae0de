"""The rows of the generated demo (lims/demo_scale.py), built as tuples in column order.

Primary tubes and aliquots get codes this installation issues, from its aliquot counter: 8
digits below serial 1,000,000, 10 digits from there on (lims/specimens/barcodes.py). The
phenotype rows come from lims/demo_scale_phenotype.py, the inbound shipments from
lims/demo_scale_shipments.py. Proportions, per subject: 2 to 6 yearly visits (4 on average); at each
visit a diagnosis and two primary tubes, an SST tube split into 6 serum aliquots of 500 µL and
an EDTA tube giving a 200 µL DNA stock and 3 sub-aliquots of 50 µL (10 aliquots a visit, 40 a
subject). Most aliquots sit in a box (stored or checked out); a few were just received, used
up or disposed of. 1 % of subjects withdrew consent. Each site keeps its own -80 °C freezers,
one set for serum (9x9 boxes) and one for DNA (10x10 boxes), 20 racks of 20 boxes each,
filled in the order the aliquots were made.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from lims.auth import timezones
from lims.bulk_copy import Row
from lims.demo import DIAGNOSIS_WEIGHTS, SITES
from lims.demo_phenotype import REGIONS, SUBTYPES
from lims.demo_scale_phenotype import ScalePool, course, visit_rows
from lims.demo_scale_shipments import Post
from lims.phenotype.models import Diagnosis, DiagnosticFinding, ScaleAdministration, Treatment
from lims.shipments.models import Shipment, ShipmentItem
from lims.specimens import barcodes, sprec
from lims.specimens.consent_models import ConsentAnswer, ConsentEvent
from lims.specimens.models import (
    Aliquot,
    AliquotStatus,
    EnrolmentStatus,
    Sex,
    Specimen,
    SpecimenType,
    Subject,
    Temperature,
    TubeType,
    Visit,
)
from lims.specimens.services import PreAnalytics
from lims.storage.models import Box, Freezer, Placement, Rack

MODELS = (
    Freezer, Rack, Box, Subject, ConsentEvent, ConsentAnswer, Visit, Diagnosis,
    ScaleAdministration, Treatment, DiagnosticFinding, Specimen, Aliquot, Placement, Shipment,
    ShipmentItem,
)  # fmt: skip
VISIT_WEIGHTS = {2: 10, 3: 20, 4: 40, 5: 20, 6: 10}  # 4.0 visits a subject on average
SERUM_ALIQUOTS, DNA_SUBS = 6, 3
# Where tubes stand in a biobank that has run for a while; the first two hold a position.
STATUS_WEIGHTS = {
    AliquotStatus.STORED: 90,
    AliquotStatus.CHECKED_OUT: 2,
    AliquotStatus.RECEIVED: 3,
    AliquotStatus.CONSUMED: 3,
    AliquotStatus.DISPOSED: 2,
}
_STATUSES, _WEIGHTS = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
PLACED = frozenset({AliquotStatus.STORED, AliquotStatus.CHECKED_OUT})
WITHDRAWN_EVERY = 100  # 1 % of subjects withdrew consent
RACKS_PER_FREEZER, BOXES_PER_RACK = 20, 20
GRIDS = {SpecimenType.SERUM: 9, SpecimenType.DNA: 10}

SUBJECT_COLUMNS = (
    "id", "study_code", "site_id", "sex", "primary_diagnosis", "enrolment_status",
    "consent_withdrawn_at", "created_at",
)  # fmt: skip
CONSENT_EVENT_COLUMNS = (
    "id", "subject_id", "kind", "occurred_on", "document_id", "withdrawal_level", "note",
    "recorded_at",
)  # fmt: skip
CONSENT_ANSWER_COLUMNS = ("id", "event_id", "statement_id", "answer")
VISIT_COLUMNS = ("id", "subject_id", "visit_number", "visit_on")
DIAGNOSIS_COLUMNS = (
    "id", "visit_id", "dystonia", "subtype", "body_regions", "age_at_onset_years", "created_at",
)  # fmt: skip
_PRE_COLUMNS = (
    "collected_at", "received_at", "processing_started_at", "pre_processing_temperature",
    "centrifuge_g", "centrifuge_minutes", "centrifuge_temperature", "centrifuge_braked",
    "processed_at", "storage_temperature_c",
)  # fmt: skip
SPECIMEN_COLUMNS = (
    "id", "barcode", "visit_id", "specimen_type", "tube_type", "volume_ml", *_PRE_COLUMNS,
    "sprec_code", "sprec_version", "created_at",
)  # fmt: skip
ALIQUOT_COLUMNS = (
    "id", "barcode", "is_issued_barcode", "specimen_id", "parent_id", "specimen_type",
    "volume_ul", "drawn_ul", "concentration_ng_ul", "a260_280", "status", "freeze_thaw_count",
    "out_condition", "disposal_reason", "created_at",
)  # fmt: skip
PLACEMENT_COLUMNS = ("id", "aliquot_id", "box_id", "row", "col", "placed_at")

_T0 = datetime(2024, 1, 1, 9, tzinfo=UTC)
# The tube's handling, relative to the draw: serum clots 45 min at room temperature; EDTA
# blood waits cold overnight for DNA extraction (the lab's SOPs, as in bench/inventory.py).
_TEMPLATES = {
    TubeType.SST: PreAnalytics(
        collected_at=_T0, received_at=_T0 + timedelta(minutes=20),
        processing_started_at=_T0 + timedelta(minutes=45),
        pre_processing_temperature=Temperature.ROOM, centrifuge_g=1300, centrifuge_minutes=10,
        centrifuge_temperature=Temperature.ROOM, centrifuge_braked=True,
        processed_at=_T0 + timedelta(minutes=85), storage_temperature_c=-80,
    ),
    TubeType.PED: PreAnalytics(
        collected_at=_T0, received_at=_T0 + timedelta(hours=2),
        pre_processing_temperature=Temperature.COLD, processed_at=_T0 + timedelta(hours=24),
        storage_temperature_c=-80,
    ),
}  # fmt: skip
_SPREC = {kind: sprec.tube_code(pre, kind) for kind, pre in _TEMPLATES.items()}
_OFFSETS = {
    kind: [(getattr(pre, c) - _T0) if isinstance(getattr(pre, c), datetime) else None
           for c in _PRE_COLUMNS]
    for kind, pre in _TEMPLATES.items()
}  # fmt: skip
_FIXED = {kind: [getattr(pre, c) for c in _PRE_COLUMNS] for kind, pre in _TEMPLATES.items()}


@dataclass
class Batch:
    """The rows of one batch of subjects; `ids` (next id per table) is shared and advanced."""

    ids: dict[str, int]
    next_serial: int
    installation: int = 0
    subjects: list[Row] = field(default_factory=list)
    consent_events: list[Row] = field(default_factory=list)
    consent_answers: list[Row] = field(default_factory=list)
    visits: list[Row] = field(default_factory=list)
    diagnoses: list[Row] = field(default_factory=list)
    scales: list[Row] = field(default_factory=list)
    treatments: list[Row] = field(default_factory=list)
    findings: list[Row] = field(default_factory=list)
    specimens: list[Row] = field(default_factory=list)
    aliquots: list[Row] = field(default_factory=list)
    placements: list[Row] = field(default_factory=list)

    def new_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table] - 1

    def barcode(self) -> str:
        """A tube's code, issued by this installation."""
        self.next_serial += 1
        return barcodes.aliquot_barcode(self.next_serial - 1, installation=self.installation)


class Shelves:
    """Freezers, racks and boxes, made as aliquots need them: one fill cursor per site and
    specimen type. New rows wait in `pending` until the batch writes them."""

    FREEZER_COLUMNS = ("id", "name", "temperature_c", "room", "site_id", "created_at")
    RACK_COLUMNS = ("id", "freezer_id", "name")
    BOX_COLUMNS = ("id", "barcode", "name", "rack_id", "n_rows", "n_cols", "specimen_type",
                   "created_at")  # fmt: skip

    def __init__(
        self,
        ids: dict[str, int],
        box_serial: int,
        sites: dict[str, tuple[int, str]],
        taken: frozenset[str] = frozenset(),
    ) -> None:
        self.ids, self.next_serial, self.sites = ids, box_serial, sites
        self.taken = taken  # freezer names in use: a forced second run numbers on from them
        self.pending: dict[str, list[Row]] = {"freezers": [], "racks": [], "boxes": []}
        self.cursor: dict[tuple[str, SpecimenType], _Fill] = {}

    def take(self, table: str) -> list[Row]:
        rows, self.pending[table] = self.pending[table], []
        return rows

    def _new(self, table: str, row: tuple[Any, ...]) -> int:
        new_id = self.ids[table]
        self.ids[table] += 1
        self.pending[table].append((new_id, *row))
        return new_id

    def place(self, site: str, kind: SpecimenType, at: datetime) -> tuple[int, int, int]:
        """The next free position (box id, row, col) for a tube of `kind` made at `site`."""
        grid = GRIDS[kind]
        fill = self.cursor.get((site, kind))
        if fill is None or fill.used == grid * grid:
            fill = self._next_box(site, kind, fill or _Fill(), at)
        fill.used += 1
        return fill.box_id, (fill.used - 1) // grid, (fill.used - 1) % grid

    def _next_box(self, site: str, kind: SpecimenType, fill: _Fill, at: datetime) -> _Fill:
        if fill.rack_id == 0 or fill.boxes_in_rack == BOXES_PER_RACK:
            if fill.freezer_id == 0 or fill.racks_in_freezer == RACKS_PER_FREEZER:
                fill.freezers += 1
                while (
                    name := f"{site} {kind.value.upper()} F{fill.freezers:02d} -80"
                ) in self.taken:
                    fill.freezers += 1
                room = f"{site} B{fill.freezers:03d}"
                fill.freezer_id = self._new("freezers", (name, -80, room, self.sites[site][0], at))
                fill.racks_in_freezer = 0
            fill.racks_in_freezer += 1
            fill.rack_id = self._new(
                "racks", (fill.freezer_id, f"Rack {fill.racks_in_freezer:02d}")
            )
            fill.boxes_in_rack = 0
        fill.boxes_in_rack += 1
        self.next_serial += 1
        grid = GRIDS[kind]
        n = (fill.racks_in_freezer - 1) * BOXES_PER_RACK + fill.boxes_in_rack
        name = f"{site} {kind.value.upper()} F{fill.freezers:02d} box {n}"
        code = barcodes.box_barcode(self.next_serial - 1)
        fill.box_id = self._new("boxes", (code, name, fill.rack_id, grid, grid, kind.value, at))
        fill.used = 0
        self.cursor[(site, kind)] = fill
        return fill


@dataclass
class _Fill:
    """Where one site's boxes of one type are being filled (ids 0: none made yet)."""

    freezers: int = 0
    freezer_id: int = 0
    racks_in_freezer: int = 0
    rack_id: int = 0
    boxes_in_rack: int = 0
    box_id: int = 0
    used: int = 0


def subject_rows(
    batch: Batch,
    rng: random.Random,
    number: int,
    sites: dict[str, tuple[int, str]],
    forms: tuple[Any, ...],
    shelves: Shelves,
    *,
    pool: ScalePool,
    post: Post,
) -> None:
    """One subject: enrolment, consent, visits with a diagnosis and phenotype, tubes and
    placed aliquots, the DNA stocks on the month's shipment to the biorepository."""
    site = SITES[number % len(SITES)][0]
    site_id, zone = sites[site]
    diagnosis = rng.choices(list(DIAGNOSIS_WEIGHTS), list(DIAGNOSIS_WEIGHTS.values()))[0]
    sex = Sex.FEMALE if rng.random() < 0.65 else Sex.MALE  # see lims/demo.py
    n_visits = rng.choices(list(VISIT_WEIGHTS), list(VISIT_WEIGHTS.values()))[0]
    first = date(2018, 1, 8) + timedelta(days=rng.randrange(0, 1400))
    days = [first + timedelta(days=300 * v + rng.randrange(-20, 21)) for v in range(n_visits)]
    days[0] = first
    withdrawn = number % WITHDRAWN_EVERY == 37
    withdrew_on = days[-1] + timedelta(days=60)
    withdrew_at = datetime(withdrew_on.year, withdrew_on.month, withdrew_on.day, 12, tzinfo=UTC)
    subject_id = batch.new_id("subjects")
    batch.subjects.append(
        (subject_id, f"{site}-{number:05d}", site_id, sex.value, diagnosis.value,
         (EnrolmentStatus.CONSENT_WITHDRAWN if withdrawn else EnrolmentStatus.ENROLLED).value,
         withdrew_at if withdrawn else None, _noon(first))
    )  # fmt: skip
    _consent(batch, number, subject_id, first, forms)
    if withdrawn:
        batch.consent_events.append(
            (batch.new_id("consent_events"), subject_id, "withdrew", withdrew_on, None,
             "no_further_access", "withdrew by letter", withdrew_at)
        )  # fmt: skip
    onset = rng.randrange(18, 70)
    phenotype = course(rng, diagnosis, days)
    for number_in_study, day in enumerate(days, start=1):
        visit_id = batch.new_id("visits")
        batch.visits.append((visit_id, subject_id, number_in_study, day))
        batch.diagnoses.append(
            (batch.new_id("diagnoses"), visit_id, diagnosis.value,
             rng.choice(SUBTYPES[diagnosis]), sorted(r.value for r in REGIONS[diagnosis]),
             onset, _noon(day))
        )  # fmt: skip
        visit_rows(batch, rng, pool, phenotype, visit_id, day, number_in_study == 1)
        morning = datetime(day.year, day.month, day.day, 8) + timedelta(minutes=rng.randrange(300))
        drawn = timezones.to_utc(morning, zone)
        _tubes(batch, rng, site, visit_id, drawn, shelves, post)


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def _consent(
    batch: Batch, number: int, subject_id: int, signed: date, forms: tuple[Any, ...]
) -> None:
    """Consent on the form in force at the first visit; most say yes to everything (the same
    answers as lims/demo.py: every ninth declines genetic research)."""
    doc_id, _, statements = forms[1] if signed >= forms[1][1] else forms[0]
    event_id = batch.new_id("consent_events")
    batch.consent_events.append(
        (event_id, subject_id, "consented", signed, doc_id, None, None, _noon(signed))
    )
    no = {"genetic": number % 9 == 4, "commercial": number % 50 == 7, "recontact": number % 11 == 3}
    for statement_id, code in statements:
        batch.consent_answers.append(
            (batch.new_id("consent_answers"), event_id, statement_id, not no.get(code, False))
        )


def _tubes(
    batch: Batch,
    rng: random.Random,
    site: str,
    visit_id: int,
    drawn: datetime,
    shelves: Shelves,
    post: Post,
) -> None:
    """An SST tube into serum aliquots, an EDTA tube into a DNA stock and its subs."""
    ids = {}
    for tube_type, volume_ml in ((TubeType.SST, 6.0), (TubeType.PED, 4.0)):
        ids[tube_type] = tube_id = batch.new_id("specimens")
        times = [drawn + o if o is not None else v
                 for o, v in zip(_OFFSETS[tube_type], _FIXED[tube_type], strict=True)]  # fmt: skip
        batch.specimens.append(
            (tube_id, batch.barcode(), visit_id, SpecimenType.WHOLE_BLOOD.value, tube_type.value,
             volume_ml, *(_value(t) for t in times), _SPREC[tube_type], sprec.FLUID_VERSION,
             drawn + timedelta(hours=2))
        )  # fmt: skip
    made = drawn + timedelta(hours=3)
    for _ in range(SERUM_ALIQUOTS):
        _aliquot(batch, rng, site, ids[TubeType.SST], SpecimenType.SERUM, 500, 500, made, shelves)
    quality = (round(rng.uniform(25, 180), 1), round(rng.uniform(1.72, 1.95), 2))
    made = drawn + timedelta(days=2)
    # The stock holds 50 µL of its 200 once its three 50 µL sub-aliquots are drawn.
    stock = _aliquot(batch, rng, site, ids[TubeType.PED], SpecimenType.DNA, 50, 200, made, shelves,
                     quality=quality)  # fmt: skip
    post.send(site, made, stock, batch.aliquots[-1][1], SpecimenType.DNA.value, 200)
    for _ in range(DNA_SUBS):
        _aliquot(batch, rng, site, ids[TubeType.PED], SpecimenType.DNA, 50, 50, made, shelves,
                 quality=quality, parent=stock)  # fmt: skip


def _value(v: Any) -> Any:
    return v.value if isinstance(v, Temperature) else v


def _aliquot(
    batch: Batch,
    rng: random.Random,
    site: str,
    tube_id: int,
    kind: SpecimenType,
    volume_ul: int,
    drawn_ul: int,
    made: datetime,
    shelves: Shelves,
    *,
    quality: tuple[float | None, float | None] = (None, None),
    parent: int | None = None,
) -> int:
    status = rng.choices(_STATUSES, _WEIGHTS)[0]
    aliquot_id = batch.new_id("aliquots")
    batch.aliquots.append(
        (aliquot_id, batch.barcode(), True, tube_id, parent, kind.value,
         0 if status is AliquotStatus.CONSUMED else volume_ul, drawn_ul, quality[0], quality[1],
         status.value, rng.choice((0, 0, 0, 1, 1, 2)),
         "on_dry_ice" if status is AliquotStatus.CHECKED_OUT else None,
         "expired" if status is AliquotStatus.DISPOSED else None, made)
    )  # fmt: skip
    if status in PLACED:
        box_id, row, col = shelves.place(site, kind, made)
        placed_at = made + timedelta(hours=1)
        batch.placements.append(
            (batch.new_id("placements"), aliquot_id, box_id, row, col, placed_at)
        )
    return aliquot_id
