"""Feasibility with phenotype criteria at consortium size, against one hand-written SQL query.

Run: .venv/bin/python bench/feasibility.py [--subjects N] [--repeat R] [--db sqlite|postgresql|both]
         [--keep-db DIR | --url URL] [--load-only] [--explain]
     .venv/bin/python bench/feasibility.py --url URL --time-only [--repeat R] [--on DAY] [--explain]

Loading 2,000,000 aliquots takes minutes, so PostgreSQL's database can be kept: --keep-db DIR
keeps a private cluster in DIR (initdb on first use) and the loaded database in it, --url uses
a database of an existing server; either loads on the first run and reuses on the next ones with
the same --subjects (migrating it to the newest revision first). --load-only stops after loading,
--explain prints EXPLAIN (ANALYZE, BUFFERS) of both queries. The exact commands for the issue's
figure are in docs/benchmarks.md.

--time-only times ours alone on whatever database --url names, as it is: nothing is loaded,
migrated or written, so it can time the set `flask --app lims demo generate` built (its phenotype
is richer than ours) or any copy of production. It prints the counts, the median wall, database
and client CPU times of --repeat runs after one warm-up, every run's wall time and the load
average before and after.

N subjects (default 5,000; the issue's size is 50,000: 200,000 visits, 2,000,000 aliquots), each
with 4 yearly visits, per visit one SST tube split into 8 serum and 2 plasma aliquots (10), a
diagnosis, a TWSTRS and a GDRS total, and for most cervical and blepharospasm visits a
botulinum toxin injection 2 to 20 weeks before. Consent: one consent on the demo's form v1, 11 %
declining genetic research, 5 % commercial use, 1 % withdrawn. 90 % of aliquots are stored and
placed in 9x9 boxes. The rows are bulk-loaded (COPY on PostgreSQL, executemany on SQLite) with
no audit events: the benchmark times the read, and the demo and tests cover the writes.

The question is the issue's: serum from cervical dystonia subjects with two or more visits, a
TWSTRS total of at least 20 at the visit of collection and no toxin injection within 12 weeks
before it, for genetic and non-commercial health research (HMB + GSO + NCU), consent as of today.

Three figures per database, each the median of --repeat runs after one warm-up, in one process,
as wall time and as the database's CPU time (the PostgreSQL backend's and its parallel
workers', read from /proc; for SQLite this process's), which is what a query costs on an
unloaded core, and for ours the client process's CPU time:
- ours: count_matches (the criteria engine's one query, counted per diagnosis in SQL);
- service: check_feasibility as an investigator (the count, the protection, the query log, the
  audit event, one commit);
- hand-written: the same count as one SQL query a competent engineer would write for this
  question (CTEs, EXISTS), checked to give the same numbers.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from alembic import command
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session

from bench._common import (
    DIALECTS,
    Databases,
    Table,
    children_cpu_s,
    header,
    parent_pid,
    process_cpu_s,
    session_factory,
    staff,
)
from lims.actors import Actor, Role
from lims.auth.models import Site, User
from lims.auth.services import create_user
from lims.cli import alembic_config
from lims.db import make_engine
from lims.demo import CONSENT_V1, DIAGNOSIS_WEIGHTS
from lims.demo_scale_requests import EXAMPLE
from lims.requests.criteria import Criteria, count_matches, count_statement, parse_criteria
from lims.requests.services.feasibility import FeasibilitySettings, check_feasibility
from lims.specimens.consent_models import ConsentStatement
from lims.specimens.services import create_consent_document
from tests.databases import PostgresUnavailable, pg_command

VISITS, SERUM, PLASMA = 4, 8, 2
BOX = 81
CHUNK = 20_000
ON = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
REGIONS = {
    "cervical": '["neck"]',
    "blepharospasm": '["eyes"]',
    "laryngeal": '["larynx"]',
    "craniofacial": '["jaw_tongue", "lower_face"]',
    "limb": '["hand_right"]',
}
CRITERIA = EXAMPLE  # the issue #19 question, as the generated demo asks it too
HAND_WRITTEN = """
WITH in_force AS (
  SELECT e.id, e.subject_id, row_number() OVER (
           PARTITION BY e.subject_id ORDER BY e.occurred_on DESC, e.id DESC) AS rn
  FROM consent_events e
  WHERE e.kind <> 'withdrew' AND e.occurred_on <= :on
),
permitted AS (
  SELECT f.subject_id FROM in_force f
  WHERE f.rn = 1
    AND EXISTS (SELECT 1 FROM consent_answers a JOIN consent_statements s ON s.id = a.statement_id
                WHERE a.event_id = f.id AND s.kind = 'permission' AND a.answer
                  AND s.duo_id IN ('DUO:0000042', 'DUO:0000006'))
    AND NOT EXISTS (SELECT 1 FROM consent_answers a
                    JOIN consent_statements s ON s.id = a.statement_id
                    WHERE a.event_id = f.id AND s.kind = 'required_for' AND NOT a.answer
                      AND s.duo_id IN ('DUO:0000016', 'DUO:0000046'))
    AND NOT EXISTS (SELECT 1 FROM consent_answers a
                    JOIN consent_statements s ON s.id = a.statement_id
                    WHERE a.event_id = f.id AND s.kind = 'restriction' AND a.answer = s.restricts_on
                      AND s.duo_id IN ('DUO:0000045', 'DUO:0000018'))
    AND NOT EXISTS (SELECT 1 FROM consent_events w
                    WHERE w.subject_id = f.subject_id AND w.kind = 'withdrew'
                      AND w.occurred_on <= :on
                      AND w.withdrawal_level IN ('no_further_access', 'no_further_use'))
),
matching AS (
  SELECT v.subject_id, v.id AS visit_id, s.primary_diagnosis
  FROM aliquots a
  JOIN specimens sp ON sp.id = a.specimen_id
  JOIN visits v ON v.id = sp.visit_id
  JOIN subjects s ON s.id = v.subject_id
  WHERE a.status = 'stored' AND a.specimen_type = 'serum' AND s.primary_diagnosis = 'cervical'
    AND s.id IN (SELECT subject_id FROM permitted)
    AND EXISTS (SELECT 1 FROM scale_administrations x
                WHERE x.visit_id = v.id AND x.scale_id = 'twstrs'
                  AND COALESCE(x.total_score, x.imported_total) >= 20)
    AND NOT EXISTS (SELECT 1 FROM treatments t JOIN visits tv ON tv.id = t.visit_id
                    WHERE tv.subject_id = v.subject_id AND t.kind = 'botulinum_toxin'
                      AND t.given_on <= v.visit_on AND {days} < 84)
)
SELECT primary_diagnosis, count(DISTINCT subject_id), count(DISTINCT visit_id), count(*)
FROM matching
WHERE subject_id IN (SELECT subject_id FROM matching GROUP BY subject_id
                     HAVING count(DISTINCT visit_id) >= 2)
