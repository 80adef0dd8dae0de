"""printers on the network and the printer of each print job

Revision ID: 0006_printers
Revises: 0005_sprec
Create Date: 2026-12-01 16:53:47.269579
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_printers'
down_revision: str | None = '0005_sprec'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('printers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.Column('stock_id', sa.String(length=40), nullable=False),
    sa.Column('dpi', sa.Integer(), nullable=False),
    sa.Column('x_offset_mm', sa.Double(), nullable=False),
    sa.Column('y_offset_mm', sa.Double(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("language IN ('zpl', 'pdf')", name=op.f('ck_printers_language_known')),
    sa.CheckConstraint('dpi > 0', name=op.f('ck_printers_dpi_positive')),
    sa.CheckConstraint('port BETWEEN 1 AND 65535', name=op.f('ck_printers_port_in_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_printers')),
    sa.UniqueConstraint('name', name=op.f('uq_printers_name'))
    )
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('printer_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_print_jobs_printer_id'), ['printer_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_print_jobs_printer_id_printers'), 'printers', ['printer_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_print_jobs_printer_id_printers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_print_jobs_printer_id'))
        batch_op.drop_column('printer_id')

    op.drop_table('printers')
