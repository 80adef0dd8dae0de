"""Finding aliquots at consortium size: the aliquot list, the CSV export and the box grid, on
SQLite and PostgreSQL, against a competent ORM baseline and a strawman.

Run: .venv/bin/python bench/inventory.py [--count N] [--repeat R] [--db sqlite|postgresql|both]
                                         [--deep-page P] [--strawman-export N] [--budget S]
                                         [--no-strawman]

The inventory is bulk-loaded with `session.execute(insert(Model), rows)`, not through the
services, and without audit events: 4 visits per subject, per visit an SST tube split into 8
serum aliquots and an EDTA tube giving a DNA stock and 3 sub-aliquots (12 aliquots), most of
them stored in 9x9 (serum) or 10x10 (DNA) boxes, racks of 20 boxes, 6 serum and 2 DNA freezers.
About 8 % are not in a box (received, consumed or disposed) and 1 % of subjects withdrew
consent. PostgreSQL is VACUUM ANALYZEd after the load (what autovacuum does soon after);
SQLite is left as the application leaves it, without ANALYZE.

Three sides (bench/inventory_baselines.py): ours (the storage services, as the views call them);
the competent baseline (one joined ORM query that filters and pages in SQL, and a count); and
the strawman (every Aliquot loaded, filtered in Python, N+1 lazy loads). The strawman's export
is limited to the first --strawman-export aliquots and compared in rows/s. Every figure runs in
a fresh process: one untimed warm-up run, then up to --repeat timed runs, each with a fresh
session; a side whose warm-up alone took --budget seconds is not run again, and that one run is
shown. Each baseline's result is compared with ours (the page's rows and total, the whole export
or its first lines, the grid's cells).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import itertools
import random
import statistics
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, insert, text, update
from sqlalchemy.orm import Session, sessionmaker

from bench._common import (
    DIALECTS,
    Databases,
    Table,
    header,
    make_subjects,
    peak_rss_mib,
    register_subjects,
    session_factory,
    spawn_pool,
    staff,
)
from bench.inventory_baselines import (
    PER_PAGE,
    competent_export,
    competent_grid,
    competent_list,
    strawman_export,
    strawman_grid,
    strawman_list,
)
from lims.actors import Actor, Role
from lims.db import Base
from lims.specimens import barcodes, sprec
from lims.specimens.models import (
    Aliquot,
    AliquotStatus,
    BarcodeCounter,
    EnrolmentStatus,
    Specimen,
    SpecimenType,
    Subject,
    Temperature,
    TubeType,
    Visit,
)
from lims.specimens.services import PreAnalytics
from lims.storage.models import Box, Freezer, Placement, Rack
from lims.storage.services import (
    INVENTORY_COLUMNS,
    AliquotFilter,
    box_grid,
    inventory_line,
    iter_inventory,
    list_aliquots,
)

VISITS, SERUM, DNA_SUBS = 4, 8, 3
PER_SUBJECT = VISITS * (SERUM + 1 + DNA_SUBS)  # 48 aliquots
SERUM_FREEZERS, DNA_FREEZERS, BOXES_PER_RACK = 6, 2, 20
# Where aliquots stand in a biobank that has run for a while; the first three hold a position.
STATUS_WEIGHTS = {
    AliquotStatus.STORED: 87,
    AliquotStatus.CHECKED_OUT: 3,
    AliquotStatus.RESERVED: 2,
    AliquotStatus.RECEIVED: 3,
    AliquotStatus.CONSUMED: 3,
    AliquotStatus.DISPOSED: 2,
}
PLACED = frozenset({AliquotStatus.STORED, AliquotStatus.CHECKED_OUT, AliquotStatus.RESERVED})
CHUNK = 10_000
FEW_PAGES = 10
CHECK_LINES = 2_000  # export lines both sides write once more, to compare
SEED = 20261125
NO_FILTER = AliquotFilter()


class Sink(Protocol):
    def write(self, text: str, /) -> int: ...


@dataclass
class Inventory:
    """The rows to insert, table by table, in an order the foreign keys accept."""

    visits: list[dict[str, Any]]
    specimens: list[dict[str, Any]]
    aliquots: list[dict[str, Any]]
    placements: list[dict[str, Any]]
    freezers: list[dict[str, Any]]
    racks: list[dict[str, Any]]
    boxes: list[dict[str, Any]]
    next_serial: int


class Serials:
    """Issued barcodes from one counter, as the LIMS gives them to tubes and aliquots."""

    def __init__(self) -> None:
        self.next = 1

    def take(self) -> str:
        self.next += 1
        return barcodes.aliquot_barcode(self.next - 1, installation=0)  # the migration's number


SST_PRE = PreAnalytics(
    collected_at=datetime(2024, 1, 1, 9, tzinfo=UTC),
    received_at=datetime(2024, 1, 1, 9, 20, tzinfo=UTC),
    processing_started_at=datetime(2024, 1, 1, 9, 45, tzinfo=UTC),
    pre_processing_temperature=Temperature.ROOM,
    centrifuge_g=1300,
    centrifuge_minutes=10,
    centrifuge_temperature=Temperature.ROOM,
    centrifuge_braked=True,
    processed_at=datetime(2024, 1, 1, 10, 25, tzinfo=UTC),
    storage_temperature_c=-80,
)
EDTA_PRE = PreAnalytics(
    collected_at=datetime(2024, 1, 1, 9, tzinfo=UTC),
    received_at=datetime(2024, 1, 1, 11, tzinfo=UTC),
    pre_processing_temperature=Temperature.COLD,
    processed_at=datetime(2024, 1, 2, 9, tzinfo=UTC),
    storage_temperature_c=-80,
)


def _tube(
    visit_id: int, tube_id: int, code: str, tube_type: TubeType, pre: PreAnalytics, drawn: datetime
) -> dict[str, Any]:
    """A primary tube; its times are the template's, moved to this visit's draw."""
    shift = drawn - pre.collected_at

    def at(moment: datetime | None) -> datetime | None:
        return moment + shift if moment is not None else None

    moved = replace(
        pre,
        collected_at=drawn,
        received_at=at(pre.received_at),
        processing_started_at=at(pre.processing_started_at),
        processed_at=at(pre.processed_at),
    )
    return {
        "id": tube_id,
        "barcode": code,
        "visit_id": visit_id,
        "specimen_type": SpecimenType.WHOLE_BLOOD,
        "tube_type": tube_type,
        "volume_ml": 6.0 if tube_type is TubeType.SST else 4.0,
        "sprec_code": sprec.tube_code(moved, tube_type),
        "created_at": drawn + timedelta(hours=2),
        **moved.as_columns(),
    }


def _aliquot(
    rng: random.Random,
    aliquot_id: int,
    code: str,
    tube_id: int,
    kind: SpecimenType,
    volume_ul: int,
    made_at: datetime,
    *,
    parent_id: int | None = None,
    quality: tuple[float | None, float | None] = (None, None),
) -> dict[str, Any]:
    status = rng.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))[0]
    return {
        "id": aliquot_id,
        "barcode": code,
        "is_issued_barcode": True,
        "specimen_id": tube_id,
        "parent_id": parent_id,
        "specimen_type": kind,
        "volume_ul": 0 if status is AliquotStatus.CONSUMED else volume_ul,
        "concentration_ng_ul": quality[0],
        "a260_280": quality[1],
        "status": status,
        "freeze_thaw_count": rng.choice((0, 0, 0, 1, 1, 2)),
        "created_at": made_at,
    }


def _visit(
    inv: Inventory, rng: random.Random, serials: Serials, subject_id: int, number: int, day: date
) -> None:
    """One visit: an SST tube into serum aliquots, an EDTA tube into a DNA stock and subs."""
    visit_id = len(inv.visits) + 1
    inv.visits.append(
        {"id": visit_id, "subject_id": subject_id, "visit_number": number, "visit_on": day}
    )
    drawn = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    drawn += timedelta(minutes=rng.randrange(0, 300))
    sst, edta = len(inv.specimens) + 1, len(inv.specimens) + 2
    inv.specimens.append(_tube(visit_id, sst, serials.take(), TubeType.SST, SST_PRE, drawn))
    inv.specimens.append(_tube(visit_id, edta, serials.take(), TubeType.PED, EDTA_PRE, drawn))
    made_at, volume = drawn + timedelta(hours=3), rng.choice((250, 500))
    for _ in range(SERUM):
        new_id = len(inv.aliquots) + 1
        inv.aliquots.append(
            _aliquot(rng, new_id, serials.take(), sst, SpecimenType.SERUM, volume, made_at)
        )
    quality = (round(rng.uniform(25, 180), 1), round(rng.uniform(1.72, 1.95), 2))
    stock = len(inv.aliquots) + 1
    # The stock holds 50 µL of its 200 once its three 50 µL sub-aliquots are drawn.
    for parent in (None, *[stock] * DNA_SUBS):
        new_id = len(inv.aliquots) + 1
        inv.aliquots.append(
            _aliquot(
                rng, new_id, serials.take(), edta, SpecimenType.DNA, 50, made_at,
                parent_id=parent, quality=quality,
            )
        )  # fmt: skip


def build_inventory(subject_ids: list[int], count: int, rng: random.Random) -> Inventory:
    """Visits, tubes and `count` aliquots for the subjects, then boxes for those stored."""
    inv = Inventory([], [], [], [], [], [], [], 0)
    serials = Serials()
    for subject_id in subject_ids:
        first = date(2021, 1, 4) + timedelta(days=rng.randrange(0, 900))
        for number in range(1, VISITS + 1):
            if len(inv.aliquots) < count:
                day = first + timedelta(days=365 * (number - 1) + rng.randrange(-20, 21))
                _visit(inv, rng, serials, subject_id, number, day)
    del inv.aliquots[count:]
    inv.next_serial = serials.next
    _store(inv)
    return inv


def _store(inv: Inventory) -> None:
    """Fill boxes in the order aliquots were made; each type has its own freezers and grid."""
    kinds = ((SpecimenType.SERUM, SERUM_FREEZERS, 9), (SpecimenType.DNA, DNA_FREEZERS, 10))
    for kind, freezers, grid in kinds:
        first = len(inv.freezers) + 1
        for n in range(first, first + freezers):
            name = f"F{n} {kind.value.upper()} -80"
            inv.freezers.append(
                {"id": n, "name": name, "temperature_c": -80, "room": "B204", "site_id": None}
            )
        stored = [a for a in inv.aliquots if a["specimen_type"] is kind and a["status"] in PLACED]
        n_boxes = -(-len(stored) // (grid * grid))
        boxes_in: dict[int, int] = {}
        for k in range(n_boxes):
            freezer = first + k * freezers // n_boxes
            slot = boxes_in[freezer] = boxes_in.get(freezer, -1) + 1
            if slot % BOXES_PER_RACK == 0:
                rack = {"id": len(inv.racks) + 1, "freezer_id": freezer}
                inv.racks.append(rack | {"name": f"Rack {slot // BOXES_PER_RACK + 1:02d}"})
            _box(inv, kind, k, grid, stored[k * grid * grid : (k + 1) * grid * grid])


def _box(inv: Inventory, kind: SpecimenType, k: int, grid: int, held: list[dict[str, Any]]) -> None:
    box_id = len(inv.boxes) + 1
    inv.boxes.append(
        {
            "id": box_id,
            "barcode": barcodes.box_barcode(box_id),
            "name": f"{kind.value.upper()} box {k + 1}",
            "rack_id": inv.racks[-1]["id"],
            "n_rows": grid,
            "n_cols": grid,
        }
    )
    for position, aliquot in enumerate(held):
        inv.placements.append(
            {
                "id": len(inv.placements) + 1,
                "aliquot_id": aliquot["id"],
                "box_id": box_id,
                "row": position // grid,
                "col": position % grid,
                "placed_at": aliquot["created_at"] + timedelta(hours=1),
            }
        )


def load(url: str, count: int) -> dict[str, Any]:
    """Fill the empty database with bulk inserts, in this (fresh) process; pick the cases."""
    rng = random.Random(SEED)
    engine, sessions = session_factory(url)
    start = time.perf_counter()
    with sessions() as session:
        actor = staff(session)
        specs = make_subjects(-(-count // PER_SUBJECT), rng)
        ids = register_subjects(session, actor, specs, audited=False)
        subject_ids = [ids[code] for code, *_ in specs]
        inv = build_inventory(subject_ids, count, rng)
        tables: list[tuple[type[Base], list[dict[str, Any]]]] = [
            (Freezer, inv.freezers),
            (Rack, inv.racks),
            (Box, inv.boxes),
            (Visit, inv.visits),
            (Specimen, inv.specimens),
            (Aliquot, inv.aliquots),
            (Placement, inv.placements),
        ]
        for model, rows in tables:
            for i in range(0, len(rows), CHUNK):
                session.execute(insert(model), rows[i : i + CHUNK])
        session.execute(
            update(Subject)
            .where(Subject.id.in_(subject_ids[::100]))  # 1 % withdrew consent
            .values(
                enrolment_status=EnrolmentStatus.CONSENT_WITHDRAWN,
                consent_withdrawn_at=datetime(2025, 6, 2, tzinfo=UTC),
            )
            .execution_options(synchronize_session=False)
        )
        session.add(BarcodeCounter(name="aliquot", next_value=inv.next_serial))
        session.add(BarcodeCounter(name="box", next_value=len(inv.boxes) + 1))
        session.commit()
    seconds = time.perf_counter() - start
    if engine.dialect.name == "postgresql":
        _settle(engine, [model.__tablename__ for model, _ in tables])
    engine.dispose()
    return {
        "seconds": seconds,
        "sizes": {"subjects": len(specs)} | {m.__tablename__: len(r) for m, r in tables},
        "picks": _picks(inv),
    }


def _settle(engine: Engine, tables: list[str]) -> None:
    """Sequences past the explicit ids, and the statistics autovacuum would gather."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
        conn.execute(text("VACUUM ANALYZE"))


