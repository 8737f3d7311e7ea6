"""generator evaluations

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import finagency.models.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "generator_evaluation",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("generator", sa.String(length=40), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("triggered_by", sa.String(length=100), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("drafts", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("grounding_pass_share", sa.Float(), nullable=False),
        sa.Column("pass_share", sa.Float(), nullable=False),
        sa.Column("review_share", sa.Float(), nullable=False),
        sa.Column("blocked_share", sa.Float(), nullable=False),
        sa.Column("platform_fit_share", sa.Float(), nullable=False),
        sa.Column("avg_latency_ms", sa.Float(), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("samples", sa.JSON(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "created_at",
            finagency.models.base.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generator_evaluation")),
    )
    op.create_index(
        "ix_generator_evaluation_generator_id",
        "generator_evaluation",
        ["generator", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_generator_evaluation_generator_id", table_name="generator_evaluation")
    op.drop_table("generator_evaluation")
