"""compliance retention client approval

Legal holds, the audit chain's pruning checkpoints, and the approval stage (approver or client).
Written by hand: only this change's tables and columns.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import finagency.models.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = finagency.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "legal_hold",
        sa.Column("brand_id", _ID, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.Column("set_at", _WHEN, nullable=False),
        sa.Column("released_by", sa.String(length=200), nullable=True),
        sa.Column("released_at", _WHEN, nullable=True),
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brand.id"],
            name=op.f("fk_legal_hold_brand_id_brand"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_hold")),
    )
    with op.batch_alter_table("legal_hold", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_hold_brand_id"), ["brand_id"], unique=False)
    op.create_table(
        "audit_checkpoint",
        sa.Column("at", _WHEN, nullable=False),
        sa.Column("through_id", _ID, nullable=False),
        sa.Column("through_hash", sa.String(length=64), nullable=False),
        sa.Column("pruned", _ID, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoint")),
    )
    with op.batch_alter_table("approval", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stage", sa.String(length=20), server_default="approver", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("approval", schema=None) as batch_op:
        batch_op.drop_column("stage")
    op.drop_table("audit_checkpoint")
    with op.batch_alter_table("legal_hold", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_hold_brand_id"))
    op.drop_table("legal_hold")
