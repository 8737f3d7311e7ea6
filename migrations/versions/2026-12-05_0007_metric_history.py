"""metric history

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import finagency.models.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = finagency.models.base.UTCDateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "metric_sample",
        sa.Column("brand_id", BIG_ID, nullable=True),
        sa.Column("scope_key", sa.BigInteger(), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("bucket_start", UTC_DATETIME, nullable=False),
        sa.Column("bucket_seconds", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("min_value", sa.Float(), nullable=True),
        sa.Column("max_value", sa.Float(), nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brand.id"],
            name=op.f("fk_metric_sample_brand_id_brand"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_sample")),
        sa.UniqueConstraint(
            "scope_key",
            "metric",
            "label",
            "bucket_seconds",
            "bucket_start",
            name="uq_metric_sample_bucket",
        ),
    )
    with op.batch_alter_table("metric_sample", schema=None) as batch_op:
        batch_op.create_index(
            "ix_metric_sample_read", ["scope_key", "bucket_seconds", "bucket_start"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_metric_sample_brand_id"), ["brand_id"], unique=False)
    op.create_table(
        "stored_report",
        sa.Column("brand_id", BIG_ID, nullable=True),
        sa.Column("scope_key", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("period_start", UTC_DATETIME, nullable=False),
        sa.Column("period_end", UTC_DATETIME, nullable=False),
        sa.Column("compare_start", UTC_DATETIME, nullable=True),
        sa.Column("compare_end", UTC_DATETIME, nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("delivery", sa.String(length=40), nullable=True),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column(
            "created_at",
            UTC_DATETIME,
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brand.id"],
            name=op.f("fk_stored_report_brand_id_brand"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_report")),
    )
    with op.batch_alter_table("stored_report", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stored_report_scope_created", ["scope_key", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_stored_report_brand_id"), ["brand_id"], unique=False)


def downgrade() -> None:
    op.drop_table("stored_report")
    op.drop_table("metric_sample")
