"""The audit trail: append hash-chained events, verify the chain, export it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.core.time import utcnow
from finagency.models import AuditCheckpoint, AuditEvent

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
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction, chained to the previous one.

    ``at`` is for imports of past events (and tests of retention); it defaults to now.
    """
    if session.get_bind().dialect.name == "postgresql":
        # Two concurrent appends must not both chain onto the same predecessor.
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    # (On SQLite, BEGIN IMMEDIATE already serialises writers.)
    prev = await session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    if prev is None:
        # Everything was pruned: the chain continues from the last checkpoint's anchor.
        prev = await latest_anchor(session)
    event = AuditEvent(
        brand_id=brand_id,
        at=(at or utcnow()).replace(microsecond=0),
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


async def latest_anchor(session: AsyncSession) -> str | None:
    """The hash the chain continues from after the newest prune, if any."""
    checkpoint = await latest_checkpoint(session)
    return checkpoint.through_hash if checkpoint is not None else None


async def latest_checkpoint(session: AsyncSession) -> AuditCheckpoint | None:
    return await session.scalar(
        select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)
    )


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    problem: str = ""
    # The last event that still verified: anything between it and first_bad_id is suspect.
    last_good_id: int | None = None
    pruned_through_id: int | None = None


def _removed_problem(last_id: int, event_id: int) -> str:
    if last_id and event_id > last_id + 1:
        gap = str(last_id + 1) if event_id == last_id + 2 else f"{last_id + 1}-{event_id - 1}"
        return (
            f"previous hash does not match: event {gap} was removed "
            f"(the chain breaks between events {last_id} and {event_id})"
        )
    return "previous hash does not match: an event was removed or reordered"


async def verify_chain(session: AsyncSession, batch: int = 1000) -> ChainReport:
    """Recompute every hash; any edited, deleted or reordered event breaks the chain.

    After a prune the walk starts at the newest checkpoint, whose anchor must be confirmed by
    an ``audit.pruned`` event later in the chain (so a forged checkpoint does not verify).
    """
    checkpoint = await latest_checkpoint(session)
    prev_hash, checked, last_id = GENESIS, 0, 0
    pruned_through: int | None = None
    anchor_confirmed = True
    if checkpoint is not None:
        prev_hash, last_id = checkpoint.through_hash, checkpoint.through_id
        pruned_through, anchor_confirmed = checkpoint.through_id, False
    good: int | None = None
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
            if not anchor_confirmed:
                return ChainReport(
                    False,
                    checked,
                    None,
                    "the pruning checkpoint is not confirmed by an audit.pruned event",
                    good,
                    pruned_through,
                )
            return ChainReport(True, checked, None, "", good, pruned_through)
        for event in rows:
            if event.prev_hash != prev_hash:
                return ChainReport(
                    False,
                    checked,
                    event.id,
                    _removed_problem(last_id, event.id),
                    good,
                    pruned_through,
                )
            if _digest(prev_hash, event) != event.hash:
                return ChainReport(
                    False,
                    checked,
                    event.id,
                    "content does not match its hash: the event was altered",
                    good,
                    pruned_through,
                )
            if (
                checkpoint is not None
                and event.action == PRUNED_ACTION
                and event.data.get("through_hash") == checkpoint.through_hash
            ):
                anchor_confirmed = True
            prev_hash, last_id, checked, good = event.hash, event.id, checked + 1, event.id


PRUNED_ACTION = "audit.pruned"


def event_record(event: AuditEvent) -> dict[str, Any]:
    """One event as an archive record (the JSONL export's line)."""
    return {
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
    }


async def export_jsonl(
    session: AsyncSession,
    *,
    brand_id: int | None = None,
    annotate: Callable[[AuditEvent], dict[str, Any]] | None = None,
) -> AsyncIterator[str]:
    """Every event (or one brand's) as JSON lines, oldest first; ``annotate`` adds fields
    such as ``retention_until`` and ``legal_hold`` to each record."""
    last_id = 0
    while True:
        query = select(AuditEvent).where(AuditEvent.id > last_id)
        if brand_id is not None:
            query = query.where(AuditEvent.brand_id == brand_id)
        rows = list((await session.execute(query.order_by(AuditEvent.id).limit(1000))).scalars())
        if not rows:
            return
        for event in rows:
            last_id = event.id
            line = event_record(event)
            if annotate is not None:
                line.update(annotate(event))
            yield json.dumps(line, sort_keys=True, default=str)
