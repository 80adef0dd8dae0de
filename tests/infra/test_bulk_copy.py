"""lims/bulk_copy.py's write_rows takes any iterable of rows, a generator included (the aliquot
import and the audit trail stream theirs into COPY), on both databases."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims.auth.models import Site
from lims.bulk_copy import write_rows

COLUMNS = ("code", "name", "country", "time_zone")


def _sites(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Site)) or 0


def test_a_generator_of_rows_is_written_row_by_row(session: Session) -> None:
    before = _sites(session)
    rows = ((f"BC{n}", f"Bulk {n}", "US", "UTC") for n in range(3))
    write_rows(session, Site, COLUMNS, rows)
    assert _sites(session) == before + 3


def test_an_empty_generator_writes_nothing(session: Session) -> None:
    # On SQLite an executemany of no rows would be one INSERT of the columns' defaults.
    before = _sites(session)
    write_rows(session, Site, COLUMNS, (row for row in []))
    assert _sites(session) == before
