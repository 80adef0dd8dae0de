"""Real races for the concurrency tests: N threads, each with its own session and connection,
released together by a barrier against a database of their own (the rolled-back `session`
fixture has one connection, which cannot race with itself)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from lims.db import make_engine
from lims.errors import Conflict, LimsError
from tests.conftest import DatabaseMaker

BENCHES = 20


def race_database(databases: DatabaseMaker, dialect: str, name: str) -> Engine:
    """A database of its own, migrated to head, with a connection for every bench at once."""
    url = databases.migrated(dialect, name)
    return make_engine(url, pool_size=BENCHES + 1, max_overflow=0)


@dataclass
class Outcomes:
    """What each bench got: its result, or the error the service raised (a 409, a 422...)."""

    results: list[object] = field(default_factory=list)
    errors: list[LimsError] = field(default_factory=list)

    @property
    def conflicts(self) -> list[LimsError]:
        return [e for e in self.errors if isinstance(e, Conflict)]

    def __str__(self) -> str:
        return f"{len(self.results)} succeeded, {len(self.conflicts)} conflicts of {self.attempts}"

    @property
    def attempts(self) -> int:
        return len(self.results) + len(self.errors)


def race(
    benches: sessionmaker[Session],
    attempt: Callable[[Session, int], object],
    n: int = BENCHES,
) -> Outcomes:
    """Run attempt(session, i) on n benches at the same moment.

    Any exception that is not one of our LimsErrors (a 500 in production: IntegrityError,
    'database is locked', ValueError) is re-raised here, so it fails the test.
    """
    start = threading.Barrier(n, timeout=30)
    outcomes = Outcomes()
    unexpected: list[BaseException] = []
    lock = threading.Lock()

    def bench(i: int) -> None:
        with benches() as session:
            start.wait()
            try:
                result = attempt(session, i)
            except LimsError as err:
                session.rollback()
                with lock:
                    outcomes.errors.append(err)
            except BaseException as err:  # reported to the test below
                with lock:
                    unexpected.append(err)
            else:
                with lock:
                    outcomes.results.append(result)

    threads = [threading.Thread(target=bench, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    if unexpected:
        raise unexpected[0]
    assert outcomes.attempts == n, "a bench did not finish"
    return outcomes
