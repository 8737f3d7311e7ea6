"""LinkedIn (Posts API): build a client for one member or Page from its stored credentials.

Credentials: ``access_token`` and ``author_urn`` (``urn:li:person:…`` or
``urn:li:organization:…``) are required; ``refresh_token``, ``client_id`` and ``client_secret``
(Marketing Developer Platform apps only) enable refreshing, ``expires_at`` (ISO-8601)
refreshing ahead of expiry.
"""

from __future__ import annotations

import httpx

from finagency.core.errors import PermanentExternalError
from finagency.integrations.platforms.base import Credentials, CredentialsSaver, PlatformClient
from finagency.integrations.platforms.linkedin.client import (
    DEFAULT_BASE_URL,
    DEFAULT_OAUTH_BASE_URL,
    DEFAULT_VERSION,
    DuplicateContentError,
    LinkedInClient,
)
from finagency.integrations.platforms.linkedin.little import escape_little, unescape_little

REQUIRED_CREDENTIALS: tuple[str, ...] = ("access_token", "author_urn")
OPTIONAL_CREDENTIALS: tuple[str, ...] = (
    "refresh_token",
    "client_id",
    "client_secret",
    "expires_at",
)
AUTHORIZE_URL = "https://www.linkedin.com/oauth/v2/authorization"
SCOPES: tuple[str, ...] = ("openid", "profile", "email", "w_member_social")


def build(
    credentials: Credentials,
    http: httpx.AsyncClient,
    *,
    base_url: str | None = None,
    on_credentials: CredentialsSaver | None = None,
    version: str | None = None,
) -> PlatformClient:
    """A ``LinkedInClient``. With ``base_url`` (a fake or proxy) the token endpoint is there too."""
    missing = [key for key in REQUIRED_CREDENTIALS if not credentials.get(key)]
    if missing:
        raise PermanentExternalError(
            f"linkedin: missing credentials: {', '.join(missing)}"
            f" (required: {', '.join(REQUIRED_CREDENTIALS)};"
            f" optional: {', '.join(OPTIONAL_CREDENTIALS)})"
        )
    if not credentials["author_urn"].startswith(("urn:li:person:", "urn:li:organization:")):
        raise PermanentExternalError(
            "linkedin: author_urn must be urn:li:person:<id> or urn:li:organization:<id>"
        )
    return LinkedInClient(
        credentials,
        http,
        base_url=base_url or DEFAULT_BASE_URL,
        oauth_base_url=base_url or DEFAULT_OAUTH_BASE_URL,
        version=version or DEFAULT_VERSION,
        on_credentials=on_credentials,
    )


__all__ = [
    "AUTHORIZE_URL",
    "OPTIONAL_CREDENTIALS",
    "REQUIRED_CREDENTIALS",
    "SCOPES",
    "DuplicateContentError",
    "LinkedInClient",
    "build",
    "escape_little",
    "unescape_little",
]
