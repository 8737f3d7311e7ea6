"""Brands: create, look up, list (every brand-owned row hangs off one of these)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.core.errors import Conflict, NotFound, ValidationFailed
from finagency.models import Account, Brand

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


async def create_brand(
    session: AsyncSession,
    *,
    slug: str,
    name: str,
    regime: str = "default",
    disclosure: str = "",
    link_allowlist: Sequence[str] = (),
    auto_approve_kinds: Sequence[str] = (),
    maker_checker: bool = True,
    timezone: str = "UTC",
) -> Brand:
    if not _SLUG.match(slug):
        raise ValidationFailed("a brand slug is 1-63 lower-case letters, digits or dashes")
    if await session.scalar(select(Brand.id).where(Brand.slug == slug)) is not None:
        raise Conflict(f"a brand with slug {slug!r} already exists")
    brand = Brand(
        slug=slug,
        name=name,
        regime=regime,
        disclosure=disclosure,
        link_allowlist=list(link_allowlist),
        auto_approve_kinds=list(auto_approve_kinds),
        maker_checker=maker_checker,
        timezone=timezone,
        settings={},
    )
    session.add(brand)
    await session.flush()
    return brand


async def get_brand(session: AsyncSession, brand_id: int) -> Brand:
    brand = await session.get(Brand, brand_id)
    if brand is None:
        raise NotFound(f"brand {brand_id} does not exist")
    return brand


async def list_brands(session: AsyncSession, ids: Sequence[int] | None = None) -> list[Brand]:
    query = select(Brand).order_by(Brand.name)
    if ids is not None:
        query = query.where(Brand.id.in_(list(ids)))
    return list((await session.execute(query)).scalars())


async def add_account(
    session: AsyncSession,
    brand: Brand,
    *,
    platform: str,
    handle: str,
    display_name: str = "",
    credentials_encrypted: str | None = None,
) -> Account:
    account = Account(
        brand_id=brand.id,
        platform=platform,
        handle=handle,
        display_name=display_name or handle,
        credentials_encrypted=credentials_encrypted,
        rate_limit_state={},
    )
    session.add(account)
    await session.flush()
    return account


async def list_accounts(session: AsyncSession, brand_id: int) -> list[Account]:
    rows = await session.execute(
        select(Account)
        .where(Account.brand_id == brand_id)
        .order_by(Account.platform, Account.handle)
    )
    return list(rows.scalars())
