"""sessions end server-side, tokens can be revoked, the throttle keeps its own attempts

Revision ID: 0003_auth
Revises: 0002_audit_key
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003_auth'
down_revision: str | None = '0002_audit_key'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False)
        )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'sign_in_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('source_address', sa.String(length=45), nullable=False),
        sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            'outcome',
            sa.Enum('failed', 'succeeded', 'refused', name='attemptoutcome', native_enum=False,
                    create_constraint=True, length=16),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_attempts')),
    )
    with op.batch_alter_table('sign_in_attempts', schema=None) as batch_op:
        batch_op.create_index(
            'ix_sign_in_attempts_username_attempted_at', ['username', 'attempted_at'], unique=False
        )
        batch_op.create_index(
            'ix_sign_in_attempts_source_address_attempted_at',
            ['source_address', 'attempted_at'],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table('sign_in_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_attempts_source_address_attempted_at')
        batch_op.drop_index('ix_sign_in_attempts_username_attempted_at')
    op.drop_table('sign_in_attempts')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
