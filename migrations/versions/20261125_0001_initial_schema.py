"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 09:10:54.510292
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The audit trail is append-only in the database itself, not only in the application
# (21 CFR 11.10(e): audit trails must not obscure earlier entries): UPDATE, DELETE and
# TRUNCATE are refused.
PG_APPEND_ONLY = [
    """CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
    END $$""",
    """CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()""",
]
SQLITE_APPEND_ONLY = [
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END""",
]


def _append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    for statement in PG_APPEND_ONLY if dialect == "postgresql" else SQLITE_APPEND_ONLY:
        op.execute(statement)


def upgrade() -> None:
    op.create_table('barcode_counters',
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('next_value', sa.Integer(), nullable=False),
    sa.CheckConstraint('next_value >= 1', name=op.f('ck_barcode_counters_next_value_positive')),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_barcode_counters'))
    )
    op.create_table('sites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sites')),
    sa.UniqueConstraint('code', name=op.f('uq_sites_code'))
    )
    op.create_table('freezers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('temperature_c', sa.Integer(), nullable=False),
    sa.Column('room', sa.String(length=60), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_freezers_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_freezers')),
    sa.UniqueConstraint('name', name=op.f('uq_freezers_name'))
    )
    with op.batch_alter_table('freezers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_freezers_site_id'), ['site_id'], unique=False)

    op.create_table('subjects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_code', sa.String(length=20), nullable=False),
    sa.Column('ninds_guid', sa.String(length=20), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('sex', sa.Enum('female', 'male', 'unknown', name='sex', native_enum=False, create_constraint=True, length=8), nullable=False),
    sa.Column('primary_diagnosis', sa.Enum('cervical', 'laryngeal', 'blepharospasm', 'craniofacial', 'limb', name='dystonia', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('enrolment_status', sa.Enum('enrolled', 'completed', 'lost_to_follow_up', 'consent_withdrawn', name='enrolmentstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('consent_withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_subjects_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subjects')),
    sa.UniqueConstraint('ninds_guid', name=op.f('uq_subjects_ninds_guid')),
    sa.UniqueConstraint('study_code', name=op.f('uq_subjects_study_code'))
    )
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subjects_site_id'), ['site_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('admin', 'technician', 'investigator', 'reviewer', name='role', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(username) >= 2', name=op.f('ck_users_username_length')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_users_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_site_id'), ['site_id'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_api_tokens_token_sha256'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_username', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('before_json', sa.Text(), nullable=True),
    sa.Column('after_json', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('row_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('prev_hash', name=op.f('uq_audit_events_prev_hash')),
    sa.UniqueConstraint('row_hash', name=op.f('uq_audit_events_row_hash'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_events_object', ['object_type', 'object_id'], unique=False)

    op.create_table('print_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('printed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('stock_id', sa.String(length=40), nullable=False),
    sa.Column('output_format', sa.String(length=8), nullable=False),
    sa.Column('label_count', sa.Integer(), nullable=False),
    sa.Column('is_reprint', sa.Boolean(), nullable=False),
    sa.CheckConstraint('label_count > 0', name=op.f('ck_print_jobs_label_count_positive')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_print_jobs_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_jobs'))
    )
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_print_jobs_user_id'), ['user_id'], unique=False)

    op.create_table('printed_labels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('print_job_id', sa.Integer(), nullable=False),
    sa.Column('barcode', sa.String(length=32), nullable=False),
    sa.Column('is_reprint', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['print_job_id'], ['print_jobs.id'], name=op.f('fk_printed_labels_print_job_id_print_jobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_printed_labels'))
    )
    with op.batch_alter_table('printed_labels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_printed_labels_barcode'), ['barcode'], unique=False)
        batch_op.create_index(batch_op.f('ix_printed_labels_print_job_id'), ['print_job_id'], unique=False)

    op.create_table('racks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('freezer_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['freezer_id'], ['freezers.id'], name=op.f('fk_racks_freezer_id_freezers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_racks')),
    sa.UniqueConstraint('freezer_id', 'name', name=op.f('uq_racks_freezer_id_name'))
    )
    with op.batch_alter_table('racks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_racks_freezer_id'), ['freezer_id'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('visit_number', sa.Integer(), nullable=False),
    sa.Column('visit_on', sa.Date(), nullable=False),
    sa.CheckConstraint('visit_number >= 1', name=op.f('ck_visits_visit_number_positive')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_visits_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits')),
    sa.UniqueConstraint('subject_id', 'visit_number', name=op.f('uq_visits_subject_id_visit_number'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visits_subject_id'), ['subject_id'], unique=False)

    op.create_table('boxes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('barcode', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('rack_id', sa.Integer(), nullable=True),
    sa.Column('n_rows', sa.Integer(), nullable=False),
    sa.Column('n_cols', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('n_cols BETWEEN 1 AND 30', name=op.f('ck_boxes_cols_range')),
    sa.CheckConstraint('n_rows BETWEEN 1 AND 26', name=op.f('ck_boxes_rows_range')),
    sa.ForeignKeyConstraint(['rack_id'], ['racks.id'], name=op.f('fk_boxes_rack_id_racks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_boxes')),
    sa.UniqueConstraint('barcode', name=op.f('uq_boxes_barcode'))
    )
    with op.batch_alter_table('boxes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_boxes_rack_id'), ['rack_id'], unique=False)

    op.create_table('specimens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('barcode', sa.String(length=32), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('specimen_type', sa.Enum('whole_blood', 'serum', 'plasma', 'buffy_coat', 'dna', 'rna', name='specimentype', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('tube_type', sa.Enum('PED', 'SED', 'SST', 'CAT', 'SCI', 'HEP', 'PXD', 'ZZZ', name='tubetype', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('volume_ml', sa.Double(), nullable=True),
    sa.Column('collected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('processing_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pre_processing_temperature', sa.Enum('RT', '2-10C', name='pre_processing_temperature', native_enum=False, create_constraint=True, length=8), nullable=True),
    sa.Column('centrifuge_g', sa.Integer(), nullable=True),
    sa.Column('centrifuge_minutes', sa.Integer(), nullable=True),
    sa.Column('centrifuge_temperature', sa.Enum('RT', '2-10C', name='centrifuge_temperature', native_enum=False, create_constraint=True, length=8), nullable=True),
    sa.Column('centrifuge_braked', sa.Boolean(), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('storage_temperature_c', sa.Integer(), nullable=True),
    sa.Column('sprec_code', sa.String(length=20), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('centrifuge_g IS NULL OR centrifuge_g > 0', name=op.f('ck_specimens_g_positive')),
    sa.CheckConstraint('processed_at IS NULL OR processed_at >= collected_at', name=op.f('ck_specimens_processed_after_collection')),
    sa.CheckConstraint('received_at IS NULL OR received_at >= collected_at', name=op.f('ck_specimens_received_after_collection')),
    sa.CheckConstraint('volume_ml IS NULL OR volume_ml > 0', name=op.f('ck_specimens_volume_positive')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_specimens_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_specimens')),
    sa.UniqueConstraint('barcode', name=op.f('uq_specimens_barcode'))
    )
    with op.batch_alter_table('specimens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_specimens_visit_id'), ['visit_id'], unique=False)

    op.create_table('aliquots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('barcode', sa.String(length=32), nullable=False),
    sa.Column('is_issued_barcode', sa.Boolean(), nullable=False),
    sa.Column('specimen_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('specimen_type', sa.Enum('whole_blood', 'serum', 'plasma', 'buffy_coat', 'dna', 'rna', name='specimentype', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('volume_ul', sa.Integer(), nullable=False),
    sa.Column('concentration_ng_ul', sa.Double(), nullable=True),
    sa.Column('a260_280', sa.Double(), nullable=True),
    sa.Column('status', sa.Enum('expected', 'received', 'stored', 'reserved', 'checked_out', 'in_transit', 'released', 'consumed', 'disposed', 'quarantined', 'missing', name='aliquotstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('freeze_thaw_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('a260_280 IS NULL OR (a260_280 > 0 AND a260_280 < 5)', name=op.f('ck_aliquots_a260_280_range')),
    sa.CheckConstraint('concentration_ng_ul IS NULL OR concentration_ng_ul >= 0', name=op.f('ck_aliquots_concentration_non_negative')),
    sa.CheckConstraint('freeze_thaw_count >= 0', name=op.f('ck_aliquots_freeze_thaw_non_negative')),
    sa.CheckConstraint('parent_id IS NULL OR parent_id <> id', name=op.f('ck_aliquots_not_own_parent')),
    sa.CheckConstraint('volume_ul >= 0', name=op.f('ck_aliquots_volume_non_negative')),
    sa.ForeignKeyConstraint(['parent_id'], ['aliquots.id'], name=op.f('fk_aliquots_parent_id_aliquots')),
    sa.ForeignKeyConstraint(['specimen_id'], ['specimens.id'], name=op.f('fk_aliquots_specimen_id_specimens')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aliquots')),
    sa.UniqueConstraint('barcode', name=op.f('uq_aliquots_barcode'))
    )
    with op.batch_alter_table('aliquots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aliquots_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_aliquots_specimen_id'), ['specimen_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_aliquots_specimen_type'), ['specimen_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_aliquots_status'), ['status'], unique=False)

    op.create_table('placements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('aliquot_id', sa.Integer(), nullable=False),
    sa.Column('box_id', sa.Integer(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('col', sa.Integer(), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('"row" >= 0 AND col >= 0', name=op.f('ck_placements_position_non_negative')),
    sa.ForeignKeyConstraint(['aliquot_id'], ['aliquots.id'], name=op.f('fk_placements_aliquot_id_aliquots')),
    sa.ForeignKeyConstraint(['box_id'], ['boxes.id'], name=op.f('fk_placements_box_id_boxes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_placements')),
    sa.UniqueConstraint('aliquot_id', name=op.f('uq_placements_aliquot_id')),
    sa.UniqueConstraint('box_id', 'row', 'col', name=op.f('uq_placements_box_id_row_col'))
    )
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_placements_box_id'), ['box_id'], unique=False)
    _append_only_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_refuse_change()")
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_placements_box_id'))

    op.drop_table('placements')
    with op.batch_alter_table('aliquots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_aliquots_status'))
        batch_op.drop_index(batch_op.f('ix_aliquots_specimen_type'))
        batch_op.drop_index(batch_op.f('ix_aliquots_specimen_id'))
        batch_op.drop_index(batch_op.f('ix_aliquots_parent_id'))

    op.drop_table('aliquots')
    with op.batch_alter_table('specimens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_specimens_visit_id'))

    op.drop_table('specimens')
    with op.batch_alter_table('boxes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_boxes_rack_id'))

    op.drop_table('boxes')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visits_subject_id'))

    op.drop_table('visits')
    with op.batch_alter_table('racks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_racks_freezer_id'))

    op.drop_table('racks')
    with op.batch_alter_table('printed_labels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_printed_labels_print_job_id'))
        batch_op.drop_index(batch_op.f('ix_printed_labels_barcode'))

    op.drop_table('printed_labels')
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_print_jobs_user_id'))

    op.drop_table('print_jobs')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_object')
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_site_id'))

    op.drop_table('users')
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subjects_site_id'))

    op.drop_table('subjects')
    with op.batch_alter_table('freezers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_freezers_site_id'))

    op.drop_table('freezers')
    op.drop_table('sites')
    op.drop_table('barcode_counters')
