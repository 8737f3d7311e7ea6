"""Brands: create, look up, list (every brand-owned row hangs off one of these)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.brands.slots import next_free_slot as next_free_slot
from finagency.core.errors import Conflict, NotFound, ValidationFailed
from finagency.models import Account, Brand, Setting, WebhookEndpoint

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


RULE_PACK_KEY = "rule_pack_yaml"


async def update_brand(
    session: AsyncSession,
    brand: Brand,
    *,
    name: str,
    regime: str,
    timezone: str,
    maker_checker: bool,
) -> dict[str, tuple[object, object]]:
    """Change a brand's settings; returns {field: (old, new)} for the audit trail."""
    clean_name = name.strip()
    if not clean_name or len(clean_name) > 200:
        raise ValidationFailed("brand name must be 1 to 200 characters", details={"field": "name"})
    clean_regime = regime.strip() or "default"
    if not re.fullmatch(r"[a-z0-9_-]{1,40}", clean_regime):
        raise ValidationFailed(
            "regime must be a short lower-case profile name", details={"field": "regime"}
        )
    zone = timezone.strip() or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            f"unknown timezone {zone!r} (use a name like Europe/London)",
            details={"field": "timezone"},
        ) from None
    changes: dict[str, tuple[object, object]] = {}
    for field, value in (
        ("name", clean_name),
        ("regime", clean_regime),
        ("timezone", zone),
        ("maker_checker", maker_checker),
    ):
        old = getattr(brand, field)
        if old != value:
            changes[field] = (old, value)
            setattr(brand, field, value)
    await session.flush()
    return changes


async def get_rule_pack_text(session: AsyncSession, brand_id: int) -> str:
    """The brand's rule pack as the YAML an admin last saved ("" when it has none)."""
    value = await session.scalar(
        select(Setting.value).where(Setting.brand_id == brand_id, Setting.key == RULE_PACK_KEY)
    )
    return value if isinstance(value, str) else ""


async def save_rule_pack_text(session: AsyncSession, brand_id: int, text: str) -> None:
    """Store the YAML as given; the caller validates it with checks.rulepacks first."""
    setting = await session.scalar(
        select(Setting).where(Setting.brand_id == brand_id, Setting.key == RULE_PACK_KEY)
    )
    if setting is None:
        session.add(Setting(brand_id=brand_id, key=RULE_PACK_KEY, value=text))
    else:
        setting.value = text
    await session.flush()


async def list_webhook_endpoints(
    session: AsyncSession, brand_ids: Sequence[int] | None
) -> list[WebhookEndpoint]:
    query = select(WebhookEndpoint).order_by(WebhookEndpoint.brand_id, WebhookEndpoint.id)
    if brand_ids is not None:
        query = query.where(WebhookEndpoint.brand_id.in_(list(brand_ids)))
    return list((await session.execute(query)).scalars())


async def delete_webhook_endpoint(
    session: AsyncSession, endpoint_id: int, brand_ids: Sequence[int] | None
) -> WebhookEndpoint:
    """Remove an endpoint of one of ``brand_ids`` (None: any); another brand's → NotFound."""
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or (brand_ids is not None and endpoint.brand_id not in brand_ids):
        raise NotFound("webhook endpoint not found")
    await session.delete(endpoint)
    await session.flush()
    return endpoint
