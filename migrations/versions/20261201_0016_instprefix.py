"""the installation's number, the first digit of the tube codes it issues

Revision ID: 0016_instprefix
Revises: 0015_requests
Create Date: 2026-12-01 21:55:00

An existing database becomes installation 0: the codes it issued (a 7-digit serial and the
Damm digit) are exactly installation 0's codes as long as every serial is below 1,000,000, which
the upgrade checks. `flask --app lims db upgrade` with LIMS_INSTALLATION set then gives it its
own number (docs/operations.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0016_instprefix'
down_revision: str | None = '0015_requests'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    installations = op.create_table(
        'installations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('first_serial', sa.Integer(), nullable=False),
        sa.CheckConstraint('first_serial >= 1', name=op.f('ck_installations_first_serial_positive')),
        sa.CheckConstraint('id = 1', name=op.f('ck_installations_one_row')),
        sa.CheckConstraint(
            'number >= 0 AND number <= 9', name=op.f('ck_installations_number_one_digit')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_installations')),
    )
    issued = op.get_bind().scalar(
        sa.text("SELECT next_value FROM barcode_counters WHERE name = 'aliquot'")
    )
    if issued is not None and issued > 1_000_000:
        raise RuntimeError(
            f"this database issued tube serials up to {issued - 1}: its codes cannot all be read "
            "as installation 0's (serials below 1,000,000); see docs/user/labels.md"
        )
    op.bulk_insert(installations, [{'id': 1, 'number': 0, 'first_serial': 1}])


def downgrade() -> None:
    op.drop_table('installations')
