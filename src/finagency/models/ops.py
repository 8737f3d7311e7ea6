"""Operations records: backups taken, legacy import runs and the ledger of imported rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from finagency.models.base import Base, BigId, IdMixin, utcnow


class BackupRecord(IdMixin, Base):
    """One backup attempt, so `/metrics` and operators can see when the last good one was."""

    __tablename__ = "backup_record"

    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    path: Mapped[str] = mapped_column(Text)
    dialect: Mapped[str] = mapped_column(String(20))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    trigger: Mapped[str] = mapped_column(String(20), default="manual")  # manual, scheduled
    ok: Mapped[bool] = mapped_column(Boolean, default=True)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class ImportRun(IdMixin, Base):
    """One legacy file brought in (or refused) by ``finagency import``, with its report."""

    __tablename__ = "import_run"

    brand_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("brand.id", ondelete="CASCADE"), index=True
    )
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_imported: Mapped[int] = mapped_column(Integer, default=0)
    rows_skipped: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ImportLedger(IdMixin, Base):
    """Which legacy row became which finagency row: re-running an import skips these."""

    __tablename__ = "import_ledger"
    __table_args__ = (UniqueConstraint("brand_id", "source", "source_key"),)

    brand_id: Mapped[int] = mapped_column(BigId, ForeignKey("brand.id", ondelete="CASCADE"))
    # "<file name>:<table>", e.g. "posting_queue.db:posting_queue".
    source: Mapped[str] = mapped_column(String(255))
    source_key: Mapped[str] = mapped_column(String(255))
    target_type: Mapped[str] = mapped_column(String(40))  # content_item, post, engagement_snapshot
    target_id: Mapped[int] = mapped_column(BigId)
    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("import_run.id", ondelete="CASCADE"))
