"""aliquots remember what was drawn into them (drawn_ul), so use does not give volume back

The split rule counted what a tube's aliquots hold now: using 400 µL of an aliquot let the tube
give 400 µL more (issue 15). drawn_ul is what went into the aliquot when it was made. Existing
rows take it from their own `aliquot.created` audit event, which has recorded the volume made
since the first version (service and import alike); where no such event is readable, or it
says less than the tube holds now, the current volume is the best that is known.

Revision ID: 0011_consent3
Revises: 0010_findaudit
Create Date: 2026-12-01 19:00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_consent3"
down_revision: str | None = "0010_findaudit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("aliquots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("drawn_ul", sa.Integer(), nullable=True))
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE aliquots SET drawn_ul = volume_ul"))
    created = bind.execute(
        sa.text(
            "SELECT object_id, after_json FROM audit_events"
            " WHERE action = 'aliquot.created' AND object_type = 'aliquot'"
        )
    )
    updates: list[dict[str, int]] = []
    for object_id, after_json in created:
        try:
            made = json.loads(after_json or "{}").get("volume_ul")
            aliquot_id = int(object_id)
        except (TypeError, ValueError):
            continue
        if isinstance(made, int) and not isinstance(made, bool):
            updates.append({"id": aliquot_id, "made": made})
    update = sa.text(
        "UPDATE aliquots SET drawn_ul = :made WHERE id = :id AND volume_ul <= :made"
    )
    for start in range(0, len(updates), BATCH):
        bind.execute(update, updates[start : start + BATCH])
    with op.batch_alter_table("aliquots", schema=None) as batch_op:
        batch_op.alter_column("drawn_ul", existing_type=sa.Integer(), nullable=False)
        batch_op.create_check_constraint(
            op.f("ck_aliquots_volume_within_drawn"), "volume_ul <= drawn_ul"
        )


def downgrade() -> None:
    with op.batch_alter_table("aliquots", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_aliquots_volume_within_drawn"), type_="check")
        batch_op.drop_column("drawn_ul")
