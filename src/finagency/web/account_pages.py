"""Accounts (health, token expiry, breaker, pause) and a person's decision on unconfirmed posts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from finagency.auth.csrf import csrf_protect
from finagency.auth.dependencies import DbSession, ReadSession, get_services
from finagency.auth.permissions import POST_SCHEDULE, QUEUE_OPERATE, SETTINGS_MANAGE
from finagency.core.errors import AppError, Forbidden, NotFound
from finagency.core.time import utcnow
from finagency.integrations.platforms.registry import PLATFORMS
from finagency.models import Account, Brand, CircuitBreaker, QueueControl
from finagency.publishing import connect
from finagency.publishing import service as publishing
from finagency.publishing.accounts import connect_account
from finagency.queue import admin
from finagency.review.router import visible_post
from finagency.web.deps import PageViewer
from finagency.web.templating import flash, render

router = APIRouter()


@dataclass(frozen=True, slots=True)
class AccountRow:
    account: Account
    brand: str
    paused: bool
    breaker: CircuitBreaker | None
    can_operate: bool


@router.get("/accounts")
async def accounts_page(request: Request, viewer: PageViewer, session: ReadSession) -> Response:
    query = select(Account).order_by(Account.brand_id, Account.platform, Account.handle)
    if viewer.scope is not None:
        query = query.where(Account.brand_id.in_(viewer.scope))
    found = list((await session.execute(query)).scalars())
    keys = [f"account:{account.id}" for account in found]
    paused = set(
        (
            await session.execute(
                select(QueueControl.key).where(
                    QueueControl.key.in_(keys), QueueControl.paused.is_(True)
                )
            )
        ).scalars()
    )
    breakers = {
        row.key: row
        for row in (
            await session.execute(select(CircuitBreaker).where(CircuitBreaker.key.in_(keys)))
        ).scalars()
    }
    rows = [
        AccountRow(
            account=account,
            brand=viewer.brand_name(account.brand_id),
            paused=f"account:{account.id}" in paused,
            breaker=breakers.get(f"account:{account.id}"),
            can_operate=viewer.principal.can(QUEUE_OPERATE, account.brand_id),
        )
        for account in found
    ]
    dead = [row for row in rows if row.account.status == "auth_expired"]
    return render(
        request,
        "accounts.html",
        {
            "page_title": "Accounts",
            "active": "/accounts",
            "rows": rows,
            "dead": dead,
            "connect_brands": [
                brand for brand in viewer.brands if viewer.principal.can(SETTINGS_MANAGE, brand.id)
            ],
            "platforms": sorted(PLATFORMS.values(), key=lambda spec: spec.name),
        },
    )


@router.post("/accounts/{account_id}/{action}", dependencies=[Depends(csrf_protect)])
async def account_action(
    account_id: int,
    action: Literal["pause", "resume"],
    request: Request,
    viewer: PageViewer,
    session: DbSession,
) -> Response:
    account = await session.get(Account, account_id)
    if account is None or not viewer.principal.can_see(account.brand_id):
        raise NotFound(f"account {account_id} not found")
    if not viewer.principal.can(QUEUE_OPERATE, account.brand_id):
        raise Forbidden("you do not have the 'queue.operate' permission on this brand")
    await admin.set_pause(
        session,
        f"account:{account_id}",
        paused=action == "pause",
        reason=f"by user:{viewer.principal.user.id}",
        now=utcnow(),
    )
    flash(
        request,
        f"Account {account.handle} {'paused' if action == 'pause' else 'resumed'}.",
        "success",
    )
    return RedirectResponse("/accounts", status_code=303)


@router.post("/posts/{post_id}/resolve", dependencies=[Depends(csrf_protect)])
async def resolve(
    post_id: int,
    request: Request,
    viewer: PageViewer,
    session: DbSession,
    decision: Annotated[Literal["went_out", "publish_again"], Form()],
) -> Response:
    post = await visible_post(session, viewer.principal, post_id, for_update=True)
    if not viewer.principal.can(POST_SCHEDULE, post.brand_id):
        raise Forbidden("you do not have the 'post.schedule' permission on this brand")
    try:
        await publishing.resolve_unconfirmed(
            session,
            post,
            went_out=decision == "went_out",
            actor=f"user:{viewer.principal.user.id}",
            now=utcnow(),
        )
    except AppError as error:
        await session.rollback()
        flash(request, f"Post {post_id}: {error.message}", "error")
    else:
        message = "recorded as published" if decision == "went_out" else "will be published again"
        flash(request, f"Post {post_id} {message}.", "success")
    return RedirectResponse("/posts?status=unconfirmed", status_code=303)


@router.get("/accounts/connect/{platform}")
async def connect_start(
    platform: Literal["x", "linkedin"],
    brand_id: int,
    request: Request,
    viewer: PageViewer,
    session: DbSession,
) -> Response:
    """Send the person to the platform's consent page (OAuth 2.0 with PKCE)."""
    if not viewer.principal.can_see(brand_id):
        raise NotFound("brand not found")
    if not viewer.principal.can(SETTINGS_MANAGE, brand_id):
        raise Forbidden("connecting accounts needs the 'settings.manage' permission on this brand")
    services = get_services(request)
    url = await connect.start_connect(
        session,
        services.settings,
        brand_id=brand_id,
        user_id=viewer.principal.user.id,
        platform=platform,
        now=utcnow(),
    )
    return RedirectResponse(url, status_code=303)


