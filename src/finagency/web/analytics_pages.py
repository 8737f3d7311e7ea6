"""The analytics page: engagement over time per platform and kind, the best-time heatmap
(weekday × hour, UTC) and the top posts, for the brands the viewer may see."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from finagency.analytics import insights
from finagency.auth.dependencies import ReadSession
from finagency.core.time import utcnow
from finagency.web import charts
from finagency.web.deps import PageViewer
from finagency.web.templating import render

router = APIRouter()

PERIODS = (7, 30, 90)


@router.get("/analytics")
async def analytics_page(
    request: Request,
    viewer: PageViewer,
    session: ReadSession,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
    brand_id: Annotated[int | None, Query()] = None,
) -> Response:
    days = days if days in PERIODS else 30
    visible = {brand.id for brand in viewer.brands}
    brand_id = brand_id if brand_id in visible else None
    scope = [brand_id] if brand_id is not None else viewer.scope
    now = utcnow()
    start = (now - timedelta(days=days - 1)).date()
    posts = await insights.engaged_posts(
        session,
        scope,
        since=now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1),
    )
    points = insights.series(posts)
    labels = [(start + timedelta(days=offset)).isoformat() for offset in range(days)]
    per_platform: dict[str, list[float]] = defaultdict(lambda: [0.0] * days)
    table: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for point in points:
        index = (point.day - start).days
        if 0 <= index < days:
            per_platform[point.platform][index] += point.interactions
        row = table[(point.platform, point.kind)]
        row[0] += point.interactions
        row[1] += point.posts
    grid = insights.heatmap(posts)
    peak = max((value for row in grid for value in row if value is not None), default=0.0)
    heat = [
        {
            "day": insights.WEEKDAYS[day],
            "cells": [
                {"hour": hour, "value": value, "level": charts.heat_level(value, peak)}
                for hour, value in enumerate(row)
            ],
        }
        for day, row in enumerate(grid)
    ]
    context = {
        "page_title": "Analytics",
        "active": "/analytics",
        "days": days,
        "periods": PERIODS,
        "brand_id": brand_id,
        "chart": charts.line_chart(labels, dict(per_platform)),
        "breakdown": [
            {"platform": platform, "kind": kind, "interactions": total, "posts": count}
            for (platform, kind), (total, count) in sorted(table.items())
        ],
        "heat": heat,
        "top": [
            {"post": post, "brand": viewer.brand_name(post.brand_id)}
            for post in insights.top(posts)
        ],
        "post_count": len(posts),
    }
    return render(request, "analytics.html", context)
