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


class LegalHold(IdMixin, Base):
    """A hold that suspends deletion of a brand's records (brand_id null: the whole agency).

    Active while ``released_at`` is null; setting and releasing it are audited events too.
    """

    __tablename__ = "legal_hold"

    brand_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("brand.id", ondelete="CASCADE"), index=True, default=None
    )
    reason: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_by: Mapped[str | None] = mapped_column(String(200), default=None)
    released_at: Mapped[datetime | None] = mapped_column(default=None)


class AuditCheckpoint(IdMixin, Base):
    """The anchor left by pruning: the last removed event's id and hash.

    After a prune the oldest kept event's ``prev_hash`` equals ``through_hash``, so the chain
    still verifies from here; the prune itself is also an event in the chain.
    """

    __tablename__ = "audit_checkpoint"

    at: Mapped[datetime] = mapped_column(default=utcnow)
    through_id: Mapped[int] = mapped_column(BigId)
    through_hash: Mapped[str] = mapped_column(String(64))
    pruned: Mapped[int] = mapped_column(BigId)
    actor: Mapped[str] = mapped_column(String(200))
