"""The queue API's request and response shapes: jobs, queues, bulk actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JobAction = Literal["retry", "cancel", "discard"]


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    queue: str
    task: str
    state: str
    priority: int
    run_at: datetime
    attempt: int
    max_attempts: int
    brand_id: int | None
    unique_key: str | None
    attempted_at: datetime | None
    finalized_at: datetime | None
    last_error: str | None
    errors: list[dict[str, Any]]
    dlq_reason: str | None
    created_at: datetime


class JobPage(BaseModel):
    items: list[JobRead]
    total: int
    limit: int
    offset: int


class BulkJobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: JobAction
    ids: list[int] = Field(min_length=1, max_length=500)


class JobActionResult(BaseModel):
    action: JobAction
    requested: int
    affected: int = Field(description="Jobs whose state allowed the action")


class QueueRead(BaseModel):
    queue: str
    paused: bool
    counts: dict[str, int] = Field(description="Jobs by state")


class JobEdit(BaseModel):
    """New arguments for a dead-lettered job, which then runs again."""

    model_config = ConfigDict(extra="forbid")

    args: dict[str, Any]


class AccountPauseRead(BaseModel):
    account_id: int
    paused: bool


class BreakerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    state: str
    failures: int
    open_until: datetime | None
    last_error: str | None
