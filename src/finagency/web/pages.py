"""The dashboard's HTML routes, gathered from one module per area (no JSON API here)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from finagency.web import (
    account_pages,
    analytics_pages,
    attention_pages,
    auth_pages,
    browse_pages,
    calendar_pages,
    compose_pages,
    generator_pages,
    overview,
    queue_pages,
    report_pages,
    review_pages,
    settings_pages,
)
from finagency.web.deps import storable_input

router = APIRouter(include_in_schema=False, dependencies=[Depends(storable_input)])
for _area in (auth_pages, overview, review_pages, queue_pages, browse_pages, account_pages):
    router.include_router(_area.router)
router.include_router(generator_pages.router)
for _area in (calendar_pages, compose_pages, attention_pages, analytics_pages):
    router.include_router(_area.router)
router.include_router(report_pages.router)
router.include_router(settings_pages.router)
