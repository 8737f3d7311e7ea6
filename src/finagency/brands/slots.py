"""A brand's posting time slots per platform, and the next slot no post has taken yet.

Slots are wall-clock times in the brand's timezone (``09:30`` every day, or on one weekday),
so they follow daylight-saving changes; they are turned into UTC only when a date is chosen.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.core.errors import NotFound, ValidationFailed
from finagency.core.time import utcnow
from finagency.models import Brand, Post, PostStatus, TimeSlot

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_SLOT = re.compile(r"^(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+)?([01]?\d|2[0-3]):([0-5]\d)$")
# Posts in these states no longer hold their slot.
_RELEASED = frozenset(
    {
        PostStatus.REJECTED.value,
        PostStatus.FAILED.value,
        PostStatus.EXPIRED.value,
        PostStatus.CANCELLED.value,
    }
)
_SEARCH_DAYS = 60


def parse_slot(text: str) -> tuple[int | None, int]:
    """``"09:30"`` → (None, 570); ``"Mon 09:30"`` → (0, 570); ValidationFailed otherwise."""
    match = _SLOT.match(text.strip())
    if match is None:
        raise ValidationFailed(
            f"time slot {text.strip()!r} is not like '09:30' or 'Mon 09:30'",
            details={"field": "slots"},
        )
    day, hours, minutes = match.groups()
    weekday = WEEKDAYS.index(day) if day else None
    return weekday, int(hours) * 60 + int(minutes)


def format_slot(slot: TimeSlot) -> str:
    text = f"{slot.minute_of_day // 60:02d}:{slot.minute_of_day % 60:02d}"
    return f"{WEEKDAYS[slot.weekday]} {text}" if slot.weekday is not None else text


def brand_zone(brand: Brand) -> ZoneInfo:
    try:
        return ZoneInfo(brand.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


async def list_slots(
    session: AsyncSession, brand_id: int, platform: str | None = None
) -> list[TimeSlot]:
    query = select(TimeSlot).where(TimeSlot.brand_id == brand_id)
    if platform is not None:
        query = query.where(TimeSlot.platform == platform)
    rows = await session.execute(
        query.order_by(TimeSlot.platform, TimeSlot.weekday, TimeSlot.minute_of_day)
    )
    return list(rows.scalars())


async def replace_slots(
    session: AsyncSession, brand_id: int, platform: str, texts: Sequence[str]
) -> list[TimeSlot]:
    """Make ``texts`` the platform's slots for the brand (every entry checked before any write)."""
    name = platform.strip().lower()
    if not re.fullmatch(r"[a-z][a-z0-9_-]{0,39}", name):
        raise ValidationFailed(
            "platform must be a short lower-case name", details={"field": "platform"}
        )
    wanted = sorted(
        {parse_slot(text) for text in texts if text.strip()}, key=lambda s: (s[0] or -1, s[1])
    )
    if await session.get(Brand, brand_id) is None:
        raise NotFound("brand not found")
    await session.execute(
        delete(TimeSlot).where(TimeSlot.brand_id == brand_id, TimeSlot.platform == name)
    )
    slots = [
        TimeSlot(brand_id=brand_id, platform=name, weekday=w, minute_of_day=m) for w, m in wanted
    ]
    session.add_all(slots)
    await session.flush()
    return slots


def _candidates(slots: Sequence[TimeSlot], zone: ZoneInfo, after: datetime) -> list[datetime]:
    """Every slot time (UTC) from ``after`` over the search horizon, in order."""
    start_day: date = after.astimezone(zone).date()
    found: list[datetime] = []
    for offset in range(_SEARCH_DAYS + 1):
        day = start_day + timedelta(days=offset)
        for slot in slots:
            if slot.weekday is not None and slot.weekday != day.weekday():
                continue
            local = datetime.combine(
                day, time(slot.minute_of_day // 60, slot.minute_of_day % 60), tzinfo=zone
            )
            at = local.astimezone(ZoneInfo("UTC"))
            if at > after:
                found.append(at)
    return sorted(set(found))


async def next_free_slot(
    session: AsyncSession, brand_id: int, platform: str, after: datetime | None = None
) -> datetime | None:
    """The first slot of ``platform`` after ``after`` (default now) that no live post holds.

    A post holds a slot when it is scheduled at exactly that minute (rejected or failed posts
    do not). None when the brand has no slots for the platform (or none free in 60 days).
    """
    after = after or utcnow()
    brand = await session.get(Brand, brand_id)
    if brand is None:
        raise NotFound("brand not found")
    slots = await list_slots(session, brand_id, platform.strip().lower())
    if not slots:
        return None
    candidates = _candidates(slots, brand_zone(brand), after)
    if not candidates:
        return None
    taken_rows = await session.execute(
        select(Post.scheduled_at).where(
            Post.brand_id == brand_id,
            Post.platform == platform.strip().lower(),
            Post.scheduled_at >= candidates[0],
            Post.scheduled_at <= candidates[-1] + timedelta(minutes=1),
            Post.status.not_in(list(_RELEASED)),
        )
    )
    taken = {at.replace(second=0, microsecond=0) for (at,) in taken_rows if at is not None}
    for candidate in candidates:
        if candidate.replace(second=0, microsecond=0) not in taken:
            return candidate
    return None
