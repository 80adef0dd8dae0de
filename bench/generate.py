"""`demo generate` at size: wall time, CPU of this process and of the PostgreSQL backend, the
load average, rows per table, and the audit chain verified after.

Run: .venv/bin/python bench/generate.py [--subjects N] [--db sqlite|postgresql] [--keep]

On a fresh database (the throwaway cluster of bench/_common.py on PostgreSQL). The CPU times say
what the generation costs on an unloaded core, which the shared machine's wall time does not:
this process's (building rows, scoring, the services) and the backend's (COPY, indexes,
constraints, the requests' queries), read from /proc as bench/feasibility.py reads it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from bench._common import Databases, header, peak_rss_mib, process_cpu_s, session_factory
from lims import demo_scale
from lims.audit.services import verify_chain
from lims.bulk_copy import table_of

SEED = 20261201


def backend_cpu_s(pid: int | None) -> float:
    return 0.0 if pid is None else process_cpu_s(pid)


def _since(start: float, cpu0: float, server0: float, pid: int | None) -> tuple[float, ...]:
    """Wall, this process's CPU and the backend's CPU seconds since the marks."""
    return (
        time.perf_counter() - start,
        time.process_time() - cpu0,
        backend_cpu_s(pid) - server0,
    )


def _print(phase: tuple[Any, ...]) -> None:
    name, wall, cpu, server = phase
    print(
        f"{name}: wall {wall:.1f} s; this process CPU {cpu:.1f} s; backend CPU {server:.1f} s; "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=5_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    args = parser.parse_args(argv)
    header(f"demo generate, {args.subjects:,} subjects, {args.db}")
    with Databases() as databases:
        url = databases.fresh(args.db, "bench_generate")
        engine, sessions = session_factory(url)
        with sessions() as session:
            pid = None
            if args.db == "postgresql":
                pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
            load_before = os.getloadavg()[0]
            cpu0, server0, start = time.process_time(), backend_cpu_s(pid), time.perf_counter()
            done = demo_scale.generate(session, subjects=args.subjects, seed=SEED)
            phases = [("demo generate", *_since(start, cpu0, server0, pid))]
            _print(phases[-1])
            print(f"of which the requests (services, after the first batch): "
                  f"{done.requests_seconds:.1f} s", flush=True)  # fmt: skip
            load_after = os.getloadavg()[0]
            counts = {
                table_of(m).name: session.scalar(text(f'SELECT count(*) FROM "{table_of(m).name}"'))
                for m in demo_scale.MODELS
            }
            verify_start = time.perf_counter()
            intact = verify_chain(session).is_intact
            verified = time.perf_counter() - verify_start
        engine.dispose()
    print(f"load average (1 min) {load_before:.1f} before, {load_after:.1f} after")
    print(f"peak RSS {peak_rss_mib():.0f} MiB; audit chain intact: {intact} ({verified:.0f} s)")
    print(f"generated: {done.summary()}")
    for name, n in counts.items():
        print(f"  {name:24} {n:>12,}")


if __name__ == "__main__":
    main()
