"""The social area: platform accounts, publish attempts, engagement and the sandbox feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from finagency.models.base import Base, BigId, CreatedMixin, IdMixin, utcnow


class Account(IdMixin, CreatedMixin, Base):
    """A brand's account on one platform, with its encrypted credentials and health."""

    __tablename__ = "account"
    __table_args__ = (UniqueConstraint("brand_id", "platform", "handle"),)

    brand_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("brand.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(40))
    handle: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    # The API's base URL when it is not the platform's public one (a Mastodon instance, a
    # Bluesky PDS, a local fake platform); None means the platform's default.
    base_url: Mapped[str | None] = mapped_column(Text, default=None)
    # Fernet token of the JSON credentials; never logged, never returned by the API.
    credentials_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    token_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(
        String(20), default="active"
    )  # active, paused, auth_expired
    rate_limit_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    breaker_state: Mapped[str] = mapped_column(String(10), default="closed")
    breaker_open_until: Mapped[datetime | None] = mapped_column(default=None)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)


class PublishAttempt(IdMixin, Base):
    """The intent record written before a platform call, and its outcome after."""

    __tablename__ = "publish_attempt"
    __table_args__ = (UniqueConstraint("post_id", "attempt_no"),)

    brand_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("brand.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("post.id", ondelete="CASCADE"), index=True
    )
    attempt_no: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # sending (open), confirmed, failed, unknown
    outcome: Mapped[str] = mapped_column(String(20), default="sending")
    external_id: Mapped[str | None] = mapped_column(String(200), default=None)
    url: Mapped[str | None] = mapped_column(Text, default=None)
    response_excerpt: Mapped[str | None] = mapped_column(Text, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class EngagementSnapshot(IdMixin, Base):
    """Engagement counters of a published post at one moment (append-only)."""

    __tablename__ = "engagement_snapshot"
    __table_args__ = (Index("ix_engagement_snapshot_post_at", "post_id", "at"),)

    brand_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("brand.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("post.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    reposts: Mapped[int] = mapped_column(Integer, default=0)
    replies: Mapped[int] = mapped_column(Integer, default=0)
    impressions: Mapped[int] = mapped_column(Integer, default=0)
    clicks: Mapped[int] = mapped_column(Integer, default=0)


class SandboxPost(IdMixin, CreatedMixin, Base):
    """A post 'published' to the local sandbox platform: the demo's own feed."""

    __tablename__ = "sandbox_post"
    __table_args__ = (UniqueConstraint("account_id", "idempotency_key"),)

    brand_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("brand.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("account.id", ondelete="CASCADE"))
    stands_in_for: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(100))
