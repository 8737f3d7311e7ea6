"""Conditional GET for sources, turning HTTP outcomes into typed external errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from finagency.core.errors import (
    AuthExpiredError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.core.http import FINAL_URL_EXTENSION
from finagency.integrations.sources.types import FetchResult

DEFAULT_RATE_LIMIT_WAIT = timedelta(seconds=60)
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """``Retry-After`` (delta seconds or HTTP-date) as an absolute UTC time, or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return max(parsed.astimezone(UTC), now)


def _raise_for_status(response: httpx.Response, url: str, now: datetime) -> None:
    status = response.status_code
    if status < 300:
        return
    what = f"GET {url} answered {status} {response.reason_phrase}".rstrip()
    if status == 429:
        reset_at = parse_retry_after(response.headers.get("retry-after"), now)
        raise RateLimitedExternalError(
            f"{what}: rate limited", reset_at=reset_at or now + DEFAULT_RATE_LIMIT_WAIT
        )
    if status >= 500 or status == 408:
        raise TransientExternalError(f"{what}: server error, will retry")
    if status in (401, 403):
        raise AuthExpiredError(f"{what}: access refused (check credentials or User-Agent)")
    if status < 400:
        raise PermanentExternalError(f"{what}: redirect was not followed")
    raise PermanentExternalError(f"{what}: request rejected")


async def _read_capped(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PermanentExternalError(f"GET {url}: body of {declared} bytes exceeds {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise PermanentExternalError(f"GET {url}: body exceeds {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    headers: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FetchResult:
    """GET ``url`` with If-None-Match / If-Modified-Since; 304 gives ``not_modified``.

    Raises ``RateLimitedExternalError`` (429), ``TransientExternalError`` (5xx, timeouts,
    connection errors), ``AuthExpiredError`` (401/403) or ``PermanentExternalError``
    (other 4xx, unfollowed redirects, oversized bodies).
    """
    request_headers = dict(headers or {})
    if etag:
        request_headers["If-None-Match"] = etag
    if last_modified:
        request_headers["If-Modified-Since"] = last_modified
    try:
        async with client.stream("GET", url, headers=request_headers) as response:
            final_url = str(response.extensions.get(FINAL_URL_EXTENSION, response.url))
            new_etag = response.headers.get("etag") or etag
            new_modified = response.headers.get("last-modified") or last_modified
            if response.status_code == 304:
                return FetchResult(304, b"", new_etag, new_modified, True, final_url)
            _raise_for_status(response, url, clock())
            body = await _read_capped(response, url, max_bytes)
            return FetchResult(response.status_code, body, new_etag, new_modified, False, final_url)
    except httpx.TimeoutException as exc:
        raise TransientExternalError(f"GET {url} timed out") from exc
    except httpx.TooManyRedirects as exc:
        raise PermanentExternalError(f"GET {url}: too many redirects") from exc
    except httpx.RequestError as exc:
        raise TransientExternalError(
            f"GET {url} failed: {type(exc).__name__} ({exc or 'no detail'})"
        ) from exc
