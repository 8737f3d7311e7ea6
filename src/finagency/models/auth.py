"""Auth state kept on the server: browser sessions, login throttles, OIDC links, time slots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from finagency.models.base import Base, BigId, CreatedMixin, IdMixin, utcnow


class UserSession(IdMixin, CreatedMixin, Base):
    """One browser session; the cookie holds a random id, the table only its SHA-256.

    ``user_id`` is None before sign-in (the row then carries only the CSRF token, flashes and
    the transient OIDC state); sign-in replaces the row with a new one and a new id.
    """

    __tablename__ = "user_session"

    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user.id", ondelete="CASCADE"), index=True, default=None
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column()
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class LoginThrottle(IdMixin, Base):
    """Failed sign-ins per email address (known or not, so a lockout reveals no accounts)."""

    __tablename__ = "login_throttle"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(default=None)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)


class OidcIdentity(IdMixin, CreatedMixin, Base):
    """A local user's identity at an OIDC provider, keyed on (issuer, subject), never email."""

    __tablename__ = "oidc_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(254), default="")
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)


class TimeSlot(IdMixin, Base):
    """A brand's regular posting time on one platform, in the brand's own timezone.

    ``weekday`` is 0 (Monday) to 6, or None for every day; ``minute_of_day`` is 0..1439.
    """

    __tablename__ = "time_slot"
    __table_args__ = (UniqueConstraint("brand_id", "platform", "weekday", "minute_of_day"),)

    brand_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("brand.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(40))
    weekday: Mapped[int | None] = mapped_column(Integer, default=None)
    minute_of_day: Mapped[int] = mapped_column(Integer)
