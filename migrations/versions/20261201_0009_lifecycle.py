"""Freeze-thaw counted only after a thaw; voided and returned aliquots; disposal reasons and who
authorised them; planned tubes not collected or missed (issue #16)

Revision ID: 0009_lifecycle
Revises: 0008_consent
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_lifecycle"
down_revision: str | None = "0008_consent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = (
    "expected",
    "received",
    "stored",
    "reserved",
    "checked_out",
    "in_transit",
    "released",
    "consumed",
    "disposed",
    "quarantined",
    "missing",
)
REASONS = ("depleted", "expired", "damaged", "consent_withdrawn", "quality_failure", "other")
SPECIMEN_TYPES = ("whole_blood", "serum", "plasma", "buffy_coat", "dna", "rna")
TUBE_TYPES = ("PED", "SED", "SST", "CAT", "SCI", "HEP", "PXD", "ZZZ")


def _in(name: str, values: Sequence[str]) -> str:
    return f"{name} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table("aliquots", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_aliquots_aliquotstatus"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_aliquots_aliquotstatus"), _in("status", (*STATUSES, "voided"))
        )
        batch_op.add_column(sa.Column("out_condition", sa.String(length=12), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_aliquots_out_condition"), _in("out_condition", ("on_dry_ice", "thawed"))
        )
        batch_op.add_column(sa.Column("disposal_reason", sa.String(length=20), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_aliquots_disposal_reason"), _in("disposal_reason", REASONS)
        )
        batch_op.add_column(sa.Column("disposal_authorised_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_aliquots_disposal_authorised_by_id_users"),
            "users",
            ["disposal_authorised_by_id"],
            ["id"],
        )
    # Tubes out now left before the question was asked; the old rule counted a cycle for each
    # return to a freezer, so they keep that rule.
    op.execute("UPDATE aliquots SET out_condition = 'thawed' WHERE status = 'checked_out'")
    op.create_table(
        "uncollected_tubes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column(
            "specimen_type",
            sa.Enum(*SPECIMEN_TYPES, name="specimentype", native_enum=False,
                    create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column(
            "tube_type",
            sa.Enum(*TUBE_TYPES, name="tubetype", native_enum=False, create_constraint=True,
                    length=3),
            nullable=False,
        ),
        sa.Column(
            "outcome",
            sa.Enum("not_collected", "missed", name="collectionoutcome", native_enum=False,
                    create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(trim(reason)) > 0", name=op.f("ck_uncollected_tubes_reason_given")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_uncollected_tubes_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uncollected_tubes")),
    )  # fmt: skip
    with op.batch_alter_table("uncollected_tubes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_uncollected_tubes_visit_id"), ["visit_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("uncollected_tubes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_uncollected_tubes_visit_id"))
    op.drop_table("uncollected_tubes")
    # A voided tube has no state before this revision: it was entered in error, so it goes.
    op.execute("DELETE FROM placements WHERE aliquot_id IN "
               "(SELECT id FROM aliquots WHERE status = 'voided')")  # fmt: skip
    op.execute("UPDATE aliquots SET status = 'disposed' WHERE status = 'voided'")
    with op.batch_alter_table("aliquots", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("fk_aliquots_disposal_authorised_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(op.f("ck_aliquots_disposal_reason"), type_="check")
        batch_op.drop_constraint(op.f("ck_aliquots_out_condition"), type_="check")
        batch_op.drop_column("disposal_authorised_by_id")
        batch_op.drop_column("disposal_reason")
        batch_op.drop_column("out_condition")
        batch_op.drop_constraint(op.f("ck_aliquots_aliquotstatus"), type_="check")
        batch_op.create_check_constraint(op.f("ck_aliquots_aliquotstatus"), _in("status", STATUSES))
