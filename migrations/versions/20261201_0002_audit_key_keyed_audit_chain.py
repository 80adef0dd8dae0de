"""keyed audit chain: key_id on every event; existing rows marked plain SHA-256 and sealed

Revision ID: 0002_audit_key
Revises: 0001
Create Date: 2026-12-01 16:00:00

The chain becomes an HMAC under a key kept outside the database (docs/operations.md). Rows
written before are marked key_id = 'sha256' and keep verifying with plain SHA-256; they are never
re-hashed (the trail is append-only). When such rows exist, one keyed `audit_trail.keyed` event
is appended after them: verification requires the newest event to be keyed, so someone without
the key cannot re-hash the legacy rows (or later ones) and pass them off as legacy.
"""

import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import config

revision: str = '0002_audit_key'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY = "sha256"
# As in 0001: SQLite drops a table's triggers when batch mode rebuilds it.
SQLITE_APPEND_ONLY = [
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END""",
]


def upgrade() -> None:
    column = sa.Column('key_id', sa.String(length=32), nullable=False, server_default=LEGACY)
    if op.get_bind().dialect.name == "postgresql":
        # A column added with a default fills existing rows without an UPDATE (no trigger fires).
        op.add_column('audit_events', column)
        op.alter_column('audit_events', 'key_id', server_default=None)
    else:
        with op.batch_alter_table('audit_events', recreate="always") as batch_op:
            batch_op.add_column(column)
        with op.batch_alter_table('audit_events', recreate="always") as batch_op:
            batch_op.alter_column('key_id', server_default=None)
        for statement in SQLITE_APPEND_ONLY:
            op.execute(statement)
    _seal_legacy_rows()


def _seal_legacy_rows() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("SELECT pg_advisory_xact_lock(7305511)"))  # the chain lock
    head = bind.execute(
        sa.text("SELECT id, row_hash FROM audit_events ORDER BY id DESC LIMIT 1")
    ).first()
    if head is None:
        return
    key_id, secret = config.audit_keyring()[-1]
    count = bind.execute(sa.text("SELECT count(*) FROM audit_events")).scalar_one()
    now = datetime.now(UTC)
    row = {
        "occurred_at": now,
        "actor_id": None,
        "actor_username": "migration",
        "action": "audit_trail.keyed",
        "object_type": "audit_trail",
        "object_id": str(head.id),
        "before_json": None,
        "after_json": json.dumps({"key_id": key_id, "legacy_events": count}, sort_keys=True),
        "reason": None,
        "prev_hash": head.row_hash,
        "key_id": key_id,
    }
    # The same canonical content as lims.audit.models.chain_hash, frozen here as of 0002.
    content = {
        "occurred_at": now.isoformat(timespec="microseconds"),
        **{k: row[k] for k in ("actor_id", "actor_username", "action", "object_type")},
        "object_id": row["object_id"],
        "before": None,
        "after": row["after_json"],
        "reason": None,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    message = (row["prev_hash"] + canonical).encode()
    row["row_hash"] = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    if bind.dialect.name == "sqlite":
        row["occurred_at"] = now.replace(tzinfo=None)  # stored as naive UTC, as the app does
    events = sa.table(
        'audit_events',
        sa.column('occurred_at', sa.DateTime(timezone=True)),
        *(sa.column(name) for name in row if name != 'occurred_at'),
    )
    bind.execute(sa.insert(events).values(row))


def downgrade() -> None:
    # Keyed rows stay (append-only); code before 0002 cannot verify them.
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column('audit_events', 'key_id')
        return
    with op.batch_alter_table('audit_events', recreate="always") as batch_op:
        batch_op.drop_column('key_id')
    for statement in SQLITE_APPEND_ONLY:
        op.execute(statement)
