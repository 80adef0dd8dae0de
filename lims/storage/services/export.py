"""The inventory export as a stream: the role is checked before the first byte, and the rows are
read through a session the stream opens and closes itself."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Generator, Iterator
from contextlib import closing

from sqlalchemy.orm import Session

from lims.actors import STAFF, Actor
from lims.storage.services.finding import (
    INVENTORY_COLUMNS,
    AliquotFilter,
    InventoryRow,
    inventory_line,
    iter_inventory,
)

LINES_PER_CHUNK = 1000


def export_inventory(
    open_session: Callable[[], Session], actor: Actor, *, filters: AliquotFilter
) -> Iterator[str]:
    """The matching aliquots as CSV text, a chunk at a time (staff only).

    The role is checked now, while a refusal can still be an answer; a check inside the stream
    would come after the 200 had been sent. The request's session is closed before a streamed
    body is produced, so the stream opens its own and closes it when it ends, fails, or the
    client goes away (GeneratorExit); one left open stays idle in transaction, holding locks.
    """
    actor.require(*STAFF)
    return _csv_chunks(_rows(open_session, actor, filters))


def _rows(
    open_session: Callable[[], Session], actor: Actor, filters: AliquotFilter
) -> Generator[InventoryRow, None, None]:
    session = open_session()
    try:
        yield from iter_inventory(session, actor, filters=filters)
    finally:
        session.close()


def _csv_chunks(rows: Generator[InventoryRow, None, None]) -> Iterator[str]:
    with closing(rows):  # a dropped stream closes the rows, and so their session, at once
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(INVENTORY_COLUMNS)
        for n, row in enumerate(rows, start=1):
            writer.writerow(inventory_line(row))
            if n % LINES_PER_CHUNK == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()
