"""Paging through a large audit trail: the trail page's service (keyset on the event id, no
count) against the competent baseline it replaced (the same filters, OFFSET paging and a
count(*) of the matches), on SQLite and PostgreSQL.

Run: .venv/bin/python bench/audit_trail.py [--events N] [--repeat R] [--db sqlite|postgresql|both]

The trail is written through audit.record_many in batches of 100 (so every row is chained and
keyed as the application writes it): 70 % aliquot events on 50,000 aliquots, the rest box,
subject and sign-in events, by 6 users, the batches spread evenly over two years (300,000
events: about 400 a day). The code filter's lookup (a unique index per feature) is replaced by
a fixed answer, one aliquot; what is timed is the trail query and the naming of the page's
objects.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bench._common import DIALECTS, Databases, Table, header, session_factory
from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action, AuditEvent
from lims.audit.services import Directory, Named, TrailQuery, read_trail
from lims.find import name_refs

PER_PAGE = 50
USERS = ("tech", "tech-eu", "tech2", "reviewer", "admin", "demo")
ACTIONS = (
    (Action.ALIQUOT_STORED, "aliquot"),
    (Action.ALIQUOT_CHECKED_OUT, "aliquot"),
    (Action.ALIQUOT_CHECKED_IN, "aliquot"),
    (Action.ALIQUOT_MOVED, "aliquot"),
    (Action.BOX_MOVED, "box"),
    (Action.SUBJECT_REGISTERED, "subject"),
    (Action.USER_SIGNED_IN, "user"),
)
WEIGHTS = (25, 15, 15, 15, 10, 10, 10)
START = datetime(2025, 1, 1, tzinfo=UTC)


SPAN = timedelta(days=730)
BATCH = 100


def load(session: Session, count: int, rng: random.Random) -> None:
    at, step = START, SPAN / max(1, count // BATCH)
    for first in range(0, count, BATCH):
        actor = Actor(user_id=None, username=rng.choice(USERS), role=Role.TECHNICIAN)
        events = []
        for _ in range(min(BATCH, count - first)):
            action, kind = rng.choices(ACTIONS, WEIGHTS)[0]
            events.append(
                audit.Event(
                    action,
                    (kind, str(rng.randrange(1, 50_001))),
                    after={"box": f"B{rng.randrange(10**6):06d}", "position": "A1"},
                    before={"box": f"B{rng.randrange(10**6):06d}", "position": "A1"},
                )
            )
        audit.record_many(session, actor, events, at=at)
        session.commit()
        at += step
    if session.get_bind().dialect.name == "postgresql":
        session.commit()
        with session.get_bind().connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE audit_events")
            )


def competent(session: Session, query: TrailQuery, page: int) -> tuple[list[AuditEvent], int]:
    """What the page did before: the filters in SQL, count(*) of the matches, OFFSET paging."""
    stmt = select(AuditEvent)
    if query.user:
        stmt = stmt.where(AuditEvent.actor_username == query.user)
    if query.action:
        stmt = stmt.where(AuditEvent.action.like(query.action + "%"))
    if query.since:
        stmt = stmt.where(AuditEvent.occurred_at >= query.since)
    if query.until:
        stmt = stmt.where(AuditEvent.occurred_at < query.until)
    if query.code:
        stmt = stmt.where(AuditEvent.object_type == "aliquot", AuditEvent.object_id == query.code)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(AuditEvent.id.desc()).offset((page - 1) * PER_PAGE).limit(PER_PAGE)
    )
    return list(rows), total


def directory(aliquot_id: str) -> Directory:
    return Directory(
        find=lambda s, a, code: [Named("aliquot", int(aliquot_id), code)],
        name=name_refs,
        zone_of=lambda s, a: "UTC",
        to_utc=lambda moment, zone: moment.replace(tzinfo=UTC),
    )


def median_ms(make: Callable[[], Session], run: Callable[[Session], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat + 1):  # the first run warms the caches and is not counted
        with make() as session:
            started = time.perf_counter()
            run(session)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    header(f"audit trail paging, {args.events:,} events, medians of {args.repeat} runs")
    reviewer = Actor(user_id=None, username="bench", role=Role.REVIEWER)
    with Databases() as dbs:
        table = Table([("database", 11), ("case", 44), ("ours ms", 9), ("competent ms", 13)])
        for dialect in DIALECTS if args.db == "both" else (args.db,):
            if reason := dbs.unavailable(dialect):
                print(f"{dialect}: skipped ({reason})")
                continue
            engine, make = session_factory(dbs.fresh(dialect, "bench_trail"))
            with make() as session:
                load(session, args.events, random.Random(20261201))
                ids = list(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))
                code = session.scalar(
                    select(AuditEvent.object_id).where(AuditEvent.object_type == "aliquot")
                )
            deep = len(ids) * 9 // 10  # 90 % of the way back: the oldest tenth
            middle = START + SPAN / 2
            cases: list[tuple[str, TrailQuery, TrailQuery, int]] = [
                ("newest page, no filter", TrailQuery(), TrailQuery(), 1),
                (
                    f"page {deep // PER_PAGE:,} (90 % back), no filter",
                    TrailQuery(before=ids[len(ids) - deep]),
                    TrailQuery(),
                    deep // PER_PAGE + 1,
                ),
                ("user tech, newest page", TrailQuery(user="tech"), TrailQuery(user="tech"), 1),
                (
                    "action aliquot., newest page",
                    TrailQuery(action="aliquot."),
                    TrailQuery(action="aliquot."),
                    1,
                ),
                (
                    "one aliquot's events (code filter)",
                    TrailQuery(code=code),
                    TrailQuery(code=code),
                    1,
                ),
                (
                    "one day in the middle",
                    TrailQuery(
                        since=middle.replace(tzinfo=None),
                        until=(middle + timedelta(days=1)).replace(tzinfo=None),
                    ),
                    TrailQuery(since=middle, until=middle + timedelta(days=1)),
                    1,
                ),
            ]
            found = directory(code or "1")
            for name, ours, theirs, page in cases:
                mine = median_ms(
                    make,
                    lambda s, q=ours, d=found: read_trail(s, reviewer, query=q, directory=d),
                    args.repeat,
                )
                base = median_ms(make, lambda s, q=theirs, p=page: competent(s, q, p), args.repeat)
                table.row(dialect, name, mine, base)
            engine.dispose()
        print(dbs.versions())


if __name__ == "__main__":
    main()
