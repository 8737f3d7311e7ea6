"""The core content area: content items, per-account posts, findings and approvals."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from finagency.models.base import Base, BigId, CreatedMixin, IdMixin, utcnow


class PostStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    # Approved by the approver; waits for the brand's client when client approval is on.
    AWAITING_CLIENT = "awaiting_client"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    REJECTED = "rejected"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class ContentItem(IdMixin, CreatedMixin, Base):
    """One idea to publish, with the facts it may use and how its text was made."""

    __tablename__ = "content_item"

    brand_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("brand.id", ondelete="CASCADE"), index=True
    )
    # market_mover, news_take, macro_rate, market_wrap, filing_note, weekly_recap, editorial
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text, default="")
    factsheet: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    generator: Mapped[str] = mapped_column(String(40), default="template")
    model: Mapped[str] = mapped_column(String(100), default="")
    prompt_template_id: Mapped[str] = mapped_column(String(200), default="")
    prompt_hash: Mapped[str] = mapped_column(String(64), default="")
    raw_output: Mapped[str] = mapped_column(Text, default="")
    seed: Mapped[int] = mapped_column(Integer, default=0)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    author_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user.id", ondelete="SET NULL"), default=None
    )
    news_item_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("news_item.id", ondelete="SET NULL"), default=None
    )
    # Makes generation idempotent: one item per (brand, subject, slot).
    dedupe_key: Mapped[str | None] = mapped_column(String(200), default=None)

    __table_args__ = (UniqueConstraint("brand_id", "dedupe_key"),)


class Post(IdMixin, CreatedMixin, Base):
    """A content item's text for one platform account, and where it is in its life."""

    __tablename__ = "post"
    __table_args__ = (
        UniqueConstraint("content_item_id", "account_id"),
        Index("ix_post_brand_status", "brand_id", "status"),
        Index("ix_post_status_scheduled_at", "status", "scheduled_at"),
    )

    brand_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("brand.id", ondelete="CASCADE"), index=True
    )
    content_item_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("content_item.id", ondelete="CASCADE")
    )
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("account.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    parts: Mapped[list[str]] = mapped_column(JSON, default=list)
    media: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    link: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(20), default=PostStatus.DRAFT)
    scheduled_at: Mapped[datetime | None] = mapped_column(default=None)
    # Past this moment the post is stale and expires instead of going out late.
    latest_at: Mapped[datetime | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    content_hash: Mapped[str] = mapped_column(String(64))
    author_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user.id", ondelete="SET NULL"), default=None
    )
    check_verdict: Mapped[str] = mapped_column(String(10), default="pass")
    external_id: Mapped[str | None] = mapped_column(String(200), default=None)
    external_url: Mapped[str | None] = mapped_column(Text, default=None)
    queued_at: Mapped[datetime | None] = mapped_column(default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    failure_reason: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Finding(IdMixin, CreatedMixin, Base):
    """What a check found in one version of a post's text."""

    __tablename__ = "finding"

    brand_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("brand.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("post.id", ondelete="CASCADE"), index=True
    )
    post_version: Mapped[int] = mapped_column(Integer)
    check_id: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))  # block, review, info
    reason_code: Mapped[str] = mapped_column(String(60))
    message: Mapped[str] = mapped_column(Text)
    span_start: Mapped[int | None] = mapped_column(Integer, default=None)
    span_end: Mapped[int | None] = mapped_column(Integer, default=None)
    excerpt: Mapped[str] = mapped_column(Text, default="")
    # open, accepted (a person judged it fine), fixed (a later version removed it)
    disposition: Mapped[str] = mapped_column(String(20), default="open")


class Approval(IdMixin, Base):
    """A decision on one exact version of a post (bound by the version hash)."""

    __tablename__ = "approval"

    brand_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("brand.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("post.id", ondelete="CASCADE"), index=True
    )
    version_hash: Mapped[str] = mapped_column(String(64))
    approver_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user.id", ondelete="SET NULL"), default=None
    )
    decision: Mapped[str] = mapped_column(String(10))  # approved, rejected
    # Which step decided: "approver" (or a policy standing in for one), then "client".
    stage: Mapped[str] = mapped_column(String(20), default="approver", server_default="approver")
    note: Mapped[str] = mapped_column(Text, default="")
    # Set when a policy, not a person, decided (e.g. "auto_approve:macro_rate").
    policy: Mapped[str | None] = mapped_column(String(100), default=None)
    at: Mapped[datetime] = mapped_column(default=utcnow)
