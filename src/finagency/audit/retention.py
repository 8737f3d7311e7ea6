"""Retention and legal hold for the audit trail (compliance.md A5, E3).

Records are kept for the brand's retention period: 7 years by default, never less than its
regime's minimum (FINRA 4511: 6; MiFID/COBS 4.11: 5), and a brand may ask for longer. A legal
hold suspends deletion for a brand (or, without a brand, for everything) until released.

Pruning only ever removes the oldest part of the chain, up to the first event that must be
kept (inside retention, or of a brand under hold), so the kept events stay one unbroken chain.
It leaves a checkpoint (the last removed event's id and hash) that the oldest kept event
links to, and records an ``audit.pruned`` event, so ``verify_chain`` still proves the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.audit import service as audit
from finagency.core.errors import Conflict, NotFound, ValidationFailed
from finagency.models import AuditCheckpoint, AuditEvent, Brand, LegalHold

DEFAULT_RETENTION_YEARS = 7
# The shortest period each regime allows (the product default of 7 years is above them all).
REGIME_MINIMUM_YEARS: Mapping[str, int] = {
    "us_finra_sec": 6,  # FINRA 4511(b) 6 years; SEA 17a-4(b)(4) 3
    "us_sec_ria": 5,  # Advisers Act 204-2(a)(11): 5 years
    "uk_fca": 5,  # COBS 4.11: 5 years for MiFID business (3 otherwise)
    "eu_mifid_esma": 5,  # MiFID II: 5 years, up to 7 on request
    "default": 0,
}
_DAYS_PER_YEAR = 365.25


def retention_years(brand: Brand | None) -> int:
    """The brand's retention: its own setting if any, never below its regime's minimum."""
    if brand is None:
        return DEFAULT_RETENTION_YEARS
    wanted = brand.settings.get("retention_years") if brand.settings else None
    years = int(wanted) if wanted is not None else DEFAULT_RETENTION_YEARS
    return max(years, REGIME_MINIMUM_YEARS.get(brand.regime, 0))


def validate_retention_years(brand: Brand, years: int) -> int:
    """For settings forms: a clear error rather than a silently raised value."""
    minimum = REGIME_MINIMUM_YEARS.get(brand.regime, 0)
    if years < max(minimum, 1):
        raise ValidationFailed(
            f"retention for a {brand.regime} brand must be at least {max(minimum, 1)} years",
            details={"regime": brand.regime, "minimum_years": max(minimum, 1)},
        )
    return years


def retention_until(at: datetime, years: int) -> datetime:
    return at + timedelta(days=round(years * _DAYS_PER_YEAR))


# ---- legal hold -----------------------------------------------------------------------------


async def active_holds(session: AsyncSession) -> list[LegalHold]:
    rows = await session.scalars(
        select(LegalHold).where(LegalHold.released_at.is_(None)).order_by(LegalHold.id)
    )
    return list(rows)


async def set_legal_hold(
    session: AsyncSession, *, brand_id: int | None, reason: str, actor: str, now: datetime
) -> LegalHold:
    """Suspend deletion of a brand's records (``brand_id`` None: every record)."""
    if not reason.strip():
        raise ValidationFailed("a legal hold needs a reason (matter, request or reference)")
    if brand_id is not None and await session.get(Brand, brand_id) is None:
        raise NotFound(f"brand {brand_id} does not exist")
    hold = LegalHold(brand_id=brand_id, reason=reason.strip(), set_by=actor, set_at=now)
    session.add(hold)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="legal_hold.set",
        object_type="legal_hold",
        object_id=hold.id,
        brand_id=brand_id,
        data={"reason": hold.reason, "scope": "brand" if brand_id is not None else "agency"},
    )
    return hold


async def release_legal_hold(
    session: AsyncSession, hold_id: int, *, actor: str, now: datetime, note: str = ""
) -> LegalHold:
    hold = await session.get(LegalHold, hold_id)
    if hold is None:
        raise NotFound(f"legal hold {hold_id} does not exist")
    if hold.released_at is not None:
        raise Conflict(f"legal hold {hold_id} was already released")
    hold.released_at, hold.released_by = now, actor
    await audit.record(
        session,
        actor=actor,
        action="legal_hold.released",
        object_type="legal_hold",
        object_id=hold.id,
        brand_id=hold.brand_id,
        data={"reason": hold.reason, "set_at": hold.set_at.isoformat()},
        note=note,
    )
    return hold


