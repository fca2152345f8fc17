"""initial schema

Revision ID: 0001
Revises: 
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('workspace_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('address_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_address_id'), ['address_id'], unique=False)
        batch_op.create_index('ix_audit_workspace_at', ['workspace_id', 'at'], unique=False)

    op.create_table('processed_delivery',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('received_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('workspace',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('location',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('workspace_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('name_key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('alert_channel_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'name_key', name='uq_location_name')
    )
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_location_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('outbound_address',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('workspace_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('assigned_user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('added_by_user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('location_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('team_name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('team_channel_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('team_member_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('dm_channel_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('dm_message_ts', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('connected_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_sent_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_checked_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('invalid_since', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'email', name='uq_address_email')
    )
    with op.batch_alter_table('outbound_address', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_address_assigned_user_id'), ['assigned_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_address_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('connect_link',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('workspace_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('address_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('slack_user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['address_id'], ['outbound_address.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('connect_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_connect_link_address_id'), ['address_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_connect_link_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('credential',
    sa.Column('address_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('workspace_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('connector', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('ciphertext', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('scopes', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('access_expires_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['address_id'], ['outbound_address.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('address_id')
    )
    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credential_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('oauth_attempt',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('workspace_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('state_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('browser_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('address_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('link_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('slack_user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('code_verifier_ciphertext', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['address_id'], ['outbound_address.id'], ),
    sa.ForeignKeyConstraint(['link_id'], ['connect_link.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('state_hash')
    )
    with op.batch_alter_table('oauth_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_attempt_address_id'), ['address_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_attempt_workspace_id'), ['workspace_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('oauth_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_attempt_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_attempt_address_id'))

    op.drop_table('oauth_attempt')
    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credential_workspace_id'))

    op.drop_table('credential')
    with op.batch_alter_table('connect_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connect_link_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_connect_link_address_id'))

    op.drop_table('connect_link')
    with op.batch_alter_table('outbound_address', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_address_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_outbound_address_assigned_user_id'))

    op.drop_table('outbound_address')
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_location_workspace_id'))

    op.drop_table('location')
    op.drop_table('workspace')
    op.drop_table('processed_delivery')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_workspace_at')
        batch_op.drop_index(batch_op.f('ix_audit_event_address_id'))

    op.drop_table('audit_event')
