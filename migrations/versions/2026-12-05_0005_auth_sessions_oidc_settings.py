"""auth sessions oidc settings

Server-side browser sessions, login throttles (lockout), OIDC identities and brand time slots.
Written by hand: only this change's tables.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import finagency.models.base

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_WHEN = finagency.models.base.UTCDateTime(timezone=True)


def _created() -> sa.Column[object]:
    return sa.Column(
        'created_at', _WHEN, server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        'user_session',
        sa.Column('id_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', _ID, nullable=True),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('last_seen_at', _WHEN, nullable=False),
        sa.Column('expires_at', _WHEN, nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=False),
        sa.Column('user_agent', sa.String(length=300), nullable=False),
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        _created(),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user.id'], name=op.f('fk_user_session_user_id_user'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
        sa.UniqueConstraint('id_hash', name=op.f('uq_user_session_id_hash')),
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)
        batch_op.create_index(
            batch_op.f('ix_user_session_last_seen_at'), ['last_seen_at'], unique=False
        )
    op.create_table(
        'login_throttle',
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failure_at', _WHEN, nullable=True),
        sa.Column('locked_until', _WHEN, nullable=True),
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_throttle')),
        sa.UniqueConstraint('email', name=op.f('uq_login_throttle_email')),
    )
    op.create_table(
        'oidc_identity',
        sa.Column('user_id', _ID, nullable=False),
        sa.Column('issuer', sa.String(length=500), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('last_login_at', _WHEN, nullable=True),
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        _created(),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user.id'], name=op.f('fk_oidc_identity_user_id_user'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_identity')),
        sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_oidc_identity_issuer')),
    )
    with op.batch_alter_table('oidc_identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oidc_identity_user_id'), ['user_id'], unique=False)
    op.create_table(
        'time_slot',
        sa.Column('brand_id', _ID, nullable=False),
        sa.Column('platform', sa.String(length=40), nullable=False),
        sa.Column('weekday', sa.Integer(), nullable=True),
        sa.Column('minute_of_day', sa.Integer(), nullable=False),
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ['brand_id'], ['brand.id'], name=op.f('fk_time_slot_brand_id_brand'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_time_slot')),
        sa.UniqueConstraint(
            'brand_id', 'platform', 'weekday', 'minute_of_day', name=op.f('uq_time_slot_brand_id')
        ),
    )
    with op.batch_alter_table('time_slot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_time_slot_brand_id'), ['brand_id'], unique=False)


def downgrade() -> None:
    op.drop_table('time_slot')
    op.drop_table('oidc_identity')
    op.drop_table('login_throttle')
    op.drop_table('user_session')
