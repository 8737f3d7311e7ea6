"""The analytics API's response shapes."""

from __future__ import annotations

from pydantic import BaseModel, Field


class StatsRead(BaseModel):
    """The Overview's numbers; ``definitions`` says how each one is computed."""

    total: int = Field(
        description="Posts that entered the publishing pipeline (approved or later)."
    )
    pending: int
    posted: int
    backlog_pct: float
    stuck: int
    processing_rate_pct: float
    in_review: int
    failed: int
    dead_letters: int
    throughput_per_hour: int
    schedule_lag_p95_s: float | None
    failure_rate_pct: float
    workers_alive: int
    jobs_by_state: dict[str, int]
    as_of: str


class StatsDefinitionsRead(BaseModel):
    definitions: dict[str, str]


class EngagementTotalsRead(BaseModel):
    """Latest engagement of every published post, summed."""

    posts: int
    likes: int
    reposts: int
    replies: int
    impressions: int
    clicks: int
