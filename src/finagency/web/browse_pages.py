"""Read-only pages: recent posts, the market (sources, news, quotes) and the audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from finagency.audit import service as audit
from finagency.audit.router import recent_events
from finagency.auth.dependencies import ReadSession
from finagency.content.router import list_posts
from finagency.market import service as market
from finagency.market.router import latest_quote_per_symbol
from finagency.models import Account, PostStatus
from finagency.web.deps import PageViewer, is_web_url
from finagency.web.templating import render

router = APIRouter()

STATUSES = [status.value for status in PostStatus]
PAGE_SIZE = 50


@router.get("/posts")
async def posts(
    request: Request,
    viewer: PageViewer,
    session: ReadSession,
    status: Annotated[str | None, Query(max_length=20)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    status = status if status in STATUSES else None
    found, total = await list_posts(
        session, viewer.scope, status=status, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    accounts = {
        account.id: account
        for account in await session.scalars(
            select(Account).where(Account.id.in_({post.account_id for post in found}))
        )
    }
    rows = [
        {
            "post": post,
            "account": accounts.get(post.account_id),
            "brand": viewer.brand_name(post.brand_id),
            "url": post.external_url if is_web_url(post.external_url) else None,
        }
        for post in found
    ]
    context = {
        "page_title": "Posts",
        "active": "/posts",
        "rows": rows,
        "statuses": STATUSES,
        "status": status or "",
        "total": total,
        "page": page,
        "has_next": page * PAGE_SIZE < total,
    }
    return render(request, "posts.html", context)


@router.get("/market")
async def market_page(request: Request, viewer: PageViewer, session: ReadSession) -> Response:
    news = [
        {"item": item, "url": item.url if is_web_url(item.url) else None}
        for item in await market.list_news(session, limit=25)
    ]
    context = {
        "page_title": "Market",
        "active": "/market",
        "sources": await market.source_health(session),
        "news": news,
        "quotes": await latest_quote_per_symbol(session),
    }
    return render(request, "market.html", context)


@router.get("/audit")
async def audit_page(request: Request, viewer: PageViewer, session: ReadSession) -> Response:
    context = {
        "page_title": "Audit",
        "active": "/audit",
        "events": await recent_events(session, viewer.scope, limit=100),
        "chain": await audit.verify_chain(session),
    }
    return render(request, "audit.html", context)
