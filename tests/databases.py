"""Real databases for the tests: a SQLite file, and PostgreSQL from TEST_DATABASE_URL or from a
throwaway cluster started with initdb (as the `postgres` system user when the tests run as root,
since PostgreSQL refuses to run as root)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import psycopg


class PostgresUnavailable(Exception):
    pass


def _bindir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3])
    )
    if not candidates:
        raise PostgresUnavailable("no pg_ctl on PATH or under /usr/lib/postgresql/*/bin")
    return Path(candidates[-1]).parent


def pg_command(program: str) -> list[str]:
    """A PostgreSQL client program (pg_dump, pg_restore) of the server's version, run as the user
    that runs the throwaway cluster."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    bindir = (_bindir() / "pg_ctl").resolve().parent  # pg_ctl on PATH may be a lone symlink
    return [*prefix, str(bindir / program)]


class ThrowawayCluster:
    """A private cluster on a Unix socket in a temporary directory, no TCP port."""

    def __init__(self) -> None:
        bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="lims-pg-"))
        self.data, self.sock = self.root / "data", self.root / "sock"
        self.sock.mkdir()
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            try:
                shutil.chown(self.root, "postgres")
                shutil.chown(self.sock, "postgres")
            except LookupError as err:
                raise PostgresUnavailable("running as root and no 'postgres' system user") from err
            self.root.chmod(0o755)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self.pg_ctl = str(bindir / "pg_ctl")
        self._run(
            [
                str(bindir / "initdb"),
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        )
        options = (
            f"-k {self.sock} -c listen_addresses='' -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
        )
        self._run(
            [
                self.pg_ctl,
                "-D",
                str(self.data),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "-l",
                str(self.root / "log"),
                "start",
            ]
        )

    def _run(self, cmd: list[str]) -> None:
        result = subprocess.run(self.prefix + cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PostgresUnavailable(f"{cmd[0]} failed: {result.stderr.strip()[-500:]}")

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@/{dbname}?host={self.sock}"

    def create_database(self, dbname: str, template: str | None = None) -> str:
        with psycopg.connect(
            host=str(self.sock), user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
            conn.execute(
                f'CREATE DATABASE "{dbname}"' + (f' TEMPLATE "{template}"' if template else "")
            )
        return self.url(dbname)

    def stop(self) -> None:
        subprocess.run(
            [*self.prefix, self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def postgres_factory() -> tuple[Callable[[str, str | None], str], Callable[[], None]]:
    """A function that makes a fresh database by name and returns its URL, and a cleanup."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        base = url.replace("postgresql+psycopg://", "postgresql://")

        def make(dbname: str, template: str | None = None) -> str:
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
                conn.execute(
                    f'CREATE DATABASE "{dbname}"' + (f' TEMPLATE "{template}"' if template else "")
                )
            head, _, tail = url.rpartition("/")
            query = tail.partition("?")[2]
            return f"{head}/{dbname}" + (f"?{query}" if query else "")

        return make, lambda: None
    cluster = ThrowawayCluster()
    return cluster.create_database, cluster.stop
