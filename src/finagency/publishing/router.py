"""The accounts API: a brand's platform accounts and their health (never their credentials)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from finagency.auth.dependencies import CurrentPrincipal, ReadSession, require
from finagency.auth.permissions import VIEW
from finagency.auth.scope import brand_scope
from finagency.core.errors import NotFound
from finagency.core.pagination import Limit, Offset, Page, fetch_page
from finagency.models import Account

router = APIRouter(tags=["accounts"])
Viewer = Annotated[CurrentPrincipal, Depends(require(VIEW))]


class AccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    brand_id: int
    platform: str
    handle: str
    display_name: str
    status: str
    token_expires_at: datetime | None
    rate_limit_state: dict[str, Any]
    breaker_state: str
    breaker_open_until: datetime | None
    consecutive_failures: int
    last_error: str | None
    created_at: datetime


@router.get("/accounts", response_model=Page[AccountRead], summary="Platform accounts")
async def list_accounts(
    principal: Viewer,
    session: ReadSession,
    brand_id: Annotated[int | None, Query()] = None,
    platform: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AccountRead]:
    query = select(Account).order_by(Account.brand_id, Account.platform, Account.id)
    scope = brand_scope(principal, brand_id)
    if scope is not None:
        query = query.where(Account.brand_id.in_(scope))
    if platform:
        query = query.where(Account.platform == platform)
    if status:
        query = query.where(Account.status == status)
    rows, total = await fetch_page(session, query, limit=limit, offset=offset)
    return Page[AccountRead](
        items=[AccountRead.model_validate(row) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/accounts/{account_id}", response_model=AccountRead, summary="One account")
async def get_account(account_id: int, principal: Viewer, session: ReadSession) -> AccountRead:
    account = await session.get(Account, account_id)
    if account is None or not principal.can_see(account.brand_id):
        raise NotFound(f"account {account_id} not found")
    return AccountRead.model_validate(account)
