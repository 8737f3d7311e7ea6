"""Shared translation of platform HTTP answers into the typed errors, and rate-limit headers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from finagency.core.errors import (
    AuthExpiredError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.core.time import utcnow

EXCERPT = 300


def excerpt(response: httpx.Response) -> str:
    """A short, log-safe piece of the body for error messages (never a whole response)."""
    return response.text[:EXCERPT].replace("\n", " ")


def retry_after(headers: Mapping[str, str], now: datetime | None = None) -> datetime | None:
    """``Retry-After`` as seconds or an HTTP date, as a moment."""
    value = headers.get("retry-after")
    if not value:
        return None
    now = now or utcnow()
    try:
        return now + timedelta(seconds=float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def epoch(value: str | None) -> datetime | None:
    """A reset header given in Unix seconds."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (ValueError, OverflowError):
        return None


def raise_for_status(
    response: httpx.Response, platform: str, *, reset_at: datetime | None = None
) -> None:
    """Map a non-2xx answer to the typed errors: 429 → rate-limited, 401/403 → auth expired,
    5xx → transient, other 4xx → rejected. Platform-specific cases are handled first by the
    client (e.g. X's duplicate-content 403, Slack's errors inside HTTP 200)."""
    status = response.status_code
    if status < 400:
        return
    what = f"{platform}: HTTP {status} on {response.request.method} {response.request.url.path}: {excerpt(response)}"
    if status == 429:
        raise RateLimitedExternalError(what, reset_at=reset_at or retry_after(response.headers))
    if status in (401, 403):
        raise AuthExpiredError(what)
    if status >= 500 or status in (408, 425):
        raise TransientExternalError(what)
    raise PermanentExternalError(what)


def transport_error(error: httpx.HTTPError, platform: str) -> TransientExternalError:
    """Timeouts and connection failures: the post may or may not have arrived."""
    return TransientExternalError(f"{platform}: {type(error).__name__}: {error}")
