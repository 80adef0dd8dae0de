"""How the audit trail grows (docs/operations.md, "When to partition the audit trail"): the size
of audit_events per million events (table, indexes, TOAST) and the trail page's query time
(`read_trail`) as the trail grows, on PostgreSQL.

Run: .venv/bin/python bench/audit_size.py [--sizes 100000,300000,1000000] [--repeat 5]

The events are bench/audit_trail.py's (written through audit.record_many, chained and keyed;
70 % aliquot events with a before and after), each step added evenly over the same two years.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, text

from bench._common import Databases, Table, header, session_factory
from bench.audit_trail import SPAN, START, directory, load, median_ms
from lims.actors import Actor, Role
from lims.audit.models import AuditEvent
from lims.audit.services import TrailQuery, read_trail

SIZES = "SELECT pg_relation_size('audit_events'), pg_indexes_size('audit_events'), " + (
    "pg_total_relation_size('audit_events')"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    header(f"audit trail growth on PostgreSQL, medians of {args.repeat}, load {os.getloadavg()}")
    reader = Actor(user_id=None, username="bench", role=Role.REVIEWER)
    rng = random.Random(20261202)
    with Databases() as dbs:
        if reason := dbs.unavailable("postgresql"):
            raise SystemExit(f"PostgreSQL unavailable: {reason}")
        engine, make = session_factory(dbs.fresh("postgresql", "bench_audit_size"))
        table = Table(
            [("events", 10), ("heap MiB", 9), ("index MiB", 10), ("total MiB", 10),
             ("B/event", 8), ("newest ms", 10), ("90% back ms", 12), ("user ms", 8),
             ("one day ms", 11), ("write s", 8), ("load", 5)]
        )  # fmt: skip
        written = 0
        for size in sizes:
            began = time.monotonic()
            with make() as session:
                load(session, size - written, rng)
            seconds, written = time.monotonic() - began, size
            with make() as session:
                heap, index, total = session.execute(text(SIZES)).one()
                ids = list(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))
                code = session.scalar(
                    select(AuditEvent.object_id).where(AuditEvent.object_type == "aliquot")
                )
            found, middle = directory(code or "1"), START + SPAN / 2
            cases = [
                TrailQuery(),
                TrailQuery(before=ids[len(ids) // 10]),
                TrailQuery(user="tech"),
                TrailQuery(since=middle, until=middle + timedelta(days=1)),
            ]
            timings = [
                median_ms(
                    make,
                    lambda s, q=q, d=found: read_trail(s, reader, query=q, directory=d),
                    args.repeat,
                )
                for q in cases
            ]
            mib = 2**20
            table.row(
                f"{size:,}", heap / mib, index / mib, total / mib, total / size, *timings,
                seconds, os.getloadavg()[0],
            )  # fmt: skip
            sys.stdout.flush()
        engine.dispose()
        print(dbs.versions())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"client CPU {usage.ru_utime + usage.ru_stime:.0f} s")


if __name__ == "__main__":
    main()
