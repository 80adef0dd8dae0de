"""SPREC per aliquot with its version; element 5 recorded; DNA and serum quality (issue #16)

Revision ID: 0005_sprec
Revises: 0004_tz
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005_sprec"
down_revision: str | None = "0004_tz"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GRADES = ("none", "slight", "moderate", "marked")


def _enum(batch_op: Any, table: str, name: str, values: Sequence[str], length: int) -> None:
    """A StrEnum column as lims.db.str_enum makes it: VARCHAR plus a named CHECK. The CHECK is
    added on its own so that SQLite's batch mode can drop it again on downgrade."""
    batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))
    allowed = ", ".join(f"'{v}'" for v in values)
    batch_op.create_check_constraint(op.f(f"ck_{table}_{name}"), f"{name} IN ({allowed})")


def upgrade() -> None:
    with op.batch_alter_table("specimens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_second_spun", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("sprec_version", sa.String(length=32), nullable=True))
        for name in ("hemolysis", "lipemia", "icterus"):
            _enum(batch_op, "specimens", name, GRADES, 8)
        batch_op.add_column(sa.Column("is_fasting", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("clotting_minutes", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_specimens_clotting_non_negative"),
            "clotting_minutes IS NULL OR clotting_minutes >= 0",
        )
    with op.batch_alter_table("aliquots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("a260_230", sa.Double(), nullable=True))
        methods = ("uv_spectrophotometry", "fluorometry")
        _enum(batch_op, "aliquots", "quantification_method", methods, 24)
        batch_op.add_column(sa.Column("din", sa.Double(), nullable=True))
        grades = ("intact", "partly_degraded", "degraded")
        _enum(batch_op, "aliquots", "gel_integrity", grades, 16)
        batch_op.add_column(sa.Column("dilution_factor", sa.Double(), nullable=True))
        extractions = (
            "silica_column",
            "magnetic_beads",
            "salting_out",
            "phenol_chloroform",
            "other",
        )
        _enum(batch_op, "aliquots", "extraction_method", extractions, 20)
        batch_op.add_column(sa.Column("extraction_kit", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("extracted_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("extracted_by", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("sprec_code", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("sprec_version", sa.String(length=32), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_aliquots_a260_230_range"),
            "a260_230 IS NULL OR (a260_230 > 0 AND a260_230 < 5)",
        )
        batch_op.create_check_constraint(
            op.f("ck_aliquots_din_range"), "din IS NULL OR (din >= 1 AND din <= 10)"
        )
        batch_op.create_check_constraint(
            op.f("ck_aliquots_dilution_above_1"), "dilution_factor IS NULL OR dilution_factor > 1"
        )
    # Codes written before this revision followed the 2.0 tables (see lims/specimens/sprec.py);
    # aliquots get their own code when they are next stored or moved.
    op.execute("UPDATE specimens SET sprec_version = '2.0' WHERE sprec_code IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("aliquots", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_aliquots_dilution_above_1"), type_="check")
        batch_op.drop_constraint(op.f("ck_aliquots_din_range"), type_="check")
        batch_op.drop_constraint(op.f("ck_aliquots_a260_230_range"), type_="check")
        for name in ("extraction_method", "gel_integrity", "quantification_method"):
            batch_op.drop_constraint(op.f(f"ck_aliquots_{name}"), type_="check")
        for name in (
            "sprec_version",
            "sprec_code",
            "extracted_by",
            "extracted_on",
            "extraction_kit",
            "extraction_method",
            "dilution_factor",
            "gel_integrity",
            "din",
            "quantification_method",
            "a260_230",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("specimens", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_specimens_clotting_non_negative"), type_="check")
        for name in ("icterus", "lipemia", "hemolysis"):
            batch_op.drop_constraint(op.f(f"ck_specimens_{name}"), type_="check")
        for name in (
            "clotting_minutes",
            "is_fasting",
            "icterus",
            "lipemia",
            "hemolysis",
            "sprec_version",
            "is_second_spun",
        ):
            batch_op.drop_column(name)
