"""Writing many rows fast: COPY on PostgreSQL, one executemany per batch on SQLite. Rows are
tuples in the order of the columns named. The generated demo (lims/demo_scale.py), the phenotype
and aliquot imports and the audit trail's batches (audit.record_many) write through it; a shared
module, so it imports no feature.

No services, no ORM objects: the caller has checked what it writes, and records the audit
events itself (audit.record_many). Python-side column defaults (`default=utcnow`) do not run
here, so every NOT NULL column must be given.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator, Sequence, Sized
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Table, insert, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON

from lims.db import Base, translate_refusal

Row = tuple[Any, ...]


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """Pause Python's cycle collector while a bulk import runs; reference counting still frees.

    An import makes millions of small objects that live until it ends, and each full collection
    walks all of them again: a quarter of a 10,000-event phenotype import's CPU (2026-12-02).
    Cycles made meanwhile (SQLAlchemy's, an error's traceback) are collected after it returns.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# What json.dumps gives an empty list or dict, without calling an encoder.
_EMPTY_JSON: dict[type, str] = {list: "[]", dict: "{}"}


def table_of(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def write_rows(
    session: Session, model: type[Base], columns: Sequence[str], rows: Iterable[Row]
) -> None:
    """Insert `rows` (tuples in `columns` order) into the model's table, in the session's
    transaction. `rows` may be a generator: on PostgreSQL the server then inserts the rows
    already sent while the generator makes the next ones."""
    if isinstance(rows, Sized) and not len(rows):
        return
    table = table_of(model)
    if session.get_bind().dialect.name == "postgresql":
        _copy(session, table, columns, rows)  # a COPY of no rows writes nothing
        return
    values = [dict(zip(columns, row, strict=True)) for row in rows]
    if values:  # an empty list would be one INSERT of the columns' defaults
        session.execute(insert(table), values)


def _copy(session: Session, table: Table, columns: Sequence[str], rows: Iterable[Row]) -> None:
    # COPY reads text: enums go as their values (StrEnum already is one), JSON as its text.
    as_json = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
    raw = session.connection().connection.driver_connection
    assert raw is not None
    quoted = ", ".join(f'"{name}"' for name in columns)
    statement = f'COPY "{table.name}" ({quoted}) FROM STDIN'
    try:
        _stream(raw, statement, rows, as_json)
    except psycopg.Error as err:
        # The engine's handler does not see the driver's own calls: a row the database refuses
        # (a CHECK, a unique key a race took) answers as it would through an executemany.
        wrapped = DBAPIError.instance(statement, None, err, psycopg.Error)
        translate_refusal(wrapped)
        raise wrapped from err


def _stream(
    raw: psycopg.Connection[Any], statement: str, rows: Iterable[Row], as_json: list[int]
) -> None:
    dumps = json.dumps
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        write = copy.write_row
        if not as_json:
            for row in rows:
                write(row)
            return
        for row in rows:
            cells = list(row)
            for i in as_json:
                # Most JSON cells of a phenotype import are [] or {} (no flags, no subscales):
                # their text needs no encoder, half of the import's 330,000 (2026-12-02).
                value = cells[i]
                empty = not value and type(value) in _EMPTY_JSON
                cells[i] = _EMPTY_JSON[type(value)] if empty else dumps(value)
            write(cells)


def next_ids(session: Session, models: Sequence[type[Base]]) -> dict[str, int]:
    """The first free id of each model's table (1 on an empty one)."""
    found = {}
    for model in models:
        name = table_of(model).name
        found[name] = int(session.scalar(text(f'SELECT coalesce(max(id), 0) + 1 FROM "{name}"')))
    return found


def reserve_ids(session: Session, model: type[Base], count: int) -> list[int]:
    """`count` ids for new rows of the model's table, taken before the rows are written, so a
    batch knows its ids without reading them back (the phenotype import names each new row in
    its audit event).

    PostgreSQL hands them out from the table's sequence, which no other transaction can take
    again. SQLite has no sequence: there the ids follow the highest one, which is safe because
    a writing transaction holds SQLite's write lock from its BEGIN IMMEDIATE (lims/db.py), as
    long as the caller writes them before it adds any other row to that table.
    """
    if count <= 0:
        return []
    name = table_of(model).name
    if session.get_bind().dialect.name == "postgresql":
        taken = session.scalars(
            text(
                f"SELECT nextval(pg_get_serial_sequence('{name}', 'id')) "
                "FROM generate_series(1, :count)"
            ),
            {"count": count},
        )
        return list(taken)
    first = int(session.scalar(text(f'SELECT coalesce(max(id), 0) + 1 FROM "{name}"')))
    return list(range(first, first + count))


def settle_sequences(session: Session, models: Sequence[type[Base]]) -> None:
    """On PostgreSQL, move each id sequence past the ids written explicitly, so the next row
    the application adds gets a free id. SQLite takes max(id) + 1 by itself."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in models:
        name = table_of(model).name
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f'(SELECT coalesce(max(id), 0) + 1 FROM "{name}"), false)'
            )
        )


def analyze(session: Session, models: Sequence[type[Base]]) -> None:
    """Refresh the planner's statistics of the tables written, in the session's transaction.
    Autovacuum's ANALYZE comes a while after a bulk load; until then PostgreSQL plans the
    next queries (a request's pick list) for tables as empty as they were, and a join over
    200,000 aliquots took 48 s of backend CPU instead of well under one."""
    for model in models:
        session.execute(text(f'ANALYZE "{table_of(model).name}"'))
