"""A trail written before the chain was keyed: its rows stay as they are, verify with plain
SHA-256, and are sealed by one keyed event when the migration runs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from lims.audit import keys
from lims.audit.models import GENESIS_HASH, LEGACY_KEY_ID, Action, AuditEvent, chain_hash
from lims.audit.services import events_for, verify_chain
from lims.cli import alembic_config
from lims.db import make_engine
from tests.conftest import DatabaseMaker

_LEGACY = [("box.created", "boxe", "7"), ("subject.registered", "subject", "3")]


def _write_legacy_trail(url: str) -> None:
    """Rows as the code before revision 0002 wrote them: no key_id, plain SHA-256."""
    engine = make_engine(url)
    events = sa.table(
        "audit_events",
        *(sa.column(c) for c in ("actor_id", "actor_username", "action", "object_type")),
        *(sa.column(c) for c in ("object_id", "before_json", "after_json", "reason")),
        sa.column("occurred_at", sa.DateTime(timezone=True)),
        sa.column("prev_hash"),
        sa.column("row_hash"),
    )
    prev_hash = GENESIS_HASH
    with engine.begin() as conn:
        for action, object_type, object_id in _LEGACY:
            at = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
            row = {
                "occurred_at": at,
                "actor_id": None,
                "actor_username": "tech",
                "action": action,
                "object_type": object_type,
                "object_id": object_id,
                "before_json": None,
                "after_json": '{"name": "Box 1"}',
                "reason": None,
                "prev_hash": prev_hash,
            }
            prev_hash = chain_hash(row, None)
            if engine.dialect.name == "sqlite":
                row["occurred_at"] = at.replace(tzinfo=None)  # stored as naive UTC there
            conn.execute(sa.insert(events).values({**row, "row_hash": prev_hash}))
    engine.dispose()


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_legacy_rows_verify_unkeyed_and_are_sealed_by_a_keyed_event(
    databases: DatabaseMaker, dialect: str
) -> None:
    url = databases.url(dialect, "lims_legacy")
    command.upgrade(alembic_config(url), "0001")
    _write_legacy_trail(url)

    command.upgrade(alembic_config(url), "head")

    engine = make_engine(url)
    with Session(engine) as session:
        trail = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
        report = verify_chain(session)
        box_history = events_for(session, ("box", "7"))
    engine.dispose()
    assert report.is_intact, report.problem
    assert [e.key_id for e in trail] == [LEGACY_KEY_ID, LEGACY_KEY_ID, keys.active().current_id]
    assert trail[-1].action == Action.AUDIT_TRAIL_KEYED
    assert trail[-1].prev_hash == trail[1].row_hash
    assert [(e.action, e.canonical_type) for e in box_history] == [(Action.BOX_CREATED, "box")]
