"""indexes for the audit trail page's time range and user filters

Plain CREATE INDEX, not a batch operation: on SQLite a batch may rebuild audit_events, and the
rebuilt table would lose its append-only triggers.

Revision ID: 0010_findaudit
Revises: 0009_lifecycle
Create Date: 2026-12-01 19:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0010_findaudit'
down_revision: str | None = '0009_lifecycle'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_audit_events_occurred_at', 'audit_events', ['occurred_at'])
    op.create_index(
        'ix_audit_events_actor_username_id', 'audit_events', ['actor_username', 'id']
    )


def downgrade() -> None:
    op.drop_index('ix_audit_events_actor_username_id', table_name='audit_events')
    op.drop_index('ix_audit_events_occurred_at', table_name='audit_events')
