"""Aliquot CSV import speed on SQLite and PostgreSQL, against the per-record services.

Run: .venv/bin/python bench/imports.py [--count N] [--baseline-count N] [--repeat R]
                                       [--db sqlite|postgresql|both]

The file is a synthetic consortium collection log in the import's own template columns: many
subjects at three sites, 1 to 4 visits each, per visit an SST tube split into 3-5 serum aliquots
and an EDTA tube giving a DNA stock and two sub-aliquots, every row repeating its tube's columns
as a spreadsheet export does. The subjects are registered beforehand with bulk inserts that
write the rows (and `subject.registered` events) register_subject would; that is not timed.

The baseline is what one writes first: read the CSV and call the per-record services for each
row (register_visit for a new visit, accession_specimen for a new tube, aliquot_specimen for the
aliquot), each one checking, auditing and committing on its own. It runs on a smaller file, so
both are given in rows/s. It is not all-or-nothing: a bad row 40,000 leaves 39,999 written.
Every run gets a fresh database in a fresh process; the audit chain and the counts are checked
after each run.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench._common import (
    DIALECTS,
    Databases,
    SubjectSpec,
    Table,
    header,
    make_subjects,
    peak_rss_mib,
    register_subjects,
    session_factory,
    spawn_pool,
    staff,
)
from lims.actors import Actor
from lims.audit.models import AuditEvent
from lims.audit.services import verify_chain
from lims.specimens.models import Aliquot, Specimen, SpecimenType, Temperature, TubeType, Visit
from lims.specimens.services import (
    PreAnalytics,
    accession_specimen,
    aliquot_specimen,
    import_aliquots,
    register_visit,
    template_csv,
)

COLUMNS = next(csv.reader(io.StringIO(template_csv())))
MIN_ROWS_PER_SUBJECT = 6  # one visit: 3 serum aliquots, a DNA stock and 2 sub-aliquots
SEED = 20261125


@dataclass(frozen=True)
class CollectionLog:
    subjects: list[SubjectSpec]
    data: bytes
    rows: int
    tubes: int
    visits: int
    sub_aliquots: int


def _time(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def _visit_rows(
    rng: random.Random, visit: dict[str, str], drawn: datetime, serial: Iterator[int]
) -> list[dict[str, str]]:
    """The rows of one visit: an SST tube's serum aliquots, an EDTA tube's DNA (as the demo)."""
    clot = timedelta(minutes=rng.randrange(30, 61))
    site = visit["study_code"][:3]
    sst = visit | {
        "tube_barcode": f"{site}-T-{next(serial):07d}",
        "tube_type": "SST",
        "tube_volume_ml": "6",
        "collected_at": _time(drawn),
        "received_at": _time(drawn + timedelta(minutes=20)),
        "processing_started_at": _time(drawn + clot),
        "pre_processing_temperature": "RT",
        "centrifuge_g": "1300",
        "centrifuge_minutes": "10",
        "centrifuge_temperature": "RT",
        "centrifuge_braked": "yes",
        "processed_at": _time(drawn + clot + timedelta(minutes=40)),
        "storage_temperature_c": "-80",
    }
    volume = rng.choice(("250", "500"))
    serum = sst | {"specimen_type": "serum", "volume_ul": volume}
    rows = [
        serum | {"aliquot_barcode": f"{site}-A-{next(serial):07d}"}
        for _ in range(rng.randint(3, 5))
    ]
    edta = visit | {
        "tube_barcode": f"{site}-T-{next(serial):07d}",
        "tube_type": "PED",
        "tube_volume_ml": "4",
        "collected_at": _time(drawn),
        "received_at": _time(drawn + timedelta(hours=2)),
        "pre_processing_temperature": "2-10C",
        "processed_at": _time(drawn + timedelta(hours=rng.randrange(4, 48))),
        "storage_temperature_c": "-80",
    }
    dna = edta | {
        "specimen_type": "dna",
        "concentration_ng_ul": f"{rng.uniform(25, 180):.1f}",
        "a260_280": f"{rng.uniform(1.72, 1.95):.2f}",
    }
    stock = dna | {"aliquot_barcode": f"{site}-A-{next(serial):07d}", "volume_ul": "200"}
    sub = dna | {"volume_ul": "50", "parent_barcode": stock["aliquot_barcode"]}
    subs = [sub | {"aliquot_barcode": f"{site}-A-{next(serial):07d}"} for _ in range(2)]
    return [*rows, stock, *subs]


def collection_log(count: int, seed: int = SEED) -> CollectionLog:
    """`count` aliquot rows in the template's columns, and the subjects they name."""
    rng = random.Random(seed)
    subjects = make_subjects(count // MIN_ROWS_PER_SUBJECT + 1, rng)  # enough, whatever the dice
    serial = iter(range(1, 10**7))
    rows: list[dict[str, str]] = []
    used = 0
    while len(rows) < count:
        code = subjects[used][0]
        used += 1
        first = date(2023, 1, 9) + timedelta(days=rng.randrange(0, 700))
        for number in range(1, rng.randint(1, 4) + 1):
            day = first + timedelta(days=365 * (number - 1) + rng.randrange(-20, 21))
            drawn = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
            visit = {"study_code": code, "visit_number": str(number), "visit_on": str(day)}
            drawn += timedelta(minutes=rng.randrange(0, 300))
            rows.extend(_visit_rows(rng, visit, drawn, serial))
    rows = rows[:count]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return CollectionLog(
        subjects=subjects[:used],
        data=buffer.getvalue().encode(),
        rows=len(rows),
        tubes=len({r["tube_barcode"] for r in rows}),
        visits=len({(r["study_code"], r["visit_number"]) for r in rows}),
        sub_aliquots=sum(1 for r in rows if r.get("parent_barcode")),
    )


def _when(value: str) -> datetime | None:
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


def _number(value: str) -> int | None:
    return int(value) if value else None


def _decimal(value: str) -> float | None:
    return float(value) if value else None


def _pre(row: dict[str, str]) -> PreAnalytics:
    pre_temperature = row["pre_processing_temperature"]
    spin_temperature = row["centrifuge_temperature"]
    return PreAnalytics(
        collected_at=datetime.fromisoformat(row["collected_at"]).replace(tzinfo=UTC),
        received_at=_when(row["received_at"]),
        processing_started_at=_when(row["processing_started_at"]),
        pre_processing_temperature=Temperature(pre_temperature) if pre_temperature else None,
        centrifuge_g=_number(row["centrifuge_g"]),
        centrifuge_minutes=_number(row["centrifuge_minutes"]),
        centrifuge_temperature=Temperature(spin_temperature) if spin_temperature else None,
        centrifuge_braked=row["centrifuge_braked"] == "yes" if row["centrifuge_braked"] else None,
        processed_at=_when(row["processed_at"]),
        storage_temperature_c=_number(row["storage_temperature_c"]),
    )


def naive_import(session: Session, actor: Actor, data: bytes) -> None:
    """Baseline: one per-record service call per CSV row, each checking, auditing, committing."""
    visits: set[tuple[str, str]] = set()
    tubes: set[str] = set()
    for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig"))):
        key = (row["study_code"], row["visit_number"])
        if key not in visits:
            register_visit(
                session,
                actor,
                study_code=row["study_code"],
                visit_number=int(row["visit_number"]),
                visit_on=date.fromisoformat(row["visit_on"]),
            )
            visits.add(key)
        if row["tube_barcode"] not in tubes:
            accession_specimen(
                session,
                actor,
                study_code=row["study_code"],
                visit_number=int(row["visit_number"]),
                specimen_type=SpecimenType.WHOLE_BLOOD,
                tube_type=TubeType(row["tube_type"]),
                pre=_pre(row),
                volume_ml=float(row["tube_volume_ml"]),
                barcode=row["tube_barcode"],
            )
            tubes.add(row["tube_barcode"])
        aliquot_specimen(
            session,
            actor,
            specimen_barcode=row["tube_barcode"],
            specimen_type=SpecimenType(row["specimen_type"]),
            count=1,
            volume_ul=int(row["volume_ul"]),
            barcodes_given=[row["aliquot_barcode"]],
            parent_barcode=row["parent_barcode"] or None,
            concentration_ng_ul=_decimal(row["concentration_ng_ul"]),
            a260_280=_decimal(row["a260_280"]),
        )


def _count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def measure(mode: str, url: str, log_path: str, subjects: list[SubjectSpec]) -> dict[str, Any]:
    """One import into a fresh database, in this (fresh) process; then the checks."""
    engine, sessions = session_factory(url)
    with sessions() as session:
        tech = staff(session)
        register_subjects(session, tech, subjects)
        data = Path(log_path).read_bytes()
        events_before = _count(session, AuditEvent)
        session.expunge_all()
        rss_before = peak_rss_mib()
        start = time.perf_counter()
        if mode == "import":
            import_aliquots(session, tech, data=data, filename=Path(log_path).name)
        else:
            naive_import(session, tech, data)
        seconds = time.perf_counter() - start
        rss_after = peak_rss_mib()
        session.expunge_all()
        found = {
            "rows": _count(session, Aliquot),
            "tubes": _count(session, Specimen),
            "visits": _count(session, Visit),
            "events": _count(session, AuditEvent) - events_before,
        }
        report = verify_chain(session)
    engine.dispose()
    return found | {
        "seconds": seconds,
        "peak_rss_mib": rss_after,
        "import_rss_mib": rss_after - rss_before,
        "chain": "intact" if report.is_intact else f"BROKEN at {report.first_broken_id}",
        "chain_events": report.events_checked,
    }


def expected_events(mode: str, log: CollectionLog) -> int:
    """Import: one batch event and one per new visit, tube and aliquot. Baseline: the same
    without the batch event, plus aliquot_specimen's sub_aliquoted event on each DNA stock."""
    made = log.rows + log.tubes + log.visits
    return made + 1 if mode == "import" else made + log.sub_aliquots


def main() -> None:
    parser = argparse.ArgumentParser(description="Aliquot CSV import speed and memory.")
    parser.add_argument("--count", type=int, default=50_000, help="rows in the imported file")
    parser.add_argument(
        "--baseline-count", type=int, default=2_000, help="rows the per-row baseline writes"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; median shown")
    parser.add_argument("--db", choices=[*DIALECTS, "both"], default="both")
    args = parser.parse_args()
    logs = {"import": collection_log(args.count), "naive": collection_log(args.baseline_count)}
    with Databases() as databases:
        header("aliquot CSV import (lims.specimens.services.import_aliquots)")
        dialects = [d for d in DIALECTS if args.db in (d, "both")]
        for dialect in dialects:
            if reason := databases.unavailable(dialect):
                print(f"# {dialect}: skipped, {reason}")
        dialects = [d for d in dialects if not databases.unavailable(d)]
        paths = {}
        for mode, log in logs.items():
            paths[mode] = databases.tmp / f"collection-log-{log.rows}.csv"
            paths[mode].write_bytes(log.data)
            print(
                f"# {mode}: {log.rows:,} rows ({len(log.data) / 2**20:.1f} MiB), "
                f"{len(log.subjects):,} subjects pre-registered, {log.visits:,} visits, "
                f"{log.tubes:,} tubes; fresh database and process per run, median of "
                f"{args.repeat}"
            )
        print(f"# {databases.versions()}")
        table = Table(
            [("db", 10), ("method", 28), ("rows", 7), ("rows/s", 7), ("seconds", 7),
             ("peak RSS MiB", 12), ("import +MiB", 11), ("audit events", 12), ("chain", 6),
             ("counts", 6)]
        )  # fmt: skip
        with spawn_pool() as pool:
            for dialect in dialects:
                for mode, log in logs.items():
                    runs = []
                    for _ in range(args.repeat):
                        url = databases.fresh(dialect, "bench_imports")
                        job = (mode, url, str(paths[mode]), log.subjects)
                        runs.append(pool.apply(measure, job))
                    _show(table, dialect, mode, log, runs)


def _show(
    table: Table, dialect: str, mode: str, log: CollectionLog, runs: list[dict[str, Any]]
) -> None:
    median = {k: statistics.median(r[k] for r in runs) for k in ("seconds", "peak_rss_mib")}
    median["import_rss_mib"] = statistics.median(r["import_rss_mib"] for r in runs)
    expected = {"rows": log.rows, "tubes": log.tubes, "visits": log.visits}
    expected["events"] = expected_events(mode, log)
    counts_ok = all(r[k] == v for r in runs for k, v in expected.items())
    chains = {r["chain"] for r in runs}
    method = "import_aliquots" if mode == "import" else "naive: services per row"
    table.row(
        dialect,
        method,
        log.rows,
        log.rows / median["seconds"],
        median["seconds"],
        median["peak_rss_mib"],
        median["import_rss_mib"],
        runs[0]["events"],
        "intact" if chains == {"intact"} else ",".join(sorted(chains)),
        "ok" if counts_ok else "WRONG",
    )


if __name__ == "__main__":
    main()