GROUP BY primary_diagnosis
"""
DAYS = {
    "postgresql": "(v.visit_on - t.given_on)",
    "sqlite": "(julianday(v.visit_on) - julianday(t.given_on))",
}
# (table, columns); rows are generated in this column order
TABLES: dict[str, tuple[str, ...]] = {
    "subjects": ("id", "study_code", "site_id", "sex", "primary_diagnosis", "enrolment_status",
                 "birth_year", "created_at"),
    "consent_events": ("id", "subject_id", "kind", "occurred_on", "document_id",
                       "withdrawal_level", "recorded_at"),
    "consent_answers": ("event_id", "statement_id", "answer"),
    "visits": ("id", "subject_id", "visit_number", "visit_on"),
    "diagnoses": ("visit_id", "dystonia", "body_regions", "age_at_onset_years", "created_at"),
    "scale_administrations": ("visit_id", "scale_id", "scale_version", "repeat_instance",
                              "answers", "total_score", "subscale_scores", "imported_total",
                              "flags", "created_at"),
    "treatments": ("visit_id", "kind", "repeat_instance", "product", "dose_units", "muscles",
                   "dbs_targets", "given_on", "created_at"),
    "specimens": ("id", "barcode", "visit_id", "specimen_type", "tube_type", "collected_at",
                  "created_at"),
    "freezers": ("id", "name", "temperature_c", "room", "created_at"),
    "racks": ("id", "freezer_id", "name"),
    "boxes": ("id", "barcode", "name", "rack_id", "n_rows", "n_cols", "created_at"),
    "aliquots": ("id", "barcode", "is_issued_barcode", "specimen_id", "specimen_type",
                 "volume_ul", "drawn_ul", "status", "freeze_thaw_count", "sprec_code",
                 "created_at"),
    "placements": ("aliquot_id", "box_id", "row", "col", "placed_at"),
}  # fmt: skip


def generate(
    subjects: int, sites: Sequence[int], statements: dict[str, int], seed: int
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row, by table (a few million tuples at 50,000 subjects: about 2 GB of memory)."""
    rng = random.Random(seed)
    kinds, weights = list(DIAGNOSIS_WEIGHTS), list(DIAGNOSIS_WEIGHTS.values())
    out: dict[str, list[tuple[Any, ...]]] = {name: [] for name in TABLES}
    aliquot_id = specimen_id = 0
    stored: list[int] = []
    for s in range(1, subjects + 1):
        dx = rng.choices(kinds, weights)[0].value
        born = rng.randrange(1940, 1990)
        out["subjects"].append((s, f"B-{s:06d}", sites[s % len(sites)],
                                "female" if rng.random() < 0.65 else "male", dx, "enrolled",
                                born, CREATED))  # fmt: skip
        first = date(2021, 1, 11) + timedelta(days=rng.randrange(0, 700))
        out["consent_events"].append(
            (s, s, "consented", first - timedelta(days=1), 1, None, CREATED)
        )
        answers = {"genetic": rng.random() > 0.11, "commercial": rng.random() > 0.05}
        for code, statement_id in statements.items():
            out["consent_answers"].append((s, statement_id, answers.get(code, True)))
        if rng.random() < 0.01:
            out["consent_events"].append((subjects + s, s, "withdrew", date(2025, 6, 1), None,
                                          "no_further_use", CREATED))  # fmt: skip
        onset = rng.randrange(25, 60)
        for n in range(1, VISITS + 1):
            visit_id = (s - 1) * VISITS + n
            visit_on = first + timedelta(days=365 * (n - 1) + rng.randrange(-20, 21))
            out["visits"].append((visit_id, s, n, visit_on))
            out["diagnoses"].append((visit_id, dx, REGIONS[dx], onset, CREATED))
            twstrs = rng.randrange(5, 60) if dx == "cervical" else None
            for scale, total in (("twstrs", twstrs), ("gdrs", rng.randrange(0, 40))):
                if total is not None:
                    out["scale_administrations"].append((visit_id, scale, "bench", 1, "{}", None,
                                                         "{}", total, "[]", CREATED))  # fmt: skip
            if dx in ("cervical", "blepharospasm") and rng.random() < 0.75:
                given = visit_on - timedelta(weeks=rng.randrange(2, 21))
                out["treatments"].append((visit_id, "botulinum_toxin", 1, "onabotulinumtoxinA",
                                          200, "[]", "[]", given, CREATED))  # fmt: skip
            specimen_id += 1
            drawn = datetime(visit_on.year, visit_on.month, visit_on.day, 9, tzinfo=UTC)
            out["specimens"].append((specimen_id, f"T{specimen_id:08d}", visit_id, "whole_blood",
                                     "SST", drawn, CREATED))  # fmt: skip
            for k in range(SERUM + PLASMA):
                aliquot_id += 1
                kind = "serum" if k < SERUM else "plasma"
                status = "stored" if rng.random() < 0.9 else rng.choice(("consumed", "checked_out"))
                code = f"{'SER' if kind == 'serum' else 'PL1'}-SST-A-B-N-B-A"
                thawed = rng.randrange(0, 3)
                out["aliquots"].append((aliquot_id, f"A{aliquot_id:09d}", True, specimen_id, kind,
                                        250, 250, status, thawed, code, CREATED))  # fmt: skip
                if status == "stored":
                    stored.append(aliquot_id)
    boxes = (len(stored) + BOX - 1) // BOX
    racks = (boxes + 19) // 20
    freezers = (racks + 9) // 10
    out["freezers"] = [
        (f, f"Bench freezer {f}", -80, "B1", CREATED) for f in range(1, freezers + 1)
    ]
    out["racks"] = [(r, (r - 1) // 10 + 1, f"R{r}") for r in range(1, racks + 1)]
    out["boxes"] = [(b, f"BX{b:07d}", f"Box {b}", (b - 1) // 20 + 1, 9, 9, CREATED)
                    for b in range(1, boxes + 1)]  # fmt: skip
    out["placements"] = [
        (a, i // BOX + 1, (i % BOX) // 9, i % 9, CREATED) for i, a in enumerate(stored)
    ]
    return out


def load(engine: Engine, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        for table, columns in TABLES.items():
            data = rows[table]
            if engine.dialect.name == "postgresql":
                with driver.cursor() as cur:  # type: ignore[union-attr]
                    quoted = ", ".join(f'"{c}"' for c in columns)
                    with cur.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                        for row in data:
                            copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns)
                names = ", ".join(f'"{c}"' for c in columns)
                sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
                cur = driver.cursor()  # type: ignore[union-attr]
                # lims/db.py leaves pysqlite in autocommit and begins through SQLAlchemy; a raw
                # connection must begin itself, or every row is its own transaction.
                if not driver.in_transaction:  # type: ignore[union-attr]
                    cur.execute("BEGIN")
                for chunk in _chunks(data, CHUNK):
                    cur.executemany(sql, [tuple(_sqlite(v) for v in row) for row in chunk])
        raw.commit()
    finally:
        raw.close()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in TABLES:  # the app inserts after us: move each id sequence past our ids
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    _vacuum(engine.url.render_as_string(hide_password=False))


def _sqlite(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def server_cpu_s(conn: Any) -> float:
    """CPU seconds the database has spent for this connection so far: the PostgreSQL backend's
    (from /proc, the cluster is local) plus that of the postmaster's finished children, which
    holds the parallel workers a query started; for SQLite, this process's own. A remote
    server (--url on another host) shows as NaN."""
    if conn.dialect.name != "postgresql":
        return time.process_time()
    pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    try:
        return process_cpu_s(pid) + children_cpu_s(parent_pid(pid))
    except OSError:
        return math.nan


def timed(run: Callable[[], tuple[Any, float]], repeat: int) -> tuple[float, float, float, Any]:
    """Median wall ms, median database CPU ms and median CPU ms of this (client) process, of
    `repeat` runs after one warm-up."""
    result, _ = run()  # warm-up: caches, plans
    walls, cpus, clients = [], [], []
    for _ in range(repeat):
        start, client = time.perf_counter(), time.process_time()
        result, cpu = run()
        walls.append(time.perf_counter() - start)
        clients.append(time.process_time() - client)
        cpus.append(cpu)
    ms = [statistics.median(values) * 1000 for values in (walls, cpus, clients)]
    return ms[0], ms[1], ms[2], result


class KeptCluster:
    """A PostgreSQL cluster whose data directory outlives the run (--keep-db DIR): created with
    initdb on first use, started for the run if it is not running, stopped after if we started
    it. The loaded database stays, so the 2,000,000 aliquots are loaded once and timed many
    times. Same settings as the tests' throwaway cluster, plus shared_buffers of 1 GB: a
    production server gives PostgreSQL a quarter of its memory, and the default 128 MB holds
    less than the aliquots table."""

    OPTIONS = (
        "-c listen_addresses='' -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=50 -c shared_buffers=1GB"
    )

    def __init__(self, directory: Path) -> None:
        self.root = directory.resolve()
        self.data, self.sock = self.root / "data", self.root / "sock"
        self.is_root = os.geteuid() == 0
        if not (self.data / "PG_VERSION").exists():
            self.sock.mkdir(parents=True, exist_ok=True)
            if self.is_root:  # PostgreSQL refuses to run as root (tests/databases.py)
                for path in (self.root, self.sock):
                    shutil.chown(path, "postgres")
                self.root.chmod(0o755)
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                      "-E", "UTF8", "--no-sync")  # fmt: skip
        self.started = self._pg_ctl("status", check=False) != 0
        if self.started:
            self._pg_ctl("-o", f"-k {self.sock} {self.OPTIONS}", "-w", "-t", "120",
                         "-l", str(self.root / "log"), "start")  # fmt: skip

    def _run(self, program: str, *args: str, check: bool = True) -> int:
        done = subprocess.run([*pg_command(program), *args], capture_output=True, text=True)
        if check and done.returncode != 0:
            raise PostgresUnavailable(f"{program} failed: {done.stderr.strip()[-500:]}")
        return done.returncode

    def _pg_ctl(self, *args: str, check: bool = True) -> int:
        return self._run("pg_ctl", "-D", str(self.data), *args, check=check)

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@/{dbname}?host={self.sock}"

    def create_database(self, dbname: str) -> str:
        with psycopg.connect(host=str(self.sock), user="postgres", dbname="postgres",
                             autocommit=True) as conn:  # fmt: skip
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
            conn.execute(f'CREATE DATABASE "{dbname}"')
        return self.url(dbname)

    def has_database(self, dbname: str) -> bool:
        with psycopg.connect(host=str(self.sock), user="postgres", dbname="postgres") as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
            return found.fetchone() is not None

    def stop(self) -> None:
        if self.started:
            self._pg_ctl("-m", "fast", "stop", check=False)


def loaded_subjects(url: str) -> int | None:
    """Subjects in a database at some revision, or None when it has no schema yet."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return int(conn.scalar(text("SELECT count(*) FROM subjects")) or 0)
    finally:
        engine.dispose()


def prepare(url: str, args: argparse.Namespace, *, reuse: bool) -> str:
    """Load the bench data into `url` (migrated to head), or reuse what an earlier run loaded
    there: then migrate it to head, and ANALYZE when a revision was applied."""
    if reuse:
        before = _revision(url)
        command.upgrade(alembic_config(url), "head")
        if _revision(url) != before:
            _vacuum(url)
        return "reused"
    with make_session_for(url) as session:
        staff(session)
        create_user(session, Actor.system("bench"), username="inv",
                    password="benchmark-only", role=Role.INVESTIGATOR)  # fmt: skip
        form = create_consent_document(
            session, Actor.system("bench"), name="Bench consent", version="1",
            effective_on=date(2020, 1, 1), irb_reference="IRB-BENCH", statements=CONSENT_V1,
        )  # fmt: skip
        statements = {
            s.code: s.id
            for s in session.scalars(
                select(ConsentStatement).where(ConsentStatement.document_id == form.id)
            )
        }
        sites = list(session.scalars(select(Site.id).order_by(Site.id)))
    started = time.perf_counter()
    rows = generate(args.subjects, sites, statements, seed=20261201)
    engine = make_engine(url)
    load(engine, rows)
    engine.dispose()
    del rows
    return f"generated and loaded in {time.perf_counter() - started:.0f} s"


def make_session_for(url: str) -> Session:
    _engine, make_session = session_factory(url)
    return make_session()


def _revision(url: str) -> str | None:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = conn.scalar(text("SELECT version_num FROM alembic_version"))
    engine.dispose()
    return str(found) if found is not None else None


def _vacuum(url: str) -> None:
    """VACUUM ANALYZE: fresh statistics, and the visibility map that lets an index-only scan
    skip the table. Autovacuum would get there on its own, during the timing."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()


def database(
    databases: Databases, kept: KeptCluster | None, dialect: str, args: argparse.Namespace
) -> str | None:
    """The URL of a loaded database: fresh and throwaway by default; with --keep-db or --url,
    the one an earlier run loaded, else loaded now and kept."""
    name = f"bench_feasibility_{args.subjects}"
    if dialect == "postgresql" and (kept is not None or args.url):
        if kept is None:
            url = str(args.url)
        else:
            if not kept.has_database(name):
                kept.create_database(name)
            url = kept.url(name)
        found = loaded_subjects(url)
        if kept is not None and found != args.subjects:  # absent, or a load cut short
            url, found = kept.create_database(name), None
        elif found not in (None, 0, args.subjects):
            sys.exit(f"{url} holds {found:,} subjects, not {args.subjects:,}: give an "
                     "empty database or the same --subjects")  # fmt: skip
        if found != args.subjects:
            command.upgrade(alembic_config(url), "head")
        outcome = prepare(url, args, reuse=found == args.subjects)
    else:
        if reason := databases.unavailable(dialect):
            print(f"# {dialect}: skipped ({reason})")
            return None
        url = databases.fresh(dialect, "bench_feasibility")
        outcome = prepare(url, args, reuse=False)
    print(f"# {dialect}: {_size(url)}; {outcome}", flush=True)
    return url


def _server_version(url: str) -> str:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = str(conn.scalar(text("SHOW server_version")))
    engine.dispose()
    return found


def _size(url: str) -> str:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = [
            f"{conn.scalar(text(f'SELECT count(*) FROM {t}')):,} {t}"
            for t in ("subjects", "visits", "aliquots")
        ]
    engine.dispose()
    return ", ".join(found)


def bench(url: str, dialect: str, args: argparse.Namespace, table: Table) -> None:
    engine, make_session = session_factory(url)
    size = _size(url)
    with make_session() as session:
        user = session.scalars(select(User).where(User.username == "inv")).one()
        investigator = Actor.of(user)
    criteria = parse_criteria(CRITERIA)
    settings = FeasibilitySettings(
        secret=b"bench-secret-" * 4, rate_limit=10**6, lockout_limit=10**6
    )
    sql = text(HAND_WRITTEN.format(days=DAYS[dialect]))
    if args.explain and dialect == "postgresql":
        explain(engine, criteria, sql)

    def ours() -> tuple[Any, float]:
        with make_session() as session:
            conn = session.connection()
            before = server_cpu_s(conn)
            counts = count_matches(session, criteria, on=ON)
            cpu = server_cpu_s(conn) - before
        rows = [(r.diagnosis.value, r.subjects, r.visits, r.aliquots) for r in counts.by_diagnosis]
        return rows, cpu

    def service() -> tuple[Any, float]:
        with make_session() as session:
            conn = session.connection()
            before = server_cpu_s(conn)
            answer = check_feasibility(
                session, investigator, criteria=CRITERIA, settings=settings, now=NOW
            )
            return answer, server_cpu_s(session.connection()) - before

    def hand() -> tuple[Any, float]:
        with engine.connect() as conn:
            before = server_cpu_s(conn)
            rows = [tuple(r) for r in conn.execute(sql, {"on": ON})]
            return rows, server_cpu_s(conn) - before

    base_ms, base_cpu, _client, expected = timed(hand, args.repeat)
    ours_ms, ours_cpu, ours_client, got = timed(ours, args.repeat)
    service_ms, service_cpu, _client, _ = timed(service, args.repeat)
    same = "same" if got == expected else f"DIFFERENT: {got} vs {expected}"
    table.row(dialect, size, ours_ms, ours_cpu, ours_client, service_ms, service_cpu, base_ms,
              base_cpu, ours_cpu / max(base_cpu, 1), same)  # fmt: skip
    engine.dispose()


def explain(engine: Engine, criteria: Criteria, hand_written: Any, *, on: date = ON) -> None:
    """Print EXPLAIN (ANALYZE, BUFFERS) of our query and of the hand-written one (if given)."""
    statements = {"ours": count_statement(criteria, on=on)}
    if hand_written is not None:
        statements["hand-written"] = hand_written.bindparams(on=on)
    with engine.connect() as conn:
        compiled = {
            name: stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
            for name, stmt in statements.items()
        }
        for name, compiled_one in compiled.items():
            sql, params = str(compiled_one), compiled_one.params
            plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            print(f"# EXPLAIN (ANALYZE, BUFFERS), {name}:")
            print("\n".join(f"#   {line}" for (line,) in plan), flush=True)


def time_only(url: str, args: argparse.Namespace) -> None:
    """Time ours on an existing database, read-only: the figure for any data set."""
    engine, make_session = session_factory(url)
    criteria = parse_criteria(CRITERIA)
    if args.explain and engine.dialect.name == "postgresql":
        explain(engine, criteria, None, on=args.on)
    walls: list[float] = []

    def ours() -> tuple[Any, float]:
        with make_session() as session:
            conn = session.connection()
            before, started = server_cpu_s(conn), time.perf_counter()
            counts = count_matches(session, criteria, on=args.on)
            walls.append(time.perf_counter() - started)
            return counts, server_cpu_s(conn) - before

    load_before = os.getloadavg()[0]
    wall_ms, cpu_ms, client_ms, counts = timed(ours, args.repeat)
    runs = " ".join(f"{w * 1000:.0f}" for w in walls[1:])
    table = Table([("db", 10), ("size", 58), ("on", 10), ("subjects", 8), ("visits", 7),
                   ("aliquots", 8), ("ours ms", 8), ("db CPU", 7), ("client", 7)])  # fmt: skip
    table.row("postgresql" if url.startswith("postgresql") else "sqlite", _size(url),
              args.on.isoformat(), counts.subjects, counts.visits, counts.aliquots, wall_ms,
              cpu_ms, client_ms)  # fmt: skip
    print(f"# runs, ms: {runs}")
    print(f"# {_versions(url)}; revision {_revision(url)}; load average {load_before:.1f} "
          f"before, {os.getloadavg()[0]:.1f} after")  # fmt: skip
    engine.dispose()


def _versions(url: str) -> str:
    if url.startswith("postgresql"):
        return f"PostgreSQL {_server_version(url)}"
    return f"SQLite {sqlite3.sqlite_version}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", choices=(*DIALECTS, "both"), default="both")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--keep-db", type=Path, metavar="DIR",
                      help="keep the PostgreSQL cluster and its loaded database in DIR and reuse "
                      "them on the next run with the same --subjects")  # fmt: skip
    where.add_argument("--url", help="an existing PostgreSQL database to load into (empty) or "
                      "reuse (loaded by an earlier run with the same --subjects)")  # fmt: skip
    parser.add_argument("--load-only", action="store_true", help="load (or check) and stop")
    parser.add_argument(
        "--explain", action="store_true", help="print both plans (EXPLAIN ANALYZE, BUFFERS)"
    )
    parser.add_argument(
        "--time-only",
        action="store_true",
        help="time ours on --url as it is (read-only), e.g. the generated demo",
    )
    parser.add_argument(
        "--on",
        type=date.fromisoformat,
        default=ON,
        help=f"with --time-only: consent as of this day (default {ON})",
    )
    args = parser.parse_args()
    if args.time_only:
        if not args.url:
            parser.error("--time-only needs --url")
        header(f"feasibility, ours only, median of {args.repeat}")
        time_only(str(args.url), args)
        return
    header(f"feasibility, {args.subjects:,} subjects, median of {args.repeat}")
    with Databases() as databases:
        kept = KeptCluster(args.keep_db) if args.keep_db else None
        try:
            table = Table([("db", 10), ("size", 58), ("ours ms", 8), ("db CPU", 7),
                           ("client", 7), ("service", 8), ("db CPU", 7), ("hand ms", 8),
                           ("db CPU", 7), ("CPU ratio", 9), ("count", 6)])  # fmt: skip
            versions = [f"SQLite {sqlite3.sqlite_version}"]
            for dialect in DIALECTS if args.db == "both" else (args.db,):
                url = database(databases, kept, dialect, args)
                if url is not None and dialect == "postgresql":
                    versions.append(f"PostgreSQL {_server_version(url)}")
                if url is not None and not args.load_only:
                    bench(url, dialect, args, table)
            print(f"# {', '.join(versions)}; load average {os.getloadavg()[0]:.1f}")
        finally:
            if kept is not None:
                kept.stop()


if __name__ == "__main__":
    main()
