"""The webhooks API: endpoints per brand (settings.manage) and their delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from finagency.audit import service as audit
from finagency.auth.csrf import csrf_protect
from finagency.auth.dependencies import (
    CurrentPrincipal,
    DbSession,
    ReadSession,
    get_services,
    require,
)
from finagency.auth.permissions import SETTINGS_MANAGE
from finagency.auth.scope import brands_with
from finagency.core.crypto import SecretBox
from finagency.core.errors import AppError, NotFound
from finagency.core.pagination import Limit, Offset, Page, fetch_page
from finagency.models import WebhookDelivery, WebhookEndpoint
from finagency.webhooks import service
from finagency.webhooks.events import EVENTS

router = APIRouter(tags=["webhooks"])
Manager = Annotated[CurrentPrincipal, Depends(require(SETTINGS_MANAGE))]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    brand_id: int
    url: str = Field(min_length=1, max_length=2000, examples=["https://example.com/hooks"])
    events: list[str] = Field(min_length=1, max_length=20, examples=[["post.published"]])
    description: str = Field(default="", max_length=200)


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=1, max_length=2000)
    events: list[str] | None = Field(default=None, min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=200)
    active: bool | None = None


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    brand_id: int
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="Signing secret (whsec_...); shown this once")


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    endpoint_id: int
    message_id: str
    event: str
    status: str = Field(description="pending, retrying, delivered, dead or cancelled")
    attempts: int
    response_code: int | None
    duration_ms: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class SecretUnavailable(AppError):
    status_code = 503
    code = "secret_key_missing"


def _box(request: Request) -> SecretBox:
    box = get_services(request).secret_box
    if box is None:
        raise SecretUnavailable("FINAGENCY_SECRET_KEY is not set: webhook secrets cannot be stored")
    return box


async def _managed(
    session: AsyncSession, principal: CurrentPrincipal, endpoint_id: int
) -> WebhookEndpoint:
    endpoint = await service.get_endpoint(session, endpoint_id, None)
    if not principal.can(SETTINGS_MANAGE, endpoint.brand_id):
        raise NotFound("webhook endpoint not found")
    return endpoint


@router.get("/webhooks/events", response_model=list[str], summary="Events you can subscribe to")
async def list_events(principal: Manager) -> list[str]:
    return sorted(EVENTS)


@router.get("/webhooks", response_model=Page[WebhookRead], summary="Webhook endpoints")
async def list_webhooks(
    principal: Manager,
    session: ReadSession,
    brand_id: Annotated[int | None, Query()] = None,
    active: Annotated[bool | None, Query()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[WebhookRead]:
    query = select(WebhookEndpoint).order_by(WebhookEndpoint.id.desc())
    scope = brands_with(principal, SETTINGS_MANAGE)
    if scope is not None:
        query = query.where(WebhookEndpoint.brand_id.in_(scope))
    if brand_id is not None:
        query = query.where(WebhookEndpoint.brand_id == brand_id)
    if active is not None:
        query = query.where(WebhookEndpoint.active.is_(active))
    rows, total = await fetch_page(session, query, limit=limit, offset=offset)
    return Page[WebhookRead](
        items=[WebhookRead.model_validate(row) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/webhooks",
    response_model=WebhookCreated,
    status_code=201,
    dependencies=[Depends(csrf_protect)],
    summary="Add a webhook endpoint (the signing secret is in this response only)",
)
async def create_webhook(
    body: WebhookCreate, request: Request, principal: Manager, session: DbSession
) -> WebhookCreated:
    if not principal.can(SETTINGS_MANAGE, body.brand_id):
        raise NotFound("brand not found")
    endpoint, secret = await service.create_endpoint(
        session,
        _box(request),
        brand_id=body.brand_id,
        url=body.url,
        events=body.events,
        description=body.description,
    )
    await _audit(session, principal, endpoint, "webhook.created")
    await session.refresh(endpoint)
    return WebhookCreated(**WebhookRead.model_validate(endpoint).model_dump(), secret=secret)


@router.get("/webhooks/{endpoint_id}", response_model=WebhookRead, summary="One webhook endpoint")
async def get_webhook(endpoint_id: int, principal: Manager, session: ReadSession) -> WebhookRead:
    return WebhookRead.model_validate(await _managed(session, principal, endpoint_id))


@router.patch(
    "/webhooks/{endpoint_id}",
    response_model=WebhookRead,
    dependencies=[Depends(csrf_protect)],
    summary="Change a webhook's URL, events, description, or switch it off",
)
async def update_webhook(
    endpoint_id: int, body: WebhookUpdate, principal: Manager, session: DbSession
) -> WebhookRead:
    endpoint = await _managed(session, principal, endpoint_id)
    if body.url is not None:
        endpoint.url = service.check_url(body.url)
    if body.events is not None:
        endpoint.events = service.check_events(body.events)
    if body.description is not None:
        endpoint.description = body.description.strip()
    if body.active is not None:
        endpoint.active = body.active
    await _audit(session, principal, endpoint, "webhook.updated")
    await session.flush()
    await session.refresh(endpoint)
    return WebhookRead.model_validate(endpoint)


@router.delete(
    "/webhooks/{endpoint_id}",
    status_code=204,
    response_class=Response,
    dependencies=[Depends(csrf_protect)],
    summary="Delete a webhook endpoint and its delivery log",
)
async def delete_webhook(endpoint_id: int, principal: Manager, session: DbSession) -> Response:
    endpoint = await _managed(session, principal, endpoint_id)
    await _audit(session, principal, endpoint, "webhook.deleted")
    await session.delete(endpoint)
    await session.flush()
    return Response(status_code=204)


@router.get(
    "/webhooks/{endpoint_id}/deliveries",
    response_model=Page[DeliveryRead],
    summary="The endpoint's delivery log, newest first",
)
async def list_deliveries(
    endpoint_id: int,
    principal: Manager,
    session: ReadSession,
    status: Annotated[
        Literal["pending", "retrying", "delivered", "dead", "cancelled"] | None, Query()
    ] = None,
    event: Annotated[str | None, Query(max_length=60)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[DeliveryRead]:
    endpoint = await _managed(session, principal, endpoint_id)
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc())
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if event is not None:
        query = query.where(WebhookDelivery.event == event)
    rows, total = await fetch_page(session, query, limit=limit, offset=offset)
    return Page[DeliveryRead](
        items=[DeliveryRead.model_validate(row) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


async def _audit(
    session: AsyncSession, principal: CurrentPrincipal, endpoint: WebhookEndpoint, action: str
) -> None:
    await audit.record(
        session,
        actor=f"user:{principal.user.id}",
        action=action,
        object_type="webhook_endpoint",
        object_id=endpoint.id,
        brand_id=endpoint.brand_id,
        data={"url": endpoint.url, "events": list(endpoint.events), "active": endpoint.active},
    )
