"""Compose and edit, the parts that are not HTTP: previews as each platform counts them,
dry-run checks (nothing stored), and the brand's time slots with how taken each one is.

Saving goes through the content domain (``content.editorial.create_editor_item`` for a new
item, ``content.service.edit_post`` for a new version), so an editor's text takes the same
road as a generated draft.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.brands import slots as time_slots
from finagency.checks.service import run_checks, verdict
from finagency.content.service import check_context
from finagency.content.variants import make_variant
from finagency.core.errors import ValidationFailed
from finagency.core.factsheet import FactSheet
from finagency.integrations.platforms.textrules import UnknownPlatformError, rules_for
from finagency.models import Brand, Post, PostStatus

DEFAULT_SLOTS = ("08:30", "12:00", "16:30")
EDITOR_KIND = "editorial"
MAX_TEXT = 20_000
SLOT_DAYS = 7


@dataclass(frozen=True, slots=True)
class Slot:
    at: datetime  # UTC
    label: str  # in the brand's time zone
    taken: int  # posts of the brand already wanted at this moment


def editorial_sheet(title: str, link: str | None) -> FactSheet:
    """An editor's item carries no market facts: numbers in it are the editor's to ground."""
    return FactSheet(kind=EDITOR_KIND, subject=title or "editorial", headline=title, url=link)


def fallback_times(brand: Brand) -> list[time]:
    """Every-day slots for a brand with none set on the Settings page (``time_slots`` in its
    settings, else 08:30, 12:00 and 16:30 in its time zone)."""
    configured = brand.settings.get("time_slots") or DEFAULT_SLOTS
    found: set[time] = set()
    for value in configured:
        try:
            found.add(time.fromisoformat(str(value)))
        except ValueError:
            continue
    return sorted(found) or [time.fromisoformat(value) for value in DEFAULT_SLOTS]


async def _wall_clock_slots(session: AsyncSession, brand: Brand) -> list[tuple[int | None, time]]:
    """(weekday or None for every day, time) pairs: the brand's slots on any platform."""
    rows = await time_slots.list_slots(session, brand.id)
    if rows:
        return sorted(
            {(row.weekday, time(row.minute_of_day // 60, row.minute_of_day % 60)) for row in rows},
            key=lambda pair: (pair[1], -1 if pair[0] is None else pair[0]),
        )
    return [(None, moment) for moment in fallback_times(brand)]


async def slots(
    session: AsyncSession, brand: Brand, *, now: datetime, days: int = SLOT_DAYS
) -> list[Slot]:
    """The brand's slots over the next ``days`` days, each with how many posts already want it."""
    zone = time_slots.brand_zone(brand)
    today = now.astimezone(zone).date()
    wall = await _wall_clock_slots(session, brand)
    moments = sorted(
        {
            datetime.combine(today + timedelta(days=offset), moment, tzinfo=zone).astimezone(UTC)
            for offset in range(days + 1)
            for weekday, moment in wall
            if weekday is None or weekday == (today + timedelta(days=offset)).weekday()
        }
    )
    moments = [moment for moment in moments if moment > now][: days * 24]
    if not moments:
        return []
    rows = await session.execute(
        select(Post.scheduled_at, func.count())
        .where(
            Post.brand_id == brand.id,
            Post.scheduled_at >= moments[0],
            Post.scheduled_at <= moments[-1],
            Post.status.in_(
                [
                    PostStatus.IN_REVIEW.value,
                    PostStatus.APPROVED.value,
                    PostStatus.SCHEDULED.value,
                    PostStatus.PUBLISHING.value,
                ]
            ),
        )
        .group_by(Post.scheduled_at)
    )
    taken = {moment.astimezone(UTC): int(count) for moment, count in rows if moment is not None}
    return [
        Slot(
            moment,
            f"{moment.astimezone(zone):%a %d %b %H:%M} {zone.key}",
            taken.get(moment, 0),
        )
        for moment in moments
    ]


def next_free(found: Sequence[Slot]) -> Slot | None:
    return next((slot for slot in found if slot.taken == 0), None)


def _limit(platform: str) -> int | None:
    try:
        return rules_for(platform).max_length
    except UnknownPlatformError:
        return None


def preview(
    text: str, platform: str, *, disclosure: str = "", link: str | None = None
) -> dict[str, Any]:
    """The post as ``platform`` would carry it: its parts, each counted the platform's way."""
    try:
        variant = make_variant(text, platform=platform, disclosure=disclosure, link=link)
    except UnknownPlatformError:
        return {
            "platform": platform,
            "parts": [text],
            "lengths": [len(text)],
            "limit": None,
            "fits": True,
            "length": len(text),
            "text": text,
        }
    return {
        "platform": platform,
        "text": variant.text,
        "parts": variant.parts,
        "lengths": list(variant.part_lengths),
        "length": variant.length,
        "limit": _limit(platform),
        "fits": variant.fits,
    }


def dry_run(
    brand: Brand, text: str, platform: str, *, title: str, link: str | None, now: datetime
) -> dict[str, Any]:
    """What the checks would find in ``text`` on ``platform``; nothing is stored."""
    sheet = editorial_sheet(title, link)
    found = run_checks(text, check_context(brand, sheet, platform, now, ()))
    return {
        "verdict": verdict(found),
        "findings": [
            {
                "check_id": finding.check_id,
                "severity": finding.severity,
                "reason_code": finding.reason_code,
                "message": finding.message,
                "span": list(finding.span) if finding.span else None,
                "excerpt": finding.excerpt,
            }
            for finding in found
        ],
    }


def check_text(text: str) -> str:
    if not text.strip():
        raise ValidationFailed("write something first: a post cannot be empty")
    if len(text) > MAX_TEXT:
        raise ValidationFailed(f"a post may be at most {MAX_TEXT:,} characters long")
    return text