# ---- pruning --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetentionView:
    """What decides whether an event may go: retention per brand and the active holds."""

    years_by_brand: Mapping[int, int]
    held_brands: frozenset[int]
    agency_hold: bool
    default_years: int = DEFAULT_RETENTION_YEARS

    def years_for(self, brand_id: int | None) -> int:
        if brand_id is None:
            return self.default_years
        return self.years_by_brand.get(brand_id, self.default_years)

    def held(self, brand_id: int | None) -> bool:
        return self.agency_hold or (brand_id is not None and brand_id in self.held_brands)

    def annotate(self, event: AuditEvent) -> dict[str, Any]:
        """The E4 retention fields for an exported record."""
        until = retention_until(event.at, self.years_for(event.brand_id))
        return {"retention_until": until.isoformat(), "legal_hold": self.held(event.brand_id)}


async def retention_view(session: AsyncSession) -> RetentionView:
    brands = list(await session.scalars(select(Brand)))
    holds = await active_holds(session)
    return RetentionView(
        years_by_brand={brand.id: retention_years(brand) for brand in brands},
        held_brands=frozenset(hold.brand_id for hold in holds if hold.brand_id is not None),
        agency_hold=any(hold.brand_id is None for hold in holds),
    )


@dataclass(frozen=True, slots=True)
class PruneResult:
    pruned: int
    through_id: int | None
    # Why pruning stopped: "retention", "legal hold", "newest event" (always kept), "limit".
    stopped_by: str
    dry_run: bool = False


def _stop_reason(event: AuditEvent, view: RetentionView, now: datetime) -> str | None:
    if view.held(event.brand_id):
        return "legal hold"
    if retention_until(event.at, view.years_for(event.brand_id)) > now:
        return "retention"
    return None


async def prune(
    session: AsyncSession,
    *,
    now: datetime,
    actor: str = "system:retention",
    limit: int = 100_000,
    dry_run: bool = False,
    batch: int = 1000,
) -> PruneResult:
    """Delete the oldest events that are past retention and not held, leaving a checkpoint.

    Run it in one transaction: the deletion, the checkpoint and the ``audit.pruned`` event
    commit together or not at all.
    """
    view = await retention_view(session)
    # The newest event always stays: it is the chain's head, and on SQLite a deleted highest id
    # would be handed out again, to an event the walk from the checkpoint would then skip.
    newest = await session.scalar(select(func.max(AuditEvent.id)))
    checkpoint = await audit.latest_checkpoint(session)
    start = checkpoint.through_id if checkpoint is not None else 0
    last: AuditEvent | None = None
    count, stopped, after = 0, "end of chain", start
    while stopped == "end of chain" and count < limit:
        rows = list(
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.id > after)
                .order_by(AuditEvent.id)
                .limit(min(batch, limit - count))
            )
        )
        if not rows:
            break
        for event in rows:
            reason = "newest event" if event.id == newest else _stop_reason(event, view, now)
            if reason is not None:
                stopped = reason
                break
            last, count, after = event, count + 1, event.id
        else:
            if count >= limit:
                stopped = "limit"
    if last is None or dry_run:
        return PruneResult(count, last.id if last else None, stopped, dry_run=dry_run)
    await session.execute(delete(AuditEvent).where(AuditEvent.id > start, AuditEvent.id <= last.id))
    session.add(
        AuditCheckpoint(
            at=now, through_id=last.id, through_hash=last.hash, pruned=count, actor=actor
        )
    )
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action=audit.PRUNED_ACTION,
        object_type="audit_event",
        object_id=last.id,
        data={
            "through_id": last.id,
            "through_hash": last.hash,
            "pruned": count,
            "stopped_by": stopped,
            "held_brands": sorted(view.held_brands),
            "agency_hold": view.agency_hold,
        },
    )
    return PruneResult(count, last.id, stopped)


async def count_events(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuditEvent)) or 0)
