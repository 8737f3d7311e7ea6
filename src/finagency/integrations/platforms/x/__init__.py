"""X (API v2): build a client for one account from its stored credentials.

Credentials: ``access_token`` (OAuth 2.0 user token) is required; ``refresh_token``,
``client_id`` and ``client_secret`` (confidential apps) enable refreshing, ``expires_at``
(ISO-8601) refreshing ahead of expiry, and ``user_id`` saves a ``/2/users/me`` lookup.
"""

from __future__ import annotations

import httpx

from finagency.core.errors import PermanentExternalError
from finagency.integrations.platforms.base import Credentials, CredentialsSaver, PlatformClient
from finagency.integrations.platforms.x.client import (
    DEFAULT_BASE_URL,
    DuplicateContentError,
    ThreadIncompleteError,
    XClient,
)

REQUIRED_CREDENTIALS: tuple[str, ...] = ("access_token",)
OPTIONAL_CREDENTIALS: tuple[str, ...] = (
    "refresh_token",
    "client_id",
    "client_secret",
    "expires_at",
    "user_id",
)
AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
SCOPES: tuple[str, ...] = (
    "tweet.read",
    "tweet.write",
    "users.read",
    "media.write",
    "offline.access",
)


def build(
    credentials: Credentials,
    http: httpx.AsyncClient,
    *,
    base_url: str | None = None,
    on_credentials: CredentialsSaver | None = None,
) -> PlatformClient:
    """An ``XClient``; ``PermanentExternalError`` names any missing credential."""
    missing = [key for key in REQUIRED_CREDENTIALS if not credentials.get(key)]
    if missing:
        raise PermanentExternalError(
            f"x: missing credentials: {', '.join(missing)}"
            f" (required: {', '.join(REQUIRED_CREDENTIALS)};"
            f" optional: {', '.join(OPTIONAL_CREDENTIALS)})"
        )
    return XClient(
        credentials, http, base_url=base_url or DEFAULT_BASE_URL, on_credentials=on_credentials
    )


__all__ = [
    "AUTHORIZE_URL",
    "OPTIONAL_CREDENTIALS",
    "REQUIRED_CREDENTIALS",
    "SCOPES",
    "DuplicateContentError",
    "ThreadIncompleteError",
    "XClient",
    "build",
]
