"""The append-only, hash-chained audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from finagency.models.base import Base, BigId, IdMixin, utcnow


class AuditEvent(IdMixin, Base):
    """One state change; ``hash`` covers this row and the previous row's hash."""

    __tablename__ = "audit_event"

    brand_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("brand.id", ondelete="SET NULL"), index=True, default=None
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))  # "user:3", "system", "policy:auto_approve"
    action: Mapped[str] = mapped_column(String(80))  # "post.approved", "job.discarded"
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
