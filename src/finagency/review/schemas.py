"""The review API's request and response shapes: findings, approvals, decisions."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class FindingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    post_version: int
    check_id: str
    severity: str = Field(description="block, review or info")
    reason_code: str
    message: str
    span_start: int | None
    span_end: int | None
    excerpt: str
    disposition: str


class ApprovalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    version_hash: str
    approver_id: int | None
    decision: str
    note: str
    policy: str | None
    stage: str = Field(default="approver", description="approver (or a policy) or client")
    at: datetime


class ApproveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version_hash: str | None = Field(
        default=None,
        max_length=64,
        description="The content hash you reviewed; the approval fails if the post changed since.",
    )
    note: str = Field(default="", max_length=2000)


class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000, description="What the author should change.")


class DecisionRead(BaseModel):
    """The post's state after a decision, and the decision itself."""

    post_id: int
    status: str
    scheduled_at: datetime | None
    approval: ApprovalRead


class ClientQueueItem(BaseModel):
    """A post waiting for the brand's client to sign it off."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    brand_id: int
    platform: str
    text: str
    content_hash: str
    version: int
    updated_at: datetime
