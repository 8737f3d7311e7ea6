"""Slack's error codes turned into our typed errors, for Web API and incoming-webhook answers.

The Web API reports most failures as HTTP 200 ``{"ok": false, "error": "<code>"}``; incoming
webhooks answer a plain-text code with 400/403/404/410. Both use HTTP 429 + ``Retry-After``
for rate limits. Dead credentials pause the account (``AuthExpiredError``); anything else the
request itself caused is rejected (``PermanentExternalError``), never retried as is.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from finagency.core.errors import (
    AuthExpiredError,
    ExternalError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.core.time import utcnow
from finagency.integrations.platforms.base import RateLimitInfo
from finagency.integrations.platforms.http import retry_after

# The token or the webhook is dead: a person must reconnect the account.
AUTH_CODES = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "invalid_token",
        "no_service",
        "no_service_id",
        "no_team",
        "team_disabled",
        "no_active_hooks",
    }
)
RATE_CODES = frozenset({"ratelimited", "rate_limited"})
TRANSIENT_CODES = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
# Codes a live incoming webhook gives for an empty payload: used by verify().
EMPTY_PAYLOAD_CODES = frozenset(
    {"no_text", "invalid_payload", "missing_text_or_fallback_or_attachments"}
)


def rate_limit_of(response: httpx.Response, scope: str) -> RateLimitInfo:
    """Slack only says ``Retry-After`` on a 429; other answers carry no limit figures."""
    if response.status_code == 429:
        reset_at = retry_after(response.headers) or utcnow() + timedelta(seconds=1)
        return RateLimitInfo(remaining=0, reset_at=reset_at, scope=scope)
    return RateLimitInfo(scope=scope)


def error_for(
    code: str, what: str, response: httpx.Response, *, reset_at: datetime | None = None
) -> ExternalError:
    """The typed error for a Slack error code (from a JSON body or a webhook's plain text).

    ``reset_at`` is the moment already worked out for ``last_rate_limit``, so both agree.
    """
    if code in RATE_CODES or response.status_code == 429:
        reset_at = reset_at or retry_after(response.headers) or utcnow() + timedelta(seconds=1)
        return RateLimitedExternalError(what, reset_at=reset_at)
    if code in AUTH_CODES:
        return AuthExpiredError(what)
    if code in TRANSIENT_CODES or response.status_code >= 500:
        return TransientExternalError(what)
    if response.status_code in (401, 403) and not code:
        return AuthExpiredError(what)
    return PermanentExternalError(what)
