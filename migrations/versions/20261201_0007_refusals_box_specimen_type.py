"""a box may declare the specimen type it is set up for (issue 15)

Revision ID: 0007_refusals
Revises: 0006_printers
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_refusals"
down_revision: str | None = "0006_printers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing boxes stay mixed (NULL): nothing already stored becomes misplaced.
    with op.batch_alter_table('boxes', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'specimen_type',
                sa.Enum('whole_blood', 'serum', 'plasma', 'buffy_coat', 'dna', 'rna',
                        name='box_specimen_type', native_enum=False, create_constraint=True,
                        length=16),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('boxes', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_boxes_box_specimen_type'), type_='check')
        batch_op.drop_column('specimen_type')
