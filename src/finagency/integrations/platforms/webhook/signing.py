"""Signing of outbound webhook deliveries, and the check a receiver makes.

Every delivery carries:

- ``X-Finagency-Event-Id``: ``evt_…``, the same on every retry of one event; ``Idempotency-Key``
  repeats it, so receivers (n8n, Zapier, Make, your own) can drop duplicates by it;
- ``X-Finagency-Event``: the event type (``post.created``, ``ping``);
- ``X-Finagency-Timestamp``: Unix seconds of this attempt;
- ``X-Finagency-Signature``: ``sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{raw body}")>``.

How a receiver verifies (any language): take the raw request body bytes (before any JSON
parsing), compute HMAC-SHA256 keyed with the shared secret (its UTF-8 bytes, as-is) over
``timestamp + "." + body``, hex-encode it, and compare it with the header value after
``sha256=`` in constant time (``hmac.compare_digest``). Reject when the timestamp is more than
5 minutes from your clock (replays), and remember event ids for at least that long to drop
duplicates. The event id is inside the signed body (``"id"``) as well, so it cannot be swapped.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from finagency.core.crypto import sign
from finagency.core.time import utcnow

SIGNATURE_HEADER = "X-Finagency-Signature"
TIMESTAMP_HEADER = "X-Finagency-Timestamp"
EVENT_ID_HEADER = "X-Finagency-Event-Id"
EVENT_TYPE_HEADER = "X-Finagency-Event"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TOLERANCE_SECONDS = 300


def event_id_for(idempotency_key: str) -> str:
    """A stable, opaque event id for a post: every retry of it carries the same one."""
    return "evt_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Finagency-Signature`` value for this body sent at ``timestamp``."""
    return "sha256=" + sign(secret, f"{timestamp}.".encode() + body)


def signed_headers(
    secret: str, body: bytes, *, event_id: str, event_type: str, now: datetime | None = None
) -> dict[str, str]:
    """All headers of one delivery attempt (the timestamp is this attempt's)."""
    timestamp = int((now or utcnow()).timestamp())
    return {
        "Content-Type": "application/json",
        EVENT_ID_HEADER: event_id,
        IDEMPOTENCY_HEADER: event_id,
        EVENT_TYPE_HEADER: event_type,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: datetime | None = None,
    tolerance_seconds: int = TOLERANCE_SECONDS,
) -> bool:
    """A receiver's check, for Python receivers and our tests: signature and freshness.

    ``headers`` must look names up case-insensitively (``httpx.Headers``, Starlette's headers).
    """
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    given = headers.get(SIGNATURE_HEADER, "")
    if not timestamp.isdigit() or not given:
        return False
    moment = (now or utcnow()).timestamp()
    if abs(moment - int(timestamp)) > tolerance_seconds:
        return False
    expected = signature(secret, int(timestamp), body)
    return hmac.compare_digest(expected.encode(), given.strip().encode())
