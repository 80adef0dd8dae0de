"""What the database benchmarks share: the machine line, fresh migrated databases on SQLite and
PostgreSQL, staff and subjects to work with, the measuring subprocess and the table printer.

PostgreSQL comes the way the tests get it (tests/databases.py): TEST_DATABASE_URL, or else a
throwaway cluster on a Unix socket, started as the `postgres` user when run as root. That
cluster runs with fsync=off and synchronous_commit=off, so a commit there costs less than on a
production server: figures for code that commits per row flatter that code.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import random
import resource
import shutil
import signal
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import date
from multiprocessing.pool import Pool
from pathlib import Path

import psycopg
from alembic import command
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.auth.models import Site
from lims.auth.services import create_site, create_user
from lims.cli import alembic_config
from lims.db import make_engine, utcnow
from lims.demo import DIAGNOSIS_WEIGHTS, SITES
from lims.specimens.models import Dystonia, Sex, Subject
from tests.databases import PostgresUnavailable, postgres_factory

DIALECTS = ("sqlite", "postgresql")
SubjectSpec = tuple[str, str, Sex, Dystonia]  # study code, site code, sex, diagnosis


def cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or "unknown"
    names = (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    return next(names, "unknown")


def _proc_stat(pid: int) -> list[str]:
    """/proc/PID/stat from the state on (field 3 is [0]): the name may hold spaces. OSError if
    the process is gone."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_cpu_s(pid: int) -> float:
    """CPU seconds a local process (a PostgreSQL backend) has used: utime + stime."""
    fields = _proc_stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_s(pid: int) -> float:
    """CPU seconds of a process's finished children (the postmaster's: parallel workers):
    cutime + cstime."""
    fields = _proc_stat(pid)
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def parent_pid(pid: int) -> int:
    return int(_proc_stat(pid)[1])


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def spawn_pool() -> Pool:
    """One fresh process per task, so each peak RSS belongs to one measurement alone."""
    return multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=1)


class Databases:
    """Fresh databases migrated to head with Alembic: SQLite files in a temporary directory,
    and PostgreSQL databases on one cluster, started on first use."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="lims-bench-"))
        self._make_pg: Callable[[str], str] | None = None
        self._stop_pg: Callable[[], None] | None = None
        self._pg_probe: str | None = None
        self.pg_error: str | None = None

    def __enter__(self) -> Databases:
        # A plain kill must still stop the cluster: turn SIGTERM into an exit through __exit__.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._stop_pg is not None:
            self._stop_pg()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def unavailable(self, dialect: str) -> str | None:
        """Why this database cannot be had here, or None when it can."""
        if dialect != "postgresql" or self._pg_probe is not None:
            return None
        if self.pg_error is None:
            try:
                self._make_pg, self._stop_pg = postgres_factory()
                self._pg_probe = self._make_pg("bench_probe")
            except (PostgresUnavailable, psycopg.Error) as err:
                self.pg_error = " ".join(str(err).split()) or type(err).__name__
                if os.environ.get("LIMS_REQUIRE_ALL") == "1":  # CI: `make bench-smoke`
                    why = f"PostgreSQL unavailable (LIMS_REQUIRE_ALL=1): {self.pg_error}"
                    raise SystemExit(why) from err
        return self.pg_error

    def fresh(self, dialect: str, name: str) -> str:
        """An empty database at the newest revision; a database of the same name is replaced."""
        if dialect == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                (self.tmp / f"{name}.sqlite3{suffix}").unlink(missing_ok=True)
            url = f"sqlite:///{self.tmp / (name + '.sqlite3')}"
        elif self.unavailable(dialect) is None and self._make_pg is not None:
            url = self._make_pg(name)
        else:
            raise PostgresUnavailable(self.pg_error or "not started")
        command.upgrade(alembic_config(url), "head")
        return url

    def versions(self) -> str:
        found = f"SQLite {sqlite3.sqlite_version}"
        if self._pg_probe is not None:
            engine = make_engine(self._pg_probe)
            with engine.connect() as conn:
                found += f", PostgreSQL {conn.scalar(text('SHOW server_version'))}"
            engine.dispose()
        return found


def header(what: str) -> None:
    print(
        f"# {date.today()}  {cpu_model()}  nproc={os.cpu_count()}  "
        f"Python {sys.version.split()[0]}  {what}"
    )


def session_factory(url: str) -> tuple[Engine, sessionmaker[Session]]:
    """The engine and sessions as the application makes them (lims/db.py)."""
    engine = make_engine(url)
    return engine, sessionmaker(bind=engine, expire_on_commit=False)


def staff(session: Session) -> Actor:
    """The consortium's sites and a technician, through the services (a few audited rows)."""
    admin = Actor.system("bench")
    for code, name, country, zone in SITES:
        create_site(session, admin, code=code, name=name, country=country, time_zone=zone)
    tech = create_user(
        session,
        admin,
        username="tech",
        password="benchmark-only",
        role=Role.TECHNICIAN,
        site_code=SITES[0][0],
    )
    return Actor.of(tech)


