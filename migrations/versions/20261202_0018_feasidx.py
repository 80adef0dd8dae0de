"""feasibility: covering indexes on aliquots (specimen_id) and consent_answers (statement_id)

A feasibility count reads the stored aliquots of 35,000 eligible visits out of 2,000,000, and
the answers to two or three consent statements of every subject; with the columns it tests in
the index, PostgreSQL answers both from the index alone (bench/feasibility.py). The covering
index on aliquots replaces the plain one on specimen_id, which it serves as well. SQLite has no
INCLUDE: there aliquots keep their index and consent_answers gain a plain one.

Revision ID: 0018_feasidx
Revises: 0017_criteria
Create Date: 2026-12-02 01:25:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018_feasidx"
down_revision: str | None = "0017_criteria"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COVERED = ["status", "specimen_type", "volume_ul", "freeze_thaw_count"]


def upgrade() -> None:
    op.drop_index("ix_aliquots_specimen_id", table_name="aliquots")
    op.create_index(
        "ix_aliquots_specimen_id", "aliquots", ["specimen_id"], postgresql_include=COVERED
    )
    op.create_index(
        "ix_consent_answers_statement_id",
        "consent_answers",
        ["statement_id"],
        postgresql_include=["event_id", "answer"],
    )


def downgrade() -> None:
    op.drop_index("ix_consent_answers_statement_id", table_name="consent_answers")
    op.drop_index("ix_aliquots_specimen_id", table_name="aliquots")
    op.create_index("ix_aliquots_specimen_id", "aliquots", ["specimen_id"])