@router.get("/accounts/callback/{platform}")
async def connect_callback(
    platform: Literal["x", "linkedin"],
    request: Request,
    viewer: PageViewer,
    session: DbSession,
    state: Annotated[str, Query(max_length=200)] = "",
    code: Annotated[str, Query(max_length=2000)] = "",
    error: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The platform sends the person back here. The one-time ``state``, bound to whoever
    started the flow, is what protects this GET from cross-site forgery."""
    if error or not code or not state:
        flash(request, f"{platform} did not grant access ({error or 'no code returned'}).", "error")
        return RedirectResponse("/accounts", status_code=303)
    try:
        account = await connect.finish_connect(
            session,
            get_services(request),
            platform=platform,
            code=code,
            state=state,
            user_id=viewer.principal.user.id,
            now=utcnow(),
        )
    except AppError as failure:
        flash(request, f"The {platform} account was not connected: {failure.message}", "error")
        return RedirectResponse("/accounts", status_code=303)
    flash(request, f"{platform} account {account.handle} connected.", "success")
    return RedirectResponse("/accounts", status_code=303)


@router.post("/accounts/add", dependencies=[Depends(csrf_protect)])
async def add_account(
    request: Request,
    viewer: PageViewer,
    session: DbSession,
    brand_id: Annotated[int, Form()],
    platform: Annotated[str, Form(max_length=40)],
    handle: Annotated[str, Form(max_length=200)],
    credentials: Annotated[str, Form(max_length=20_000)],
    base_url: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Connect an account whose platform takes tokens or an app password (the credentials are
    a JSON object, encrypted before they are stored and never shown again)."""
    if not viewer.principal.can_see(brand_id):
        raise NotFound("brand not found")
    if not viewer.principal.can(SETTINGS_MANAGE, brand_id):
        raise Forbidden("connecting accounts needs the 'settings.manage' permission on this brand")
    try:
        parsed = json.loads(credentials)
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict) or platform not in PLATFORMS:
        flash(request, "The credentials must be a JSON object for a known platform.", "error")
        return RedirectResponse("/accounts", status_code=303)
    missing = [key for key in PLATFORMS[platform].required if not str(parsed.get(key, "")).strip()]
    if missing and not (platform == "slack" and parsed.get("webhook_url")):
        flash(request, f"{platform} needs these credentials: {', '.join(missing)}.", "error")
        return RedirectResponse("/accounts", status_code=303)
    brand = await session.get(Brand, brand_id)
    if brand is None:
        raise NotFound("brand not found")
    try:
        account = await connect_account(
            session,
            get_services(request).secret_box,
            brand,
            platform=platform,
            handle=handle,
            credentials={str(k): str(v) for k, v in parsed.items()},
            base_url=base_url.strip() or None,
            actor=f"user:{viewer.principal.user.id}",
        )
    except AppError as error:
        await session.rollback()
        flash(request, f"The account was not added: {error.message}", "error")
        return RedirectResponse("/accounts", status_code=303)
    flash(
        request,
        f"{platform} account {account.handle} added; its credentials are stored encrypted.",
        "success",
    )
    return RedirectResponse("/accounts", status_code=303)
