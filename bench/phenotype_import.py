"""Phenotype import speed: a REDCap export of 10,000 subjects and 40,000 events, all or nothing,
on SQLite and PostgreSQL, against a competent baseline (the same rows through the ORM in one
transaction, bench/phenotype_baseline.py).

Run: .venv/bin/python bench/phenotype_import.py [--subjects N] [--events N] [--baseline-events N]
                                    [--methods both|ours|competent] [--db sqlite|postgresql|both]
                                    [--profile FILE]

--profile FILE writes cProfile's statistics of our first import at full size (per database:
FILE.postgresql, FILE.sqlite) for `python -m pstats`. Each row also shows the 1-minute load
average when it finished: CPU seconds are comparable across runs, wall seconds only at the
same load.

The export is written by phenotype_link's REDCap writer in the raw layout REDCap uses: per event
one row with the visit, the diagnosis, the GDRS and BFMDRS movement items and the family history,
plus one repeating botulinum toxin row per event for cervical dystonia and blepharospasm. The
subjects and their visits (on the export's visit dates, which the import checks) are inserted
beforehand in bulk (not timed). Each method gets a fresh database. After our import the same
file is imported again (it must change nothing), then a copy with 1 % of the events changed (one
value each: exactly those must change). The competent baseline runs at --baseline-events (4,000
by default: at 40,000 it takes over an hour), and ours again at that size beside it.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import random
import sys
import time
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text

from bench._common import (
    DIALECTS,
    Databases,
    SubjectSpec,
    Table,
    header,
    make_subjects,
    process_cpu_s,
    register_subjects,
    session_factory,
    staff,
)
from bench.phenotype_baseline import competent_import
from lims.audit.services import verify_chain
from lims.phenotype.models import ScaleAdministration
from lims.phenotype.services import ImportResult, import_redcap
from lims.specimens.models import Dystonia, Visit
from phenotype_link.catalog import lims_instruments
from phenotype_link.redcap.writer import ExportRow, write_export
from phenotype_link.scales import SCALES

SEED = 20261201
TODAY = date(2026, 12, 1)
DX = {
    Dystonia.CERVICAL: ("1", "5"),
    Dystonia.LARYNGEAL: ("2", "4"),
    Dystonia.BLEPHAROSPASM: ("3", "1"),
    Dystonia.CRANIOFACIAL: ("4", "3"),
    Dystonia.LIMB: ("5", "9"),
}  # dx_type code, dx_regions code


def _answers(rng: random.Random, scale_id: str) -> dict[str, object]:
    return {i.id: rng.choice(i.values[:3]) for i in SCALES[scale_id].items}


Visits = dict[tuple[str, int], date]  # (study code, visit number) -> the visit's date


def export_rows(
    specs: list[SubjectSpec], events: int, rng: random.Random
) -> tuple[list[ExportRow], Visits]:
    """The export's rows, and the visits the LIMS must hold for it (REDCap's visit dates)."""
    per_subject = max(1, events // len(specs))
    rows, visits = [], {}
    for code, _site, _sex, diagnosis in specs:
        dx_type, region = DX[diagnosis]
        for v in range(1, per_subject + 1):
            event = f"visit_{v}_arm_1"
            on = date(2020, 1, 6) + timedelta(days=365 * (v - 1) + rng.randrange(0, 30))
            visits[(code, v)] = on
            values = {
                "visit_date": on,
                "visit_type": "1" if v == 1 else "2",
                "dx_type": dx_type,
                "dx_regions": (region,),
                "dx_onset_age": 45,
                "fh_dystonia": "0",
                **_answers(rng, "gdrs"),
                **_answers(rng, "bfmdrs_m"),
            }
            rows.append(ExportRow(code, event, values))
            if diagnosis in (Dystonia.CERVICAL, Dystonia.BLEPHAROSPASM):
                toxin = {
                    "btx_date": on - timedelta(days=20),
                    "btx_product": "1",
                    "btx_dose_units": Decimal(rng.randrange(100, 300, 10)),
                    "btx_muscles": ("1",),
                }
                rows.append(
                    ExportRow(
                        code, event, toxin, repeat_instrument="botulinum_toxin", repeat_instance=1
                    )
                )
    return rows, visits


def one_percent_changed(rows: list[ExportRow]) -> tuple[list[ExportRow], int]:
    """The same export with the age at onset corrected in every 100th event: 1 % of the events
    change one value each (their diagnosis row). Returns the rows and how many changed."""
    out, changed, event = [], 0, 0
    for row in rows:
        if not row.repeat_instrument:
            event += 1
            if event % 100 == 0:
                row = replace(row, values={**row.values, "dx_onset_age": 46})
                changed += 1
        out.append(row)
    return out, changed


def _prepare(dbs: Databases, dialect: str, name: str, specs: list[SubjectSpec], visits: Visits):  # type: ignore[no-untyped-def]
    url = dbs.fresh(dialect, name)
    engine, make = session_factory(url)
    with make() as session:
        tech = staff(session)
        ids = register_subjects(session, tech, specs)
        rows = [
            {"subject_id": ids[code], "visit_number": v, "visit_on": on}
            for (code, v), on in visits.items()
        ]
        session.execute(insert(Visit), rows)
        session.commit()
    return engine, make, tech


@dataclass(frozen=True)
class Case:
    """One export and what it needs: its subjects and visits, the file, and a copy with 1 % of
    the events changed."""

    events: int
    specs: list[SubjectSpec]
    visits: Visits
    rows: int
    data: bytes
    changed_data: bytes
    changed: int


def make_case(subjects: int, events: int) -> Case:
    rng = random.Random(SEED)
    specs = make_subjects(subjects, rng)
    rows, visits = export_rows(specs, events, rng)
    changed_rows, changed = one_percent_changed(rows)
    instruments = lims_instruments()
    data = write_export(rows, instruments).encode()
    changed_data = write_export(changed_rows, instruments).encode()
    return Case(len(visits), specs, visits, len(rows), data, changed_data, changed)


def _server_cpu(session) -> float:  # type: ignore[no-untyped-def]
    """CPU seconds the PostgreSQL backend serving this session has used (0 on SQLite): on a
    loaded machine wall-clock time says little, the client's and the server's CPU say more."""
    if session.get_bind().dialect.name != "postgresql":
        return 0.0
    return process_cpu_s(session.scalar(text("SELECT pg_backend_pid()")))


def _timed(session, work):  # type: ignore[no-untyped-def]
    """(result, wall s, client CPU s, server CPU s) of one import."""
    server = _server_cpu(session)
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return result, wall, cpu, _server_cpu(session) - server


def run(
    dbs: Databases, dialect: str, case: Case, table: Table, mode: str, profile: str | None = None
) -> None:
    engine, make, tech = _prepare(dbs, dialect, f"pheno_{mode}", case.specs, case.visits)
    again = changed = ""
    with make() as session:
        if mode == "ours":
            profiler = cProfile.Profile() if profile else None

            def first() -> ImportResult:
                if profiler is not None:
                    profiler.enable()
                try:
                    return import_redcap(session, tech, data=case.data, today=TODAY)
                finally:
                    if profiler is not None:
                        profiler.disable()
                        profiler.dump_stats(f"{profile}.{dialect}")

            result, seconds, cpu, server = _timed(session, first)
            created = result.created
            same, *t_same = _timed(
                session, lambda: import_redcap(session, tech, data=case.data, today=TODAY)
            )
            assert (same.created, same.changed) == (0, 0)
            edit, *t_edit = _timed(
                session, lambda: import_redcap(session, tech, data=case.changed_data, today=TODAY)
            )
            assert (edit.created, edit.changed) == (0, case.changed), edit
            again, changed = (
                "/".join(f"{t:.2f}" for t in t_same),
                "/".join(f"{t:.2f}" for t in t_edit),
            )
        else:
            created, seconds, cpu, server = _timed(
                session, lambda: competent_import(session, tech, data=case.data, today=TODAY)
            )
        rows = session.scalar(select(func.count()).select_from(ScaleAdministration))
        assert verify_chain(session).is_intact
    engine.dispose()
    name = "import_redcap" if mode == "ours" else "competent: ORM, 1 transaction"
    load = f"{os.getloadavg()[0]:.1f}"
    table.row(dialect, name, case.events, created, rows, seconds, cpu, server, again, changed, load)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument(
        "--baseline-events",
        type=int,
        default=4_000,
        help="the competent baseline's size, ours run at it too (0: the full size)",
    )
    parser.add_argument("--methods", choices=("both", "ours", "competent"), default="both")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--profile", help="write cProfile statistics of our full-size import")
    args = parser.parse_args()
    full = make_case(args.subjects, args.events)
    small_events = args.baseline_events or args.events
    small = full
    if small_events != args.events:
        scale = small_events / args.events
        small = make_case(max(1, round(args.subjects * scale)), small_events)
    print("# re-imports: wall / client CPU / server CPU seconds")
    header(
        f"phenotype import: {args.subjects:,} subjects, {args.events:,} events, "
        f"{full.rows:,} CSV rows, {len(full.data) / 1e6:.1f} MB; 1 % changed: "
        f"{full.changed:,} values"
    )
    table = Table(
        [
            ("db", 10),
            ("method", 30),
            ("events", 7),
            ("rows made", 10),
            ("scales", 8),
            ("s", 7),
            ("client CPU s", 12),
            ("server CPU s", 12),
            ("same again s", 18),
            ("1% changed s", 18),
            ("load", 5),
        ]
    )
    plan = []
    if args.methods in ("both", "ours"):
        plan.append((full, "ours"))
    if args.methods in ("both", "competent"):
        plan += [(small, "ours")] if small is not full and args.methods == "both" else []
        plan.append((small, "competent"))
    with Databases() as dbs:
        for dialect in DIALECTS if args.db == "both" else (args.db,):
            if (why := dbs.unavailable(dialect)) is not None:
                print(f"{dialect}: skipped ({why})")
                continue
            for case, mode in plan:
                run(dbs, dialect, case, table, mode, args.profile if case is full else None)
        print(f"# {dbs.versions()}")


if __name__ == "__main__":
    main()
