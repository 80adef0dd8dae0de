"""Aliquot CSV import speed on SQLite and PostgreSQL, against a competent baseline and a strawman.

Run: .venv/bin/python bench/imports.py [--count N] [--strawman-count N] [--repeat R]
                                       [--db sqlite|postgresql|both] [--profile FILE]

--profile FILE writes cProfile's statistics of our first timed import (per database:
FILE.postgresql, FILE.sqlite) for `python -m pstats` (wall-clock: waiting for the database
shows in psycopg's `wait`); that run is then slower than the others.

The file is a synthetic consortium collection log in the import's own template columns: many
subjects at three sites, 1 to 4 visits each, per visit an SST tube split into 3-5 serum aliquots
and an EDTA tube giving a DNA stock and two sub-aliquots, every row repeating its tube's columns
as a spreadsheet export does. The subjects are registered beforehand with bulk inserts that
write the rows (and `subject.registered` events) register_subject would; that is not timed.

Three ways to import it (bench/import_baselines.py): ours (import_aliquots); the competent
baseline (the ORM, one audit.record per event, one transaction) on the same file; and the
strawman (the per-record services, a commit per row) on a smaller file of the same kind, so it
is compared in rows/s. Every run gets a fresh database in a fresh process; the runs of the three
alternate, after one untimed warm-up run of each on a small file. The audit chain and the counts
are checked after each run. "client CPU s" is the benchmark process's own CPU time (all of the
work on SQLite, none of the server's on PostgreSQL), "server CPU s" the PostgreSQL backend's
(read from /proc, so the cluster must run on this machine): on a shared machine both move less
than the wall-clock seconds. "load" is the 1-minute load average when the last run ended.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import os
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

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bench._common import (
    DIALECTS,
    Databases,
    SubjectSpec,
    Table,
    header,
    make_subjects,
    peak_rss_mib,
    process_cpu_s,
    register_subjects,
    session_factory,
    spawn_pool,
    staff,
)
from bench.import_baselines import competent_import, strawman_import
from lims.audit.models import AuditEvent
from lims.audit.services import verify_chain
from lims.specimens.models import Aliquot, Specimen, Visit
from lims.specimens.services import import_aliquots, template_csv

COLUMNS = next(csv.reader(io.StringIO(template_csv())))
MIN_ROWS_PER_SUBJECT = 6  # one visit: 3 serum aliquots, a DNA stock and 2 sub-aliquots
SEED = 20261125
MODES = ("ours", "competent", "strawman")
METHODS = {
    "ours": "import_aliquots",
    "competent": "competent: ORM, 1 transaction",
    "strawman": "STRAWMAN: services per row",
}


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
        # Within the working day or the next one: never at night, where a clock change makes
        # a local time ambiguous or missing (the import refuses those, rightly; issue #15).
        "processed_at": _time(drawn + timedelta(hours=rng.choice((4, 5, 6, 24, 26, 28)))),
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
        # Every draw in the past (the import refuses a future one): 4 yearly visits at most.
        first = date(2021, 1, 11) + timedelta(days=rng.randrange(0, 700))
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


def _count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _backend_pid(session: Session) -> int | None:
    if session.get_bind().dialect.name != "postgresql":
        return None
    return int(session.scalar(text("SELECT pg_backend_pid()")) or 0)


def measure(
    mode: str, url: str, log_path: str, subjects: list[SubjectSpec], profile: str | None = None
) -> dict[str, Any]:
    """One import into a fresh database, in this (fresh) process; then the checks."""
    engine, sessions = session_factory(url)
    with sessions() as session:
        tech = staff(session)
        register_subjects(session, tech, subjects)
        data = Path(log_path).read_bytes()
        events_before = _count(session, AuditEvent)
        session.expunge_all()
        rss_before = peak_rss_mib()
        # The import runs on the connection this transaction holds (one commit, at its end).
        pid = _backend_pid(session)
        server_start = process_cpu_s(pid) if pid else 0.0
        profiler = cProfile.Profile() if profile else None
        start, cpu_start = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        if mode == "ours":
            import_aliquots(session, tech, data=data, filename=Path(log_path).name)
        elif mode == "competent":
            competent_import(session, tech, data=data, filename=Path(log_path).name)
        else:
            strawman_import(session, tech, data)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)  # type: ignore[arg-type]
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        server = process_cpu_s(pid) - server_start if pid else 0.0
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
        "cpu": cpu,
        "server_cpu": server,
        "peak_rss_mib": rss_after,
        "import_rss_mib": rss_after - rss_before,
        "chain": "intact" if report.is_intact else f"BROKEN at {report.first_broken_id}",
        "chain_events": report.events_checked,
    }


def expected_events(mode: str, log: CollectionLog) -> int:
    """Ours and the competent baseline: one batch event and one per new visit, tube and
    aliquot. The strawman: the same without the batch event, plus aliquot_specimen's
    sub_aliquoted event on each DNA stock."""
    made = log.rows + log.tubes + log.visits
    return made + log.sub_aliquots if mode == "strawman" else made + 1


def main() -> None:
    parser = argparse.ArgumentParser(description="Aliquot CSV import speed and memory.")
    parser.add_argument("--count", type=int, default=50_000, help="rows in the imported file")
    parser.add_argument(
        "--strawman-count", type=int, default=2_000, help="rows the per-row strawman writes"
    )
    parser.add_argument(
        "--competent-count",
        type=int,
        help="rows the competent baseline imports (default: --count); compared in rows/s",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; median shown")
    parser.add_argument("--warm-up", type=int, default=500, help="rows of the untimed first run")
    parser.add_argument("--db", choices=[*DIALECTS, "both"], default="both")
    parser.add_argument("--profile", help="write cProfile statistics of our first timed import")
    parser.add_argument(
        "--methods", choices=[*MODES, "all"], default="all", help="which methods to run"
    )
    args = parser.parse_args()
    modes = MODES if args.methods == "all" else (args.methods,)
    full = collection_log(args.count)
    competent = collection_log(args.competent_count) if args.competent_count else full
    sizes = {"ours": full.rows, "competent": competent.rows, "strawman": args.strawman_count}
    logs = {
        "ours": full,
        "competent": competent,
        "strawman": collection_log(args.strawman_count),
    }
    logs = {mode: logs[mode] for mode in modes if sizes[mode]}
    warm = collection_log(args.warm_up)
    with Databases() as databases:
        header("aliquot CSV import (lims.specimens.services.import_aliquots)")
        dialects = [d for d in DIALECTS if args.db in (d, "both")]
        for dialect in dialects:
            if reason := databases.unavailable(dialect):
                print(f"# {dialect}: skipped, {reason}")
        dialects = [d for d in dialects if not databases.unavailable(d)]
        paths = {}
        for log in (*logs.values(), warm):
            paths[log.rows] = databases.tmp / f"collection-log-{log.rows}.csv"
            paths[log.rows].write_bytes(log.data)
        for mode, log in logs.items():
            print(
                f"# {mode}: {log.rows:,} rows ({len(log.data) / 2**20:.1f} MiB), "
                f"{len(log.subjects):,} subjects pre-registered, {log.visits:,} visits, "
                f"{log.tubes:,} tubes"
            )
        print(
            f"# fresh database and process per run; median of {args.repeat} runs, the "
            f"methods alternating, after an untimed {warm.rows}-row warm-up run of each"
        )
        print(f"# {databases.versions()}")
        table = Table(
            [("db", 10), ("method", 30), ("rows", 6), ("rows/s", 7), ("seconds", 7),
             ("client CPU s", 12), ("server CPU s", 12), ("peak RSS MiB", 12),
             ("import +MiB", 11), ("audit events", 12), ("chain", 6), ("counts", 6),
             ("vs competent", 12), ("vs strawman", 11), ("load", 5)]
        )  # fmt: skip
        with spawn_pool() as pool:
            for dialect in dialects:
                for mode in logs:
                    url = databases.fresh(dialect, "bench_imports")
                    pool.apply(measure, (mode, url, str(paths[warm.rows]), warm.subjects))
                runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in logs}
                for repeat in range(args.repeat):
                    for mode, log in logs.items():
                        url = databases.fresh(dialect, "bench_imports")
                        profile = args.profile if mode == "ours" and repeat == 0 else None
                        profile = f"{profile}.{dialect}" if profile else None
                        job = (mode, url, str(paths[log.rows]), log.subjects, profile)
                        runs[mode].append(pool.apply(measure, job))
                _show(table, dialect, logs, runs)


def _show(
    table: Table,
    dialect: str,
    logs: dict[str, CollectionLog],
    runs: dict[str, list[dict[str, Any]]],
) -> None:
    rate = {m: logs[m].rows / statistics.median(r["seconds"] for r in runs[m]) for m in logs}
    load = f"{os.getloadavg()[0]:.1f}"
    for mode in logs:
        log, mode_runs = logs[mode], runs[mode]
        expected = {"rows": log.rows, "tubes": log.tubes, "visits": log.visits}
        expected["events"] = expected_events(mode, log)
        counts_ok = all(r[k] == v for r in mode_runs for k, v in expected.items())
        chains = {r["chain"] for r in mode_runs}
        ours = mode == "ours"
        table.row(
            dialect,
            METHODS[mode],
            log.rows,
            rate[mode],
            statistics.median(r["seconds"] for r in mode_runs),
            statistics.median(r["cpu"] for r in mode_runs),
            statistics.median(r["server_cpu"] for r in mode_runs),
            statistics.median(r["peak_rss_mib"] for r in mode_runs),
            statistics.median(r["import_rss_mib"] for r in mode_runs),
            mode_runs[0]["events"],
            "intact" if chains == {"intact"} else ",".join(sorted(chains)),
            "ok" if counts_ok else "WRONG",
            _ratio(rate, "competent", "{:.1f}x") if ours else "",
            _ratio(rate, "strawman", "{:.0f}x") if ours else "",
            load,
        )


def _ratio(rate: dict[str, float], other: str, shape: str) -> str:
    return shape.format(rate["ours"] / rate[other]) if "ours" in rate and other in rate else ""


if __name__ == "__main__":
    main()
