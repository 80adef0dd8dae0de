"""feasibility: covering indexes on scale_administrations and specimens, score statistics

A score criterion ("TWSTRS at least 20 at the visit") asks, per visit, for one scale's score.
The generated demo keeps 3.3 administrations per visit with their raw answers (JSON, 287 MB at
200,000 visits), and PostgreSQL fetched each TWSTRS row from that table: 29,000 probes, 116,000
buffers. With the score in the index it reads the one scale's entries from the index alone.

The statistics (PostgreSQL only; SQLAlchemy's metadata cannot hold them, and autogenerate does
not compare them) tell the planner how the score the criterion reads, COALESCE(total_score,
imported_total), falls within each scale: without them it guessed a third of the TWSTRS rows at
20 or more (99.6 % are), so a fifth of the eligible visits, and with the new index chose nested
loops for the toxin rule that cost more than the hash it keeps with them (bench/feasibility.py
--time-only, docs/benchmarks.md).

The covering index on specimens (visit_id) replaces the plain one: the count finds the tubes of
the eligible visits from the index alone. Without it, PostgreSQL merged the eligible visits with
a walk over all 400,000 specimens through the table (two tubes per visit in the generated demo).
SQLite has no INCLUDE: there the specimens keep a plain index and scale_administrations gains one.

Revision ID: 0019_feas6
Revises: 0018_feasidx
Create Date: 2026-12-02 03:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019_feas6"
down_revision: str | None = "0018_feasidx"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATISTICS = "st_scale_administrations_scale_id_score"


def upgrade() -> None:
    op.drop_index("ix_specimens_visit_id", table_name="specimens")
    op.create_index("ix_specimens_visit_id", "specimens", ["visit_id"], postgresql_include=["id"])
    op.create_index(
        "ix_scale_administrations_scale_id_visit_id",
        "scale_administrations",
        ["scale_id", "visit_id"],
        postgresql_include=["total_score", "imported_total"],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE STATISTICS {STATISTICS} (mcv) "
            "ON scale_id, (COALESCE(total_score, imported_total)) FROM scale_administrations"
        )
        op.execute("ANALYZE scale_administrations")  # else empty until autovacuum analyzes


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")
    op.drop_index("ix_scale_administrations_scale_id_visit_id", table_name="scale_administrations")
