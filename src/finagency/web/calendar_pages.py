"""The calendar: week and month views per brand and platform, and moving a post in time.

Drag and drop (static/calendar.js) and the "Move" form both post to ``/calendar/{id}/move``;
the move is audited and the post's publish job replaced (``publishing.calendar.reschedule``).
Times are UTC, as everywhere on the dashboard.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query
from sqlalchemy import select
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from finagency.auth.csrf import csrf_protect
from finagency.auth.dependencies import DbSession, ReadSession, get_services
from finagency.auth.permissions import POST_SCHEDULE
from finagency.core.errors import AppError, Forbidden, ValidationFailed
from finagency.core.events import Event
from finagency.core.time import utcnow
from finagency.models import Account
from finagency.publishing import calendar
from finagency.review.router import visible_post
from finagency.web.deps import PageViewer, Viewer, safe_next
from finagency.web.templating import flash, fmt_dt, render

router = APIRouter()

VIEWS = ("week", "month")


def parse_day(value: str | None, today: date) -> date:
    try:
        return date.fromisoformat(value) if value else today
    except ValueError:
        return today


def parse_when(value: str) -> datetime:
    """``2026-12-04T14:30`` (a datetime-local field, read as UTC) or any ISO 8601 time."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise ValidationFailed(f"{value!r} is not a date and time (YYYY-MM-DDTHH:MM)") from error
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def view_range(view: str, day: date) -> tuple[date, date]:
    """First day shown and the day after the last: Monday-based weeks, whole weeks for a month."""
    if view == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    start = first - timedelta(days=first.weekday())
    end = following + timedelta(days=(7 - following.weekday()) % 7)
    return start, end


def step(view: str, day: date, forward: bool) -> date:
    if view == "week":
        return day + timedelta(days=7 if forward else -7)
    first = day.replace(day=1)
    if forward:
        return (first + timedelta(days=32)).replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def _at_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


@router.get("/calendar")
async def calendar_page(
    request: Request,
    viewer: PageViewer,
    session: ReadSession,
    view: Annotated[str, Query(max_length=5)] = "week",
    day: Annotated[str | None, Query(alias="date", max_length=10)] = None,
    brand_id: Annotated[int | None, Query()] = None,
    platform: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    view = view if view in VIEWS else "week"
    today = utcnow().date()
    shown = parse_day(day, today)
    start, end = view_range(view, shown)
    visible = {brand.id for brand in viewer.brands}
    brand_id = brand_id if brand_id in visible else None
    platforms = await _platforms(session, viewer.scope)
    platform = platform if platform in platforms else None
    scope = [brand_id] if brand_id is not None else viewer.scope
    entries = await calendar.entries_between(
        session, _at_midnight(start), _at_midnight(end), brand_ids=scope, platform=platform
    )
    by_day: dict[date, list[dict[str, Any]]] = {
        start + timedelta(days=offset): [] for offset in range((end - start).days)
    }
    for entry in entries:
        by_day.setdefault(entry.scheduled_at.date(), []).append(
            {
                "entry": entry,
                "brand": viewer.brand_name(entry.brand_id),
                "can_move": entry.movable and viewer.can(POST_SCHEDULE, entry.brand_id),
            }
        )
    query = {"view": view, "brand_id": brand_id or "", "platform": platform or ""}
    context = {
        "page_title": "Calendar",
        "active": "/calendar",
        "view": view,
        "shown": shown,
        "today": today,
        "days": sorted(by_day.items()),
        "count": len(entries),
        "brand_id": brand_id,
        "platform": platform or "",
        "platforms": platforms,
        "query": query,
        "prev_day": step(view, shown, forward=False).isoformat(),
        "next_day": step(view, shown, forward=True).isoformat(),
        "title": _title(view, shown, start, end),
        "here": request.url.path + ("?" + request.url.query if request.url.query else ""),
    }
    return render(request, "calendar.html", context)


async def _platforms(session: ReadSession, scope: list[int] | None) -> list[str]:
    query = select(Account.platform).distinct()
    if scope is not None:
        query = query.where(Account.brand_id.in_(scope))
    return sorted(await session.scalars(query))


def _title(view: str, shown: date, start: date, end: date) -> str:
    if view == "month":
        return shown.strftime("%B %Y")
    last = end - timedelta(days=1)
    return f"Week of {start:%d %b} – {last:%d %b %Y}"


@router.get("/calendar/{post_id}/move")
async def move_form(
    post_id: int,
    request: Request,
    viewer: PageViewer,
    session: ReadSession,
    back: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    post = await visible_post(session, viewer.principal, post_id)
    context = {
        "page_title": f"Move post {post.id}",
        "active": "/calendar",
        "post": post,
        "can_move": post.status in calendar.MOVABLE and viewer.can(POST_SCHEDULE, post.brand_id),
        "current": post.scheduled_at.strftime("%Y-%m-%dT%H:%M") if post.scheduled_at else "",
        "back": safe_next(back, "/calendar"),
        "brand": viewer.brand_name(post.brand_id),
    }
    return render(request, "calendar_move.html", context)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


async def move_post(
    session: DbSession, viewer: Viewer, post_id: int, at: datetime
) -> tuple[int, int, int | None]:
    """Check and move; returns (post id, brand id, new job id). Not committed."""
    post = await visible_post(session, viewer.principal, post_id, for_update=True)
    if not viewer.can(POST_SCHEDULE, post.brand_id):
        raise Forbidden("you do not have the 'post.schedule' permission on this brand")
    job_id = await calendar.reschedule(
        session, post, at=at, actor=f"user:{viewer.user.id}", now=utcnow()
    )
    await session.flush()
    return post.id, post.brand_id, job_id


@router.post("/calendar/{post_id}/move", dependencies=[Depends(csrf_protect)])
async def move(
    post_id: int,
    request: Request,
    viewer: PageViewer,
    session: DbSession,
    at: Annotated[str, Form(max_length=40)],
    back: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    as_json = _wants_json(request)
    try:
        when = parse_when(at)
        moved, brand_id, job_id = await move_post(session, viewer, post_id, when)
    except AppError as error:
        await session.rollback()
        if as_json:
            raise
        flash(request, f"Post {post_id} was not moved: {error.message}", "error")
        return RedirectResponse(f"/calendar/{post_id}/move", status_code=303)
    event = Event(
        "post.rescheduled",
        {"post_id": moved, "scheduled_at": when.isoformat(), "job_id": job_id},
        brand_id=brand_id,
    )
    background = BackgroundTask(get_services(request).events.publish, event)
    if as_json:
        body = {"post_id": moved, "scheduled_at": when.isoformat(), "job_id": job_id}
        return JSONResponse(body, background=background)
    flash(request, f"Post {moved} moved to {fmt_dt(when)}.", "success")
    target = safe_next(back, f"/calendar?date={when.date().isoformat()}")
    return RedirectResponse(target, status_code=303, background=background)
