"""Gathers every domain router under one APIRouter (mounted at /api/v1 by create_app)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from finagency.analytics.router import router as analytics_router
from finagency.audit.router import router as audit_router
from finagency.auth.dependencies import CurrentPrincipal, ReadSession, require
from finagency.auth.permissions import VIEW
from finagency.brands import service as brands
from finagency.content.router import router as content_router
from finagency.market.router import router as market_router
from finagency.ops.queue_router import router as queue_router
from finagency.review.router import router as review_router

# Bare /api/v1 routes; FastAPI answers 401/403/404/409/422 in the AppError shape below.
ERROR_RESPONSES: dict[int | str, dict[str, str]] = {
    401: {"description": "Not signed in, or the API token is invalid"},
    403: {"description": "Missing permission or CSRF token"},
    404: {"description": "Not found, or on a brand you may not see"},
}


class BrandRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    name: str
    regime: str
    timezone: str
    maker_checker: bool


brands_router = APIRouter(tags=["brands"])


@brands_router.get("/brands", response_model=list[BrandRead], summary="Brands you may see")
async def get_brands(
    principal: Annotated[CurrentPrincipal, Depends(require(VIEW))], session: ReadSession
) -> list[BrandRead]:
    scope = (
        None
        if principal.user.is_admin and principal.via_token is None
        else sorted(principal.brand_ids)
    )
    return [BrandRead.model_validate(brand) for brand in await brands.list_brands(session, scope)]


api_router = APIRouter(responses=ERROR_RESPONSES)
for _router in (
    analytics_router,
    content_router,
    review_router,
    queue_router,
    market_router,
    audit_router,
    brands_router,
):
    api_router.include_router(_router)
