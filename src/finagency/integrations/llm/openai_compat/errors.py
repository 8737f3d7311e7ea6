"""Translate the openai SDK's exceptions into ``finagency.core.errors``.

APITimeoutError, APIConnectionError           → TransientExternalError
429 with code "insufficient_quota"            → AuthExpiredError (billing: a person must act)
429 (RateLimitError)                          → RateLimitedExternalError(reset_at=Retry-After)
401, 403 (Authentication/PermissionDenied)    → AuthExpiredError
408, 409, 5xx (InternalServerError, ...)      → TransientExternalError
other 4xx (BadRequest, NotFound, 422, ...)    → PermanentExternalError
APIResponseValidationError, other SDK errors  → PermanentExternalError
"""

from __future__ import annotations

from typing import Any

import openai

from finagency.core.errors import (
    AuthExpiredError,
    ExternalError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.integrations.platforms.http import retry_after

_RETRYABLE_STATUSES = frozenset({408, 409})


def _error_code(body: object) -> str:
    """The ``error.code`` (or ``code``) of an OpenAI-style error body, if any."""
    if not isinstance(body, dict):
        return ""
    inner: Any = body.get("error", body)
    code = inner.get("code") if isinstance(inner, dict) else None
    return code if isinstance(code, str) else ""


def map_openai_error(exc: openai.OpenAIError, *, service: str, model: str) -> ExternalError:
    """The typed error for one failed call to ``service`` (an OpenAI-compatible base URL)."""
    details: dict[str, Any] = {"service": service, "model": model}
    if isinstance(exc, openai.APITimeoutError):
        return TransientExternalError(f"{service} timed out", details=details)
    if isinstance(exc, openai.APIConnectionError):
        return TransientExternalError(f"could not reach {service}: {exc}", details=details)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        details["status"] = status
        code = _error_code(exc.body)
        if code:
            details["code"] = code
        message = f"{service} answered {status}: {exc.message}"
        if status == 429 and code == "insufficient_quota":
            return AuthExpiredError(f"{service} quota is exhausted: {exc.message}", details=details)
        if status == 429:
            return RateLimitedExternalError(
                message, reset_at=retry_after(exc.response.headers), details=details
            )
        if status in (401, 403):
            return AuthExpiredError(message, details=details)
        if status in _RETRYABLE_STATUSES or status >= 500:
            return TransientExternalError(message, details=details)
        return PermanentExternalError(message, details=details)
    if isinstance(exc, openai.APIResponseValidationError):
        return PermanentExternalError(
            f"{service} answered in a shape the OpenAI SDK cannot read", details=details
        )
    return PermanentExternalError(f"{service} call failed: {exc}", details=details)
