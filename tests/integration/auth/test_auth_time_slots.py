"""``next_free_slot``: the brand's slots in its own timezone, skipping slots posts already hold."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.brands import service as brands
from finagency.brands.slots import next_free_slot, replace_slots
from finagency.core.db import transaction
from finagency.core.errors import ValidationFailed
from finagency.models import Account, ContentItem, Post, PostStatus

Sessions = async_sessionmaker[AsyncSession]


async def _post(
    session: AsyncSession, brand_id: int, account: Account, at: datetime, status: PostStatus
) -> None:
    item = ContentItem(brand_id=brand_id, kind="editorial", title="t")
    session.add(item)
    await session.flush()
    session.add(
        Post(
            brand_id=brand_id,
            content_item_id=item.id,
            account_id=account.id,
            platform="x",
            text="hello",
            status=status.value,
            content_hash=hashlib.sha256(str(at).encode()).hexdigest(),
            scheduled_at=at,
        )
    )
    await session.flush()


async def test_next_free_slot_follows_the_brand_timezone_and_skips_taken_slots(
    sessionmaker: Sessions,
) -> None:
    async with transaction(sessionmaker) as session:
        brand = await brands.create_brand(
            session, slug="acme", name="Acme", timezone="America/New_York"
        )
        account = await brands.add_account(session, brand, platform="x", handle="acme")
        await replace_slots(session, brand.id, "x", ["09:30", "Fri 16:00"])
        # Thursday 2026-03-05, 15:00 UTC = 10:00 in New York (EST, UTC-5).
        after = datetime(2026, 3, 5, 15, 0, tzinfo=UTC)

        first = await next_free_slot(session, brand.id, "x", after)
        # Fri 09:30 EST = 14:30 UTC.
        assert first == datetime(2026, 3, 6, 14, 30, tzinfo=UTC)

        await _post(session, brand.id, account, first, PostStatus.SCHEDULED)
        second = await next_free_slot(session, brand.id, "x", after)
        assert second == datetime(2026, 3, 6, 21, 0, tzinfo=UTC)  # Fri 16:00 EST

        # A rejected post gives its slot back; other platforms have no slots at all.
        await _post(session, brand.id, account, second, PostStatus.REJECTED)
        assert await next_free_slot(session, brand.id, "x", after) == second
        assert await next_free_slot(session, brand.id, "linkedin", after) is None

        # After the US clock change (2026-03-08) 09:30 local is 13:30 UTC.
        later = await next_free_slot(session, brand.id, "x", datetime(2026, 3, 9, 0, 0, tzinfo=UTC))
        assert later == datetime(2026, 3, 9, 13, 30, tzinfo=UTC)


async def test_bad_slots_are_refused_and_nothing_changes(sessionmaker: Sessions) -> None:
    async with transaction(sessionmaker) as session:
        brand = await brands.create_brand(session, slug="acme", name="Acme")
        await replace_slots(session, brand.id, "x", ["08:00"])
        with pytest.raises(ValidationFailed, match="not like"):
            await replace_slots(session, brand.id, "x", ["10:00", "noonish"])
        after = datetime(2026, 3, 5, 7, 0, tzinfo=UTC)
        assert await next_free_slot(session, brand.id, "x", after) == datetime(
            2026, 3, 5, 8, 0, tzinfo=UTC
        )
