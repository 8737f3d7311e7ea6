"""Translate the anthropic SDK's exceptions into ``finagency.core.errors``.

APITimeoutError, APIConnectionError           → TransientExternalError
429 rate_limit_error                          → RateLimitedExternalError(reset_at=Retry-After,
                                                else anthropic-ratelimit-requests-reset)
401, 403 (authentication/permission errors)   → AuthExpiredError
408, 409, 5xx, 529 overloaded_error           → TransientExternalError
other 4xx (invalid_request_error, not_found)  → PermanentExternalError
APIResponseValidationError, other SDK errors  → PermanentExternalError
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import anthropic

from finagency.core.errors import (
    AuthExpiredError,
    ExternalError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.integrations.platforms.http import retry_after

_RETRYABLE_STATUSES = frozenset({408, 409})


def _error_type(body: object) -> str:
    """The ``error.type`` of an Anthropic error body ("overloaded_error", ...), if any."""
    if not isinstance(body, dict):
        return ""
    inner: Any = body.get("error", body)
    kind = inner.get("type") if isinstance(inner, dict) else None
    return kind if isinstance(kind, str) else ""


def rate_limit_reset(headers: Mapping[str, str]) -> datetime | None:
    """When to try again: ``Retry-After``, else the RFC 3339 requests-reset header."""
    moment = retry_after(headers)
    if moment is not None:
        return moment
    stamp = headers.get("anthropic-ratelimit-requests-reset")
    if not stamp:
        return None
    try:
        parsed = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def map_anthropic_error(
    exc: anthropic.AnthropicError, *, service: str, model: str
) -> ExternalError:
    """The typed error for one failed call to ``service``."""
    details: dict[str, Any] = {"service": service, "model": model}
    if isinstance(exc, anthropic.APITimeoutError):
        return TransientExternalError(f"{service} timed out", details=details)
    if isinstance(exc, anthropic.APIConnectionError):
        return TransientExternalError(f"could not reach {service}: {exc}", details=details)
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        details["status"] = status
        kind = _error_type(exc.body)
        if kind:
            details["error_type"] = kind
        message = f"{service} answered {status}: {exc.message}"
        if status == 429:
            return RateLimitedExternalError(
                message, reset_at=rate_limit_reset(exc.response.headers), details=details
            )
        if status in (401, 403):
            return AuthExpiredError(message, details=details)
        if status == 400 and "credit balance" in exc.message.lower():
            return AuthExpiredError(
                f"{service} credit is exhausted: {exc.message}", details=details
            )
        if status in _RETRYABLE_STATUSES or status >= 500:
            return TransientExternalError(message, details=details)
        return PermanentExternalError(message, details=details)
    if isinstance(exc, anthropic.APIResponseValidationError):
        return PermanentExternalError(
            f"{service} answered in a shape the Anthropic SDK cannot read", details=details
        )
    return PermanentExternalError(f"{service} call failed: {exc}", details=details)
