"""The audit trail: append hash-chained events, verify the chain, export it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.core.time import utcnow
from finagency.models import AuditEvent

GENESIS = "0" * 64
# Any constant works: it names the one advisory lock that serialises appends on PostgreSQL.
_CHAIN_LOCK = 7_305_112_024


def _digest(prev_hash: str, event: AuditEvent) -> str:
    body = json.dumps(
        {
            "prev": prev_hash,
            "brand_id": event.brand_id,
            "at": event.at.isoformat(),
            "actor": event.actor,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "data": event.data,
            "note": event.note,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: object,
    brand_id: int | None = None,
    data: dict[str, Any] | None = None,
    note: str = "",
) -> AuditEvent:
    """Append one event in the caller's transaction, chained to the previous one."""
    if session.get_bind().dialect.name == "postgresql":
        # Two concurrent appends must not both chain onto the same predecessor.
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    # (On SQLite, BEGIN IMMEDIATE already serialises writers.)
    prev = await session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(
        brand_id=brand_id,
        at=utcnow().replace(microsecond=0),
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        data=json.loads(json.dumps(data or {}, default=str)),
        note=note,
        prev_hash=prev or GENESIS,
    )
    event.hash = _digest(event.prev_hash, event)
    session.add(event)
    await session.flush()
    return event


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    problem: str = ""


async def verify_chain(session: AsyncSession, batch: int = 1000) -> ChainReport:
    """Recompute every hash; any edited, deleted or reordered event breaks the chain."""
    prev_hash, checked, last_id = GENESIS, 0, 0
    while True:
        rows = list(
            (
                await session.execute(
                    select(AuditEvent)
                    .where(AuditEvent.id > last_id)
                    .order_by(AuditEvent.id)
                    .limit(batch)
                )
            ).scalars()
        )
        if not rows:
            return ChainReport(True, checked)
        for event in rows:
            if event.prev_hash != prev_hash:
                return ChainReport(
                    False,
                    checked,
                    event.id,
                    "previous hash does not match: an event was removed or reordered",
                )
            if _digest(prev_hash, event) != event.hash:
                return ChainReport(
                    False,
                    checked,
                    event.id,
                    "content does not match its hash: the event was altered",
                )
            prev_hash, last_id, checked = event.hash, event.id, checked + 1


async def export_jsonl(session: AsyncSession) -> AsyncIterator[str]:
    last_id = 0
    while True:
        rows = list(
            (
                await session.execute(
                    select(AuditEvent)
                    .where(AuditEvent.id > last_id)
                    .order_by(AuditEvent.id)
                    .limit(1000)
                )
            ).scalars()
        )
        if not rows:
            return
        for event in rows:
            last_id = event.id
            yield json.dumps(
                {
                    "id": event.id,
                    "brand_id": event.brand_id,
                    "at": event.at.isoformat(),
                    "actor": event.actor,
                    "action": event.action,
                    "object_type": event.object_type,
                    "object_id": event.object_id,
                    "data": event.data,
                    "note": event.note,
                    "prev_hash": event.prev_hash,
                    "hash": event.hash,
                },
                sort_keys=True,
            )
