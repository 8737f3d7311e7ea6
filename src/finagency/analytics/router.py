"""The stats API: the Overview's numbers for the brands the caller may see."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.analytics import service
from finagency.analytics.schemas import EngagementTotalsRead, StatsDefinitionsRead, StatsRead
from finagency.auth.dependencies import CurrentPrincipal, ReadSession, get_services, require
from finagency.auth.permissions import VIEW
from finagency.core.cache import STATS, Cache
from finagency.core.errors import NotFound
from finagency.core.time import utcnow

router = APIRouter(tags=["analytics"])

Viewer = Annotated[CurrentPrincipal, Depends(require(VIEW))]


def stats_scope(principal: CurrentPrincipal, brand_id: int | None = None) -> list[int] | None:
    """Brand ids the stats cover: one asked-for brand, all the caller's, or None for admins."""
    if brand_id is not None:
        if not principal.can_see(brand_id):
            raise NotFound("brand not found")
        return [brand_id]
    if principal.user.is_admin and principal.via_token is None:
        return None
    return sorted(principal.brand_ids)


def stats_key(brand_ids: Sequence[int] | None) -> str:
    return "all" if brand_ids is None else ",".join(str(b) for b in sorted(brand_ids)) or "none"


async def stats_data(
    session: AsyncSession, brand_ids: Sequence[int] | None, cache: Cache | None = None
) -> dict[str, Any]:
    """The numbers as a dict, from the cache (``stats`` policy) when one is given."""

    async def load() -> dict[str, Any]:
        stats = await service.compute_stats(session, now=utcnow(), brand_ids=brand_ids)
        return stats.to_dict()

    if cache is None:
        return await load()
    return await cache.get_or_load(STATS, stats_key(brand_ids), load)


async def stats_for(
    session: AsyncSession, brand_ids: Sequence[int] | None, cache: Cache | None = None
) -> StatsRead:
    return StatsRead.model_validate(await stats_data(session, brand_ids, cache))


@router.get("/stats", response_model=StatsRead, summary="The Overview's numbers")
async def get_stats(
    principal: Viewer,
    session: ReadSession,
    request: Request,
    brand_id: Annotated[int | None, Query(description="Only this brand")] = None,
) -> StatsRead:
    scope = stats_scope(principal, brand_id)
    return await stats_for(session, scope, get_services(request).cache)


@router.get(
    "/stats/definitions",
    response_model=StatsDefinitionsRead,
    summary="How each of the Overview's numbers is computed",
)
async def get_stats_definitions(principal: Viewer) -> StatsDefinitionsRead:
    return StatsDefinitionsRead(definitions=dict(service.DEFINITIONS))


@router.get(
    "/engagement/totals",
    response_model=EngagementTotalsRead,
    summary="What published posts have earned so far (latest reading per post, summed)",
)
async def get_engagement_totals(
    principal: Viewer,
    session: ReadSession,
    brand_id: Annotated[int | None, Query(description="Only this brand")] = None,
) -> EngagementTotalsRead:
    totals = await service.engagement_totals(session, stats_scope(principal, brand_id))
    return EngagementTotalsRead.model_validate(totals)
