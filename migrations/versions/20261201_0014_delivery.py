"""who confirmed an outbound shipment's delivery

Revision ID: 0014_delivery
Revises: 0013_shipments
Create Date: 2026-12-01 20:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014_delivery'
down_revision: str | None = '0013_shipments'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_confirmed_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_shipments_delivery_confirmed_by_id_users'),
            'users',
            ['delivery_confirmed_by_id'],
            ['id'],
        )


def downgrade() -> None:
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_shipments_delivery_confirmed_by_id_users'), type_='foreignkey'
        )
        batch_op.drop_column('delivery_confirmed_by_id')
