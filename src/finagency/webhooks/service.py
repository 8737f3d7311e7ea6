"""Webhook endpoints per brand and ``deliver_event``: one delivery row and one job per endpoint.

Everything here writes in the caller's session and commits nothing, so a delivery exists
exactly when the business change that caused it does (the job is the outbox).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import httpx
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.core.crypto import SecretBox
from finagency.core.errors import NotFound, ValidationFailed
from finagency.models import WebhookDelivery, WebhookEndpoint
from finagency.queue import enqueue
from finagency.webhooks.events import ALL_EVENTS, EVENTS
from finagency.webhooks.signing import new_secret

log = structlog.get_logger(__name__)

DELIVER_TASK_NAME = "webhooks.deliver"
DEFAULT_MAX_ATTEMPTS = 8
WEBHOOK_QUEUE = "default"


def check_url(url: str) -> str:
    """Shape only (http/https, a host, no credentials); the address is checked at send time."""
    value = url.strip()
    try:
        parsed = httpx.URL(value)
    except (httpx.InvalidURL, ValueError):
        raise ValidationFailed("url is not a valid URL", details={"field": "url"}) from None
    if parsed.scheme not in ("http", "https") or not parsed.host or parsed.userinfo:
        raise ValidationFailed(
            "url must be an http(s) URL with a host and no credentials", details={"field": "url"}
        )
    if len(value) > 2000:
        raise ValidationFailed("url is too long", details={"field": "url"})
    return value


def check_events(events: Iterable[str]) -> list[str]:
    wanted = sorted(set(events))
    unknown = [name for name in wanted if name not in EVENTS and name != ALL_EVENTS]
    if not wanted or unknown:
        raise ValidationFailed(
            "events must be a non-empty list of known events (or '*')",
            details={"field": "events", "unknown": unknown, "allowed": sorted(EVENTS)},
        )
    return wanted


async def create_endpoint(
    session: AsyncSession,
    box: SecretBox,
    *,
    brand_id: int,
    url: str,
    events: Iterable[str],
    description: str = "",
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint; returns it with its signing secret, shown to the person this once."""
    secret = new_secret()
    endpoint = WebhookEndpoint(
        brand_id=brand_id,
        url=check_url(url),
        events=check_events(events),
        description=description.strip()[:200],
        secret_encrypted=box.encrypt({"secret": secret}),
        active=True,
    )
    session.add(endpoint)
    await session.flush()
    log.info("webhooks.endpoint_created", endpoint_id=endpoint.id, brand_id=brand_id)
    return endpoint, secret


def endpoint_secret(box: SecretBox, endpoint: WebhookEndpoint) -> str:
    return str(box.decrypt(endpoint.secret_encrypted)["secret"])


async def get_endpoint(
    session: AsyncSession, endpoint_id: int, brand_ids: Sequence[int] | None
) -> WebhookEndpoint:
    """The endpoint if it belongs to one of ``brand_ids`` (None: any brand); else NotFound."""
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or (brand_ids is not None and endpoint.brand_id not in brand_ids):
        raise NotFound("webhook endpoint not found")
    return endpoint


def _subscribed(endpoint: WebhookEndpoint, event: str) -> bool:
    return ALL_EVENTS in endpoint.events or event in endpoint.events


async def deliver_event(
    session: AsyncSession,
    brand_id: int,
    event: str,
    payload: dict[str, Any],
    *,
    max_attempts: int | None = None,
) -> list[int]:
    """Queue ``event`` for every active endpoint of ``brand_id`` subscribed to it.

    Returns the delivery ids (empty when nobody listens). The body sent is
    ``{"id", "type", "brand_id", "data"}``; the worker signs and posts it, retrying with
    backoff, and dead-letters the job when every attempt failed.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}; known: {sorted(EVENTS)}")
    endpoints = (
        await session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.brand_id == brand_id, WebhookEndpoint.active.is_(True))
            .order_by(WebhookEndpoint.id)
        )
    ).all()
    delivery_ids: list[int] = []
    for endpoint in endpoints:
        if not _subscribed(endpoint, event):
            continue
        message_id = "msg_" + uuid.uuid4().hex
        delivery = WebhookDelivery(
            brand_id=brand_id,
            endpoint_id=endpoint.id,
            message_id=message_id,
            event=event,
            payload={"id": message_id, "type": event, "brand_id": brand_id, "data": payload},
            status="pending",
            attempts=0,
        )
        session.add(delivery)
        await session.flush()
        await enqueue(
            session,
            DELIVER_TASK_NAME,
            {"delivery_id": delivery.id},
            queue=WEBHOOK_QUEUE,
            priority=80,
            max_attempts=max_attempts or DEFAULT_MAX_ATTEMPTS,
            brand_id=brand_id,
        )
        delivery_ids.append(delivery.id)
    if delivery_ids:
        log.info("webhooks.queued", brand_id=brand_id, webhook_event=event, count=len(delivery_ids))
    return delivery_ids
