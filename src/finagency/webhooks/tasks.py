"""The delivery task: sign, POST through the guarded client, log the attempt, retry or give up."""

from __future__ import annotations

import json
import time

import httpx
import structlog

from finagency.core.errors import (
    PermanentExternalError,
    TransientExternalError,
)
from finagency.core.http import UnsafeURLError
from finagency.core.time import utcnow
from finagency.models import WebhookDelivery, WebhookEndpoint
from finagency.queue import Discard, ExponentialBackoff, JobContext, Task
from finagency.queue.retry import RetryStrategy
from finagency.webhooks.dispatch import DISPATCH_TASK
from finagency.webhooks.service import (
    DEFAULT_MAX_ATTEMPTS,
    DELIVER_TASK_NAME,
    WEBHOOK_QUEUE,
    endpoint_secret,
)
from finagency.webhooks.signing import signed_headers

log = structlog.get_logger(__name__)

RESPONSE_EXCERPT = 300


async def deliver(ctx: JobContext) -> None:
    """One attempt at one delivery; the queue retries a raise with backoff and dead-letters it
    after the last attempt, so the delivery row is marked ``dead`` before that last raise."""
    session = ctx.session
    delivery = await session.get(WebhookDelivery, int(ctx.args["delivery_id"]))
    if delivery is None:
        raise Discard("missing", "the delivery row is gone (endpoint deleted?)")
    endpoint = await session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or not endpoint.active:
        delivery.status, delivery.last_error = "cancelled", "endpoint deleted or disabled"
        await ctx.checkpoint()
        return
    box = ctx.services.secret_box
    if box is None:
        raise TransientExternalError("FINAGENCY_SECRET_KEY is not set: cannot sign webhooks")
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    headers = signed_headers(endpoint_secret(box, endpoint), delivery.message_id, body)
    url = endpoint.url
    # Commit before the network call: the write lock is not held across it.
    await ctx.checkpoint()
    started = time.perf_counter()
    error: str | None = None
    code: int | None = None
    blocked = False  # the guarded client refused the address
    try:
        response = await ctx.services.http.post(url, content=body, headers=headers)
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}: {response.text[:RESPONSE_EXCERPT]}"
    except UnsafeURLError as unsafe:
        error, blocked = f"refused: {unsafe.message}", True
    except httpx.HTTPError as failure:
        error = f"{type(failure).__name__}: {failure}"
    duration_ms = round((time.perf_counter() - started) * 1000)
    delivery.attempts = ctx.job.attempt
    delivery.response_code, delivery.duration_ms = code, duration_ms
    if error is None:
        delivery.status, delivery.last_error, delivery.delivered_at = "delivered", None, utcnow()
        await ctx.checkpoint()
        log.info("webhooks.delivered", delivery_id=delivery.id, status_code=code)
        return
    last = blocked or ctx.job.attempt >= ctx.job.max_attempts
    delivery.status, delivery.last_error = ("dead" if last else "retrying"), error
    await ctx.checkpoint()
    log.warning(
        "webhooks.delivery_failed", delivery_id=delivery.id, attempt=ctx.job.attempt, error=error
    )
    if blocked:
        # A private address will not become public by waiting: dead-letter at once.
        raise PermanentExternalError(error)
    raise TransientExternalError(error)


def deliver_task(
    *, max_attempts: int = DEFAULT_MAX_ATTEMPTS, retry: RetryStrategy | None = None
) -> Task:
    """The task declaration; tests build one with a zero backoff to run retries at once."""
    return Task(
        DELIVER_TASK_NAME,
        deliver,
        queue=WEBHOOK_QUEUE,
        priority=80,
        max_attempts=max_attempts,
        retry=retry or ExponentialBackoff(base_seconds=10.0, factor=3.0, cap_seconds=3600.0),
        timeout_seconds=30.0,
    )


DELIVER_TASK = deliver_task()
TASKS = [DELIVER_TASK, DISPATCH_TASK]
