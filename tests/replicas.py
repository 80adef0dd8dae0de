"""A PostgreSQL primary and a hot standby made from it with pg_basebackup -R, both on Unix sockets
in one temporary directory, for the read-replica tests (docs/operations.md, "A read replica")."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from tests.conftest import REQUIRE_ALL
from tests.databases import PostgresUnavailable, ThrowawayCluster


class Standby:
    """A hot standby of `primary`, streaming from it over its Unix socket."""

    def __init__(self, primary: ThrowawayCluster, settings: dict[str, str] | None = None) -> None:
        self.primary, self.settings = primary, settings or {}
        self.log = primary.root / "standby.log"
        self.data, self.sock = primary.root / "standby", primary.root / "standby-sock"
        self.sock.mkdir()
        if primary.prefix:
            shutil.chown(self.sock, "postgres")
        bindir = Path(primary.pg_ctl).resolve().parent  # pg_ctl on PATH may be a lone symlink
        primary._run(
            [
                str(bindir / "pg_basebackup"),
                *("-h", str(primary.sock), "-U", "postgres", "-D", str(self.data)),
                *("-R", "-X", "stream", "-c", "fast", "--no-sync"),
            ]
        )
        self.start()

    def start(self) -> None:
        options = f"-k {self.sock} -c listen_addresses='' -c fsync=off -c hot_standby=on"
        options += "".join(f" -c {name}={value}" for name, value in self.settings.items())
        self.primary._run(
            [
                *(self.primary.pg_ctl, "-D", str(self.data), "-o", options, "-w", "-t", "60"),
                *("-l", str(self.log), "start"),
            ]
        )

    def stop(self) -> None:
        subprocess.run(
            [*self.primary.prefix, self.primary.pg_ctl, "-D", str(self.data), "-m", "fast", "stop"],
            capture_output=True,
            check=False,
        )

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@/{dbname}?host={self.sock}"

    def execute(self, sql: str, dbname: str = "postgres") -> object:
        with psycopg.connect(
            host=str(self.sock), user="postgres", dbname=dbname, autocommit=True
        ) as conn:
            row = conn.execute(sql).fetchone()
            return row[0] if row else None

    def catch_up(self, timeout_s: float = 30) -> None:
        """Wait until the standby has replayed everything the primary has written so far."""
        with psycopg.connect(host=str(self.primary.sock), user="postgres") as c:
            # The test cluster commits asynchronously, and an idle WAL writer may wait seconds
            # before it writes; one synchronous commit flushes everything before it at once.
            # (A commit that wrote no WAL is never flushed: write a message into the WAL.)
            c.execute("SET synchronous_commit = on")
            c.execute("SELECT pg_logical_emit_message(true, 'lims-test', 'flush')")
            c.commit()
            row = c.execute("SELECT pg_current_wal_lsn()::text").fetchone()
        assert row is not None
        deadline = time.monotonic() + timeout_s
        while not self.execute(f"SELECT pg_last_wal_replay_lsn() >= '{row[0]}'::pg_lsn"):
            assert time.monotonic() < deadline, "the standby did not catch up"
            time.sleep(0.02)


def primary_and_standby(**settings: str) -> tuple[ThrowawayCluster, Standby]:
    """A fresh primary and its standby (started with these settings), or a skip (a failure
    under LIMS_REQUIRE_ALL=1)."""
    try:
        primary = ThrowawayCluster()
    except PostgresUnavailable as err:
        reason = f"PostgreSQL unavailable: {err}"
        if REQUIRE_ALL:
            pytest.fail(reason + " (LIMS_REQUIRE_ALL=1)")
        pytest.skip(reason)
    try:
        return primary, Standby(primary, settings)
    except PostgresUnavailable as err:
        primary.stop()
        pytest.fail(f"could not make a hot standby: {err}")
