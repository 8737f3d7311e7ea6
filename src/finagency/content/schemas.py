"""The content API's response shapes: posts, their detail, publish attempts, pages of posts."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from finagency.review.schemas import ApprovalRead, FindingRead


class PostRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    brand_id: int
    content_item_id: int
    account_id: int
    platform: str
    text: str
    link: str | None
    status: str
    version: int
    content_hash: str
    author_id: int | None
    check_verdict: str
    scheduled_at: datetime | None
    latest_at: datetime | None
    published_at: datetime | None
    external_id: str | None
    external_url: str | None
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime


class PublishAttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    attempt_no: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str = Field(description="sending, confirmed, failed or unknown")
    external_id: str | None
    url: str | None
    error: str | None


class PostDetailRead(PostRead):
    findings: list[FindingRead]
    approvals: list[ApprovalRead]
    publish_attempts: list[PublishAttemptRead]


class PostPage(BaseModel):
    items: list[PostRead]
    total: int
    limit: int
    offset: int


class ResolveRequest(BaseModel):
    """A person's answer for an unconfirmed post: it went out (with its link), or send it again."""

    model_config = ConfigDict(extra="forbid")

    went_out: bool
    external_url: str | None = Field(default=None, max_length=2000)
