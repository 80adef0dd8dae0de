"""Phenotype import speed: a REDCap export of 10,000 subjects and 40,000 events, all or nothing,
on SQLite and PostgreSQL, against a competent baseline (the same rows through the ORM in one
transaction, bench/phenotype_baseline.py).

Run: .venv/bin/python bench/phenotype_import.py [--subjects N] [--events N]
                                                [--db sqlite|postgresql|both]

The export is written by phenotype_link's REDCap writer in the raw layout REDCap uses: per event
one row with the visit, the diagnosis, the GDRS and BFMDRS movement items and the family history,
plus one repeating botulinum toxin row per event for cervical dystonia and blepharospasm. The
subjects and their visits are inserted beforehand in bulk (not timed). Each run gets a fresh
database; the import is then run a second time on the same file to time a re-import that
changes nothing.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select

from bench._common import (
    DIALECTS,
    Databases,
    SubjectSpec,
    Table,
    header,
    make_subjects,
    register_subjects,
    session_factory,
    staff,
)
from bench.phenotype_baseline import competent_import
from lims.audit.services import verify_chain
from lims.phenotype.models import ScaleAdministration
from lims.phenotype.services import import_redcap
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


def export_rows(specs: list[SubjectSpec], events: int, rng: random.Random) -> list[ExportRow]:
    per_subject = max(1, events // len(specs))
    rows = []
    for code, _site, _sex, diagnosis in specs:
        dx_type, region = DX[diagnosis]
        for v in range(1, per_subject + 1):
            event = f"visit_{v}_arm_1"
            on = date(2020, 1, 6) + timedelta(days=365 * (v - 1) + rng.randrange(0, 30))
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
    return rows


def _prepare(dbs: Databases, dialect: str, name: str, specs: list[SubjectSpec], visits: int):  # type: ignore[no-untyped-def]
    url = dbs.fresh(dialect, name)
    engine, make = session_factory(url)
    with make() as session:
        tech = staff(session)
        ids = register_subjects(session, tech, specs)
        session.execute(
            insert(Visit),
            [
                {
                    "subject_id": i,
                    "visit_number": v,
                    "visit_on": date(2020, 1, 6) + timedelta(days=365 * (v - 1)),
                }
                for i in ids.values()
                for v in range(1, visits + 1)
            ],
        )
        session.commit()
    return engine, make, tech


def run(
    dbs: Databases,
    dialect: str,
    specs: list[SubjectSpec],
    visits: int,
    data: bytes,
    table: Table,
    modes: tuple[str, ...],
) -> None:
    for mode in modes:
        engine, make, tech = _prepare(dbs, dialect, f"pheno_{mode}", specs, visits)
        with make() as session:
            started, cpu = time.perf_counter(), time.process_time()
            if mode == "ours":
                created = import_redcap(session, tech, data=data, today=TODAY).created
            else:
                created = competent_import(session, tech, data=data, today=TODAY)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            rows = session.scalar(select(func.count()).select_from(ScaleAdministration))
            again = ""
            if mode == "ours":
                started = time.perf_counter()
                result = import_redcap(session, tech, data=data, today=TODAY)
                assert (result.created, result.changed) == (0, 0)
                again = f"{time.perf_counter() - started:.1f}"
            assert verify_chain(session).is_intact
        engine.dispose()
        name = "import_redcap" if mode == "ours" else "competent: ORM, 1 transaction"
        table.row(dialect, name, created, rows, seconds, cpu, created / seconds, again)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--methods", choices=("both", "ours", "competent"), default="both")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    rng = random.Random(SEED)
    specs = make_subjects(args.subjects, rng)
    rows = export_rows(specs, args.events, rng)
    data = write_export(rows, lims_instruments()).encode()
    header(
        f"phenotype import: {args.subjects:,} subjects, {args.events:,} events, "
        f"{len(rows):,} CSV rows, {len(data) / 1e6:.1f} MB"
    )
    table = Table(
        [
            ("db", 10),
            ("method", 30),
            ("rows made", 10),
            ("scales", 8),
            ("s", 7),
            ("client CPU s", 12),
            ("rows/s", 8),
            ("re-import s", 11),
        ]
    )
    with Databases() as dbs:
        for dialect in DIALECTS if args.db == "both" else (args.db,):
            if (why := dbs.unavailable(dialect)) is not None:
                print(f"{dialect}: skipped ({why})")
                continue
            modes = ("ours", "competent") if args.methods == "both" else (args.methods,)
            visits = max(1, args.events // args.subjects)
            run(dbs, dialect, specs, visits, data, table, modes)
        print(f"# {dbs.versions()}")


if __name__ == "__main__":
    main()
