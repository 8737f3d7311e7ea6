"""FRED client over an injected httpx client: keyed, JSON, ≤ 120 requests/minute per key.

The API key travels in the query string, so every URL put in an error message is passed
through ``redact_api_key`` first. FRED answers a bad request (unknown series, bad date,
bad key) with 400 and ``{"error_code": 400, "error_message": "..."}``: that message is read
and named in the error, which ``fetch`` would drop.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Literal, NoReturn

import httpx

from finagency.core.errors import (
    AuthExpiredError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.integrations.sources.fetch import (
    DEFAULT_MAX_BYTES,
    DEFAULT_RATE_LIMIT_WAIT,
    parse_retry_after,
)
from finagency.integrations.sources.fred.parser import normalize_series_id, parse_observations
from finagency.integrations.sources.limiter import IntervalLimiter
from finagency.integrations.sources.types import RatePoint

BASE_URL = "https://api.stlouisfed.org"
OBSERVATIONS_PATH = "/fred/series/observations"
MAX_LIMIT = 100_000
MAX_REQUESTS_PER_SECOND = 2.0  # FRED allows 120 requests/minute per key
_API_KEY = re.compile(r"[a-z0-9]{32}")
_KEY_IN_QUERY = re.compile(r"(api_key=)[^&#\s]*")
_ERROR_BODY_BYTES = 64 * 1024


def redact_api_key(text: str) -> str:
    """``text`` with every ``api_key=...`` value replaced by ``***``."""
    return _KEY_IN_QUERY.sub(r"\1***", text)


def observations_url(
    series_id: str,
    *,
    api_key: str | None = None,
    start: date | None = None,
    end: date | None = None,
    sort_order: Literal["asc", "desc"] = "asc",
    limit: int = MAX_LIMIT,
    base_url: str = BASE_URL,
) -> str:
    """The ``fred/series/observations`` URL with ``file_type=json`` (FRED defaults to XML).

    Leave ``api_key`` out to get a URL fit for storing (a source row); add it at request time.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    if sort_order not in ("asc", "desc"):
        raise ValueError(f"sort_order must be 'asc' or 'desc', got {sort_order!r}")
    if start and end and start > end:
        raise ValueError(f"start {start} is after end {end}")
    params: dict[str, str] = {"series_id": normalize_series_id(series_id)}
    if api_key is not None:
        params["api_key"] = api_key
    params["file_type"] = "json"
    if start is not None:
        params["observation_start"] = start.isoformat()
    if end is not None:
        params["observation_end"] = end.isoformat()
    params["sort_order"] = sort_order
    params["limit"] = str(limit)
    return f"{base_url.rstrip('/')}{OBSERVATIONS_PATH}?{httpx.QueryParams(params)}"


def check_api_key(api_key: str | None) -> str:
    """The key stripped; ``AuthExpiredError`` if missing or not FRED's 32 lower-case alphanumerics."""
    key = (api_key or "").strip()
    if not key:
        raise AuthExpiredError(
            "FRED needs an API key: register at https://fred.stlouisfed.org/docs/api/api_key.html "
            "and configure it (32 lower-case letters and digits)"
        )
    if not _API_KEY.fullmatch(key):
        raise AuthExpiredError(
            f"the configured FRED API key is not 32 lower-case letters and digits "
            f"(got {len(key)} characters)"
        )
    return key


def _error_message(body: bytes) -> str:
    try:
        document: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return ""
    if isinstance(document, dict):
        return str(document.get("error_message") or "").strip()
    return ""


class FredClient:
    """Reads FRED observations through ``http`` (normally the guarded client).

    The limiter is per instance and spaces requests to FRED's 120/minute per key; share one
    instance per key and process. A missing or ill-formed key raises ``AuthExpiredError``
    at construction, before any request is made.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_key: str | None,
        base_url: str = BASE_URL,
        limiter: IntervalLimiter | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._http = http
        self._api_key = check_api_key(api_key)
        self.base_url = base_url.rstrip("/")
        self._limiter = limiter or IntervalLimiter(MAX_REQUESTS_PER_SECOND)
        self._max_bytes = max_bytes
        self._clock = clock

    def with_key(self, url: str) -> str:
        """A stored (keyless) observations URL with this client's key and ``file_type=json``."""
        parsed = httpx.URL(url)
        params = parsed.params.set("api_key", self._api_key).set("file_type", "json")
        return str(parsed.copy_with(params=params))

    async def observations(
        self,
        series_id: str,
        *,
        start: date | None = None,
        end: date | None = None,
        sort_order: Literal["asc", "desc"] = "asc",
        limit: int = MAX_LIMIT,
        units: str = "",
    ) -> list[RatePoint]:
        """Observations of ``series_id`` between ``start`` and ``end`` (inclusive, optional).

        Raises ``PermanentExternalError`` naming the series and FRED's message for a bad
        request (unknown series, bad dates), ``AuthExpiredError`` for a refused key,
        ``RateLimitedExternalError`` (429, ``reset_at`` from Retry-After or +60 s) and
        ``TransientExternalError`` (5xx, timeouts, connection errors).
        """
        url = observations_url(
            series_id,
            api_key=self._api_key,
            start=start,
            end=end,
            sort_order=sort_order,
            limit=limit,
            base_url=self.base_url,
        )
        body = await self.get(url, series_id=normalize_series_id(series_id))
        return parse_observations(body, series_id=series_id, units=units)

    async def get(self, url: str, *, series_id: str = "") -> bytes:
        """A rate-limited GET of a keyed FRED URL, returning the body; errors are typed."""
        await self._limiter.acquire()
        shown = redact_api_key(url)
        try:
            async with self._http.stream("GET", url) as response:
                if response.status_code < 300:
                    return await self._read(response, shown, self._max_bytes)
                error_body = await self._read(response, shown, _ERROR_BODY_BYTES, strict=False)
                self._raise(response, error_body, shown, series_id)
        except httpx.TimeoutException as exc:
            raise TransientExternalError(f"GET {shown} timed out") from exc
        except httpx.RequestError as exc:
            raise TransientExternalError(
                f"GET {shown} failed: {type(exc).__name__} ({redact_api_key(str(exc)) or 'no detail'})"
            ) from exc

    @staticmethod
    async def _read(
        response: httpx.Response, shown: str, max_bytes: int, *, strict: bool = True
    ) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                if not strict:
                    break
                raise PermanentExternalError(f"GET {shown}: body exceeds {max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _raise(self, response: httpx.Response, body: bytes, shown: str, series_id: str) -> NoReturn:
        status = response.status_code
        what = f"GET {shown} answered {status} {response.reason_phrase}".rstrip()
        message = redact_api_key(_error_message(body))
        subject = f"FRED series {series_id}" if series_id else "FRED"
        if status == 429:
            now = self._clock()
            reset_at = parse_retry_after(response.headers.get("retry-after"), now)
            raise RateLimitedExternalError(
                f"{what}: rate limited (FRED allows 120 requests/minute per key)",
                reset_at=reset_at or now + DEFAULT_RATE_LIMIT_WAIT,
            )
        if status >= 500 or status == 408:
            raise TransientExternalError(f"{what}: server error, will retry")
        if status in (401, 403) or "api_key" in message.lower():
            raise AuthExpiredError(f"{subject}: FRED refused the API key: {message or what}")
        if status < 400:
            raise PermanentExternalError(f"{what}: redirect was not followed")
        detail = message or "request rejected"
        raise PermanentExternalError(
            f"{subject}: {detail} ({what})", details={"series_id": series_id}
        )