def make_subjects(count: int, rng: random.Random) -> list[SubjectSpec]:
    """Subjects spread over the sites, with the demo's diagnosis mix and sex ratio."""
    kinds, weights = list(DIAGNOSIS_WEIGHTS), list(DIAGNOSIS_WEIGHTS.values())
    specs: list[SubjectSpec] = []
    for i in range(1, count + 1):
        site = SITES[i % len(SITES)][0]
        sex = Sex.FEMALE if rng.random() < 0.65 else Sex.MALE
        specs.append((f"{site}-{i:05d}", site, sex, rng.choices(kinds, weights)[0]))
    return specs


def register_subjects(
    session: Session, actor: Actor, specs: Sequence[SubjectSpec], *, audited: bool = True
) -> dict[str, int]:
    """Enrol many subjects at once: the rows register_subject writes, without a commit per row.

    With `audited`, each subject gets the `subject.registered` event register_subject would
    record (same fields, same JSON, chained after the current head), so verify_chain holds.
    Returns the id of each study code.
    """
    site_ids = dict(session.execute(select(Site.code, Site.id)).tuples().all())
    now = utcnow()
    values = [
        {
            "study_code": code,
            "site_id": site_ids[site],
            "sex": sex,
            "primary_diagnosis": diagnosis,
            "created_at": now,
        }
        for code, site, sex, diagnosis in specs
    ]
    stmt = insert(Subject).returning(Subject.id, Subject.study_code)
    ids = {code: subject_id for subject_id, code in session.execute(stmt, values).tuples()}
    if audited:
        _chain_registrations(session, actor, specs, ids)
    session.commit()
    return ids


def _chain_registrations(
    session: Session, actor: Actor, specs: Sequence[SubjectSpec], ids: dict[str, int]
) -> None:
    events = [
        audit.Event(
            Action.SUBJECT_REGISTERED,
            audit.ref(Subject, ids[code]),
            after={
                "study_code": code,
                "site": site,
                "sex": sex.value,
                "primary_diagnosis": diagnosis.value,
            },
        )
        for code, site, sex, diagnosis in specs
    ]
    audit.record_many(session, actor, events)


class Table:
    """A plain-text table printed row by row, so a long run shows its progress."""

    def __init__(self, columns: Sequence[tuple[str, int]]) -> None:
        self.columns = columns
        print(" ".join(f"{name:<{w}}" if i < 2 else f"{name:>{w}}" for i, (name, w) in self._i()))

    def _i(self) -> list[tuple[int, tuple[str, int]]]:
        return list(enumerate(self.columns))

    def row(self, *cells: object) -> None:
        out = []
        for (i, (_, width)), cell in zip(self._i(), cells, strict=True):
            shown = (
                f"{cell:,.0f}" if isinstance(cell, int | float) and abs(cell) >= 100 else str(cell)
            )
            if isinstance(cell, float) and abs(cell) < 100:
                shown = f"{cell:.2f}" if abs(cell) < 10 else f"{cell:.1f}"
            out.append(f"{shown:<{width}}" if i < 2 else f"{shown:>{width}}")
        print(" ".join(out), flush=True)