def _picks(inv: Inventory) -> dict[str, Any]:
    """A serum box in the middle of the third freezer, and a full DNA box for the grid."""
    rack_freezer = {r["id"]: r["freezer_id"] for r in inv.racks}
    freezers = sorted({rack_freezer[b["rack_id"]] for b in inv.boxes})
    freezer = 3 if 3 in freezers else freezers[-1]  # a tiny inventory (bench-smoke) fills fewer
    in_third = [b for b in inv.boxes if rack_freezer[b["rack_id"]] == freezer]
    dna = [b for b in inv.boxes if b["n_rows"] == 10]
    return {
        "freezer_id": freezer,
        "box": in_third[len(in_third) // 2]["barcode"],
        "grid_box_id": dna[len(dna) // 2]["id"],
    }


# The three sides; every export goes through the same csv.writer loop.


def _write_csv(out: Sink, lines: Iterable[list[Any]]) -> int:
    """As the export view streams it: csv.writer into a buffer, handed on every 1,000 rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(INVENTORY_COLUMNS)
    n = 0
    for n, line in enumerate(lines, start=1):
        writer.writerow(line)
        if n % 1000 == 0:
            out.write(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
    out.write(buffer.getvalue())
    return n


READER = Actor(user_id=None, username="bench", role=Role.REVIEWER)
IMPLS = ("ours", "competent", "strawman")


def export_lines(session: Session, impl: str, limit: int | None) -> Iterator[list[Any]]:
    if impl == "ours":
        rows = iter_inventory(session, READER, filters=NO_FILTER)
        return map(inventory_line, itertools.islice(rows, limit))
    if impl == "competent":
        return itertools.islice(competent_export(session), limit)
    return strawman_export(session, limit)


def service_grid(session: Session, actor: Actor, box_id: int) -> list[tuple[Any, ...]]:
    grid = box_grid(session, actor, box_id)
    return sorted(
        (c.row, c.col, c.barcode, c.specimen_type, c.status, c.consent_withdrawn)
        for row in grid.cells
        for c in row
        if c is not None
    )


@dataclass(frozen=True)
class Case:
    label: str
    kind: str  # list, export, grid
    filters: AliquotFilter = NO_FILTER
    page: int = 1
    box_id: int = 0
    strawman_limit: int | None = None  # the strawman's export rows
    strawman: bool = True


class HashSink:
    """A file that keeps only the SHA-256 of what is written, to compare two exports."""

    def __init__(self) -> None:
        self.sha = hashlib.sha256()

    def write(self, text: str) -> int:
        self.sha.update(text.encode())
        return len(text)


def _run(session: Session, case: Case, impl: str, out: Sink) -> tuple[int, Any]:
    """One call: (rows produced, what to compare with the other sides)."""
    if case.kind == "list":
        if impl == "ours":
            # An exact total, as the baselines give: the bounded total and keyset pages of
            # issue #20 are timed by bench/scale.py.
            found = list_aliquots(
                session, READER, filters=case.filters, page=case.page, count_up_to=10**9
            )
            rows, total = found.rows, found.total
            lines = [inventory_line(r) for r in rows]
        else:
            lister = competent_list if impl == "competent" else strawman_list
            lines, total = lister(session, case.filters, case.page)
        return len(lines), (lines, total)
    if case.kind == "export":
        limit = case.strawman_limit if impl == "strawman" else None
        return _write_csv(out, export_lines(session, impl, limit)), None
    if impl == "ours":
        cells = service_grid(session, READER, case.box_id)
    else:
        cells = (competent_grid if impl == "competent" else strawman_grid)(session, case.box_id)
    return len(cells), cells


def _timed(sessions: sessionmaker[Session], case: Case, impl: str) -> tuple[float, Any, str]:
    """One run with a fresh session: (seconds, (rows, result), SHA-256 of what it wrote)."""
    sink = HashSink()
    with sessions() as session:
        start = time.perf_counter()
        outcome = _run(session, case, impl, sink)
        seconds = time.perf_counter() - start
    return seconds, outcome, sink.sha.hexdigest()


def measure(url: str, case: Case, impl: str, repeat: int, budget_s: float) -> dict[str, Any]:
    """An untimed warm-up run, then up to `repeat` timed runs in this (fresh) process, until
    the runs took `budget_s`. A warm-up that alone took `budget_s` is kept as the one run."""
    engine, sessions = session_factory(url)
    warm_up, (rows, result), digest = _timed(sessions, case, impl)
    cold = warm_up >= budget_s
    seconds = [warm_up] if cold else []
    while not cold and len(seconds) < repeat and sum(seconds) < budget_s:
        took, (rows, result), digest = _timed(sessions, case, impl)
        seconds.append(took)
    if case.kind == "export":
        sink = HashSink()
        with sessions() as session:
            _write_csv(sink, export_lines(session, impl, CHECK_LINES))
        whole = digest if impl != "strawman" else None  # the strawman writes only a part
        result = (sink.sha.hexdigest(), whole)
    engine.dispose()
    return {
        "seconds": seconds,
        "cold": cold,
        "rows": rows,
        "result": result,
        "peak_rss_mib": peak_rss_mib(),
    }


def _same(ours: Any, other: Any, kind: str) -> bool:
    if kind != "export":
        return bool(ours == other)
    return bool(ours[0] == other[0] and (other[1] is None or ours[1] == other[1]))


def filter_cases(picks: dict[str, Any]) -> dict[str, AliquotFilter]:
    return {
        "no filter": AliquotFilter(),
        "NA2 serum stored": AliquotFilter(
            site="NA2", specimen_type=SpecimenType.SERUM, status=AliquotStatus.STORED
        ),
        f"F3 + box {picks['box']}": AliquotFilter(freezer_id=picks["freezer_id"], box=picks["box"]),
    }


def totals(url: str, picks: dict[str, Any]) -> dict[str, int]:
    """How many aliquots each filter matches, for the deep page number."""
    engine, sessions = session_factory(url)
    with sessions() as session:
        found = {
            label: list_aliquots(session, READER, filters=f, per_page=1, count_up_to=10**9).total
            for label, f in filter_cases(picks).items()
        }
    engine.dispose()
    return found


def make_cases(url: str, picks: dict[str, Any], args: argparse.Namespace) -> list[Case]:
    """First and deep pages of each filter; a filter with only a few pages has no deep page,
    so its last page is timed without the strawman (whose scan would be the same)."""
    cases, found = [], totals(url, picks)
    for label, filters in filter_cases(picks).items():
        last = max(1, -(-found[label] // PER_PAGE))
        for page in sorted({1, min(args.deep_page, last)}):
            deep = page == 1 or last > FEW_PAGES
            cases.append(Case(f"list, {label}, page {page}", "list", filters, page, strawman=deep))
    cases.append(Case("export CSV, all aliquots", "export", strawman_limit=args.strawman_export))
    cases.append(Case("box grid 10x10", "grid", box_id=picks["grid_box_id"]))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description="Aliquot list, export and box grid speed.")
    parser.add_argument("--count", type=int, default=250_000, help="aliquots loaded")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; median shown")
    parser.add_argument("--db", choices=[*DIALECTS, "both"], default="both")
    parser.add_argument("--deep-page", type=int, default=2000, help="or the last page, if less")
    parser.add_argument(
        "--strawman-export", type=int, default=20_000, help="rows the strawman export writes"
    )
    parser.add_argument(
        "--budget", type=float, default=15, help="seconds after which a figure stops repeating"
    )
    parser.add_argument(
        "--strawman", action=argparse.BooleanOptionalAction, default=True, help="time it too"
    )
    args = parser.parse_args()
    with Databases() as databases, spawn_pool() as pool:
        header("aliquot list, CSV export, box grid (lims.storage.services)")
        dialects = [d for d in DIALECTS if args.db in (d, "both")]
        for dialect in dialects:
            if reason := databases.unavailable(dialect):
                print(f"# {dialect}: skipped, {reason}")
        dialects = [d for d in dialects if not databases.unavailable(d)]
        print(f"# {databases.versions()}")
        print("# each figure in a fresh process: an untimed warm-up run, then the median of")
        print(f"# up to {args.repeat} runs within {args.budget:g} s, a fresh session per run;")
        print("# runs 1*: the warm-up alone took the budget and is the one run shown. RSS = peak")
        print("# resident set of that process. STRAWMAN rows are a strawman, shown for the record.")
        for dialect in dialects:
            url = databases.fresh(dialect, "bench_inventory")
            info = pool.apply(load, (url, args.count))
            sizes = ", ".join(f"{n:,} {table}" for table, n in info["sizes"].items())
            print(f"# {dialect}: bulk-inserted (no services, no audit events) in "
                  f"{info['seconds']:.0f} s: {sizes}")  # fmt: skip
            table = _table()
            for case in make_cases(url, info["picks"], args):
                runs = {
                    impl: pool.apply(measure, (url, case, impl, args.repeat, args.budget))
                    for impl in IMPLS[: 3 if case.strawman and args.strawman else 2]
                }
                _show(table, dialect, case, runs)


def _table() -> Table:
    return Table(
        [("db", 10), ("case", 40), ("impl", 9), ("runs", 4), ("ms", 9), ("rows", 7),
         ("rows/s", 9), ("peak RSS MiB", 12), ("vs competent", 12), ("vs strawman", 11),
         ("same", 4)]
    )  # fmt: skip


def _show(table: Table, dialect: str, case: Case, runs: dict[str, dict[str, Any]]) -> None:
    rate = {impl: run["rows"] / statistics.median(run["seconds"]) for impl, run in runs.items()}
    for impl, run in runs.items():
        ours = impl == "ours"
        same = _same(runs["ours"]["result"], run["result"], case.kind)
        ratios = [f"{rate['ours'] / rate[b]:,.1f}x" if b in rate else "-" for b in IMPLS[1:]]
        table.row(
            dialect,
            case.label,
            "STRAWMAN" if impl == "strawman" else impl,
            f"{len(run['seconds'])}{'*' if run['cold'] else ''}",
            statistics.median(run["seconds"]) * 1000,
            run["rows"],
            rate[impl],
            run["peak_rss_mib"],
            *(ratios if ours else ["", ""]),
            "-" if ours else ("ok" if same else "DIFF"),
        )


if __name__ == "__main__":
    main()
