"""The dashboard's HTML routes, gathered from one module per area (no JSON API here)."""

from __future__ import annotations

from fastapi import APIRouter

from finagency.web import (
    account_pages,
    auth_pages,
    browse_pages,
    overview,
    queue_pages,
    review_pages,
)

router = APIRouter(include_in_schema=False)
for _area in (auth_pages, overview, review_pages, queue_pages, browse_pages, account_pages):
    router.include_router(_area.router)
