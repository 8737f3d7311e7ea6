"""Metric history (roll-ups of the Overview's numbers per time bucket) and stored reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from finagency.models.base import Base, BigId, CreatedMixin, IdMixin

FIVE_MINUTES = 300
HOUR = 3600
DAY = 86400
BUCKET_SIZES = (FIVE_MINUTES, HOUR, DAY)


class MetricSample(IdMixin, Base):
    """One metric over one time bucket, for one brand or (brand_id None) the whole agency.

    Gauges (backlog %, pending, workers) keep the last sample as ``value`` and the sum and
    count of samples for averages; counters (posts published, failures) keep the bucket's
    total as ``value``. ``scope_key`` is brand_id or 0: the unique key needs a non-null
    column, because NULLs never conflict and two schedulers would both insert.
    """

    __tablename__ = "metric_sample"
    __table_args__ = (
        UniqueConstraint(
            "scope_key",
            "metric",
            "label",
            "bucket_seconds",
            "bucket_start",
            name="uq_metric_sample_bucket",
        ),
        Index("ix_metric_sample_read", "scope_key", "bucket_seconds", "bucket_start"),
    )

    brand_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("brand.id", ondelete="CASCADE"), default=None, index=True
    )
    scope_key: Mapped[int] = mapped_column(BigInteger, default=0)
    metric: Mapped[str] = mapped_column(String(64))
    # A breakdown of the metric: the platform, the job state; "" for the metric as a whole.
    label: Mapped[str] = mapped_column(String(64), default="")
    bucket_start: Mapped[datetime]
    bucket_seconds: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float, default=0.0)
    count: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[float] = mapped_column(Float, default=0.0)
    min_value: Mapped[float | None] = mapped_column(Float, default=None)
    max_value: Mapped[float | None] = mapped_column(Float, default=None)
    # rollup (measured live), backfill (rebuilt from timestamps), sample (the demo's history)
    origin: Mapped[str] = mapped_column(String(16), default="rollup")


class StoredReport(IdMixin, CreatedMixin, Base):
    """A generated operations report kept for later: its period, numbers and Markdown."""

    __tablename__ = "stored_report"
    __table_args__ = (Index("ix_stored_report_scope_created", "scope_key", "created_at"),)

    brand_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("brand.id", ondelete="CASCADE"), default=None, index=True
    )
    scope_key: Mapped[int] = mapped_column(BigInteger, default=0)
    title: Mapped[str] = mapped_column(String(200))
    # manual (dashboard or CLI) or weekly (the scheduled report)
    kind: Mapped[str] = mapped_column(String(20), default="manual")
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    compare_start: Mapped[datetime | None] = mapped_column(default=None)
    compare_end: Mapped[datetime | None] = mapped_column(default=None)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    markdown: Mapped[str] = mapped_column(Text, default="")
    # Set once the weekly report went to the brand's webhooks: delivered, no_endpoint, failed
    delivery: Mapped[str | None] = mapped_column(String(40), default=None)
