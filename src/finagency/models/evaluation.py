"""Generator evaluations: how each generator's drafts fared against the checks, run by run.

One row per generator per evaluation run (rows of one run share ``run_id``), so the Analytics
page can show the latest result of every generator side by side. Evaluations use the demo's
sample fact sheets, not any brand's material, so the rows belong to no brand.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from finagency.models.base import Base, CreatedMixin, IdMixin


class GeneratorEvaluation(IdMixin, CreatedMixin, Base):
    """One generator's results in one evaluation run (shares are 0..1 of ``drafts``)."""

    __tablename__ = "generator_evaluation"

    run_id: Mapped[str] = mapped_column(String(32))
    generator: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(200), default="")
    triggered_by: Mapped[str] = mapped_column(String(100), default="")
    items: Mapped[int] = mapped_column(Integer, default=0)
    drafts: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    grounding_pass_share: Mapped[float] = mapped_column(Float, default=0.0)
    pass_share: Mapped[float] = mapped_column(Float, default=0.0)
    review_share: Mapped[float] = mapped_column(Float, default=0.0)
    blocked_share: Mapped[float] = mapped_column(Float, default=0.0)
    platform_fit_share: Mapped[float] = mapped_column(Float, default=0.0)
    avg_latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    # {reason_code: drafts held or blocked for it}, {error code: failed generations}
    reasons: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    errors: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A few drafts with their verdicts, so a reader sees what the numbers mean.
    samples: Mapped[list[Any]] = mapped_column(JSON, default=list)

    __table_args__ = (Index("ix_generator_evaluation_generator_id", "generator", "id"),)
