"""boxes: an index on upper(name), for the find box

The find box looks a scanned or typed code up as a box barcode or, case-blind, as a box name
(lims/storage/services/finding.py). Without this index that second half read every box: 21,000
boxes at 2,000,000 aliquots, 10 ms of PostgreSQL's time on every find (bench/load.py's profile
on `demo generate`'s set, 2026-12-02). PostgreSQL only: SQLite cannot reflect an index on an
expression, and a bench's SQLite database holds few boxes.

Revision ID: 0020_boxname
Revises: 0019_feas6
Create Date: 2026-12-02 04:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_boxname"
down_revision: str | None = "0019_feas6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # as the model: SQLite goes without
        op.create_index("ix_boxes_upper_name", "boxes", [sa.text("upper(name)")])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_boxes_upper_name", table_name="boxes")
