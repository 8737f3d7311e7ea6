"""Brands (the agency's clients), users, per-brand memberships and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from finagency.models.base import Base, BigId, CreatedMixin, IdMixin


class Brand(IdMixin, CreatedMixin, Base):
    __tablename__ = "brand"

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Compliance regime profile used by the lexicon and disclosure checks.
    regime: Mapped[str] = mapped_column(String(40), default="default")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    disclosure: Mapped[str] = mapped_column(Text, default="")
    link_allowlist: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Content kinds whose clean drafts are approved by policy (explicit and audited).
    auto_approve_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    maker_checker: Mapped[bool] = mapped_column(Boolean, default=True)
    # Minutes a market post may go out after its slot before it is stale.
    max_lateness_minutes: Mapped[int] = mapped_column(default=120)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class User(IdMixin, CreatedMixin, Base):
    __tablename__ = "user"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)


class Membership(IdMixin, CreatedMixin, Base):
    """A user's role on one brand: editor, approver, client, operator or admin."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "brand_id", "role"),)

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("user.id", ondelete="CASCADE"))
    brand_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("brand.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))


class ApiToken(IdMixin, CreatedMixin, Base):
    """A scoped token for automation; only its hash is stored."""

    __tablename__ = "api_token"

    brand_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("brand.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)


class Setting(IdMixin, Base):
    """A key/value setting, agency-wide (brand_id null) or per brand."""

    __tablename__ = "setting"
    __table_args__ = (UniqueConstraint("brand_id", "key"),)

    brand_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("brand.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(100))
    value: Mapped[Any] = mapped_column(JSON)


class WebhookEndpoint(IdMixin, CreatedMixin, Base):
    """An outbound webhook that receives signed domain events."""

    __tablename__ = "webhook_endpoint"

    brand_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("brand.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # What the receiver is for ("CRM sync"), shown in Settings next to the URL.
    description: Mapped[str] = mapped_column(String(200), default="", server_default="")


class WebhookDelivery(IdMixin, CreatedMixin, Base):
    """One event sent (or being sent) to one endpoint: the delivery log a person reads."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_endpoint_id_id", "endpoint_id", "id"),)

    brand_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("brand.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("webhook_endpoint.id", ondelete="CASCADE")
    )
    # The ``webhook-id`` header: receivers use it to drop duplicates of a retried delivery.
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    event: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # pending → delivered | retrying → delivered | dead (dead-lettered after the last attempt)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    response_code: Mapped[int | None] = mapped_column(default=None)
    duration_ms: Mapped[int | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
