"""Platform accounts: credentials encrypted at rest, connect/verify/remove, and dead-token handling."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.audit import service as audit
from finagency.core.crypto import SecretBox, SecretKeyError
from finagency.core.db import transaction
from finagency.core.errors import NotFound, ValidationFailed
from finagency.core.time import utcnow
from finagency.models import Account, Brand
from finagency.queue import queries

log = structlog.get_logger(__name__)


def require_box(box: SecretBox | None) -> SecretBox:
    if box is None:
        raise SecretKeyError(
            "FINAGENCY_SECRET_KEY is not set: platform credentials cannot be stored or read "
            "without it (generate one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
    return box


def read_credentials(box: SecretBox | None, account: Account) -> dict[str, str]:
    if not account.credentials_encrypted:
        return {}
    return {
        key: str(value)
        for key, value in require_box(box).decrypt(account.credentials_encrypted).items()
    }


def _expiry(credentials: dict[str, Any]) -> datetime | None:
    raw = credentials.get("expires_at")
    if not raw:
        return None
    try:
        return datetime.fromisoformat(str(raw))
    except ValueError:
        return None


async def connect_account(
    session: AsyncSession,
    box: SecretBox | None,
    brand: Brand,
    *,
    platform: str,
    handle: str,
    credentials: dict[str, str],
    base_url: str | None = None,
    display_name: str = "",
    actor: str = "system",
) -> Account:
    """Add (or reconnect) a brand's account; its credentials are encrypted before they are stored."""
    if not handle.strip():
        raise ValidationFailed("an account needs a handle")
    sealed = require_box(box).encrypt(dict(credentials)) if credentials else None
    account = (
        await session.execute(
            select(Account).where(
                Account.brand_id == brand.id, Account.platform == platform, Account.handle == handle
            )
        )
    ).scalar_one_or_none()
    if account is None:
        account = Account(
            brand_id=brand.id,
            platform=platform,
            handle=handle,
            display_name=display_name or handle,
            rate_limit_state={},
        )
        session.add(account)
    account.credentials_encrypted = sealed
    account.base_url = base_url
    account.token_expires_at = _expiry(credentials)
    await session.flush()
    await mark_reconnected(session, account, actor=actor)
    await audit.record(
        session,
        actor=actor,
        action="account.connected",
        object_type="account",
        object_id=account.id,
        brand_id=brand.id,
        data={"platform": platform, "handle": handle, "base_url": base_url},
    )
    return account


async def save_refreshed_credentials(
    sessionmaker: async_sessionmaker[AsyncSession],
    box: SecretBox | None,
    account_id: int,
    credentials: dict[str, str],
) -> None:
    """Store tokens a client just refreshed, in their own transaction: they must survive even
    if the job that triggered the refresh rolls back."""
    async with transaction(sessionmaker) as session:
        account = await session.get(Account, account_id)
        if account is None:
            return
        account.credentials_encrypted = require_box(box).encrypt(dict(credentials))
        account.token_expires_at = _expiry(credentials)
    log.info("account.credentials_refreshed", account_id=account_id)


async def mark_auth_expired(session: AsyncSession, account: Account, reason: str) -> bool:
    """Mark a dead token once: the account's jobs are paused until someone reconnects it.

    Returns True when this call changed the state (so the caller says it once, not per post).
    """
    # Several jobs of the account may hit the dead token at once: re-read the row under a
    # lock so exactly one of them records the change.
    await session.refresh(account, with_for_update=True)
    if account.status == "auth_expired":
        return False
    account.status = "auth_expired"
    account.last_error = reason[:500]
    await queries.set_paused(
        session, f"account:{account.id}", True, "credentials expired", utcnow()
    )
    await audit.record(
        session,
        actor="system:publisher",
        action="account.auth_expired",
        object_type="account",
        object_id=account.id,
        brand_id=account.brand_id,
        data={"reason": reason[:500]},
    )
    return True


async def mark_reconnected(session: AsyncSession, account: Account, *, actor: str) -> None:
    if account.status != "active":
        account.status = "active"
        account.last_error = None
    await queries.set_paused(session, f"account:{account.id}", False, "", utcnow())


async def get_account(session: AsyncSession, account_id: int) -> Account:
    account = await session.get(Account, account_id)
    if account is None:
        raise NotFound(f"account {account_id} does not exist")
    return account


async def remove_account(session: AsyncSession, account: Account, *, actor: str) -> None:
    await audit.record(
        session,
        actor=actor,
        action="account.removed",
        object_type="account",
        object_id=account.id,
        brand_id=account.brand_id,
        data={"platform": account.platform, "handle": account.handle},
    )
    await session.delete(account)
    await session.flush()
